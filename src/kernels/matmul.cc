#include "kernels/matmul.h"

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

// Q8_0 weights × activations quantized (16-bit, act_quant.h) once per call.
void MatMulQ8(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool) {
  const int64_t xs = p.x_stride ? p.x_stride : w.cols;
  const int64_t ys = p.y_stride ? p.y_stride : w.n_rows;
  const int64_t nb = w.cols / 32;
  std::vector<BlockQ16Act> xq(static_cast<size_t>(p.n_tokens * nb));
  for (int64_t t = 0; t < p.n_tokens; ++t) QuantizeActivations(x + t * xs, w.cols, xq.data() + t * nb);
  const DotQ8Fn dot = DotQ8_0For(DetectedIsa());
  const uint64_t rb = w.row_bytes();
  ForRows(w.n_rows, pool, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      const std::byte* row = w.data + static_cast<uint64_t>(r) * rb;
      for (int64_t t = 0; t < p.n_tokens; ++t) y[t * ys + r] = dot(row, xq.data() + t * nb, w.cols);
    }
  });
}

}  // namespace

void MatMul(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool) {
  if (!p.exact && w.type == GgmlType::kQ8_0) {
    MatMulQ8(w, x, y, p, pool);
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
      float* yt = y + t * ys;
      for (int64_t k = 0; k < w.cols; ++k) yt[k] += xr * row[static_cast<size_t>(k)];
    }
  }
}

}  // namespace frugal::kernels
