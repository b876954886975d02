// Scalar dequantization of the 256-element K formats
// (../shared/reference/ggml-quant-formats.md, "256-element K formats").
#include "kernels/dequantize_internal.h"
#include "kernels/quant_blocks.h"
#include "util/half.h"

namespace frugal::kernels {

void DequantQ4_K(const std::byte* src, float* y, int64_t nb) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ4_K& b = blocks[i];
    const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
    for (int c = 0; c < 4; ++c) {  // chunk of 64: sub-blocks 2c (low nibbles), 2c+1 (high)
      const uint8_t* q = b.qs + 32 * c;
      uint8_t sc, mn;
      UnpackScaleMinK4(b.scales, 2 * c, &sc, &mn);
      const float d1 = d * sc, m1 = dmin * mn;
      UnpackScaleMinK4(b.scales, 2 * c + 1, &sc, &mn);
      const float d2 = d * sc, m2 = dmin * mn;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 15) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void DequantQ5_K(const std::byte* src, float* y, int64_t nb) {
  const auto* blocks = reinterpret_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ5_K& b = blocks[i];
    const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = b.qs + 32 * c;
      uint8_t sc, mn;
      UnpackScaleMinK4(b.scales, 2 * c, &sc, &mn);
      const float d1 = d * sc, m1 = dmin * mn;
      UnpackScaleMinK4(b.scales, 2 * c + 1, &sc, &mn);
      const float d2 = d * sc, m2 = dmin * mn;
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] & 15) + (((b.qh[l] >> (2 * c)) & 1) << 4);
        *y++ = d1 * static_cast<float>(v) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] >> 4) + (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
        *y++ = d2 * static_cast<float>(v) - m2;
      }
    }
  }
}

void DequantQ6_K(const std::byte* src, float* y, int64_t nb) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ6_K& b = blocks[i];
    const float d = F16ToF32(b.d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void DequantQ2_K(const std::byte* src, float* y, int64_t nb) {
  const auto* blocks = reinterpret_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ2_K& b = blocks[i];
    const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
    int is = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = b.qs + 32 * h;
      for (int j = 0; j < 4; ++j) {
        for (int g = 0; g < 2; ++g) {  // two groups of 16: q[l], then q[l + 16]
          const uint8_t sc = b.scales[is++];
          const float dl = d * static_cast<float>(sc & 15), ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) {
            *y++ = dl * static_cast<float>((q[l + 16 * g] >> (2 * j)) & 3) - ml;
          }
        }
      }
    }
  }
}

void DequantQ3_K(const std::byte* src, float* y, int64_t nb) {
  const auto* blocks = reinterpret_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ3_K& b = blocks[i];
    const float d = F16ToF32(b.d);
    int scale[16];
    for (int s = 0; s < 16; ++s) {
      const int low = s < 8 ? (b.scales[s] & 15) : (b.scales[s - 8] >> 4);
      const int high = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
      scale[s] = (low | (high << 4)) - 32;
    }
    int is = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = b.qs + 32 * h;
      for (int j = 0; j < 4; ++j) {
        const int bit = 4 * h + j;
        for (int g = 0; g < 2; ++g) {
          const float dl = d * static_cast<float>(scale[is++]);
          for (int l = 0; l < 16; ++l) {
            const int idx = l + 16 * g;
            int v = (q[idx] >> (2 * j)) & 3;
            if (!((b.hmask[idx] >> bit) & 1)) v -= 4;
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

}  // namespace frugal::kernels
