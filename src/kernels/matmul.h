// Products of a stored weight matrix (any dequantizable type, rows of ne0 values) with f32
// activations, dequantizing each weight row once per call: the exact float path. Faster
// dispatching kernels are tested against these. Model-agnostic.
// Thread-safety: functions are pure; `pool` may be null (single-threaded).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "util/spin_once.h"
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
  uint64_t stride_bytes = 0;  // from one row to the next; 0: rows are contiguous (row_bytes())
  RowOrder order = RowOrder::kAsStored;  // kPanels: Q8_0/Q4_K rows in panel order (panel_rows.h)
  uint64_t row_bytes() const { return RowBytes(type, static_cast<uint64_t>(cols)); }
  uint64_t row_stride() const { return stride_bytes ? stride_bytes : row_bytes(); }
  const std::byte* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_stride(); }
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
  // false: the fast path — quantized weights multiply quantized activations in integer
  // arithmetic (with AVX-512 VNNI and no AMX: 8-bit activations at every token count for Q8_0
  // and Q4_K, int8_gemm.h / q8_rows.h / panel_rows.h; 16-bit ones, act_quant.h, for the other
  // types below 16 tokens and everywhere below 4 tokens where AMX is usable), or AMX tiles from
  // 8 tokens on where AMX is usable (PathOf below says which); true: the exact float path
  // (dequantized rows, f32 dot products).
  bool exact = false;
  // For PreparedInput row views (below): prepared as 16-bit rows in every layout the decode
  // kernels read, never as AMX tiles or 8-bit rows, whatever the number of rows (attention's
  // per-head products: the same rounding for a query whatever else shares the step).
  bool row_views = false;
};
void MatMul(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool);

// The kernels a product of rows of `type` (`cols` columns) with p.n_tokens activations runs on:
// the exact float path, 16-bit activations (or exact rows for types without such a kernel),
// 8-bit activations (int8_gemm.h), f32 panels of float rows (f32_panels.h; f32 arithmetic),
// or AMX tiles (amx_matmul.h). Each has its own accuracy (ARCHITECTURE "Kernels").
// Rows in panel order (panel_rows.h) take the panel kernels on 8-bit activations at every
// token count, the int8 panels for many tokens of Q4_K, or the exact path.
enum class ProductPath { kExact, kQ16, kQ8Rows, kInt8, kF32Panels, kAmx, kPanels8 };
ProductPath PathOf(GgmlType type, int64_t cols, const MatMulParams& p, RowOrder order = RowOrder::kAsStored);
const char* PathName(ProductPath path);

class AmxActivations;
class Int8Activations;
class Q16Rows;
class Q8Rows;
class Q8PanelRows;

// Activations prepared once for any number of products with matrices of `cols` columns (gate
// and up of one FFN; every head's projections of the same cached rows): split for AMX tiles or
// quantized, as the path for this many tokens wants. The quantized forms are made when a
// product first asks for one (once, thread-safely), so that an input only panel rows read
// is not also quantized for the kernels of rows as stored. Thread-safe.
class PreparedInput {
 public:
  // p.y_stride is ignored (each product gives its own).
  PreparedInput(const float* x, int64_t cols, const MatMulParams& p);
  // A view: rows first, first + step, …, first + (n − 1)·step of `all` as an input of their own,
  // sharing its prepared data (no copy, no allocation). For many small products over rows of
  // one matrix (per-head projections in decode): prepared once instead of once per product.
  // `all` must be built with p.row_views and outlive the view.
  PreparedInput(const PreparedInput& all, int64_t first, int64_t step, int64_t n);
  ~PreparedInput();
  PreparedInput(const PreparedInput&) = delete;
  PreparedInput& operator=(const PreparedInput&) = delete;

  const float* x() const { return x_; }
  int64_t cols() const { return cols_; }
  int64_t n_tokens() const { return n_tokens_; }
  int64_t x_stride() const { return x_stride_; }
  bool exact() const { return exact_; }
  bool for_views() const { return row_views_; }  // prepared for row views (or one of them)
  const AmxActivations* amx() const { return amx_.get(); }  // null unless the AMX path applies
  bool int8_path() const { return !view_ && path_ == ProductPath::kInt8; }  // many tokens, no AMX
  const Int8Activations* int8() const;  // null unless the int8 path applies
  const Q16Rows* q16() const;            // null on the exact, AMX and int8 paths
  const Q8Rows* q8() const;              // null unless the few-token 8-bit path applies
  int64_t source_row(int64_t t) const { return first_ + t * step_; }  // row of q16() and q8() for token t
  // 8-bit activations for panel rows (panel_rows.h), where panels are usable and cols fit; null
  // otherwise (and in views).
  const Q8PanelRows* panel_rows() const;

