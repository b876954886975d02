// AVX-512 VNNI: products of Q8_0 and Q4_K panel rows (panel_rows.h), four rows at a time.
#include <immintrin.h>

#include "kernels/avx512_sums.h"
#include "kernels/k_scales_avx512.h"
#include "kernels/panel_rows.h"

namespace frugal::kernels {
namespace {

inline __m512i LoadChunk(const std::byte* p) { return _mm512_loadu_si512(reinterpret_cast<const void*>(p)); }
// A chunk loaded once into a register for several operations: without the barrier GCC folds the
// load into each of them (four 64-byte loads of the same line per Q4_K chunk; measured 30% slower).
inline __m512i LoadChunkOnce(const std::byte* p) {
  __m512i v = LoadChunk(p);
  asm("" : "+v"(v));
  return v;
}
inline __m512 LoadScales(const std::byte* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// y[r] = the sum of acc[r]'s lanes, for R rows (a transposing tree for four).
template <int R>
inline void StoreSums(const __m512* acc, float* y) {
  if constexpr (R == 4) {
    Sum16x4(acc, y);
  } else {
    for (int r = 0; r < R; ++r) y[r] = Sum16(acc[r]);
  }
}

// y[t·ys + r] from acc[r][t], for R rows × T tokens.
template <int R, int T>
inline void StoreTileSums(const __m512 (&acc)[R][T], float* y, int64_t ys) {
  for (int t = 0; t < T; ++t) {
    __m512 rows[R];
    for (int r = 0; r < R; ++r) rows[r] = acc[r][t];
    StoreSums<R>(rows, y + t * ys);
  }
}

// Integer sums a (row, token) pair splits into: a tile of few pairs has too few independent
// vpdpbusd chains to hide the instruction's latency, so its sum runs as S partial sums added at
// the end (integers: the same result, so the same bits, as one chain).
template <int R, int T, int kChainsForOnePair>
constexpr int PartialSums() {
  return R * T >= 4 ? 1 : (R * T >= 2 ? 2 : kChainsForOnePair);
}

// How many rows ahead a tile prefetches the chunk it reads: a four-row tile the next tile's, a
// one-row tile (which reads its row sequentially) the row four rows on.
template <int R>
constexpr uint64_t PrefetchRows() {
  return R == 1 ? 4 : R;
}

// 8-bit activations, R rows × T tokens: vpdpbusd on the stored w + 128 and q, lane j of a
// group's sum starting from −128·Σq of block j, so that it ends at Σ w·q exactly.
template <int R, int T>
void Rows8(const std::byte* w, uint64_t rs, int64_t cols, const Q8PanelRow* x, float* y, int64_t ys) {
  constexpr int S = PartialSums<R, T, 4>();
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < cols / 512; ++g) {
    __m512i sum[R][T][S];
    for (int t = 0; t < T; ++t) {
      const __m512i start = _mm512_loadu_si512(x[t].starts + 16 * g);
      for (int r = 0; r < R; ++r) {
        sum[r][t][0] = start;
        for (int s = 1; s < S; ++s) sum[r][t][s] = _mm512_setzero_si512();
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      __m512i xq[T];
      for (int t = 0; t < T; ++t) xq[t] = _mm512_load_si512(x[t].qs + 512 * g + 64 * c);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const std::byte* chunk = w + r * rs + 512 * g + 64 * c;
        _mm_prefetch(reinterpret_cast<const char*>(chunk + PrefetchRows<R>() * rs), _MM_HINT_T0);
        const __m512i wu = LoadChunk(chunk);
        for (int t = 0; t < T; ++t) sum[r][t][c % S] = _mm512_dpbusd_epi32(sum[r][t][c % S], wu, xq[t]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 dw = LoadScales(w + r * rs + cols + 32 * g);
      for (int t = 0; t < T; ++t) {
        for (int s = 1; s < S; ++s) sum[r][t][0] = _mm512_add_epi32(sum[r][t][0], sum[r][t][s]);
        const __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(x[t].d + 16 * g));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][t][0]), scale, acc[r][t]);
      }
    }
  }
  StoreTileSums<R, T>(acc, y, ys);
}

