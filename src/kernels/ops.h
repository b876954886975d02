// Elementwise and row operations of a transformer block, on f32. Model-agnostic, pure.
#pragma once

#include <cstdint>

namespace frugal::kernels {

// out[i] = x[i] / sqrt(mean(x²) + eps) · w[i]   (out may alias x)
void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* out);
// e^x as SiluMul and Softmax compute it (vectorized polynomial, ≤ 2e-7 relative; x clamped to
// [-87, 88], so the result is finite and nonzero).
float FastExp(float x);
// gate[i] = silu(gate[i]) · up[i]
void SiluMul(float* gate, const float* up, int64_t n);
// gate[i] = silu(min(gate[i], limit)) · clamp(up[i], −limit, limit)   (DeepSeek-V4's SwiGLU clamp)
void SiluMulClamped(float* gate, const float* up, int64_t n, float limit);
// In-place softmax over n values (max-subtracted; partial sums in f32 lanes, total in double).
void Softmax(float* x, int64_t n);
// Rotates adjacent pairs (x[2i], x[2i+1]) by angle position·freqs[i], i < n/2.
void RopeAdjacentPairs(float* x, int64_t n, const float* freqs, float position);
// The same in two steps, for many rows at one position: the cosines and sines of the n/2 angles
// (computed in double), then the rotation.
void RopeAngles(const float* freqs, int64_t n, float position, float* cos, float* sin);
void RopeRotate(float* x, int64_t n, const float* cos, const float* sin);
// dst[c·rows + r] = src[r·cols + c]: a row-major [rows, cols] matrix transposed, in tiles of
// 16 × 16 so that both sides stay in cache (a plain loop writes one value per cache line).
void Transpose(const float* src, int64_t rows, int64_t cols, float* dst);
// y[i] += a · x[i]
void Axpy(float a, const float* x, float* y, int64_t n);
// out[j] = scale · Σ_d q[d]·keys[j·key_stride + d] for j < n_keys: one query against many key
// rows (attention scores), four keys per pass so each query load serves four products.
void DotMany(const float* q, const float* keys, int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
             float* out);

}  // namespace frugal::kernels
