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

}  // namespace frugal::kernels
