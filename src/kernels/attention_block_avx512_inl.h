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

// Both kernels' scratch: the panels' softmax sums, then per panel the packed queries (room for dk
// floats a lane), the weighted sums (dv) and the scores (n_keys).
struct BlockScratch {
  float* sums;
  float* qp[kMaxPanels];
  float* ot[kMaxPanels];
  float* st[kMaxPanels];
};

inline BlockScratch LayOutScratch(float* scratch, int dk, int dv, int n_keys) {
  BlockScratch b;
  b.sums = scratch;
  float* next = scratch + kMaxPanels * kLanes;
  for (int p = 0; p < kMaxPanels; ++p) {
    b.qp[p] = next, next += static_cast<int64_t>(dk) * kLanes;
    b.ot[p] = next, next += static_cast<int64_t>(dv) * kLanes;
    b.st[p] = next, next += static_cast<int64_t>(n_keys) * kLanes;
  }
  return b;
}

// The products' loop order: keys in chunks of kKeyChunk, each chunk passed by every pair of query
// panels (the last alone if odd) while its K or V rows are still in L2; fn(p, np, j0, j1) for
// panels [p, p + np) over keys [j0, j1) — the keys the pair's last query sees, within the chunk.
template <class Fn>
void ForChunksAndPairs(const AttentionBlockArgs& a, int panels, Fn&& fn) {
  const int n_keys = a.first_visible + a.n_queries - 1;
  for (int j0 = 0; j0 < n_keys; j0 += kKeyChunk) {
    for (int p = 0; p < panels; p += 2) {
      const int np = p + 1 < panels ? 2 : 1;
      const int keys = Smaller(n_keys, a.first_visible + kLanes * (p + np) - 1);
      if (keys > j0) fn(p, np, j0, Smaller(keys, j0 + kKeyChunk));
    }
  }
}

// The largest visible score of each of a panel's 16 queries (base: keys visible to its lane 0).
inline __m512 VisibleMax(const float* st, int keys, int base) {
  __m512 mx = _mm512_set1_ps(-3.0e38f);
  for (int j = 0; j < keys; ++j) mx = _mm512_mask_max_ps(mx, VisibleLanes(j, base), mx, _mm512_load_ps(st + j * kLanes));
  return mx;
}

// The weighted sums divided by the softmax sums, back to one row per query.
inline void WriteNormalized(const BlockScratch& b, int panels, const AttentionBlockArgs& a) {
  alignas(64) float lane[kLanes];
  for (int p = 0; p < panels; ++p) {
    const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_load_ps(b.sums + p * kLanes));
    const int valid = Smaller(kLanes, a.n_queries - p * kLanes);
    for (int d = 0; d < a.dv; ++d) {
      _mm512_store_ps(lane, _mm512_mul_ps(_mm512_load_ps(b.ot[p] + d * kLanes), inv));
      for (int i = 0; i < valid; ++i) a.o[(p * kLanes + i) * a.o_stride + d] = lane[i];
    }
  }
}

}  // namespace
}  // namespace frugal::kernels
