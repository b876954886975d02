#include "kernels/ops.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <vector>

namespace frugal::kernels {

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* out) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

namespace {

// e^x to ~2e-7 relative (Cephes expf: Cody–Waite reduction by ln 2, degree-6 polynomial),
// written so that loops calling it vectorize; x is clamped to [-87, 88] (finite results).
inline float Exp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // nearest integer
  const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  return e * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
}

constexpr int kLanes = 16;  // independent partial results, so reductions vectorize

}  // namespace

float FastExp(float x) { return Exp(x); }

__attribute__((target_clones("avx512f", "avx2", "default")))
void SiluMul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + Exp(-g)) * up[i];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void SiluMulClamped(float* gate, const float* up, int64_t n, float limit) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit);
    gate[i] = g / (1.0f + Exp(-g)) * std::min(std::max(up[i], -limit), limit);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float lanes[kLanes];
  for (float& l : lanes) l = x[0];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], x[i + l]);
  }
  float mx = lanes[0];
  for (float l : lanes) mx = std::max(mx, l);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  for (int64_t j = 0; j < n; ++j) x[j] = Exp(x[j] - mx);
  for (float& l : lanes) l = 0.0f;
  i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
  }
  double sum = 0;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) sum += x[i];
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) x[j] *= inv;
}

void RopeAngles(const float* freqs, int64_t n, float position, float* cos, float* sin) {
  for (int64_t i = 0; i < n / 2; ++i) {
    // Angles in double: position·freq reaches 1e5 rad at long context, where f32 loses digits.
    const double theta = static_cast<double>(position) * freqs[i];
    cos[i] = static_cast<float>(std::cos(theta));
    sin[i] = static_cast<float>(std::sin(theta));
  }
}

void RopeRotate(float* x, int64_t n, const float* cos, const float* sin) {
  for (int64_t i = 0; i < n / 2; ++i) {
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * cos[i] - x1 * sin[i];
    x[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
  }
}

void RopeAdjacentPairs(float* x, int64_t n, const float* freqs, float position) {
  std::vector<float> c(static_cast<size_t>(n / 2)), s(static_cast<size_t>(n / 2));
  RopeAngles(freqs, n, position, c.data(), s.data());
  RopeRotate(x, n, c.data(), s.data());
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void Transpose(const float* src, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// 64-byte GCC vector type, lowered to each clone's widest vectors. Values of it never cross a
// function boundary (no helpers taking or returning it): a clone and a default-target helper
// would disagree on how to pass it, which unoptimized builds do not paper over.
typedef float V16 __attribute__((vector_size(64)));

#define FRUGAL_LOAD16(dst, ptr) std::memcpy(&(dst), (ptr), sizeof(V16))

__attribute__((target_clones("avx512f", "avx2", "default")))
void DotMany(const float* q, const float* keys, int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
             float* out) {
  const int64_t vec = dim / 16 * 16;
  int64_t j = 0;
  for (; j < n_keys; j += 4) {
    const int64_t n = std::min<int64_t>(4, n_keys - j);  // keys in this pass
    const float* k[4];
    for (int64_t i = 0; i < 4; ++i) k[i] = keys + (j + std::min(i, n - 1)) * key_stride;
    V16 acc[4] = {};
    for (int64_t d = 0; d < vec; d += 16) {
      V16 qv, kv;
      FRUGAL_LOAD16(qv, q + d);
      for (int i = 0; i < 4; ++i) {
        FRUGAL_LOAD16(kv, k[i] + d);
        acc[i] += qv * kv;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      float s = 0;
      for (int l = 0; l < 16; ++l) s += acc[i][l];
      for (int64_t d = vec; d < dim; ++d) s += q[d] * k[i][d];
      out[j + i] = s * scale;
    }
  }
}

#undef FRUGAL_LOAD16

}  // namespace frugal::kernels