// The same for four rows (headers `rs` bytes apart) at once: two super-block headers a row, two
// rows a vector, the 6-bit fields unpacked four headers at a time and d, dmin converted together.
inline void ScalesMinsQ4Kx4(const std::byte* headers, uint64_t rs, __m512* scale, __m512* minimum) {
  auto two_rows = [&](int r) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(headers + r * rs));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(headers + (r + 1) * rs));
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  };
  const __m512i h01 = two_rows(0), h23 = two_rows(2);
  // 128-bit lanes [row r: sc of both super-blocks, mn of both, row r + 1: the same].
  const __m512i by_row = _mm512_set_epi64(7, 5, 6, 4, 3, 1, 2, 0);
  const __m512i f01 = _mm512_permutexvar_epi64(by_row, ScaleMinBytesQ4Kx4(h01));
  const __m512i f23 = _mm512_permutexvar_epi64(by_row, ScaleMinBytesQ4Kx4(h23));
  // d, dmin of the 8 headers (dword 3 of each 128-bit lane): [d, dmin] × (row, super-block).
  const __m512i dword3 = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 31, 27, 23, 19, 15, 11, 7, 3);
  const __m512 dd = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi32(h01, dword3, h23)));
  for (int r = 0; r < 4; ++r) {
    const __m512i f = r < 2 ? f01 : f23;
    const int lane = 2 * (r % 2);
    const __m128i sc = lane == 0 ? _mm512_castsi512_si128(f) : _mm512_extracti32x4_epi32(f, 2);
    const __m128i mn = lane == 0 ? _mm512_extracti32x4_epi32(f, 1) : _mm512_extracti32x4_epi32(f, 3);
    // lanes 0..7: super-block 0's d (or dmin), 8..15: super-block 1's; dd holds (d, dmin) per header
    const __m512i d_at = _mm512_set_epi32(4 * r + 2, 4 * r + 2, 4 * r + 2, 4 * r + 2, 4 * r + 2, 4 * r + 2, 4 * r + 2,
                                          4 * r + 2, 4 * r, 4 * r, 4 * r, 4 * r, 4 * r, 4 * r, 4 * r, 4 * r);
    scale[r] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)), _mm512_permutexvar_ps(d_at, dd));
    minimum[r] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(mn)),
                               _mm512_permutexvar_ps(_mm512_add_epi32(d_at, _mm512_set1_epi32(1)), dd));
  }
}

// Q4_K: group g's scales and minimums of R rows (the next R rows' headers prefetched).
template <int R>
inline void GroupScalesQ4K(const std::byte* w, uint64_t rs, int64_t cols, int64_t g, __m512* scale, __m512* minimum) {
  for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w + (r + R) * rs + cols / 2 + 32 * g), _MM_HINT_T0);
  if constexpr (R == 4) {
    ScalesMinsQ4Kx4(w + cols / 2 + 32 * g, rs, scale, minimum);
  } else {
    for (int r = 0; r < R; ++r) ScalesMinsQ4K(w + r * rs + cols / 2 + 32 * g, &scale[r], &minimum[r]);
  }
}

// Q4_K, 8-bit activations, R rows × T tokens: the unsigned nibbles go into vpdpbusd as they are.
template <int R, int T>
void Rows8Q4K(const std::byte* w, uint64_t rs, int64_t cols, const Q8PanelRow* x, float* y, int64_t ys) {
  constexpr int S = PartialSums<R, T, 4>();
  const __m512i low4 = _mm512_set1_epi8(15);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < cols / 512; ++g) {
    __m512i sum[R][T][S];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) {
        for (int s = 0; s < S; ++s) sum[r][t][s] = _mm512_setzero_si512();
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      __m512i xl[T], xh[T];
      for (int t = 0; t < T; ++t) {
        xl[t] = _mm512_load_si512(x[t].qs + 512 * g + 64 * v);
        xh[t] = _mm512_load_si512(x[t].qs + 512 * g + 64 * (v + 4));
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const std::byte* chunk = w + r * rs + 256 * g + 64 * v;
        _mm_prefetch(reinterpret_cast<const char*>(chunk + PrefetchRows<R>() * rs), _MM_HINT_T0);
        const __m512i bytes = LoadChunkOnce(chunk);
        const __m512i low = _mm512_and_si512(bytes, low4), high = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4);
        for (int t = 0; t < T; ++t) {
          __m512i& lo_sum = sum[r][t][(2 * v) % S];
          lo_sum = _mm512_dpbusd_epi32(lo_sum, low, xl[t]);
          __m512i& hi_sum = sum[r][t][(2 * v + 1) % S];
          hi_sum = _mm512_dpbusd_epi32(hi_sum, high, xh[t]);
        }
      }
    }
    __m512 scs[R], mns[R];
    GroupScalesQ4K<R>(w, rs, cols, g, scs, mns);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 sc = scs[r], mn = mns[r];
      for (int t = 0; t < T; ++t) {
        for (int s = 1; s < S; ++s) sum[r][t][0] = _mm512_add_epi32(sum[r][t][0], sum[r][t][s]);
        // the int8 panels' order (QuadTimes: the sums, then the offsets), so that a token has the
        // same bits on either path
        const __m512 scale = _mm512_mul_ps(sc, _mm512_loadu_ps(x[t].d + 16 * g));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][t][0]), scale, acc[r][t]);
        acc[r][t] = _mm512_fnmadd_ps(mn, _mm512_loadu_ps(x[t].sx + 16 * g), acc[r][t]);
      }
    }
  }
  StoreTileSums<R, T>(acc, y, ys);
}

