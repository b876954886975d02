// Q8_0 weights × 16-bit activations, AVX2 (compiled with -mavx2 -mfma -mf16c; called only when
// the CPU has them): weights widened to int16, vpmaddwd pairs into int32.
#include <immintrin.h>

#include "kernels/act_quant.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {

float DotQ8_0Avx2(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m128i w_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs));
    const __m128i w_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs + 16));
    const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * b));
    const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * b + 16));
    const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(w_lo), x_lo),
                                       _mm256_madd_epi16(_mm256_cvtepi8_epi16(w_hi), x_hi));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(blocks[b].d) * x.d[b]), _mm256_cvtepi32_ps(s), acc);
  }
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

void DotQ8_0x4Avx2(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    // The block widened once for the four tokens.
    const __m256i w_lo = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs)));
    const __m256i w_hi = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs + 16)));
    const float dw = _cvtsh_ss(blocks[b].d);
    for (int t = 0; t < 4; ++t) {
      const int16_t* xq = x[t].qs + 32 * b;
      const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(w_lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq))),
                                         _mm256_madd_epi16(w_hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 16))));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x[t].d[b]), _mm256_cvtepi32_ps(s), acc[t]);
    }
  }
  for (int t = 0; t < 4; ++t) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1));
    const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
    out[t] = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
  }
}

namespace {

// Σ over 32 values: 32 unsigned bytes (as int16) × 32 int16 activations → 8 int32 lanes.
inline __m256i DotU8x16(__m256i bytes, const int16_t* xq) {
  const __m256i lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(bytes));
  const __m256i hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(bytes, 1));
  return _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq))),
                          _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 16))));
}

inline float Sum8(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

}  // namespace

float DotQ4_0Avx2(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m256i eight = _mm256_set1_epi16(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs));
    // Elements 0..15 are the low nibbles, 16..31 the high ones; each minus 8.
    const __m256i lo = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(q, low4)), eight);
    const __m256i hi = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(q, 4), low4)), eight);
    const __m256i s = _mm256_add_epi32(
        _mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * b))),
        _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * b + 16))));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(blocks[b].d) * x.d[b]), _mm256_cvtepi32_ps(s), acc);
  }
  return Sum8(acc);
}

namespace {

// Q4_K/Q5_K: the integer sums s0, s1 of sub-blocks 2c and 2c+1 (activation blocks b0, b0 + 1)
// scaled into acc, their minimum terms into minus.
inline void ScaleSubBlockPair(__m256i s0, __m256i s1, const uint8_t* scales, int c, float d, float dmin, const Q16Row& x,
                              int64_t b0, __m256* acc, float* minus) {
  const int64_t b1 = b0 + 1;
  uint8_t sc0, mn0, sc1, mn1;
  UnpackScaleMinK4(scales, 2 * c, &sc0, &mn0);
  UnpackScaleMinK4(scales, 2 * c + 1, &sc1, &mn1);
  *acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc0 * x.d[b0]), _mm256_cvtepi32_ps(s0), *acc);
  *acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc1 * x.d[b1]), _mm256_cvtepi32_ps(s1), *acc);
  *minus += dmin * (mn0 * x.d[b0] * static_cast<float>(x.sum[b0]) + mn1 * x.d[b1] * static_cast<float>(x.sum[b1]));
}

}  // namespace

float DotQ4_KAvx2(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float minus = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ4_K& b = blocks[i];
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      const int64_t b0 = 8 * i + 2 * c, b1 = b0 + 1;
      const __m256i s0 = DotU8x16(_mm256_and_si256(q, low4), x.qs + 32 * b0);
      const __m256i s1 = DotU8x16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), x.qs + 32 * b1);
      ScaleSubBlockPair(s0, s1, b.scales, c, d, dmin, x, b0, &acc, &minus);
    }
  }
  return Sum8(acc) - minus;
}

float DotQ5_KAvx2(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ5_K*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float minus = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ5_K& b = blocks[i];
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one), 4);
      const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one), 4);
      const int64_t b0 = 8 * i + 2 * c, b1 = b0 + 1;
      const __m256i s0 = DotU8x16(_mm256_or_si256(_mm256_and_si256(q, low4), h0), x.qs + 32 * b0);
      const __m256i s1 = DotU8x16(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h1), x.qs + 32 * b1);
      ScaleSubBlockPair(s0, s1, b.scales, c, d, dmin, x, b0, &acc, &minus);
    }
  }
  return Sum8(acc) - minus;
}

float DotQ6_KAvx2(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  float minus = 0;  // the −32 offset, through the activation block sums
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ6_K& b = blocks[i];
    const float d = _cvtsh_ss(b.d);
    for (int k = 0; k < 8; ++k) {
      const int h = k / 4, g = k % 4;
      const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32 * (g & 1)));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
      const __m256i low = g < 2 ? _mm256_and_si256(ql, low4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
      const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * g)), low2);
      const __m256i q8 = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));  // unsigned 0..63
      const int64_t blk = 8 * i + k;
      const int16_t* xq = x.qs + 32 * blk;
      // Elements 0..15 and 16..31 carry their own scales: keep the two halves apart.
      const __m256i s_lo = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(q8)),
                                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq)));
      const __m256i s_hi = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(q8, 1)),
                                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 16)));
      const int8_t* sc = b.scales + 8 * h + 2 * g;
      const float dd = d * x.d[blk];
      acc = _mm256_fmadd_ps(_mm256_set1_ps(dd * sc[0]), _mm256_cvtepi32_ps(s_lo), acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(dd * sc[1]), _mm256_cvtepi32_ps(s_hi), acc);
      int32_t sum_lo = 0, sum_hi = 0;
      for (int l = 0; l < 16; ++l) {
        sum_lo += xq[l];
        sum_hi += xq[l + 16];
      }
      minus += 32.0f * dd * (static_cast<float>(sc[0]) * static_cast<float>(sum_lo) + static_cast<float>(sc[1]) * static_cast<float>(sum_hi));
    }
  }
  return Sum8(acc) - minus;
}

}  // namespace frugal::kernels
