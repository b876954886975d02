// Quantize → dequantize round trips: the error of each element stays within the format's step,
// on rows with remainders of structure (zeros, constants, outliers).
#include <cmath>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

struct Case {
  GgmlType type;
  double rel_tol;  // max |error| / max |x| over a block-sized window
};

class QuantizeRoundTrip : public ::testing::TestWithParam<Case> {};

std::vector<float> TestRow(int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = 0.02f * static_cast<float>(rng.Gaussian());
  x[3] = 0.3f;  // outlier
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(64 + j)] = 0.0f;    // an all-zero block
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(96 + j)] = -0.05f;  // a constant block
  return x;
}

TEST_P(QuantizeRoundTrip, ErrorWithinStep) {
  const Case c = GetParam();
  const int n = 512;
  const std::vector<float> x = TestRow(n, 5);
  std::vector<std::byte> q(RowBytes(c.type, n));
  QuantizeRow(c.type, x.data(), q.data(), n);
  std::vector<float> y(static_cast<size_t>(n));
  DequantizeRow(c.type, q.data(), y.data(), n);
  const int window = 32;  // the smallest scale group of every format
  for (int b = 0; b < n; b += window) {
    float amax = 0;
    for (int j = b; j < b + window; ++j) amax = std::max(amax, std::fabs(x[j]));
    for (int j = b; j < b + window; ++j) {
      EXPECT_LE(std::fabs(x[j] - y[j]), c.rel_tol * amax + 1e-7)
          << TypeName(c.type) << " element " << j << ": " << x[j] << " vs " << y[j];
    }
  }
  for (int j = 64; j < 96; ++j) EXPECT_EQ(y[j], 0.0f) << TypeName(c.type) << " zero block";
}

// Tolerances relative to the block's largest magnitude: half a step for the affine formats
// (q8: 1/254; q4_1: 1/30; q5_1: 1/62); the symmetric q4_0/q5_0 map the largest magnitude to
// −8/−16, so values of the other sign clip at +7/+15 steps (error up to 1/8, 1/16); K formats
// add the error of their 6/8-bit sub-scales.
INSTANTIATE_TEST_SUITE_P(
    AllWrittenTypes, QuantizeRoundTrip,
    ::testing::Values(Case{GgmlType::kF32, 0.0}, Case{GgmlType::kF16, 1e-3}, Case{GgmlType::kBF16, 8e-3},
                      Case{GgmlType::kQ8_0, 0.0045}, Case{GgmlType::kQ4_0, 0.126},
                      Case{GgmlType::kQ4_1, 0.07}, Case{GgmlType::kQ5_0, 0.063},
                      Case{GgmlType::kQ5_1, 0.035}, Case{GgmlType::kQ4_K, 0.25},
                      Case{GgmlType::kQ5_K, 0.15}, Case{GgmlType::kQ6_K, 0.08},
                      // ggml's exponent floor(log2 max) − 2 clips the top of [2^k, 2^(k+1)) to 6·2^(k−2):
                      // up to a quarter of the block's largest magnitude, as the widest grid gap.
                      Case{GgmlType::kMXFP4, 0.2501}),
    [](const auto& p) { return std::string(TypeName(p.param.type)); });

// Q8_0 rounds x/d half away from zero (std::lround's rule), also next to the half-way points
// where adding 0.5 in float would round up (0.49999997).
TEST(QuantizeTest, Q8_0RoundsHalfAwayFromZero) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // d = 1: quantized values are x rounded
  const float cases[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, 0.49999997f, -0.49999997f, 1.4999999f, 126.5f, -126.5f, 3.0f, -0.0f};
  for (size_t i = 0; i < std::size(cases); ++i) x[i + 1] = cases[i];
  std::vector<std::byte> row(RowBytes(GgmlType::kQ8_0, 32));
  QuantizeRow(GgmlType::kQ8_0, x.data(), row.data(), 32);
  const auto* q = reinterpret_cast<const int8_t*>(row.data() + 2);
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(q[i + 1], static_cast<int8_t>(std::lround(cases[i]))) << cases[i];
  }
}

// MXFP4 values on the E2M1 grid of their block's exponent come back exactly, with ggml's exponent
// (floor(log2 max) − 2 + 127) and its choice among equal-distance codes (the lower one).
TEST(QuantizeTest, Mxfp4GridValuesAndExponent) {
  std::vector<float> x(32);
  const float grid[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(j)] = (j % 2 ? -1.0f : 1.0f) * grid[j % 8] * 0.125f;  // max 0.75
  std::vector<std::byte> q(RowBytes(GgmlType::kMXFP4, 32));
  QuantizeRow(GgmlType::kMXFP4, x.data(), q.data(), 32);
  EXPECT_EQ(static_cast<int>(q[0]), -1 - 2 + 127);  // floor(log2 0.75) = −1
  std::vector<float> y(32);
  DequantizeRow(GgmlType::kMXFP4, q.data(), y.data(), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[static_cast<size_t>(j)], x[static_cast<size_t>(j)]) << j;
  // 0.25·0.125 lies halfway between codes 0 (0) and 1 (0.5·0.125): the lower code, 0.
  x.assign(32, 0.0f);
  x[0] = 0.75f;
  x[1] = 0.25f * 0.125f;
  QuantizeRow(GgmlType::kMXFP4, x.data(), q.data(), 32);
  EXPECT_EQ(static_cast<int>(q[1 + 1]) & 15, 0);
}

TEST(QuantizeTest, KFormatsAreAccurateOnTypicalWeights) {
  // Mean absolute error relative to the weights' scale, on N(0, 0.02²) weights.
  const int n = 4096;
  Rng rng(9);
  std::vector<float> x(n);
  for (float& v : x) v = 0.02f * static_cast<float>(rng.Gaussian());
  for (auto [type, tol] : {std::pair{GgmlType::kQ4_K, 0.12}, {GgmlType::kQ5_K, 0.06}, {GgmlType::kQ6_K, 0.03},
                           {GgmlType::kQ8_0, 0.01}}) {
    std::vector<std::byte> q(RowBytes(type, n));
    QuantizeRow(type, x.data(), q.data(), n);
    std::vector<float> y(n);
    DequantizeRow(type, q.data(), y.data(), n);
    double err = 0;
    for (int j = 0; j < n; ++j) err += std::fabs(x[j] - y[j]);
    EXPECT_LT(err / n / 0.02, tol) << TypeName(type);
  }
}

}  // namespace
}  // namespace frugal::kernels
