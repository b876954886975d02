// Scalar dequantization, written literally from the layouts in
// ../shared/reference/ggml-quant-formats.md, with ggml's order of float operations.
#include <cmath>
#include <cstring>

#include "kernels/dequantize.h"
#include "kernels/dequantize_internal.h"
#include "kernels/quant_blocks.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {
namespace {

template <typename Block>
const Block* Blocks(const std::byte* src) {
  return reinterpret_cast<const Block*>(src);
}

void DequantQ8_0(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockQ8_0& b = Blocks<BlockQ8_0>(src)[i];
    const float d = F16ToF32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(b.qs[j]);
  }
}

void DequantQ4_0(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockQ4_0& b = Blocks<BlockQ4_0>(src)[i];
    const float d = F16ToF32(b.d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>((b.qs[j] & 15) - 8);
      y[j + 16] = d * static_cast<float>((b.qs[j] >> 4) - 8);
    }
  }
}

void DequantQ4_1(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockQ4_1& b = Blocks<BlockQ4_1>(src)[i];
    const float d = F16ToF32(b.d), m = F16ToF32(b.m);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(b.qs[j] & 15) + m;
      y[j + 16] = d * static_cast<float>(b.qs[j] >> 4) + m;
    }
  }
}

void DequantQ5_0(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockQ5_0& b = Blocks<BlockQ5_0>(src)[i];
    const float d = F16ToF32(b.d);
    uint32_t h;
    std::memcpy(&h, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b.qs[j] & 15) | static_cast<int>(((h >> j) & 1) << 4);
      const int hi = (b.qs[j] >> 4) | static_cast<int>(((h >> (j + 16)) & 1) << 4);
      y[j] = d * static_cast<float>(lo - 16);
      y[j + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

void DequantQ5_1(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockQ5_1& b = Blocks<BlockQ5_1>(src)[i];
    const float d = F16ToF32(b.d), m = F16ToF32(b.m);
    uint32_t h;
    std::memcpy(&h, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b.qs[j] & 15) | static_cast<int>(((h >> j) & 1) << 4);
      const int hi = (b.qs[j] >> 4) | static_cast<int>(((h >> (j + 16)) & 1) << 4);
      y[j] = d * static_cast<float>(lo) + m;
      y[j + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

// MXFP4: value = E2M1(code) · 2^(e − 127). E2M1 magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 (sign in the
// code's bit 3), held doubled as integers so that each value is (2·E2M1) · 2^(e − 128) — exact in
// float for every code and exponent (2^−128 and 2^−127 are subnormal). E8M0 255, NaN in the OCP
// spec, is read as 2^127 (as ggml does).
void DequantMxfp4(const std::byte* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const BlockMxfp4& b = Blocks<BlockMxfp4>(src)[i];
    const float d = Mxfp4Scale(b.e);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(kMxfp4Doubled[b.qs[j] & 15]) * d;
      y[j + kQK / 2] = static_cast<float>(kMxfp4Doubled[b.qs[j] >> 4]) * d;
    }
  }
}

}  // namespace

bool CanDequantize(GgmlType type) {
  auto traits = TraitsOfTypeId(static_cast<uint32_t>(type));
  return traits && traits->can_dequantize;
}

void DequantizeRow(GgmlType type, const std::byte* src, float* dst, int64_t n) {
  const GgmlTypeTraits t = TraitsOf(type);
  FRUGAL_CHECK_EQ(n % t.block_elems, 0);
  const int64_t nb = n / t.block_elems;
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = F16ToF32(h);
      }
      return;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = Bf16ToF32(h);
      }
      return;
    case GgmlType::kQ8_0: DequantQ8_0(src, dst, nb); return;
    case GgmlType::kQ4_0: DequantQ4_0(src, dst, nb); return;
    case GgmlType::kQ4_1: DequantQ4_1(src, dst, nb); return;
    case GgmlType::kQ5_0: DequantQ5_0(src, dst, nb); return;
    case GgmlType::kQ5_1: DequantQ5_1(src, dst, nb); return;
    case GgmlType::kMXFP4: DequantMxfp4(src, dst, nb); return;
    case GgmlType::kQ2_K: DequantQ2_K(src, dst, nb); return;
    case GgmlType::kQ3_K: DequantQ3_K(src, dst, nb); return;
    case GgmlType::kQ4_K: DequantQ4_K(src, dst, nb); return;
    case GgmlType::kQ5_K: DequantQ5_K(src, dst, nb); return;
    case GgmlType::kQ6_K: DequantQ6_K(src, dst, nb); return;
    default: FRUGAL_CHECK(false && "DequantizeRow: unsupported type"); return;
  }
}

}  // namespace frugal::kernels
