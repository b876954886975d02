// Block products over stored rows: the scalar references against a double-precision loop, and
// the AVX-512 and row-at-a-time versions against the references — f32/f16/bf16 rows, row counts below, at and
// above 16, widths with and without a partial last 16, key and column sub-ranges, strides.
#include "kernels/block_products.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

struct Fixture {
  GgmlType type;
  int64_t n_keys, width;
  uint64_t stride;  // bytes, beyond the row itself
  std::vector<std::byte> rows;
  std::vector<float> dense;  // the stored values as f32
  StoredRows stored() const { return {rows.data(), type, stride}; }
};

Fixture MakeRows(GgmlType type, int64_t n_keys, int64_t width, Rng& rng) {
  Fixture f{type, n_keys, width, RowBytes(type, static_cast<uint64_t>(width)) + 6, {}, {}};
  f.rows.resize(f.stride * static_cast<uint64_t>(n_keys));
  f.dense.resize(static_cast<size_t>(n_keys * width));
  std::vector<float> row(static_cast<size_t>(width));
  for (int64_t j = 0; j < n_keys; ++j) {
    for (float& v : row) v = static_cast<float>(rng.Gaussian());
    QuantizeRow(type, row.data(), f.rows.data() + f.stride * static_cast<uint64_t>(j), width);
    DequantizeRow(type, f.rows.data() + f.stride * static_cast<uint64_t>(j),
                  f.dense.data() + j * width, width);
  }
  return f;
}

std::vector<float> Gaussians(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Gaussian());
  return v;
}

struct Shape {
  GgmlType type;
  int64_t n_keys, width, n_rows;
};

const Shape kShapes[] = {{GgmlType::kF16, 130, 576, 16}, {GgmlType::kBF16, 70, 576, 16},
                         {GgmlType::kF32, 67, 40, 5},    {GgmlType::kF16, 33, 72, 20},
                         {GgmlType::kF16, 1, 16, 1},     {GgmlType::kBF16, 200, 136, 48}};

std::string Name(const Shape& s) {
  return std::string(TypeName(s.type)) + " keys " + std::to_string(s.n_keys) + " width " +
         std::to_string(s.width) + " rows " + std::to_string(s.n_rows);
}

// Σ_c q[c]·row_j[c] in double over the fixture's stored values, and Σ |q[c]·row_j[c]|.
double ExactDot(const float* q, const Fixture& f, int64_t j, double* magnitude) {
  double exact = 0;
  *magnitude = 0;
  for (int64_t c = 0; c < f.width; ++c) {
    const double p = static_cast<double>(q[c]) * f.dense[static_cast<size_t>(j * f.width + c)];
    exact += p;
    *magnitude += std::abs(p);
  }
  return exact;
}

void CheckDots(const BlockProductFns fast) {
  for (const Shape& shape : kShapes) {
    SCOPED_TRACE(Name(shape));
    Rng rng(static_cast<uint64_t>(shape.n_keys * 31 + shape.width));
    const Fixture f = MakeRows(shape.type, shape.n_keys, shape.width, rng);
    const int64_t qs = shape.width + 3, ss = shape.n_keys + 5;
    const std::vector<float> q = Gaussians(static_cast<size_t>(shape.n_rows * qs), rng);
    const int64_t j0 = shape.n_keys > 2 ? 1 : 0, j1 = shape.n_keys;  // a sub-range of the keys
    std::vector<float> ref(static_cast<size_t>(shape.n_rows * ss), -3.0f), got = ref;
    BlockDotsRef(f.stored(), shape.width, j0, j1, q.data(), qs, shape.n_rows, ref.data(), ss);
    if (fast.dots)
      fast.dots(f.stored(), shape.width, j0, j1, q.data(), qs, shape.n_rows, got.data(), ss);
    for (int64_t r = 0; r < shape.n_rows; ++r) {
      for (int64_t j = 0; j < ss; ++j) {
        const size_t at = static_cast<size_t>(r * ss + j);
        if (j < j0 || j >= j1) {
          ASSERT_EQ(ref[at], -3.0f) << "reference wrote outside the keys";
          if (fast.dots) {
            ASSERT_EQ(got[at], -3.0f) << "wrote outside the keys " << r << "," << j;
          }
          continue;
        }
        double magnitude = 0;
        const double exact = ExactDot(q.data() + r * qs, f, j, &magnitude);
        ASSERT_NEAR(ref[at], exact, 1e-6 * magnitude + 1e-6) << r << "," << j;
        if (fast.dots) {
          ASSERT_NEAR(got[at], ref[at], 1e-6 * magnitude + 1e-6) << r << "," << j;
        }
      }
    }
  }
}