enum class PanelType { kQ8_0, kQ4_K };

template <PanelType P, int R, int T>
void Rows8Of(const std::byte* w, uint64_t rs, int64_t cols, const Q8PanelRow* x, float* y, int64_t ys) {
  if constexpr (P == PanelType::kQ8_0) {
    Rows8<R, T>(w, rs, cols, x, y, ys);
  } else {
    Rows8Q4K<R, T>(w, rs, cols, x, y, ys);
  }
}

// Token counts up to which rows are taken one at a time: each row is then read sequentially,
// where a four-row tile reads four short streams at once (rows a few hundred bytes apart),
// which some CPUs do not stream well: on Zen 4 (family 25) the 129280-row output head at one
// token read 17 GB/s in tiles against 28–36 GB/s row by row (two threads, `frugal bench matmul
// --panels`); the same instructions run equally fast in L2 in either order.
// With more tokens the tiles' reuse of each activation load across four rows wins (a
// 129280 × 1024 matrix there: rows one at a time faster up to 12 tokens, about even at 16–24,
// the tiles 1.2–1.5× faster from 32; docs/BENCHMARKS.md "One row at a time").
constexpr int kRowAtATimeTokens = 16;

template <PanelType P>
void Product8(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x, int n_tokens,
              float* y, int64_t ys) {
  int64_t r = 0;
  if (n_tokens > kRowAtATimeTokens) {
    for (; r + 4 <= n_rows; r += 4) {  // four tokens at a time over four rows while they are in L1
      const std::byte* rows = w + r * row_stride;
      int t = 0;
      for (; t + 4 <= n_tokens; t += 4) Rows8Of<P, 4, 4>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
      if (n_tokens - t == 3) Rows8Of<P, 4, 3>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
      if (n_tokens - t == 2) Rows8Of<P, 4, 2>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
      if (n_tokens - t == 1) Rows8Of<P, 4, 1>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
    }
  }
  for (; r < n_rows; ++r) {
    const std::byte* row = w + r * row_stride;
    switch (n_tokens) {
      case 1: Rows8Of<P, 1, 1>(row, row_stride, cols, x, y + r, ys); continue;
      case 2: Rows8Of<P, 1, 2>(row, row_stride, cols, x, y + r, ys); continue;
      case 3: Rows8Of<P, 1, 3>(row, row_stride, cols, x, y + r, ys); continue;
      default: break;
    }
    int t = 0;
    for (; t + 4 <= n_tokens; t += 4) Rows8Of<P, 1, 4>(row, row_stride, cols, x + t, y + t * ys + r, ys);
    for (; t + 2 <= n_tokens; t += 2) Rows8Of<P, 1, 2>(row, row_stride, cols, x + t, y + t * ys + r, ys);
    if (t < n_tokens) Rows8Of<P, 1, 1>(row, row_stride, cols, x + t, y + t * ys + r, ys);
  }
}

}  // namespace

void Q8_0PanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                 const Q8PanelRow* x, int n_tokens, float* y, int64_t ys) {
  Product8<PanelType::kQ8_0>(w, row_stride, n_rows, cols, x, n_tokens, y, ys);
}

void Q4KPanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                const Q8PanelRow* x, int n_tokens, float* y, int64_t ys) {
  Product8<PanelType::kQ4_K>(w, row_stride, n_rows, cols, x, n_tokens, y, ys);
}

void Q8PanelActivationsFromInt8Avx512(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t g = 0; g < cols / 512; ++g) {
    __m512i sum = _mm512_setzero_si512();
    for (int c = 0; c < 8; ++c) {
      const __m512i q = _mm512_xor_si512(_mm512_loadu_si512(u + 512 * g + 64 * c), flip);
      _mm512_storeu_si512(qs + 512 * g + 64 * c, q);
      sum = _mm512_dpbusd_epi32(sum, ones, q);  // lane j: Σq of block j
    }
    _mm512_storeu_si512(starts + 16 * g, _mm512_mullo_epi32(sum, _mm512_set1_epi32(-128)));
  }
}

}  // namespace frugal::kernels
