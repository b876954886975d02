#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace frugal::kernels {

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* out) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void SiluMul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void RopeAdjacentPairs(float* x, int64_t n, const float* freqs, float position) {
  for (int64_t i = 0; i < n / 2; ++i) {
    // Angles in double: position·freq reaches 1e5 rad at long context, where f32 loses digits.
    const double theta = static_cast<double>(position) * freqs[i];
    const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * c - x1 * s;
    x[2 * i + 1] = x0 * s + x1 * c;
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

namespace {
typedef float V16 __attribute__((vector_size(64)));  // lowered to the clone's widest vectors

inline V16 Load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline float Sum16(V16 v) {
  float s = 0;
  for (int i = 0; i < 16; ++i) s += v[i];
  return s;
}
}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default")))
void DotMany(const float* q, const float* keys, int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
             float* out) {
  const int64_t vec = dim / 16 * 16;
  int64_t j = 0;
  for (; j + 4 <= n_keys; j += 4) {
    const float* k0 = keys + j * key_stride;
    const float* k1 = k0 + key_stride;
    const float* k2 = k1 + key_stride;
    const float* k3 = k2 + key_stride;
    V16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t d = 0; d < vec; d += 16) {
      const V16 qv = Load16(q + d);
      a0 += qv * Load16(k0 + d);
      a1 += qv * Load16(k1 + d);
      a2 += qv * Load16(k2 + d);
      a3 += qv * Load16(k3 + d);
    }
    float s[4] = {Sum16(a0), Sum16(a1), Sum16(a2), Sum16(a3)};
    for (int64_t d = vec; d < dim; ++d) {
      s[0] += q[d] * k0[d];
      s[1] += q[d] * k1[d];
      s[2] += q[d] * k2[d];
      s[3] += q[d] * k3[d];
    }
    for (int i = 0; i < 4; ++i) out[j + i] = s[i] * scale;
  }
  for (; j < n_keys; ++j) {
    const float* k = keys + j * key_stride;
    V16 a = {};
    for (int64_t d = 0; d < vec; d += 16) a += Load16(q + d) * Load16(k + d);
    float s = Sum16(a);
    for (int64_t d = vec; d < dim; ++d) s += q[d] * k[d];
    out[j] = s * scale;
  }
}

}  // namespace frugal::kernels