TEST(BlockProductsTest, DotsMatchDoubleLoopAndFastVersionsMatchReference) {
  {
    SCOPED_TRACE("this CPU's");
    CheckDots(BlockProductsFor(DetectedIsa()));
  }
  SCOPED_TRACE("row at a time");
  CheckDots({BlockDotsRows, BlockWeightedSumsRows, BlockDotsRunsRows});
}

// Runs: a fixture's rows cut into runs (of unequal lengths, one empty, one a sub-range of its
// part) whose products land at columns other than their row numbers, as a paged cache's blocks
// do. Every value equals the double loop's within f32 rounding, and the fast versions give the
// same bits as their one-run calls, so that the queries prepared once change nothing.
void CheckDotsRuns(const BlockProductFns fast) {
  for (const Shape& shape : kShapes) {
    SCOPED_TRACE(Name(shape));
    Rng rng(static_cast<uint64_t>(shape.n_keys * 13 + shape.width));
    const Fixture f = MakeRows(shape.type, shape.n_keys, shape.width, rng);
    const int64_t qs = shape.width + 1, ss = 2 * shape.n_keys + 9;
    const std::vector<float> q = Gaussians(static_cast<size_t>(shape.n_rows * qs), rng);
    // Runs over rows [begin, end) of the fixture, the run's row j written to column out + j.
    std::vector<RowRun> runs;
    const int64_t n = shape.n_keys, third = n / 3;
    const auto at_row = [&](int64_t first) {
      return StoredRows{f.rows.data() + f.stride * static_cast<uint64_t>(first), f.type, f.stride};
    };
    runs.push_back({at_row(2 * third), 0, n - 2 * third, n + 4});  // the last third, written after the others
    runs.push_back({at_row(0), 0, 0, 0});                          // empty
    runs.push_back({at_row(0), third > 1 ? 1 : 0, third, 0});      // the first third but row 0
    runs.push_back({at_row(third), 0, third, third + 2});
    std::vector<float> ref(static_cast<size_t>(shape.n_rows * ss), -3.0f), got = ref, one_by_one = ref;
    BlockDotsRunsRef(runs.data(), static_cast<int64_t>(runs.size()), shape.width, q.data(), qs, shape.n_rows, ref.data(), ss);
    fast.dots_runs(runs.data(), static_cast<int64_t>(runs.size()), shape.width, q.data(), qs, shape.n_rows, got.data(), ss);
    for (const RowRun& run : runs) {
      if (run.j0 < run.j1) {
        fast.dots(run.rows, shape.width, run.j0, run.j1, q.data(), qs, shape.n_rows, one_by_one.data() + run.out, ss);
      }
    }
    std::vector<int64_t> row_of_column(static_cast<size_t>(ss), -1);  // the fixture row each column holds
    for (const RowRun& run : runs) {
      const int64_t first = (run.rows.data - f.rows.data()) / static_cast<int64_t>(f.stride);
      for (int64_t j = run.j0; j < run.j1; ++j) row_of_column[static_cast<size_t>(run.out + j)] = first + j;
    }
    for (int64_t r = 0; r < shape.n_rows; ++r) {
      for (int64_t c = 0; c < ss; ++c) {
        const size_t at = static_cast<size_t>(r * ss + c);
        const int64_t j = row_of_column[static_cast<size_t>(c)];
        ASSERT_EQ(got[at], one_by_one[at]) << r << "," << c;
        if (j < 0) {
          ASSERT_EQ(ref[at], -3.0f) << "reference wrote outside the runs " << r << "," << c;
          ASSERT_EQ(got[at], -3.0f) << "wrote outside the runs " << r << "," << c;
          continue;
        }
        double magnitude = 0;
        const double exact = ExactDot(q.data() + r * qs, f, j, &magnitude);
        ASSERT_NEAR(ref[at], exact, 1e-6 * magnitude + 1e-6) << r << "," << c;
        ASSERT_NEAR(got[at], ref[at], 1e-6 * magnitude + 1e-6) << r << "," << c;
      }
    }
  }
}

