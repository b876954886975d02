// AVX-512 f16/bf16 × f32 dot products; compiled with AVX-512 flags, called after detection.
#include <immintrin.h>

#include "kernels/float_dot.h"

namespace frugal::kernels {
namespace {

inline __m512 LoadF16(const std::byte* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
inline __m512 LoadBF16(const std::byte* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

inline float Sum(__m512 a, __m512 b, __m512 c, __m512 d) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
  float s = 0;
  for (float v : lanes) s += v;
  return s;
}

template <__m512 (*Load)(const std::byte*)>
float DotHalf(const std::byte* w, const float* x, int64_t n, float (*tail)(const std::byte*, const float*, int64_t)) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(w + 2 * i) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(w + 2 * i) + 4096 + 64, _MM_HINT_T0);
    a0 = _mm512_fmadd_ps(Load(w + 2 * i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(Load(w + 2 * (i + 16)), _mm512_loadu_ps(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(Load(w + 2 * (i + 32)), _mm512_loadu_ps(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(Load(w + 2 * (i + 48)), _mm512_loadu_ps(x + i + 48), a3);
  }
  return Sum(a0, a1, a2, a3) + (i < n ? tail(w + 2 * i, x + i, n - i) : 0.0f);
}

}  // namespace

void F16ToF32Avx512(const std::byte* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, LoadF16(src + 2 * i));
  if (i < n) F16ToF32Ref(src + 2 * i, dst + i, n - i);
}

void BF16ToF32Avx512(const std::byte* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, LoadBF16(src + 2 * i));
  if (i < n) BF16ToF32Ref(src + 2 * i, dst + i, n - i);
}

float DotF16Avx512(const std::byte* w, const float* x, int64_t n) { return DotHalf<LoadF16>(w, x, n, DotF16Ref); }
float DotBF16Avx512(const std::byte* w, const float* x, int64_t n) { return DotHalf<LoadBF16>(w, x, n, DotBF16Ref); }

}  // namespace frugal::kernels