 private:
  const float* x_;
  int64_t cols_, n_tokens_, x_stride_;
  bool exact_;
  ProductPath path_ = ProductPath::kExact;
  bool view_ = false, row_views_ = false, pair_order_ = false, panels_ = false;
  std::unique_ptr<AmxActivations> amx_;
  mutable SpinOnce int8_once_, q16_once_, q8_once_, panel_rows_once_;
  mutable std::unique_ptr<Int8Activations> int8_;
  mutable std::unique_ptr<Q16Rows> q16_owned_;
  mutable std::unique_ptr<Q8Rows> q8_;
  mutable std::unique_ptr<Q8PanelRows> panel_rows_;
  const PreparedInput* viewed_ = nullptr;  // a view's input (whose prepared rows it reads)
  int64_t first_ = 0, step_ = 1;
};

// y[t·y_stride + r] for every token of x (0: y_stride = n_rows); w.cols must equal x.cols().
void MatMul(const WeightRows& w, const PreparedInput& x, float* y, int64_t y_stride, ThreadPool* pool);

class AmxWeights;
class F32Panels;

// Weight rows prepared once for several products with different inputs that may use only the
// first rows and columns (a head's keys and values against successive query blocks in prefill
// attention): on the fast path with AMX the rows are split into tiles once, not once a product;
// without AMX, float rows (f32/f16/bf16) are packed into f32 panels once (f32_panels.h) and
// quantized rows are kept for the int8 products. Read-only once built; `w` must outlive it.
// Rows that own their bytes.
struct OwnedRows {
  std::vector<std::byte> bytes;
  WeightRows rows;
};
// The transpose of w (its columns as rows) in the form products run fastest on: f32 on the
// exact path and for float weights (f32/f16/bf16); else q8_0 rows for the 8-bit kernels (when
// w.n_rows is a multiple of 32), the accuracy class of a q8_0 file.
OwnedRows TransposedForProducts(const WeightRows& w, bool exact);

class PreparedWeights {
 public:
  PreparedWeights(const WeightRows& w, bool exact);
  ~PreparedWeights();
  PreparedWeights(const PreparedWeights&) = delete;
  PreparedWeights& operator=(const PreparedWeights&) = delete;
  const WeightRows& rows() const { return w_; }
  const AmxWeights* amx() const { return amx_.get(); }  // null unless split for AMX
  const F32Panels* f32() const { return f32_.get(); }  // null unless packed into f32 panels

 private:
  WeightRows w_;
  std::unique_ptr<AmxWeights> amx_;
  std::unique_ptr<F32Panels> f32_;
};

// y[t·y_stride + r] = Σ_{c < cols} w[r][c]·x[t·x_stride + c] for r < n_rows (≤ the rows
// prepared) and cols ≤ the columns prepared (whole blocks of quantized rows); p.exact must match
// the preparation. Prepared AMX tiles serve any number of tokens (the same head+tail precision
// as the 16-bit decode path, ~2^-16 of Σ|w·x|).
void MatMul(const PreparedWeights& w, int64_t n_rows, int64_t cols, const float* x, float* y, const MatMulParams& p,
            ThreadPool* pool);

// Grouped products: several independent products (one per expert, each with its own tokens) in
// one parallel section whose rows the threads take dynamically — one synchronization for all of
// a layer's experts instead of one per expert and matrix.
struct ProductGroup {
  WeightRows w;
  const PreparedInput* x = nullptr;
  float* y = nullptr;  // [x.n_tokens, n_rows]
};
void MatMulGrouped(const std::vector<ProductGroup>& groups, ThreadPool* pool);

// out = silu(gate·x) ⊙ (up·x) per group, [x.n_tokens, n_rows] (gate and up have equal shapes).
struct SwiGluGroup {
  WeightRows gate, up;
  const PreparedInput* x = nullptr;
  float* out = nullptr;
  float limit = 0.0f;  // > 0: silu(min(gate·x, limit)) ⊙ clamp(up·x, ±limit) (SiluMulClamped)
};
void MatMulSwiGluGrouped(const std::vector<SwiGluGroup>& groups, ThreadPool* pool);

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