TEST(BlockProductsTest, DotsOverRunsMatchDoubleLoopAndOneRunAtATime) {
  {
    SCOPED_TRACE("this CPU's");
    CheckDotsRuns(BlockProductsFor(DetectedIsa()));
  }
  SCOPED_TRACE("row at a time");
  CheckDotsRuns({BlockDotsRows, BlockWeightedSumsRows, BlockDotsRunsRows});
}

void CheckWeightedSums(const BlockProductFns fast) {
  for (const Shape& shape : kShapes) {
    SCOPED_TRACE(Name(shape));
    Rng rng(static_cast<uint64_t>(shape.n_keys * 17 + shape.width));
    const Fixture f = MakeRows(shape.type, shape.n_keys, shape.width, rng);
    const int64_t ps = shape.n_keys + 2, os = shape.width + 7;
    const std::vector<float> p = Gaussians(static_cast<size_t>(shape.n_rows * ps), rng);
    // Column ranges: all, and an inner one not starting on a multiple of 16; keys: all, a
    // sub-range, none.
    const int64_t column_ranges[][2] = {
        {0, shape.width},
        {shape.width > 20 ? 3 : 0, shape.width > 20 ? shape.width - 2 : shape.width}};
    const int64_t key_ranges[][2] = {{0, shape.n_keys}, {shape.n_keys / 3, shape.n_keys}, {0, 0}};
    for (const auto& cr : column_ranges) {
      for (const auto& kr : key_ranges) {
        SCOPED_TRACE("columns " + std::to_string(cr[0]) + ".." + std::to_string(cr[1]) + " keys " +
                     std::to_string(kr[0]) + ".." + std::to_string(kr[1]));
        std::vector<float> ref(static_cast<size_t>(shape.n_rows * os), -3.0f), got = ref;
        BlockWeightedSumsRef(f.stored(), kr[0], kr[1], cr[0], cr[1], p.data(), ps, shape.n_rows,
                             ref.data(), os);
        if (fast.weighted_sums) {
          fast.weighted_sums(f.stored(), kr[0], kr[1], cr[0], cr[1], p.data(), ps, shape.n_rows,
                             got.data(), os);
        }
        for (int64_t r = 0; r < shape.n_rows; ++r) {
          for (int64_t c = 0; c < os; ++c) {
            const size_t at = static_cast<size_t>(r * os + c);
            if (c < cr[0] || c >= cr[1]) {  // untouched; inside, the sums are added to the -3 there
              ASSERT_EQ(ref[at], -3.0f) << "reference wrote outside the columns";
              if (fast.weighted_sums) {
                ASSERT_EQ(got[at], -3.0f) << "wrote outside the columns " << r << "," << c;
              }
              continue;
            }
            double exact = 0, magnitude = 0;
            for (int64_t j = kr[0]; j < kr[1]; ++j) {
              const double v = static_cast<double>(p[static_cast<size_t>(r * ps + j)]) *
                               f.dense[static_cast<size_t>(j * shape.width + c)];
              exact += v;
              magnitude += std::abs(v);
            }
            ASSERT_NEAR(ref[at], -3.0 + exact, 1e-6 * magnitude + 1e-6) << r << "," << c;
            if (fast.weighted_sums) {
              ASSERT_NEAR(got[at], ref[at], 1e-6 * magnitude + 1e-6) << r << "," << c;
            }
          }
        }
      }
    }
  }
}

TEST(BlockProductsTest, WeightedSumsMatchDoubleLoopAndFastVersionsMatchReference) {
  {
    SCOPED_TRACE("this CPU's");
    CheckWeightedSums(BlockProductsFor(DetectedIsa()));
  }
  SCOPED_TRACE("row at a time");
  CheckWeightedSums({BlockDotsRows, BlockWeightedSumsRows, BlockDotsRunsRows});
}

}  // namespace
}  // namespace frugal::kernels
