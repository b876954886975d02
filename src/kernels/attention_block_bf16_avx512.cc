// AVX512-BF16 kernel of attention_block.h: the f32 kernel's transposed scheme
// (attention_block_avx512.cc) with the products on vdpbf16ps — each instruction multiplies 16
// lanes × a pair of bf16 values and adds to f32 sums. Scores: a lane's pair is two dimensions of
// its query, the broadcast pair the same two of a key; weighted sums: a lane's pair is its
// query's weights of two consecutive keys, the broadcast pair those keys' values of one
// dimension. The softmax stays f32; its weights are rounded to bf16 pairs in place of the
// scores. Compiled with AVX-512 and AVX512-BF16 flags; called only when the CPU has them.
// Internal linkage only (no weak symbols: no std:: templates instantiated here).
#include <immintrin.h>

#include <time.h>

#include "kernels/attention_block.h"
#include "kernels/attention_block_avx512_inl.h"

namespace frugal::kernels {
namespace {

// Lane i of the result: (bf16(lo[i]) in the low half, bf16(hi[i]) in the high half).
inline __m512i PairBf16(__m512 lo, __m512 hi) {
  const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // elements 0..15: lo, 16..31: hi
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                              21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(interleave, both);
}

// Scores of NP query panels × NT keys: st[p][t] = Σ_c qp[p][c]·k[t·pairs + c] over dimension pairs.
template <int NP, int NT>
void ScoreTile(const uint32_t* const* qp, int pairs, const uint32_t* k, float* const* st) {
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_setzero_ps();
  }
  for (int c = 0; c < pairs; ++c) {
    __m512bh qv[NP];
    for (int p = 0; p < NP; ++p) qv[p] = (__m512bh)_mm512_load_si512(qp[p] + c * kLanes);
    for (int t = 0; t < NT; ++t) {
      const __m512bh kb = (__m512bh)_mm512_set1_epi32(static_cast<int>(k[t * pairs + c]));
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_dpbf16_ps(acc[p][t], qv[p], kb);
    }
  }
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) _mm512_store_ps(st[p] + t * kLanes, acc[p][t]);
  }
}

template <int NP>
void Scores(const uint32_t* const* qp, int pairs, const uint32_t* k, int n_keys, float* const* st) {
  int j = 0;
  for (; j + 8 <= n_keys; j += 8) {
    float* const out[2] = {st[0] + j * kLanes, NP > 1 ? st[1] + j * kLanes : nullptr};
    ScoreTile<NP, 8>(qp, pairs, k + j * pairs, out);
  }
  for (; j < n_keys; ++j) {
    float* const out[2] = {st[0] + j * kLanes, NP > 1 ? st[1] + j * kLanes : nullptr};
    ScoreTile<NP, 1>(qp, pairs, k + j * pairs, out);
  }
}

// Weighted sums of NP panels × NT value columns over key pairs [jp0, jp1): ot[p][d0 + t] +=
// Σ_jp wt[p][jp]·v[jp·dv + d0 + t] (wt: the weights' pairs, 16 lanes a key pair).
template <int NP, int NT>
void SumTile(const uint32_t* const* wt, const uint32_t* v, int dv, int d0, int jp0, int jp1, float* const* ot) {
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_load_ps(ot[p] + (d0 + t) * kLanes);
  }
  for (int jp = jp0; jp < jp1; ++jp) {
    __m512bh wv[NP];
    for (int p = 0; p < NP; ++p) wv[p] = (__m512bh)_mm512_load_si512(wt[p] + jp * kLanes);
    const uint32_t* vr = v + jp * dv + d0;
    for (int t = 0; t < NT; ++t) {
      const __m512bh vb = (__m512bh)_mm512_set1_epi32(static_cast<int>(vr[t]));
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_dpbf16_ps(acc[p][t], wv[p], vb);
    }
  }
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) _mm512_store_ps(ot[p] + (d0 + t) * kLanes, acc[p][t]);
  }
}

