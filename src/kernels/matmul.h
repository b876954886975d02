// Products of a stored weight matrix (any dequantizable type, rows of ne0 values) with f32
// activations, dequantizing each weight row once per call: the exact float path. Faster
// dispatching kernels are tested against these. Model-agnostic.
// Thread-safety: functions are pure; `pool` may be null (single-threaded).
#pragma once

#include <cstdint>

#include "util/tensor_view.h"
#include "util/thread_pool.h"

namespace frugal::kernels {

// A contiguous block of rows of a stored matrix: rows [row_begin, row_begin + n_rows), each
// `cols` values of `type`. Built from a ConstTensorView (e.g. one expert or one head).
struct WeightRows {
  const std::byte* data = nullptr;  // first row
  GgmlType type = GgmlType::kF32;
  int64_t cols = 0;
  int64_t n_rows = 0;
  uint64_t row_bytes() const { return RowBytes(type, static_cast<uint64_t>(cols)); }
};

// Rows [first, first + n) of a 2-D (or flattened higher) tensor.
WeightRows RowsOf(const ConstTensorView& t, int64_t first, int64_t n);
// All rows of a tensor.
WeightRows AllRows(const ConstTensorView& t);

// y[t, r] = Σ_k W[r, k] · x[t, k] for t < n_tokens, r < n_rows.
// x: [n_tokens, x_stride] (first `cols` used), y: [n_tokens, y_stride] (first n_rows written).
struct MatMulParams {
  int64_t n_tokens = 1;
  int64_t x_stride = 0;  // 0: cols
  int64_t y_stride = 0;  // 0: n_rows
  // false: Q8_0 weights multiply quantized activations (16-bit, act_quant.h) in integer
  // arithmetic (SIMD, run-time dispatched); true: the exact float path (dequantized rows, f32
  // dot products).
  bool exact = false;
};
void MatMul(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool);

// out[t, r] = silu(gate_r · x_t) · (up_r · x_t): the gate and up products of a SwiGLU FFN in one
// pass (activations prepared once, one parallel section). out: [n_tokens, n_rows] (no stride).
void MatMulSwiGlu(const WeightRows& gate, const WeightRows& up, const float* x, float* out, const MatMulParams& p,
                  ThreadPool* pool);

// y[t, k] = Σ_r W[r, k] · x[t, r]: the product with the transposed matrix (x: [n_tokens, n_rows],
// y: [n_tokens, cols]). Single-threaded: callers parallelize over heads or tokens.
void MatMulTransposed(const WeightRows& w, const float* x, float* y, const MatMulParams& p);

// Σ a[i]·b[i], f32 with several accumulators.
float Dot(const float* a, const float* b, int64_t n);

}  // namespace frugal::kernels
