// Scalar quantizers for the K formats: per sub-block affine (Q4_K/Q5_K) or symmetric (Q6_K)
// scales, themselves quantized against one f16 super-scale. The packing is the exact inverse of
// the unpacking in dequantize_k_ref.cc.
#include <algorithm>
#include <cmath>

#include "kernels/quant_blocks.h"
#include "kernels/quantize_internal.h"
#include "util/half.h"

namespace frugal::kernels {
namespace {

int RoundToInt(float x) { return static_cast<int>(std::lround(x)); }

// Packs 6-bit scales sc[8] and mins mn[8] into the 12-byte Q4_K/Q5_K form.
void PackScaleMinK4(const int* sc, const int* mn, uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
}

// Chooses d, dmin and per-sub-block 6-bit sc/mn so x ≈ d·sc·q − dmin·mn with q in [0, qmax];
// writes the quantized values (0..qmax) to q[256].
void AffineK(const float* x, int qmax, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales, int* q) {
  float scale[8], minus_min[8];
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    const float mn = std::min(0.0f, *std::min_element(xs, xs + 32));
    const float mx = *std::max_element(xs, xs + 32);
    scale[s] = (mx - mn) / static_cast<float>(qmax);
    minus_min[s] = -mn;
  }
  const float max_scale = *std::max_element(scale, scale + 8);
  const float max_min = *std::max_element(minus_min, minus_min + 8);
  const float d = F16ToF32(F32ToF16(max_scale / 63.0f));
  const float dmin = F16ToF32(F32ToF16(max_min / 63.0f));
  int sc[8], mn[8];
  for (int s = 0; s < 8; ++s) {
    sc[s] = d > 0 ? std::clamp(RoundToInt(scale[s] / d), 0, 63) : 0;
    mn[s] = dmin > 0 ? std::clamp(RoundToInt(minus_min[s] / dmin), 0, 63) : 0;
    const float step = d * static_cast<float>(sc[s]);
    const float offset = dmin * static_cast<float>(mn[s]);
    for (int l = 0; l < 32; ++l) {
      const float v = x[32 * s + l];
      q[32 * s + l] = step > 0 ? std::clamp(RoundToInt((v + offset) / step), 0, qmax) : 0;
    }
  }
  *d_out = F32ToF16(d);
  *dmin_out = F32ToF16(dmin);
  PackScaleMinK4(sc, mn, scales);
}

}  // namespace

void QuantQ4_K(const float* x, std::byte* dst, int64_t nb) {
  auto* blocks = reinterpret_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    BlockQ4_K& b = blocks[i];
    int q[kQKK];
    AffineK(x, 15, &b.d, &b.dmin, b.scales, q);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void QuantQ5_K(const float* x, std::byte* dst, int64_t nb) {
  auto* blocks = reinterpret_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    BlockQ5_K& b = blocks[i];
    int q[kQKK];
    AffineK(x, 31, &b.d, &b.dmin, b.scales, q);
    std::fill(b.qh, b.qh + 32, uint8_t{0});
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void QuantQ6_K(const float* x, std::byte* dst, int64_t nb) {
  auto* blocks = reinterpret_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    BlockQ6_K& b = blocks[i];
    float scale[16];
    for (int s = 0; s < 16; ++s) {
      float amax = 0;
      for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * s + l]));
      scale[s] = amax / 31.0f;
    }
    const float d = F16ToF32(F32ToF16(*std::max_element(scale, scale + 16) / 127.0f));
    b.d = F32ToF16(d);
    int q[kQKK];
    for (int s = 0; s < 16; ++s) {
      const int sc = d > 0 ? std::clamp(RoundToInt(scale[s] / d), -128, 127) : 0;
      b.scales[s] = static_cast<int8_t>(sc);
      const float step = d * static_cast<float>(sc);
      for (int l = 0; l < 16; ++l) {
        const float v = x[16 * s + l];
        q[16 * s + l] = (step > 0 ? std::clamp(RoundToInt(v / step), -32, 31) : 0) + 32;
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int* qh_src = q + 128 * h;
      uint8_t* ql = b.ql + 64 * h;
      uint8_t* qh = b.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = qh_src[l], q2 = qh_src[l + 32], q3 = qh_src[l + 64], q4 = qh_src[l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 15) | ((q3 & 15) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 15) | ((q4 & 15) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

}  // namespace frugal::kernels
