// AVX-512 VNNI: products of Q8_0 panel rows (q8_panels.h), four rows at a time.
#include <immintrin.h>

#include "kernels/avx512_sums.h"
#include "kernels/q8_panels.h"

namespace frugal::kernels {
namespace {

inline __m512i LoadChunk(const std::byte* p) { return _mm512_loadu_si512(reinterpret_cast<const void*>(p)); }
inline __m512 LoadScales(const std::byte* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// 16-bit activations, R rows × one token. Chunk c's low and high 32 bytes (w + 128) widen to
// 16-bit words whose int32 lanes k hold block k/2 (low) and 8 + k/2 (high): two int32 sums per
// group, started at −128·Σx of their lanes, each scaled by its blocks' dw·dx spread over lane pairs.
template <int R>
void Rows16(const std::byte* w, uint64_t rs, int64_t cols, const Q16PanelRow& x, float* y) {
  const __m512i low_pairs = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i high_pairs = _mm512_add_epi32(low_pairs, _mm512_set1_epi32(8));
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t g = 0; g < cols / 512; ++g) {
    __m512i lo[R], hi[R];
    const __m512i start_lo = _mm512_loadu_si512(x.starts + 32 * g), start_hi = _mm512_loadu_si512(x.starts + 32 * g + 16);
    for (int r = 0; r < R; ++r) {
      lo[r] = start_lo;
      hi[r] = start_hi;
    }
    const int16_t* xg = x.qs + 512 * g;
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      const __m512i x_lo = _mm512_load_si512(xg + 64 * c), x_hi = _mm512_load_si512(xg + 64 * c + 32);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const std::byte* chunk = w + r * rs + 512 * g + 64 * c;
        _mm_prefetch(reinterpret_cast<const char*>(chunk + R * rs), _MM_HINT_T0);  // the next rows' same chunk
        const __m512i w_lo = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk)));
        const __m512i w_hi = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk + 32)));
        lo[r] = _mm512_dpwssd_epi32(lo[r], w_lo, x_lo);
        hi[r] = _mm512_dpwssd_epi32(hi[r], w_hi, x_hi);
      }
    }
    const __m512 dx = _mm512_loadu_ps(x.d + 16 * g);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 scale = _mm512_mul_ps(LoadScales(w + r * rs + cols + 32 * g), dx);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo[r]), _mm512_permutexvar_ps(low_pairs, scale), acc[r]);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi[r]), _mm512_permutexvar_ps(high_pairs, scale), acc[r]);
    }
  }
  if constexpr (R == 4) {
    Sum16x4(acc, y);
  } else {
    for (int r = 0; r < R; ++r) y[r] = Sum16(acc[r]);
  }
}

// 8-bit activations, R rows × T tokens: vpdpbusd on the stored w + 128 and q, lane j of a
// group's sum starting from −128·Σq of block j, so that it ends at Σ w·q exactly.
template <int R, int T>
void Rows8(const std::byte* w, uint64_t rs, int64_t cols, const Q8PanelRow* x, float* y, int64_t ys) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < cols / 512; ++g) {
    __m512i sum[R][T];
    for (int t = 0; t < T; ++t) {
      const __m512i start = _mm512_loadu_si512(x[t].starts + 16 * g);
      for (int r = 0; r < R; ++r) sum[r][t] = start;
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      __m512i xq[T];
      for (int t = 0; t < T; ++t) xq[t] = _mm512_load_si512(x[t].qs + 512 * g + 64 * c);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const std::byte* chunk = w + r * rs + 512 * g + 64 * c;
        _mm_prefetch(reinterpret_cast<const char*>(chunk + R * rs), _MM_HINT_T0);  // the next rows' same chunk
        const __m512i wu = LoadChunk(chunk);
        for (int t = 0; t < T; ++t) sum[r][t] = _mm512_dpbusd_epi32(sum[r][t], wu, xq[t]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 dw = LoadScales(w + r * rs + cols + 32 * g);
      for (int t = 0; t < T; ++t) {
        const __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(x[t].d + 16 * g));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][t]), scale, acc[r][t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    if constexpr (R == 4) {
      const __m512 rows[4] = {acc[0][t], acc[1][t], acc[2][t], acc[3][t]};
      Sum16x4(rows, y + t * ys);
    } else {
      for (int r = 0; r < R; ++r) y[t * ys + r] = Sum16(acc[r][t]);
    }
  }
}

}  // namespace

void Q8PanelProduct16Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                const Q16PanelRow* x, int n_tokens, float* y, int64_t ys) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {  // every token over four rows while they are in L1
    for (int t = 0; t < n_tokens; ++t) Rows16<4>(w + r * row_stride, row_stride, cols, x[t], y + t * ys + r);
  }
  for (; r < n_rows; ++r) {
    for (int t = 0; t < n_tokens; ++t) Rows16<1>(w + r * row_stride, row_stride, cols, x[t], y + t * ys + r);
  }
}

void Q8PanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                               const Q8PanelRow* x, int n_tokens, float* y, int64_t ys) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {  // three tokens at a time over four rows while they are in L1
    const std::byte* rows = w + r * row_stride;
    int t = 0;
    for (; t + 4 <= n_tokens; t += 4) Rows8<4, 4>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
    if (n_tokens - t == 3) Rows8<4, 3>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
    if (n_tokens - t == 2) Rows8<4, 2>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
    if (n_tokens - t == 1) Rows8<4, 1>(rows, row_stride, cols, x + t, y + t * ys + r, ys);
  }
  for (; r < n_rows; ++r) {
    const std::byte* row = w + r * row_stride;
    int t = 0;
    for (; t + 2 <= n_tokens; t += 2) Rows8<1, 2>(row, row_stride, cols, x + t, y + t * ys + r, ys);
    if (t < n_tokens) Rows8<1, 1>(row, row_stride, cols, x + t, y + t * ys + r, ys);
  }
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
