// Products of float rows (f32, or f16/bf16 converted once) with many tokens on AVX-512 f32
// multiply-adds, without AMX: the rows packed column-major in panels of 16 (one vector per
// column), so a kernel multiplies 32 rows × 8 tokens with broadcasts and no horizontal sums.
// For prefill attention's K and Vᵀ (PreparedWeights), built once per head and used by every
// query block over their first rows and columns; and for float rows times inputs prepared for
// the 8-bit path (MatMul packs the rows of each call). f32 arithmetic throughout: the same
// accuracy class as the exact path (another summation order).
// Model-agnostic; read-only once built (thread-safe).
#pragma once

#include <cstdint>

#include "kernels/matmul.h"
#include "util/aligned_buffer.h"

namespace frugal::kernels {

class F32Panels {
 public:
  static constexpr int64_t kPanelRows = 16;
  // Any dequantizable type (rows converted to f32 once).
  explicit F32Panels(const WeightRows& w);
  int64_t n_rows() const { return n_rows_; }
  int64_t cols() const { return cols_; }
  // Panel p: [cols][16] — column k of rows 16p..16p+15 (rows past n_rows are zeros).
  const float* panel(int64_t p) const { return data_.data() + p * cols_ * kPanelRows; }

 private:
  int64_t n_rows_, cols_;
  AlignedBuffer<float> data_;
};

// y[t·ys + r] = Σ_{k < cols} w[r][k]·x[t·xs + k] for r in [begin, end) (begin a multiple of 16,
// end ≤ n_rows), cols ≤ w.cols(), t < n_tokens.
void F32PanelRowsRef(const F32Panels& w, int64_t begin, int64_t end, int64_t cols, const float* x, int64_t xs,
                     int64_t n_tokens, float* y, int64_t ys);
// The same on the AVX-512 kernel (plain arguments: panels = the first panel, panel p at
// panels + p·panel_cols·16).
void F32PanelRowsAvx512(const float* panels, int64_t panel_cols, int64_t begin, int64_t end, int64_t cols,
                        const float* x, int64_t xs, int64_t n_tokens, float* y, int64_t ys);
// F32PanelRowsAvx512 over a F32Panels.
void F32PanelRowsFast(const F32Panels& w, int64_t begin, int64_t end, int64_t cols, const float* x, int64_t xs,
                      int64_t n_tokens, float* y, int64_t ys);

// True when the AVX-512 kernel may run (and so the fast path packs float rows into panels).
bool F32PanelsUsable();

}  // namespace frugal::kernels