template <int NP>
void Sums(const uint32_t* const* wt, const uint32_t* v, int dv, int jp0, int jp1, float* const* ot) {
  int d = 0;
  for (; d + 8 <= dv; d += 8) SumTile<NP, 8>(wt, v, dv, d, jp0, jp1, ot);
  for (; d < dv; ++d) SumTile<NP, 1>(wt, v, dv, d, jp0, jp1, ot);
}

double Seconds() {  // clock_gettime: no std:: templates in this unit
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

void PackAttentionBf16Avx512(const float* k, int64_t k_stride, int dk, const float* v, int64_t v_stride, int dv,
                             int n_keys, uint32_t* packed) {
  const int pairs = AttentionKeyPairs(dk);
  // Keys: each row's values rounded in order (the pairs are consecutive bf16 values).
  for (int j = 0; j < n_keys; ++j) {
    const float* row = k + j * k_stride;
    uint16_t* out = reinterpret_cast<uint16_t*>(packed + int64_t{j} * pairs);
    int c = 0;
    for (; c + 16 <= dk; c += 16) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(row + c)));
    }
    if (c < 2 * pairs) {  // the rest, and the odd dimension's zero partner
      const __mmask16 in = static_cast<__mmask16>((1u << (dk - c)) - 1), outm = static_cast<__mmask16>((1u << (2 * pairs - c)) - 1);
      const __m256i b = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(in, row + c));
      _mm256_mask_storeu_epi16(out + c, outm, b);
    }
  }
  // Values: rows 2jp and 2jp + 1 interleaved per dimension.
  uint32_t* vp = packed + int64_t{n_keys} * pairs;
  for (int jp = 0; jp < (n_keys + 1) / 2; ++jp) {
    const float* r0 = v + 2 * jp * v_stride;
    const bool has1 = 2 * jp + 1 < n_keys;
    const float* r1 = has1 ? r0 + v_stride : r0;
    uint32_t* out = vp + int64_t{jp} * dv;
    for (int d = 0; d < dv; d += 16) {
      const __mmask16 m = dv - d >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (dv - d)) - 1);
      const __m512 lo = _mm512_maskz_loadu_ps(m, r0 + d);
      const __m512 hi = has1 ? _mm512_maskz_loadu_ps(m, r1 + d) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi32(out + d, m, PairBf16(lo, hi));
    }
  }
}

