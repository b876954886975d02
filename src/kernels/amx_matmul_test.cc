// The AMX prefill kernel against a double-precision loop over dequantized rows: every stored
// type, partial tiles (rows, tokens and columns not multiples of 16/16/32), sub-ranges of rows,
// strides, and through MatMul with a thread pool. Skips where the CPU or OS has no AMX.
#include "kernels/amx_matmul.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu_features.h"
#include "kernels/dequantize.h"
#include "kernels/int8_gemm.h"
#include "kernels/quantize.h"
#include "util/half.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace frugal::kernels {
namespace {

struct Case {
  GgmlType type;
  int64_t rows, cols, tokens;
};

TEST(AmxTest, SplitIntoHeadAndTailKeepsSixteenBits) {
  Rng rng(11);
  for (int i = 0; i < 10000; ++i) {
    const float f = static_cast<float>(rng.Gaussian() * std::pow(10.0, rng.Uniform() * 12 - 6));
    uint16_t hi, lo;
    SplitBf16(f, &hi, &lo);
    EXPECT_LE(std::abs(static_cast<double>(Bf16ToF32(hi)) + Bf16ToF32(lo) - f), std::abs(f) * 0x1p-16) << f;
    EXPECT_LE(std::abs(Bf16ToF32(hi) - f), std::abs(f) * 0x1p-8) << f;
  }
}

TEST(AmxTest, RowsMatchDoubleLoop) {
  if (!AmxUsable()) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the OS): nothing to test";
  const Case cases[] = {{GgmlType::kF32, 37, 40, 17},  {GgmlType::kF32, 16, 32, 1},    {GgmlType::kF16, 50, 96, 33},
                        {GgmlType::kBF16, 33, 64, 16}, {GgmlType::kF16, 21, 72, 12}, {GgmlType::kBF16, 19, 50, 9},
                        {GgmlType::kQ8_0, 160, 1024, 40}, {GgmlType::kQ4_0, 20, 96, 8},
                        {GgmlType::kQ4_K, 37, 512, 31}, {GgmlType::kQ5_K, 17, 256, 9},  {GgmlType::kQ6_K, 48, 768, 48}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(TypeName(c.type)) + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols) + " T" +
                 std::to_string(c.tokens));
    Rng rng(static_cast<uint64_t>(c.rows * 7 + c.cols));
    const uint64_t rb = RowBytes(c.type, static_cast<uint64_t>(c.cols));
    std::vector<std::byte> w(rb * static_cast<uint64_t>(c.rows));
    std::vector<float> dense(static_cast<size_t>(c.rows * c.cols)), row(static_cast<size_t>(c.cols));
    for (int64_t r = 0; r < c.rows; ++r) {
      for (float& v : row) v = static_cast<float>(rng.Gaussian());
      QuantizeRow(c.type, row.data(), w.data() + static_cast<uint64_t>(r) * rb, c.cols);
      DequantizeRow(c.type, w.data() + static_cast<uint64_t>(r) * rb, dense.data() + r * c.cols, c.cols);
    }
    const int64_t xs = c.cols + 5, ys = c.rows + 3;
    std::vector<float> x(static_cast<size_t>(c.tokens * xs)), y(static_cast<size_t>(c.tokens * ys), -7.0f);
    for (float& v : x) v = static_cast<float>(rng.Gaussian() * 3);
    const AmxActivations xa(x.data(), c.tokens, c.cols, xs);
    const WeightRows wr{w.data(), c.type, c.cols, c.rows};
    // Two calls over a split of the rows, the second starting on a tile boundary.
    const int64_t mid = c.rows > 16 ? 16 : c.rows;
    AmxRows(wr, xa, 0, mid, y.data(), ys);
    if (mid < c.rows) AmxRows(wr, xa, mid, c.rows, y.data(), ys);
    for (int64_t t = 0; t < c.tokens; ++t) {
      for (int64_t r = 0; r < c.rows; ++r) {
        double ref = 0, magnitude = 0;
        for (int64_t k = 0; k < c.cols; ++k) {
          const double p = static_cast<double>(dense[static_cast<size_t>(r * c.cols + k)]) * x[static_cast<size_t>(t * xs + k)];
          ref += p;
          magnitude += std::abs(p);
        }
        // hi + lo keeps 16 of 24 bits of each factor: at worst 2^-16 of each |product|.
        ASSERT_NEAR(y[static_cast<size_t>(t * ys + r)], ref, 0x1p-16 * magnitude + 1e-6) << t << "," << r;
      }
      for (int64_t r = c.rows; r < ys; ++r) ASSERT_EQ(y[static_cast<size_t>(t * ys + r)], -7.0f) << "wrote past the rows";
    }
  }
}

