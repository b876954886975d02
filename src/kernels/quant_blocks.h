// ggml block layouts, byte for byte (../shared/reference/ggml-quant-formats.md).
// f16 fields are stored as raw uint16_t bits.
#pragma once

#include <cstdint>

namespace frugal::kernels {

inline constexpr int kQK = 32;    // elements per block of the 32-element formats
inline constexpr int kQKK = 256;  // elements per K-format super-block

struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; };
// MXFP4 (OCP microscaling): an E8M0 shared exponent, then 32 E2M1 codes (low nibbles: values 0-15, high: 16-31).
struct BlockMxfp4 { uint8_t e; uint8_t qs[16]; };
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d; uint16_t dmin; };
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };

// MXFP4 values: E2M1 code c (sign in bit 3) is kMxfp4Doubled[c] · 2^(e − 128) — the E2M1
// magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 doubled to integers, so every value is exact in float.
inline constexpr int8_t kMxfp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
// 2^(e − 128) for an E8M0 exponent e, built from its bits (2^−128 and 2^−127 are subnormal;
// e = 255, NaN in the OCP spec, reads as 2^127 as in ggml).
// (static: per-ISA objects include this header and must not share a weak definition.)
static inline float Mxfp4Scale(uint8_t e) {
  const uint32_t bits = e >= 2 ? static_cast<uint32_t>(e - 1) << 23 : e == 1 ? 0x00400000u : 0x00200000u;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockMxfp4) == 17);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// Unpacks the 6-bit scale and min of sub-block s (0..7) of Q4_K/Q5_K. Static: each translation
// unit keeps its own copy, so an unoptimized per-ISA unit cannot lend the linker one compiled
// for instructions other CPUs lack.
static inline void UnpackScaleMinK4(const uint8_t* scales, int s, uint8_t* sc, uint8_t* mn) {
  if (s < 4) {
    *sc = scales[s] & 63;
    *mn = scales[s + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4));
    *mn = static_cast<uint8_t>((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

}  // namespace frugal::kernels
