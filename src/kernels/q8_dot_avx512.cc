// Q8_0 weights × 16-bit activations with AVX-512 VNNI: one block (32 values) per 512-bit
// vector — weights widened to int16 (vpmovsxbw), vpdpwssd into int32, scaled into f32.
// Compiled with AVX-512 F/BW/VL/VNNI flags; called only when the CPU has them.
#include <immintrin.h>

#include "kernels/act_quant.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {

float DotQ8_0Avx512Vnni(const std::byte* w, const BlockQ16Act* x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const int64_t nb = n / 32;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {  // two independent chains hide the latencies
    const __m512i w0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
    const __m512i w1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b + 1].qs)));
    const __m512i s0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512(x[b].qs));
    const __m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512(x[b + 1].qs));
    acc0 = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(blocks[b].d) * x[b].d), _mm512_cvtepi32_ps(s0), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(blocks[b + 1].d) * x[b + 1].d), _mm512_cvtepi32_ps(s1), acc1);
  }
  for (; b < nb; ++b) {
    const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
    const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, _mm512_loadu_si512(x[b].qs));
    acc0 = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(blocks[b].d) * x[b].d), _mm512_cvtepi32_ps(s), acc0);
  }
  alignas(64) float lanes[16];  // (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized)
  _mm512_store_ps(lanes, _mm512_add_ps(acc0, acc1));
  float sum = 0;
  for (float v : lanes) sum += v;
  return sum;
}

}  // namespace frugal::kernels