TEST(AmxTest, MatMulUsesItFromEightTokensAndSplitsRowsAcrossThreads) {
  if (!AmxUsable()) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the OS): nothing to test";
  const int64_t rows = 600, cols = 256, tokens = 24;
  Rng rng(5);
  const uint64_t rb = RowBytes(GgmlType::kQ8_0, cols);
  std::vector<std::byte> w(rb * rows);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = static_cast<float>(rng.Gaussian());
    QuantizeRow(GgmlType::kQ8_0, row.data(), w.data() + static_cast<uint64_t>(r) * rb, cols);
  }
  std::vector<float> x(static_cast<size_t>(tokens * cols)), fast(static_cast<size_t>(tokens * rows)), exact(fast.size());
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  const WeightRows wr{w.data(), GgmlType::kQ8_0, cols, rows};
  ThreadPool pool(3);
  MatMul(wr, x.data(), fast.data(), {.n_tokens = tokens}, &pool);
  MatMul(wr, x.data(), exact.data(), {.n_tokens = tokens, .exact = true}, &pool);
  double worst = 0;
  for (size_t i = 0; i < fast.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(fast[i]) - exact[i]));
  EXPECT_LT(worst, 1e-3);  // sums of 256 products of size ~1: 2^-16 relative at worst
  EXPECT_GT(worst, 0.0) << "the fast path should not be the exact one (is AMX used?)";
}

// Prepared once, used by products over the first rows and columns (as prefill attention does with
// each head's keys and values): against a double loop over those rows and columns, on the fast
// path (AMX tiles when usable) and the exact one, with and without a thread pool.
TEST(AmxTest, PreparedWeightsServeProductsOverTheirFirstRowsAndColumns) {
  struct Use {
    int64_t rows, cols, tokens;
  };
  for (const GgmlType type : {GgmlType::kF32, GgmlType::kQ8_0}) {
    const int64_t rows = 70, cols = 160;
    Rng rng(type == GgmlType::kF32 ? 21 : 22);
    const uint64_t rb = RowBytes(type, cols);
    std::vector<std::byte> w(rb * rows);
    std::vector<float> dense(static_cast<size_t>(rows * cols)), row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = static_cast<float>(rng.Gaussian());
      QuantizeRow(type, row.data(), w.data() + static_cast<uint64_t>(r) * rb, cols);
      DequantizeRow(type, w.data() + static_cast<uint64_t>(r) * rb, dense.data() + r * cols, cols);
    }
    const WeightRows wr{w.data(), type, cols, rows};
    const std::vector<Use> uses = type == GgmlType::kF32
                                      ? std::vector<Use>{{70, 160, 20}, {37, 40, 9}, {16, 96, 3}, {70, 33, 17}}
                                      : std::vector<Use>{{70, 160, 20}, {37, 64, 9}, {16, 96, 3}};
    ThreadPool pool(2);
    for (const bool exact : {false, true}) {
      const PreparedWeights prepared(wr, exact);
      EXPECT_EQ(prepared.amx() != nullptr, !exact && AmxUsable());
      for (const Use& u : uses) {
        for (ThreadPool* threads : {static_cast<ThreadPool*>(nullptr), &pool}) {
          SCOPED_TRACE(std::string(TypeName(type)) + (exact ? " exact " : " fast ") + std::to_string(u.rows) + "x" +
                       std::to_string(u.cols) + " T" + std::to_string(u.tokens) + (threads ? " pool" : ""));
          const int64_t xs = u.cols + 3, ys = u.rows + 5;
          std::vector<float> x(static_cast<size_t>(u.tokens * xs)), y(static_cast<size_t>(u.tokens * ys), -7.0f);
          for (float& v : x) v = static_cast<float>(rng.Gaussian());
          MatMul(prepared, u.rows, u.cols, x.data(), y.data(),
                 {.n_tokens = u.tokens, .x_stride = xs, .y_stride = ys, .exact = exact}, threads);
          for (int64_t t = 0; t < u.tokens; ++t) {
            for (int64_t r = 0; r < ys; ++r) {
              const float got = y[static_cast<size_t>(t * ys + r)];
              if (r >= u.rows) {
                ASSERT_EQ(got, -7.0f) << "wrote past the rows";
                continue;
              }
              double ref = 0, magnitude = 0;
              for (int64_t k = 0; k < u.cols; ++k) {
                const double p = static_cast<double>(dense[static_cast<size_t>(r * cols + k)]) * x[static_cast<size_t>(t * xs + k)];
                ref += p;
                magnitude += std::abs(p);
              }
              // AMX (or exact): 2^-16 of Σ|w·x|; without AMX, quantized rows may take 8-bit activations.
              const ProductPath path = PathOf(type, u.cols, {.n_tokens = u.tokens, .exact = exact});
              const bool int8 = path == ProductPath::kInt8 || path == ProductPath::kQ8Rows;
              const double bound =
                  int8 ? Int8RoundingBound(&dense[static_cast<size_t>(r * cols)], &x[static_cast<size_t>(t * xs)], u.cols) + 1e-5 * magnitude
                       : 0x1p-16 * magnitude + 1e-6;
              ASSERT_NEAR(got, ref, bound) << t << "," << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace frugal::kernels
