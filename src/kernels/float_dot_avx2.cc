// AVX2 f16/bf16 × f32 dot products; compiled with AVX2/FMA/F16C flags, called after detection.
#include <immintrin.h>

#include "kernels/float_dot.h"

namespace frugal::kernels {
namespace {

inline __m256 LoadF16(const std::byte* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 LoadBF16(const std::byte* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

template <__m256 (*Load)(const std::byte*)>
float DotHalf(const std::byte* w, const float* x, int64_t n, float (*tail)(const std::byte*, const float*, int64_t)) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(Load(w + 2 * i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(Load(w + 2 * (i + 8)), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(Load(w + 2 * (i + 16)), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(Load(w + 2 * (i + 24)), _mm256_loadu_ps(x + i + 24), a3);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0;
  for (float v : lanes) s += v;
  return s + (i < n ? tail(w + 2 * i, x + i, n - i) : 0.0f);
}

}  // namespace

void F16ToF32Avx2(const std::byte* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, LoadF16(src + 2 * i));
  if (i < n) F16ToF32Ref(src + 2 * i, dst + i, n - i);
}

void BF16ToF32Avx2(const std::byte* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, LoadBF16(src + 2 * i));
  if (i < n) BF16ToF32Ref(src + 2 * i, dst + i, n - i);
}

float DotF16Avx2(const std::byte* w, const float* x, int64_t n) { return DotHalf<LoadF16>(w, x, n, DotF16Ref); }
float DotBF16Avx2(const std::byte* w, const float* x, int64_t n) { return DotHalf<LoadBF16>(w, x, n, DotBF16Ref); }

}  // namespace frugal::kernels
