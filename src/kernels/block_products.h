// Products of a block of f32 rows (queries, or softmax weights) with stored rows read in their
// own type (f32, f16, bf16) — attention over the latent cache in decode, where a few query rows
// meet thousands of cached rows. Both are exact f32 arithmetic (each stored value converted
// exactly, products summed in f32), so they serve the exact and the fast paths alike.
//   BlockDots:          s[r·ss + j] = Σ_{c < n} q[r·qs + c] · row_j[c]    r < n_q, j ∈ [j0, j1)
//   BlockWeightedSums:  o[r·os + c] += Σ_{j ∈ [j0, j1)} p[r·ps + j] · row_j[c]    r < n_p, c ∈ [c0, c1)
// (the sums accumulate, so that threads can each add their share of j into their own o).
//   BlockDotsRuns:      BlockDots over several runs of stored rows at once (a paged cache's blocks):
//                       s[r·ss + run.out + j] for each run, j ∈ [run.j0, run.j1) — the queries
//                       prepared once per call, not once per run.
// The scalar references are plain loops; the AVX-512 versions take 16 rows at a time, each
// stored value loaded once per 16 rows; below AVX-512 the row-at-a-time versions convert each
// stored row once per call and use the vectorized f32 dot product and multiply-add. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"
#include "util/ggml_type.h"

namespace frugal::kernels {

// Row j at data + j·stride bytes; type f32, f16 or bf16.
struct StoredRows {
  const std::byte* data = nullptr;
  GgmlType type = GgmlType::kF32;
  uint64_t stride = 0;
};

// Rows [j0, j1) of `rows`; their products go to output columns out + j. Every run of a call has
// the same stored type.
struct RowRun {
  StoredRows rows;
  int64_t j0 = 0, j1 = 0;
  int64_t out = 0;
};

using BlockDotsFn = void (*)(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q,
                             int64_t qs, int64_t n_q, float* s, int64_t ss);
using BlockDotsRunsFn = void (*)(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs,
                                 int64_t n_q, float* s, int64_t ss);
using BlockWeightedSumsFn = void (*)(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0,
                                     int64_t c1, const float* p, int64_t ps, int64_t n_p, float* o,
                                     int64_t os);

void BlockDotsRef(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q,
                  int64_t qs, int64_t n_q, float* s, int64_t ss);
void BlockDotsAvx512(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q,
                     int64_t qs, int64_t n_q, float* s, int64_t ss);
void BlockDotsRunsRef(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs,
                      int64_t n_q, float* s, int64_t ss);
void BlockDotsRunsAvx512(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs,
                         int64_t n_q, float* s, int64_t ss);
void BlockDotsRunsRows(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs,
                       int64_t n_q, float* s, int64_t ss);
void BlockWeightedSumsRef(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                          const float* p, int64_t ps, int64_t n_p, float* o, int64_t os);
void BlockWeightedSumsAvx512(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                             const float* p, int64_t ps, int64_t n_p, float* o, int64_t os);

void BlockDotsRows(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q,
                   int64_t qs, int64_t n_q, float* s, int64_t ss);
void BlockWeightedSumsRows(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                           const float* p, int64_t ps, int64_t n_p, float* o, int64_t os);

struct BlockProductFns {
  BlockDotsFn dots = nullptr;
  BlockWeightedSumsFn weighted_sums = nullptr;
  BlockDotsRunsFn dots_runs = nullptr;
};
// The AVX-512 versions, or the row-at-a-time ones below that level (the references are for
// tests). Never null.
BlockProductFns BlockProductsFor(IsaLevel level);

}  // namespace frugal::kernels
