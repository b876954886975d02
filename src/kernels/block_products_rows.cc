// Block products one stored row at a time, for CPUs without the AVX-512 kernels: each stored row
// is converted to f32 once per call (the CPU's f16/bf16 converter), then multiplied with every
// query row by the vectorized Dot, or added into every output row. Exact f32 arithmetic, like
// the other versions (only the order of the sums differs).
#include <cstring>
#include <vector>

#include "kernels/block_products.h"
#include "kernels/dequantize.h"
#include "kernels/float_dot.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace frugal::kernels {
namespace {

// Values [c0, c1) of row j as f32.
void RowAsFloats(const StoredRows& k, int64_t j, int64_t c0, int64_t c1, HalfToFloatFn half, std::vector<float>& full,
                 float* out) {
  const std::byte* row = k.data + static_cast<uint64_t>(j) * k.stride;
  if (k.type == GgmlType::kF32) {
    std::memcpy(out, row + c0 * 4, static_cast<size_t>(c1 - c0) * 4);
  } else if (half != nullptr) {
    half(row + c0 * 2, out, c1 - c0);
  } else {
    full.resize(static_cast<size_t>(c1));
    DequantizeRow(k.type, row, full.data(), c1);
    std::memcpy(out, full.data() + c0, static_cast<size_t>(c1 - c0) * 4);
  }
}

}  // namespace

void BlockDotsRows(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q, int64_t qs, int64_t n_q,
                   float* s, int64_t ss) {
  const HalfToFloatFn half = HalfToFloatFor(k.type, DetectedIsa());
  std::vector<float> row(static_cast<size_t>(n)), full;
  for (int64_t j = j0; j < j1; ++j) {
    RowAsFloats(k, j, 0, n, half, full, row.data());
    for (int64_t r = 0; r < n_q; ++r) s[r * ss + j] = Dot(q + r * qs, row.data(), n);
  }
}

void BlockDotsRunsRows(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs, int64_t n_q,
                       float* s, int64_t ss) {
  std::vector<float> row(static_cast<size_t>(n)), full;
  for (int64_t i = 0; i < n_runs; ++i) {
    const RowRun& run = runs[i];
    const HalfToFloatFn half = HalfToFloatFor(run.rows.type, DetectedIsa());
    for (int64_t j = run.j0; j < run.j1; ++j) {
      RowAsFloats(run.rows, j, 0, n, half, full, row.data());
      for (int64_t r = 0; r < n_q; ++r) s[r * ss + run.out + j] = Dot(q + r * qs, row.data(), n);
    }
  }
}

void BlockWeightedSumsRows(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1, const float* p,
                           int64_t ps, int64_t n_p, float* o, int64_t os) {
  const HalfToFloatFn half = HalfToFloatFor(k.type, DetectedIsa());
  std::vector<float> row(static_cast<size_t>(c1 - c0)), full;
  for (int64_t j = j0; j < j1; ++j) {
    RowAsFloats(k, j, c0, c1, half, full, row.data());
    for (int64_t r = 0; r < n_p; ++r) Axpy(p[r * ps + j], row.data(), o + r * os + c0, c1 - c0);
  }
}

}  // namespace frugal::kernels
