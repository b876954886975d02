// AVX-512 VNNI: Q8_0 rows × up to 8 tokens of 8-bit activations (q8_rows.h).
#include <immintrin.h>

#include <type_traits>

#include "kernels/avx512_sums.h"
#include "kernels/q8_rows.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {
namespace {

// Two 32-value blocks per step: |w| (unsigned) times q with w's sign, one vpdpbusd for 64
// products; lanes 0–7 hold the first block's partial sums, 8–15 the second's, scaled by
// dw·dx per half and accumulated in floats.
template <int T>
void Tokens(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  const int64_t n_blocks = cols / 32;
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_blocks; b += 2) {
    const BlockQ8_0& b0 = blocks[b];
    const bool pair = b + 1 < n_blocks;  // the last block of an odd count goes alone (its half is 0)
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0.qs));
    const __m256i w1 = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b + 1].qs)) : _mm256_setzero_si256();
    const __m512i wv = _mm512_inserti64x4(_mm512_inserti64x4(_mm512_setzero_si512(), w0, 0), w1, 1);
    const __m512i aw = _mm512_abs_epi8(wv);
    const __mmask64 negative = _mm512_movepi8_mask(wv);
    const __m512 dw = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(_cvtsh_ss(b0.d))),
                                                           _mm256_castps_pd(_mm256_set1_ps(pair ? _cvtsh_ss(blocks[b + 1].d) : 0.0f)), 1));
    if (b % 8 == 0) _mm_prefetch(reinterpret_cast<const char*>(blocks + b + 16), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512i q = _mm512_load_si512(x[t].qs + 32 * b);
      const __m512i signed_q = _mm512_mask_sub_epi8(q, negative, _mm512_setzero_si512(), q);
      const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, signed_q);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_load_ps(x[t].pair_scales + 8 * b)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Sum16(acc[t]);
}

// Q4_K: per 64-value chunk the 32 bytes' low nibbles are sub-block 2c and the high ones 2c+1,
// so [low | high] lines up with 64 activations in their order; unsigned, they go into vpdpbusd
// as they are. The minimums: one 8-wide multiply-add per super-block and token with dx·Σq.
template <int T>
void TokensQ4K(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(w);
  __m512 acc[T];
  __m256 acc_min[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    acc[t] = _mm512_setzero_ps();
    acc_min[t] = _mm256_setzero_ps();
  }
  const __m256i low4 = _mm256_set1_epi8(15);
  for (int64_t sb = 0; sb < cols / 256; ++sb) {
    const BlockQ4_K& blk = blocks[sb];
    const float d = _cvtsh_ss(blk.d), dmin = _cvtsh_ss(blk.dmin);
    alignas(32) float dsc[8], dmn[8];
    for (int j = 0; j < 8; ++j) {
      uint8_t sc = 0, mn = 0;
      UnpackScaleMinK4(blk.scales, j, &sc, &mn);
      dsc[j] = d * sc;
      dmn[j] = dmin * mn;
    }
    const __m256 mins = _mm256_load_ps(dmn);
    _mm_prefetch(reinterpret_cast<const char*>(blocks + sb + 2), _MM_HINT_T0);
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
      const __m256i lo = _mm256_and_si256(bytes, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
      const __m512i q4 = _mm512_inserti64x4(_mm512_inserti64x4(_mm512_setzero_si512(), lo, 0), hi, 1);
      const __m512 dw = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(dsc[2 * c])),
                                                             _mm256_castps_pd(_mm256_set1_ps(dsc[2 * c + 1])), 1));
      const int64_t pair = 4 * sb + c;
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q4, _mm512_load_si512(x[t].qs + 64 * pair));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_load_ps(x[t].pair_scales + 16 * pair)), acc[t]);
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc_min[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(x[t].dsums + 8 * sb), acc_min[t]);
  }
  for (int t = 0; t < T; ++t) {
    const __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(acc_min[t]), _mm256_extractf128_ps(acc_min[t], 1));
    const __m128 m2 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
    out[t] = Sum16(acc[t]) - _mm_cvtss_f32(_mm_add_ss(m2, _mm_movehdup_ps(m2)));
  }
}

// Calls kernel(std::integral_constant<int, T>) for T = n_tokens (1..8; more: 8).
template <typename Kernel>
void ForTokenCount(int n_tokens, Kernel kernel) {
  switch (n_tokens) {
    case 1: return kernel(std::integral_constant<int, 1>{});
    case 2: return kernel(std::integral_constant<int, 2>{});
    case 3: return kernel(std::integral_constant<int, 3>{});
    case 4: return kernel(std::integral_constant<int, 4>{});
    case 5: return kernel(std::integral_constant<int, 5>{});
    case 6: return kernel(std::integral_constant<int, 6>{});
    case 7: return kernel(std::integral_constant<int, 7>{});
    default: return kernel(std::integral_constant<int, 8>{});
  }
}

}  // namespace

void DotQ4_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { TokensQ4K<decltype(t)::value>(w, x, cols, out); });
}

void DotQ8_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { Tokens<decltype(t)::value>(w, x, cols, out); });
}

}  // namespace frugal::kernels
