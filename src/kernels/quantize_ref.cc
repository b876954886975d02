// Scalar quantizers for the 32-element formats and float types.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/quantize.h"
#include "kernels/quantize_internal.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {
namespace {

// Half away from zero, as std::lround, without a libm call per value (prefill requantizes W_UK
// per call: lroundf was ~1.5% of a prefill profile). |x| < 2^23: the truncation is exact and so
// is x minus it.
int RoundToInt(float x) {
  if (!(std::fabs(x) < 8388608.0f)) return static_cast<int>(std::lround(x));  // large, inf or NaN: as lround
  const int i = static_cast<int>(x);
  const float rest = x - static_cast<float>(i);
  return i + static_cast<int>(rest >= 0.5f) - static_cast<int>(rest <= -0.5f);  // no branch: half the values round up
}

// The element with the largest magnitude, keeping its sign (ggml's choice for Q4_0/Q5_0).
float SignedMaxMagnitude(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void QuantQ8_0(const float* x, BlockQ8_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(RoundToInt(x[j] * id));
  }
}

void QuantQ4_0(const float* x, BlockQ4_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float d = SignedMaxMagnitude(x, kQK) / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = F32ToF16(d);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::clamp(RoundToInt(x[j] * id) + 8, 0, 15);
      const int hi = std::clamp(RoundToInt(x[j + 16] * id) + 8, 0, 15);
      b[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantQ4_1(const float* x, BlockQ4_1* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float mn = *std::min_element(x, x + kQK), mx = *std::max_element(x, x + kQK);
    const float d = (mx - mn) / 15.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = F32ToF16(d);
    b[i].m = F32ToF16(mn);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::clamp(RoundToInt((x[j] - mn) * id), 0, 15);
      const int hi = std::clamp(RoundToInt((x[j + 16] - mn) * id), 0, 15);
      b[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

// MXFP4 as ggml quantizes it: the shared exponent e = floor(log2(max |x|)) − 2 + 127 (0 for an
// all-zero block; clamped to [0, 255] where ggml's cast would wrap, below 2^−125), then each value's
// nearest code (the lower code on ties) at d = 2^(e − 128) per doubled E2M1 step.
void QuantMxfp4(const float* x, BlockMxfp4* b, int64_t nb) {
  const int8_t* kDoubled = kMxfp4Doubled;
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const int e = amax > 0 ? std::clamp(static_cast<int>(std::floor(std::log2(amax))) - 2 + 127, 0, 255) : 0;
    const float d = Mxfp4Scale(static_cast<uint8_t>(e));
    auto best = [&](float v) {
      int code = 0;
      float err = std::fabs(static_cast<float>(kDoubled[0]) * d - v);
      for (int c = 1; c < 16; ++c) {
        const float e2 = std::fabs(static_cast<float>(kDoubled[c]) * d - v);
        if (e2 < err) {
          code = c;
          err = e2;
        }
      }
      return code;
    };
    b[i].e = static_cast<uint8_t>(e);
    for (int j = 0; j < kQK / 2; ++j) b[i].qs[j] = static_cast<uint8_t>(best(x[j]) | (best(x[j + kQK / 2]) << 4));
  }
}

// Packs 32 five-bit values: low nibbles into qs, fifth bits into qh (bit j for element j).
void PackFiveBit(const int* q, uint8_t* qs, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
    h |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    h |= static_cast<uint32_t>((q[j + 16] >> 4) & 1) << (j + 16);
  }
  std::memcpy(qh, &h, 4);
}

void QuantQ5_0(const float* x, BlockQ5_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float d = SignedMaxMagnitude(x, kQK) / -16.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = F32ToF16(d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::clamp(RoundToInt(x[j] * id) + 16, 0, 31);
    PackFiveBit(q, b[i].qs, b[i].qh);
  }
}

void QuantQ5_1(const float* x, BlockQ5_1* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float mn = *std::min_element(x, x + kQK), mx = *std::max_element(x, x + kQK);
    const float d = (mx - mn) / 31.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = F32ToF16(d);
    b[i].m = F32ToF16(mn);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::clamp(RoundToInt((x[j] - mn) * id), 0, 31);
    PackFiveBit(q, b[i].qs, b[i].qh);
  }
}

template <typename Block>
Block* As(std::byte* dst) {
  return reinterpret_cast<Block*>(dst);
}

}  // namespace

bool CanQuantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: case GgmlType::kF16: case GgmlType::kBF16: case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: case GgmlType::kQ4_1: case GgmlType::kQ5_0: case GgmlType::kQ5_1:
    case GgmlType::kQ4_K: case GgmlType::kQ5_K: case GgmlType::kQ6_K: case GgmlType::kMXFP4:
      return true;
    default:
      return false;
  }
}

void QuantizeRow(GgmlType type, const float* src, std::byte* dst, int64_t n) {
  const GgmlTypeTraits t = TraitsOf(type);
  FRUGAL_CHECK_EQ(n % t.block_elems, 0);
  const int64_t nb = n / t.block_elems;
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToF16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToBf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case GgmlType::kQ8_0: QuantQ8_0(src, As<BlockQ8_0>(dst), nb); return;
    case GgmlType::kMXFP4: QuantMxfp4(src, As<BlockMxfp4>(dst), nb); return;
    case GgmlType::kQ4_0: QuantQ4_0(src, As<BlockQ4_0>(dst), nb); return;
    case GgmlType::kQ4_1: QuantQ4_1(src, As<BlockQ4_1>(dst), nb); return;
    case GgmlType::kQ5_0: QuantQ5_0(src, As<BlockQ5_0>(dst), nb); return;
    case GgmlType::kQ5_1: QuantQ5_1(src, As<BlockQ5_1>(dst), nb); return;
    case GgmlType::kQ4_K: QuantQ4_K(src, dst, nb); return;
    case GgmlType::kQ5_K: QuantQ5_K(src, dst, nb); return;
    case GgmlType::kQ6_K: QuantQ6_K(src, dst, nb); return;
    default: FRUGAL_CHECK(false && "QuantizeRow: unsupported type"); return;
  }
}

}  // namespace frugal::kernels
