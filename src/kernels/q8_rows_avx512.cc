// AVX-512 VNNI: Q8_0 rows × up to 8 tokens of 8-bit activations (q8_rows.h).
#include <immintrin.h>

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

}  // namespace

void DotQ8_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  switch (n_tokens) {
    case 1: return Tokens<1>(w, x, cols, out);
    case 2: return Tokens<2>(w, x, cols, out);
    case 3: return Tokens<3>(w, x, cols, out);
    case 4: return Tokens<4>(w, x, cols, out);
    case 5: return Tokens<5>(w, x, cols, out);
    case 6: return Tokens<6>(w, x, cols, out);
    case 7: return Tokens<7>(w, x, cols, out);
    default: return Tokens<8>(w, x, cols, out);
  }
}

}  // namespace frugal::kernels
