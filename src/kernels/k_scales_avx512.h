// Q4_K/Q5_K scale unpacking in vector registers, for the per-ISA units compiled with AVX-512
// flags only. Static: each unit keeps its own copy (no weak symbol the linker could lend an older
// CPU).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace frugal::kernels {

// The 6-bit scales (bytes 0..7) and minimums (8..15) of a Q4_K super-block's 8 sub-blocks
// (the layout of UnpackScaleMinK4), unpacked four at a time in 32-bit lanes without leaving the
// vector unit. Reads 16 bytes at `packed` (the 12 scale bytes are followed by the block's quants).
static inline __m128i ScaleMinBytesQ4K(const uint8_t* packed) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));  // words u0 u1 u2 (u3 unused)
  const __m128i lo = _mm_and_si128(v, _mm_set1_epi32(0x3f3f3f3f));            // [sc 0..3, mn 0..3]
  const __m128i nib = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0xAA), _mm_set_epi32(0, 0, 4, 0)),
                                    _mm_set1_epi32(0x0f0f0f0f));                 // [u2 & 15, u2 >> 4 & 15]
  const __m128i top = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(v, 6), _mm_set1_epi32(0x03030303)), 4);
  return _mm_unpacklo_epi32(lo, _mm_or_si128(nib, top));  // [sc 0..3, sc 4..7, mn 0..3, mn 4..7]
}

// The same for four super-blocks at once, one per 128-bit lane of `packed`.
static inline __m512i ScaleMinBytesQ4Kx4(__m512i v) {
  const __m512i lo = _mm512_and_si512(v, _mm512_set1_epi32(0x3f3f3f3f));
  const __m512i nib = _mm512_and_si512(_mm512_srlv_epi32(_mm512_shuffle_epi32(v, _MM_PERM_CCCC), _mm512_set4_epi32(0, 0, 4, 0)),
                                       _mm512_set1_epi32(0x0f0f0f0f));
  const __m512i top = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v, 6), _mm512_set1_epi32(0x03030303)), 4);
  return _mm512_unpacklo_epi32(lo, _mm512_or_si512(nib, top));
}

// Q4_K panels: a group's 16 sub-block scales d·sc and minimums dmin·mn (two super-block headers).
static inline void ScalesMinsQ4K(const std::byte* headers, __m512* scale, __m512* minimum) {
  const auto* h = reinterpret_cast<const uint8_t*>(headers);
  const __m128i b0 = ScaleMinBytesQ4K(h), b1 = ScaleMinBytesQ4K(h + 16);  // [sc 0..7, mn 0..7] each
  uint16_t half[4];
  __builtin_memcpy(half, h + 12, 4);
  __builtin_memcpy(half + 2, h + 28, 4);
  auto pair = [](float a, float b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(a)), _mm256_castps_pd(_mm256_set1_ps(b)), 1));
  };
  *scale = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi64(b0, b1))),
                         pair(_cvtsh_ss(half[0]), _cvtsh_ss(half[2])));
  *minimum = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi64(b0, b1))),
                           pair(_cvtsh_ss(half[1]), _cvtsh_ss(half[3])));
}

}  // namespace frugal::kernels
