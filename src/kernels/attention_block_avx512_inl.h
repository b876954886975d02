// Pieces both AVX-512 attention block kernels use (attention_block_avx512.cc, f32, and
// attention_block_bf16_avx512.cc): included only by units compiled with AVX-512 flags. Internal
// linkage (an unnamed namespace per unit): no weak symbols.
#pragma once

#include <immintrin.h>

#include "kernels/attention_block.h"

namespace frugal::kernels {
namespace {

constexpr int kLanes = 16;
constexpr int kMaxPanels = kAttentionBlockMaxQueries / kLanes;
constexpr int kKeyChunk = 256;  // keys whose K or V rows stay in L2 while every query panel passes

inline int Smaller(int a, int b) { return a < b ? a : b; }

// e^x for 16 lanes: the same reduction and polynomial as ops.cc's Exp (Cephes expf), x clamped
// to [-87, 88].
inline __m512 Exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.12194440e-4f), _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x));
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(e, k);
}

// Lanes i of a panel whose queries see key j: i > j − base (all 16 while j < base).
inline __mmask16 VisibleLanes(int j, int base) {
  const int first = j - base + 1;  // lanes below this do not see key j
  if (first <= 0) return 0xFFFF;
  if (first >= kLanes) return 0;
  return static_cast<__mmask16>(0xFFFFu << first);
}

}  // namespace
}  // namespace frugal::kernels
