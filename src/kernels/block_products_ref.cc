#include <vector>

#include "kernels/block_products.h"
#include "kernels/dequantize.h"

namespace frugal::kernels {
namespace {

void RowAsFloats(const StoredRows& k, int64_t j, int64_t n, float* out) {
  DequantizeRow(k.type, k.data + static_cast<uint64_t>(j) * k.stride, out, n);
}

}  // namespace

void BlockDotsRef(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q,
                  int64_t qs, int64_t n_q, float* s, int64_t ss) {
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t j = j0; j < j1; ++j) {
    RowAsFloats(k, j, n, row.data());
    for (int64_t r = 0; r < n_q; ++r) {
      float sum = 0.0f;
      for (int64_t c = 0; c < n; ++c) sum += q[r * qs + c] * row[static_cast<size_t>(c)];
      s[r * ss + j] = sum;
    }
  }
}

void BlockDotsRunsRef(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs, int64_t n_q,
                      float* s, int64_t ss) {
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < n_runs; ++i) {
    const RowRun& run = runs[i];
    for (int64_t j = run.j0; j < run.j1; ++j) {
      RowAsFloats(run.rows, j, n, row.data());
      for (int64_t r = 0; r < n_q; ++r) {
        float sum = 0.0f;
        for (int64_t c = 0; c < n; ++c) sum += q[r * qs + c] * row[static_cast<size_t>(c)];
        s[r * ss + run.out + j] = sum;
      }
    }
  }
}

void BlockWeightedSumsRef(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                          const float* p, int64_t ps, int64_t n_p, float* o, int64_t os) {
  std::vector<float> row(static_cast<size_t>(c1));
  for (int64_t j = j0; j < j1; ++j) {
    RowAsFloats(k, j, c1, row.data());
    for (int64_t r = 0; r < n_p; ++r) {
      for (int64_t c = c0; c < c1; ++c)
        o[r * os + c] += p[r * ps + j] * row[static_cast<size_t>(c)];
    }
  }
}

BlockProductFns BlockProductsFor(IsaLevel level) {
  if (level == IsaLevel::kAvx512Vnni) return {BlockDotsAvx512, BlockWeightedSumsAvx512, BlockDotsRunsAvx512};
  return {BlockDotsRows, BlockWeightedSumsRows, BlockDotsRunsRows};
}

}  // namespace frugal::kernels