void AttentionBlockBf16Avx512(const AttentionBlockArgs& a, AttentionBf16Packed kv, float* scratch) {
  const int nq = a.n_queries, dk = a.dk, dv = a.dv, pairs = AttentionKeyPairs(dk);
  const int n_keys = a.first_visible + nq - 1;
  const int panels = (nq + kLanes - 1) / kLanes;
  // The f32 kernel's scratch (a pair of bf16 takes a float's room): the queries' panels hold
  // dimension pairs; the scores' rows become the weights' pairs (key pair jp in row jp, written
  // after rows 2jp and 2jp + 1 were read).
  const BlockScratch b = LayOutScratch(scratch, dk, dv, n_keys);
  uint32_t* qp[kMaxPanels];
  uint32_t* wt[kMaxPanels];
  for (int p = 0; p < kMaxPanels; ++p) {
    qp[p] = reinterpret_cast<uint32_t*>(b.qp[p]);
    wt[p] = reinterpret_cast<uint32_t*>(b.st[p]);
  }
  // Queries into panels of dimension pairs (padding queries and the odd dimension's partner zero).
  for (int p = 0; p < panels; ++p) {
    for (int c = 0; c < pairs; ++c) {
      alignas(64) float lo[kLanes] = {}, hi[kLanes] = {};
      for (int i = 0; i < kLanes && p * kLanes + i < nq; ++i) {
        const float* src = a.q + (p * kLanes + i) * a.q_stride;
        lo[i] = src[2 * c];
        hi[i] = 2 * c + 1 < dk ? src[2 * c + 1] : 0.0f;
      }
      _mm512_store_si512(qp[p] + c * kLanes, PairBf16(_mm512_load_ps(lo), _mm512_load_ps(hi)));
    }
  }
  // Scores, two panels at a time over the keys the pair's last query sees.
  ForChunksAndPairs(a, panels, [&](int p, int np, int j0, int j1) {
    float* out[2] = {b.st[p] + j0 * kLanes, np == 2 ? b.st[p + 1] + j0 * kLanes : nullptr};
    if (np == 2) {
      Scores<2>(qp + p, pairs, kv.k + j0 * pairs, j1 - j0, out);
    } else {
      Scores<1>(qp + p, pairs, kv.k + j0 * pairs, j1 - j0, out);
    }
  });
  // Softmax across each panel's 16 queries (f32): the maximum of the visible scores, then
  // e^(scale·(s − max)) where visible and 0 elsewhere, summed unrounded and stored as bf16 pairs
  // of consecutive keys; the sums divide at the end.
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int p = 0; p < panels; ++p) {
    const int base = a.first_visible + kLanes * p;
    const int keys = Smaller(n_keys, base + kLanes - 1);
    const int keys_pair = Smaller(n_keys, a.first_visible + kLanes * ((p | 1) + 1) - 1);  // the pair's weighted sums read these
    const __m512 mx = VisibleMax(b.st[p], keys, base);
    __m512 sum = _mm512_setzero_ps();
    for (int jp = 0; 2 * jp < keys_pair; ++jp) {
      __m512 e[2];
      for (int h = 0; h < 2; ++h) {
        const int j = 2 * jp + h;
        e[h] = j < keys ? _mm512_maskz_mov_ps(VisibleLanes(j, base),
                                              Exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_load_ps(b.st[p] + j * kLanes), mx), scale)))
                        : _mm512_setzero_ps();
      }
      sum = _mm512_add_ps(sum, _mm512_add_ps(e[0], e[1]));
      _mm512_store_si512(wt[p] + jp * kLanes, PairBf16(e[0], e[1]));
    }
    _mm512_store_ps(b.sums + p * kLanes, sum);
  }
  // Weighted sums of the values over key pairs, two panels at a time (chunks start at even keys).
  for (int p = 0; p < panels; ++p) {
    for (int d = 0; d < dv; ++d) _mm512_store_ps(b.ot[p] + d * kLanes, _mm512_setzero_ps());
  }
  ForChunksAndPairs(a, panels, [&](int p, int np, int j0, int j1) {
    if (np == 2) {
      Sums<2>(wt + p, kv.v, dv, j0 / 2, (j1 + 1) / 2, b.ot + p);
    } else {
      Sums<1>(wt + p, kv.v, dv, j0 / 2, (j1 + 1) / 2, b.ot + p);
    }
  });
  WriteNormalized(b, panels, a);
}

double MeasureBf16DotSpeedup() {
  // Twelve independent sums each (latency hidden), the two loops alternated five times; the
  // fastest run of each counts (a VM's preemption only slows a run down).
  constexpr int kIterations = 4000;
  double best_fma = 1e30, best_bf16 = 1e30;
  __m512 sink = _mm512_setzero_ps();
  for (int round = 0; round < 5; ++round) {
    {
      __m512 acc[12];
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
      __m512 x = _mm512_set1_ps(0.999f);
      const double t0 = Seconds();
      for (int n = 0; n < kIterations; ++n) {
        for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, x);
        __asm__ volatile("" : "+v"(x));
      }
      const double s = Seconds() - t0;
      best_fma = s < best_fma ? s : best_fma;
      for (int i = 0; i < 12; ++i) sink = _mm512_add_ps(sink, acc[i]);
    }
    {
      __m512 acc[12];
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
      __m512i x = _mm512_set1_epi16(0x3f80);  // 1.0 in bf16
      const double t0 = Seconds();
      for (int n = 0; n < kIterations; ++n) {
        for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)x, (__m512bh)x);
        __asm__ volatile("" : "+v"(x));
      }
      const double s = Seconds() - t0;
      best_bf16 = s < best_bf16 ? s : best_bf16;
      for (int i = 0; i < 12; ++i) sink = _mm512_add_ps(sink, acc[i]);
    }
  }
  __asm__ volatile("" : : "v"(sink));
  // Per instruction: 16 multiply-adds (FMA), 32 (vdpbf16ps).
  return (32.0 / best_bf16) / (16.0 / best_fma);
}

}  // namespace frugal::kernels
