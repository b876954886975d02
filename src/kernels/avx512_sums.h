// Horizontal sums of AVX-512 vectors, for the per-ISA units compiled with AVX-512 flags only.
// Static: each unit keeps its own copy (no weak symbol the linker could lend an older CPU).
#pragma once

#include <immintrin.h>

namespace frugal::kernels {

// (GCC 12 bug 105593: the 512→128 cast intrinsic reads an "uninitialized" placeholder.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
// Horizontal sum as a tree (depth 4, not a 16-add chain: decode ends every row with one).
static inline float Sum16(__m512 v) {
  const __m512 h8 = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));       // + the other 256-bit half
  const __m512 h4 = _mm512_add_ps(h8, _mm512_shuffle_f32x4(h8, h8, 0xB1));  // + the neighbouring 128-bit lane
  const __m128 x = _mm512_castps512_ps128(h4);
  const __m128 h2 = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

// out[j] = the sum of acc[j]'s 16 lanes, for four vectors at once (a transposing tree: 15 vector
// operations instead of four separate reductions).
static inline void Sum16x4(const __m512* acc, float* out) {
  const __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(acc[0], acc[1], 0x44), _mm512_shuffle_f32x4(acc[0], acc[1], 0xEE));
  const __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2], acc[3], 0x44), _mm512_shuffle_f32x4(acc[2], acc[3], 0xEE));
  // 128-bit lane j: four partial sums of acc[j]
  const __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
  const __m512 v = _mm512_add_ps(u, _mm512_permute_ps(u, 0x4E));
  const __m512 w = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));  // every element of lane j: the sum of acc[j]
  _mm_storeu_ps(out, _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0), w)));
}
#pragma GCC diagnostic pop

}  // namespace frugal::kernels
