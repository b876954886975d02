#include "kernels/matmul.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/act_quant.h"
#include "util/check.h"

namespace frugal::kernels {

WeightRows RowsOf(const ConstTensorView& t, int64_t first, int64_t n) {
  const auto rows = static_cast<int64_t>(t.shape.rows());
  FRUGAL_CHECK_LE(first + n, rows);
  return {t.data + static_cast<uint64_t>(first) * t.row_bytes(), t.type, static_cast<int64_t>(t.shape.ne[0]), n};
}

WeightRows AllRows(const ConstTensorView& t) { return RowsOf(t, 0, static_cast<int64_t>(t.shape.rows())); }

__attribute__((target_clones("avx512f", "avx2", "default")))
float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

namespace {

void ForRows(int64_t n_rows, ThreadPool* pool, const std::function<void(int64_t, int64_t, int)>& work) {
  if (pool == nullptr || n_rows < 2 * pool->size()) {
    work(0, n_rows, 0);
  } else {
    pool->ParallelFor(n_rows, work);
  }
}

// Quantized weights × activations quantized (16-bit, act_quant.h) once per call. dot4 (four
// tokens per weight row) may be null.
void MatMulQuantized(const WeightRows& w, DotQ8Fn dot, DotQ8x4Fn dot4, const float* x, float* y,
                     const MatMulParams& p, ThreadPool* pool) {
  const int64_t xs = p.x_stride ? p.x_stride : w.cols;
  const int64_t ys = p.y_stride ? p.y_stride : w.n_rows;
  const Q16Rows xq(x, p.n_tokens, w.cols, xs);
  const uint64_t rb = w.row_bytes();
  // Tokens in tiles whose activations stay in cache while every row of the thread's range
  // passes over them; within a tile, four tokens share each weight block.
  constexpr int64_t kTokenTile = 32;
  ForRows(w.n_rows, pool, [&](int64_t begin, int64_t end, int) {
    for (int64_t t0 = 0; t0 < p.n_tokens; t0 += kTokenTile) {
      const int64_t t1 = std::min(p.n_tokens, t0 + kTokenTile);
      for (int64_t r = begin; r < end; ++r) {
        const std::byte* row = w.data + static_cast<uint64_t>(r) * rb;
        int64_t t = t0;
        for (; dot4 != nullptr && t + 4 <= t1; t += 4) {
          const Q16Row rows4[4] = {xq.row(t), xq.row(t + 1), xq.row(t + 2), xq.row(t + 3)};
          float out[4];
          dot4(row, rows4, w.cols, out);
          for (int i = 0; i < 4; ++i) y[(t + i) * ys + r] = out[i];
        }
        for (; t < t1; ++t) y[t * ys + r] = dot(row, xq.row(t), w.cols);
      }
    }
  });
}

}  // namespace

void MatMul(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool) {
  if (!p.exact && w.type == GgmlType::kQ8_0) {
    MatMulQuantized(w, DotQ8_0For(DetectedIsa()), DotQ8_0x4For(DetectedIsa()), x, y, p, pool);
    return;
  }
  if (!p.exact && w.type == GgmlType::kQ4_K && DetectedIsa() == IsaLevel::kAvx512Vnni) {
    MatMulQuantized(w, DotQ4_KFor(DetectedIsa()), nullptr, x, y, p, pool);
    return;
  }
  const int64_t xs = p.x_stride ? p.x_stride : w.cols;
  const int64_t ys = p.y_stride ? p.y_stride : w.n_rows;
  const uint64_t rb = w.row_bytes();
  ForRows(w.n_rows, pool, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      DequantizeRow(w.type, w.data + static_cast<uint64_t>(r) * rb, row.data(), w.cols);
      for (int64_t t = 0; t < p.n_tokens; ++t) y[t * ys + r] = Dot(row.data(), x + t * xs, w.cols);
    }
  });
}

namespace {
__attribute__((target_clones("avx512f", "avx2", "default")))
void AxpyRow(float a, const float* x, float* y, int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] += a * x[k];
}
}  // namespace

void MatMulTransposed(const WeightRows& w, const float* x, float* y, const MatMulParams& p) {
  const int64_t xs = p.x_stride ? p.x_stride : w.n_rows;
  const int64_t ys = p.y_stride ? p.y_stride : w.cols;
  const uint64_t rb = w.row_bytes();
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    for (int64_t k = 0; k < w.cols; ++k) y[t * ys + k] = 0.0f;
  }
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.n_rows; ++r) {
    DequantizeRow(w.type, w.data + static_cast<uint64_t>(r) * rb, row.data(), w.cols);
    for (int64_t t = 0; t < p.n_tokens; ++t) {
      const float xr = x[t * xs + r];
      AxpyRow(xr, row.data(), y + t * ys, w.cols);
    }
  }
}

}  // namespace frugal::kernels
