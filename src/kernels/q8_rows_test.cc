#include "kernels/q8_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/int8_gemm.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

struct Case {
  std::vector<std::byte> row;  // Q8_0
  std::vector<float> dense;    // the row dequantized
  std::vector<float> x;        // [8, cols]
};

Case Make(int64_t cols, uint64_t seed, GgmlType type = GgmlType::kQ8_0) {
  Rng rng(seed);
  Case c;
  std::vector<float> w(static_cast<size_t>(cols));
  for (float& v : w) v = static_cast<float>(rng.Gaussian());
  w[3] = -40.0f;  // a block whose largest weight is negative: q = −127 (and |q| = 127 as unsigned)
  c.row.resize(RowBytes(type, static_cast<uint64_t>(cols)));
  c.dense.resize(w.size());
  QuantizeRow(type, w.data(), c.row.data(), cols);
  DequantizeRow(type, c.row.data(), c.dense.data(), cols);
  c.x.resize(static_cast<size_t>(8 * cols));
  for (float& v : c.x) v = static_cast<float>(rng.Gaussian()) * (rng.Next() % 7 == 0 ? 30.0f : 1.0f);
  for (int64_t k = 64; k < 96 && k < cols; ++k) c.x[static_cast<size_t>(k)] = 0.0f;  // an all-zero block
  return c;
}

struct Kind {
  GgmlType type;
  DotQ8TokensFn ref;
  DotQ8TokensFn (*vector)(IsaLevel);
  std::vector<int64_t> cols;
};
const std::vector<Kind>& Kinds() {
  static const std::vector<Kind> kinds = {{GgmlType::kQ8_0, DotQ8_0TokensRef, DotQ8_0TokensFor, {32, 96, 1024, 1056}},
                                          {GgmlType::kQ4_K, DotQ4_KTokensRef, DotQ4_KTokensFor, {256, 768, 1024}},
                                          {GgmlType::kQ4_0, DotQ4_0TokensRef, DotQ4_0TokensFor, {64, 192, 1024}},
                                          {GgmlType::kQ5_K, DotQ5_KTokensRef, DotQ5_KTokensFor, {256, 768, 1024}},
                                          {GgmlType::kQ6_K, DotQ6_KTokensRef, DotQ6_KTokensFor, {256, 768, 1024}}};
  return kinds;
}

// The reference sums: within the 8-bit rounding of the activations of the exact product.
TEST(Q8RowsTest, ReferenceIsTheProductWithinActivationRounding) {
  for (const Kind& kind : Kinds()) {
  for (int64_t cols : kind.cols) {
    const Case c = Make(cols, static_cast<uint64_t>(cols), kind.type);
    const Q8Rows q(c.x.data(), 8, cols, cols);
    std::vector<Q8Row> rows;
    for (int t = 0; t < 8; ++t) rows.push_back(q.row(t));
    float out[8];
    kind.ref(c.row.data(), rows.data(), 8, cols, out);
    for (int t = 0; t < 8; ++t) {
      const float* xt = c.x.data() + t * cols;
      double exact = 0, magnitude = 0;
      for (int64_t k = 0; k < cols; ++k) {
        exact += static_cast<double>(c.dense[static_cast<size_t>(k)]) * xt[k];
        magnitude += std::fabs(static_cast<double>(c.dense[static_cast<size_t>(k)]) * xt[k]);
      }
      const double bound = Int8RoundingBound(c.dense.data(), xt, cols) + 1e-5 * magnitude;
      EXPECT_NEAR(out[t], exact, bound) << cols << " cols, token " << t;
      EXPECT_GT(std::fabs(out[t] - exact), 0.0) << "8-bit activations round: an exact result means the test sees nothing";
    }
  }
  }
}

// The vector kernel computes the reference's integer sums: equal up to float summation order,
// for every token count and for even and odd numbers of blocks; a token's result has the same
// bits at every token count.
TEST(Q8RowsTest, Avx512KernelMatchesReference) {
  for (const Kind& kind : Kinds()) {
  const DotQ8TokensFn kernel = kind.vector(DetectedIsa());
  if (kernel == nullptr) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (int64_t cols : kind.cols) {
    const Case c = Make(cols, 7 + static_cast<uint64_t>(cols), kind.type);
    const Q8Rows q(c.x.data(), 8, cols, cols);
    std::vector<Q8Row> rows;
    for (int t = 0; t < 8; ++t) rows.push_back(q.row(t));
    for (int n = 1; n <= kQ8RowsMaxTokens; ++n) {
      float ref[8], got[8];
      kind.ref(c.row.data(), rows.data(), n, cols, ref);
      for (float& v : got) v = -1e30f;
      kernel(c.row.data(), rows.data(), n, cols, got);
      for (int t = 0; t < n; ++t) {
        double magnitude = 0;
        for (int64_t k = 0; k < cols; ++k) magnitude += std::fabs(c.dense[static_cast<size_t>(k)] * c.x[static_cast<size_t>(t * cols + k)]);
        EXPECT_NEAR(got[t], ref[t], 1e-5 * magnitude + 1e-6) << cols << " cols, " << n << " tokens, token " << t;
        float alone = 0;  // batch invariance: the same bits whatever the number of tokens in the call
        kernel(c.row.data(), rows.data() + t, 1, cols, &alone);
        EXPECT_EQ(got[t], alone) << cols << " cols, " << n << " tokens, token " << t;
      }
      for (int t = n; t < 8; ++t) EXPECT_EQ(got[t], -1e30f) << "wrote past n_tokens";
    }
  }
  }
}

// Activations quantize by the int8 panels' rule; a block of subnormal values rounds to zero
// (1/d would overflow) instead of overflowing the integers.
TEST(Q8RowsTest, QuantizesAsThePanelsAndSurvivesSubnormals) {
  std::vector<float> x(64);
  for (int k = 0; k < 32; ++k) x[static_cast<size_t>(k)] = 1e-40f * static_cast<float>(k + 1);
  for (int k = 32; k < 64; ++k) x[static_cast<size_t>(k)] = static_cast<float>(k - 45);  // −13 … 18
  const Q8Rows q(x.data(), 1, 64, 64);
  const Q8Row r = q.row(0);
  for (int k = 0; k < 32; ++k) EXPECT_EQ(r.qs[k], 0);
  EXPECT_EQ(r.qs[32], -92);   // −13 · 127/18 = −91.7
  EXPECT_EQ(r.qs[63], 127);   // the block's largest magnitude
  EXPECT_EQ(r.qs[45], 0);
  EXPECT_FLOAT_EQ(r.dx[1], 18.0f / 127.0f);  // the second block's scale
  int32_t sum = 0;
  for (int k = 32; k < 64; ++k) sum += r.qs[k];
  EXPECT_FLOAT_EQ(r.dsums[1], 18.0f / 127.0f * static_cast<float>(sum));
}

}  // namespace
}  // namespace frugal::kernels
