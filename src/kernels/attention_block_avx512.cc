// AVX-512 kernel of attention_block.h: scores, softmax and weighted sums of up to 64 queries,
// 16 queries a vector. Compiled with AVX-512 flags; called only when the CPU has them. Internal
// linkage only (no weak symbols: no std:: templates instantiated here).
#include <immintrin.h>

#include "kernels/attention_block.h"
#include "kernels/attention_block_avx512_inl.h"

namespace frugal::kernels {
namespace {

// Scores of NP query panels × NT keys: st[p][t] = Σ_c qp[p][c]·k[t·ks + c] (16 queries a vector).
template <int NP, int NT>
void ScoreTile(const float* const* qp, int dk, const float* k, int64_t ks, float* const* st) {
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_setzero_ps();
  }
  for (int c = 0; c < dk; ++c) {
    __m512 qv[NP];
    for (int p = 0; p < NP; ++p) qv[p] = _mm512_load_ps(qp[p] + c * kLanes);
    for (int t = 0; t < NT; ++t) {
      const __m512 kb = _mm512_set1_ps(k[t * ks + c]);
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_fmadd_ps(qv[p], kb, acc[p][t]);
    }
  }
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) _mm512_store_ps(st[p] + t * kLanes, acc[p][t]);
  }
}

template <int NP>
void Scores(const float* const* qp, int dk, const float* k, int64_t ks, int n_keys, float* const* st) {
  int j = 0;
  for (; j + 8 <= n_keys; j += 8) {
    float* const out[2] = {st[0] + j * kLanes, NP > 1 ? st[1] + j * kLanes : nullptr};
    ScoreTile<NP, 8>(qp, dk, k + j * ks, ks, out);
  }
  for (; j < n_keys; ++j) {
    float* const out[2] = {st[0] + j * kLanes, NP > 1 ? st[1] + j * kLanes : nullptr};
    ScoreTile<NP, 1>(qp, dk, k + j * ks, ks, out);
  }
}

// Weighted sums of NP panels × NT value columns over keys [j0, j1): ot[p][d0 + t] += Σ_j
// pt[p][j]·v[j·vs + d0 + t].
template <int NP, int NT>
void SumTile(const float* const* pt, const float* v, int64_t vs, int d0, int j0, int j1, float* const* ot) {
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_load_ps(ot[p] + (d0 + t) * kLanes);
  }
  for (int j = j0; j < j1; ++j) {
    __m512 pv[NP];
    for (int p = 0; p < NP; ++p) pv[p] = _mm512_load_ps(pt[p] + j * kLanes);
    const float* vr = v + j * vs + d0;
    for (int t = 0; t < NT; ++t) {
      const __m512 vb = _mm512_set1_ps(vr[t]);
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_fmadd_ps(pv[p], vb, acc[p][t]);
    }
  }
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) _mm512_store_ps(ot[p] + (d0 + t) * kLanes, acc[p][t]);
  }
}

template <int NP>
void Sums(const float* const* pt, const float* v, int64_t vs, int dv, int j0, int j1, float* const* ot) {
  int d = 0;
  for (; d + 8 <= dv; d += 8) SumTile<NP, 8>(pt, v, vs, d, j0, j1, ot);
  for (; d < dv; ++d) SumTile<NP, 1>(pt, v, vs, d, j0, j1, ot);
}

}  // namespace

void AttentionBlockAvx512(const AttentionBlockArgs& a, float* scratch) {
  const int nq = a.n_queries, dk = a.dk, dv = a.dv;
  const int n_keys = a.first_visible + nq - 1;
  const int panels = (nq + kLanes - 1) / kLanes;
  const BlockScratch b = LayOutScratch(scratch, dk, dv, n_keys);
  // Queries into panels (padding queries are zeros).
  for (int p = 0; p < panels; ++p) {
    for (int i = 0; i < kLanes; ++i) {
      const int query = p * kLanes + i;
      if (query >= nq) {
        for (int c = 0; c < dk; ++c) b.qp[p][c * kLanes + i] = 0.0f;
        continue;
      }
      const float* src = a.q + query * a.q_stride;
      for (int c = 0; c < dk; ++c) b.qp[p][c * kLanes + i] = src[c];
    }
  }
  // Scores, two panels at a time over the keys the pair's last query sees (each pair would
  // otherwise stream all of K from memory).
  ForChunksAndPairs(a, panels, [&](int p, int np, int j0, int j1) {
    float* out[2] = {b.st[p] + j0 * kLanes, np == 2 ? b.st[p + 1] + j0 * kLanes : nullptr};
    if (np == 2) {
      Scores<2>(b.qp + p, dk, a.k + j0 * a.k_stride, a.k_stride, j1 - j0, out);
    } else {
      Scores<1>(b.qp + p, dk, a.k + j0 * a.k_stride, a.k_stride, j1 - j0, out);
    }
  });
  // Softmax across each panel's 16 queries: the maximum of the visible scores, then e^(scale·(s −
  // max)) where visible and 0 elsewhere; the sums divide at the end.
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int p = 0; p < panels; ++p) {
    const int base = a.first_visible + kLanes * p;
    const int keys = Smaller(n_keys, base + kLanes - 1);
    const int keys_pair = Smaller(n_keys, a.first_visible + kLanes * ((p | 1) + 1) - 1);  // the pair's weighted sums read these
    const __m512 mx = VisibleMax(b.st[p], keys, base);
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < keys; ++j) {
      const __m512 s = _mm512_load_ps(b.st[p] + j * kLanes);
      const __m512 e = _mm512_maskz_mov_ps(VisibleLanes(j, base), Exp16(_mm512_mul_ps(_mm512_sub_ps(s, mx), scale)));
      _mm512_store_ps(b.st[p] + j * kLanes, e);
      sum = _mm512_add_ps(sum, e);
    }
    for (int j = keys; j < keys_pair; ++j) _mm512_store_ps(b.st[p] + j * kLanes, _mm512_setzero_ps());
    _mm512_store_ps(b.sums + p * kLanes, sum);
  }
  // Weighted sums of the values, two panels at a time (weights in L1, values in L2).
  for (int p = 0; p < panels; ++p) {
    for (int d = 0; d < dv; ++d) _mm512_store_ps(b.ot[p] + d * kLanes, _mm512_setzero_ps());
  }
  ForChunksAndPairs(a, panels, [&](int p, int np, int j0, int j1) {
    if (np == 2) {
      Sums<2>(b.st + p, a.v, a.v_stride, dv, j0, j1, b.ot + p);
    } else {
      Sums<1>(b.st + p, a.v, a.v_stride, dv, j0, j1, b.ot + p);
    }
  });
  WriteNormalized(b, panels, a);
}

}  // namespace frugal::kernels
