// Float row panels: packing and the scalar reference product (f32_panels.h); the AVX-512
// kernel is in f32_panels_avx512.cc.
#include "kernels/f32_panels.h"

#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/dequantize.h"
#include "util/check.h"

namespace frugal::kernels {

bool F32PanelsUsable() { return DetectedIsa() == IsaLevel::kAvx512Vnni; }

F32Panels::F32Panels(const WeightRows& w)
    : n_rows_(w.n_rows),
      cols_(w.cols),
      data_(static_cast<size_t>((w.n_rows + kPanelRows - 1) / kPanelRows * kPanelRows * w.cols), /*zeroed=*/false) {
  std::vector<float> row(w.type == GgmlType::kF32 ? 0 : static_cast<size_t>(w.cols));
  const int64_t padded = (n_rows_ + kPanelRows - 1) / kPanelRows * kPanelRows;
  for (int64_t r = 0; r < padded; ++r) {
    float* dst = data_.data() + r / kPanelRows * cols_ * kPanelRows + r % kPanelRows;
    if (r >= n_rows_) {
      for (int64_t k = 0; k < cols_; ++k) dst[k * kPanelRows] = 0.0f;
      continue;
    }
    const float* src = reinterpret_cast<const float*>(w.row(r));
    if (w.type != GgmlType::kF32) {
      DequantizeRow(w.type, w.row(r), row.data(), cols_);
      src = row.data();
    }
    for (int64_t k = 0; k < cols_; ++k) dst[k * kPanelRows] = src[k];
  }
}

void F32PanelRowsRef(const F32Panels& w, int64_t begin, int64_t end, int64_t cols, const float* x, int64_t xs,
                     int64_t n_tokens, float* y, int64_t ys) {
  FRUGAL_CHECK(begin % F32Panels::kPanelRows == 0 && end <= w.n_rows() && cols <= w.cols());
  for (int64_t r = begin; r < end; ++r) {
    const float* p = w.panel(r / F32Panels::kPanelRows) + r % F32Panels::kPanelRows;
    for (int64_t t = 0; t < n_tokens; ++t) {
      float sum = 0.0f;
      for (int64_t k = 0; k < cols; ++k) sum += p[k * F32Panels::kPanelRows] * x[t * xs + k];
      y[t * ys + r] = sum;
    }
  }
}

void F32PanelRowsFast(const F32Panels& w, int64_t begin, int64_t end, int64_t cols, const float* x, int64_t xs,
                      int64_t n_tokens, float* y, int64_t ys) {
  FRUGAL_CHECK(begin % F32Panels::kPanelRows == 0 && end <= w.n_rows() && cols <= w.cols());
  F32PanelRowsAvx512(w.panel(0), w.cols(), begin, end, cols, x, xs, n_tokens, y, ys);
}

}  // namespace frugal::kernels
