#include "kernels/panel_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/act_quant.h"
#include "kernels/dequantize.h"
#include "kernels/int8_gemm.h"
#include "kernels/q8_rows.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

// Tokens of activations a case holds: more than the kernels take one row at a time (16), so
// that the four-row tiles run too.
constexpr int kTokens = 24;

// n_rows Q8_0 or Q4_K rows of random weights (one block per row led by a large negative weight:
// q = −127 in Q8_0), the same rows in panel order, and kTokens tokens of activations (some
// large, one block all zero).
struct Case {
  GgmlType type = GgmlType::kQ8_0;
  int64_t cols = 0, n_rows = 0;
  std::vector<std::byte> q8_0, panels;  // rows as stored (of `type`), and in panel order
  std::vector<float> x;  // [kTokens, cols]
  uint64_t row_bytes() const { return RowBytes(type, static_cast<uint64_t>(cols)); }
};

Case Make(int64_t cols, int64_t n_rows, uint64_t seed, GgmlType type = GgmlType::kQ8_0) {
  Rng rng(seed);
  Case c;
  c.type = type;
  c.cols = cols;
  c.n_rows = n_rows;
  c.q8_0.resize(c.row_bytes() * static_cast<uint64_t>(n_rows));
  c.panels.resize(c.q8_0.size());
  std::vector<float> w(static_cast<size_t>(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (float& v : w) v = static_cast<float>(rng.Gaussian());
    w[static_cast<size_t>(37 + r % 200)] = -40.0f;
    QuantizeRow(type, w.data(), c.q8_0.data() + r * c.row_bytes(), cols);
    PackPanelRow(type, c.q8_0.data() + r * c.row_bytes(), cols, c.panels.data() + r * c.row_bytes());
  }
  c.x.resize(static_cast<size_t>(kTokens * cols));
  for (float& v : c.x) v = static_cast<float>(rng.Gaussian()) * (rng.Next() % 7 == 0 ? 30.0f : 1.0f);
  for (int64_t k = 64; k < 96; ++k) c.x[static_cast<size_t>(k)] = 0.0f;
  return c;
}

// Σ|w·x| over a row: the scale of a product's float rounding.
double AbsProduct(const Case& c, int64_t r, int t) {
  std::vector<float> w(static_cast<size_t>(c.cols));
  DequantizeRow(c.type, c.q8_0.data() + r * c.row_bytes(), w.data(), c.cols);
  double s = 0;
  for (int64_t k = 0; k < c.cols; ++k) s += std::fabs(double{w[static_cast<size_t>(k)]} * c.x[static_cast<size_t>(t * c.cols + k)]);
  return s;
}

TEST(PanelRowsTest, PackingKeepsEveryValue) {
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
    for (int64_t cols : {512, 1536}) {
      const Case c = Make(cols, 3, 1, type);
      for (int64_t r = 0; r < c.n_rows; ++r) {
        std::vector<float> want(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
        DequantizeRow(type, c.q8_0.data() + r * c.row_bytes(), want.data(), cols);
        DequantizePanelRow(type, c.panels.data() + r * c.row_bytes(), cols, got.data());
        EXPECT_EQ(want, got) << TypeName(type) << " row " << r;
      }
      EXPECT_NE(c.q8_0, c.panels);  // reordered, not copied
    }
  }
}

// The 8-bit reference equals the few-token 8-bit path's reference (q8_rows.h: the same rule).
TEST(PanelRowsTest, EightBitReferenceIsTheFewTokenProduct) {
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
  const Case c = Make(1536, 5, 3, type);
  const Q8Rows q8(c.x.data(), 8, c.cols, c.cols);
  const Q8PanelRows panel_x(c.x.data(), 8, c.cols, c.cols);
  std::vector<Q8Row> rows;
  std::vector<Q8PanelRow> xs;
  for (int t = 0; t < 8; ++t) {
    rows.push_back(q8.row(t));
    xs.push_back(panel_x.row(t));
  }
  std::vector<float> y(static_cast<size_t>(8 * c.n_rows));
  (type == GgmlType::kQ8_0 ? Q8_0PanelProduct8Ref : Q4KPanelProduct8Ref)(c.panels.data(), c.row_bytes(), c.n_rows, c.cols,
                                                                         xs.data(), 8, y.data(), c.n_rows);
  for (int64_t r = 0; r < c.n_rows; ++r) {
    float want[8];
    (type == GgmlType::kQ8_0 ? DotQ8_0TokensRef : DotQ4_KTokensRef)(c.q8_0.data() + r * c.row_bytes(), rows.data(), 8,
                                                                    c.cols, want);
    for (int t = 0; t < 8; ++t) {
      EXPECT_NEAR(y[static_cast<size_t>(t * c.n_rows + r)], want[t], 1e-6 * AbsProduct(c, r, t)) << TypeName(type) << " " << r << "," << t;
    }
  }
  }
}

TEST(PanelRowsTest, ActivationsFromInt8AreTheSameOnAvx512) {
  if (!Int8ProductsUsable()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const Case c = Make(1024, 1, 4);
  const Int8Activations a(c.x.data(), 2, c.cols, c.cols);
  for (int t = 0; t < 2; ++t) {
    std::vector<int8_t> q_ref(1024), q_vec(1024);
    std::vector<int32_t> s_ref(32), s_vec(32);
    Q8PanelActivationsFromInt8Ref(a.u(t), c.cols, q_ref.data(), s_ref.data());
    Q8PanelActivationsFromInt8Avx512(a.u(t), c.cols, q_vec.data(), s_vec.data());
    EXPECT_EQ(q_ref, q_vec);
    EXPECT_EQ(s_ref, s_vec);
  }
}

// The AVX-512 VNNI kernels against the references: every row count around the four-row tiles
// and every token count around the token tiles, one row at a time (up to 16 tokens) and in
// four-row tiles (more).
TEST(PanelRowsTest, Avx512KernelsMatchTheReferences) {
  if (!Int8ProductsUsable()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
  const bool q8 = type == GgmlType::kQ8_0;
  for (int64_t cols : {512, 2048}) {
    const Case c = Make(cols, 9, static_cast<uint64_t>(cols), type);
    const Q8PanelRows x8(c.x.data(), kTokens, c.cols, c.cols);
    std::vector<Q8PanelRow> xs8;
    for (int t = 0; t < kTokens; ++t) xs8.push_back(x8.row(t));
    for (int64_t n_rows : {1, 3, 4, 5, 9}) {
      for (int n_tokens : {1, 2, 3, 4, 5, 8, 16, 17, 19, 21, 24}) {
        const int64_t ys = n_rows + 1;  // a strided output
        std::vector<float> want(static_cast<size_t>(kTokens * ys), -1), got(static_cast<size_t>(kTokens * ys), -1);
        (q8 ? Q8_0PanelProduct8Ref : Q4KPanelProduct8Ref)(c.panels.data(), c.row_bytes(), n_rows, cols, xs8.data(), n_tokens,
                                                        want.data(), ys);
        (q8 ? Q8_0PanelProduct8Avx512Vnni : Q4KPanelProduct8Avx512Vnni)(c.panels.data(), c.row_bytes(), n_rows, cols,
                                                                      xs8.data(), n_tokens, got.data(), ys);
        for (int t = 0; t < kTokens; ++t) {
          for (int64_t r = 0; r < ys; ++r) {
            const size_t i = static_cast<size_t>(t * ys + r);
            const double bound = t < n_tokens && r < n_rows ? 1e-6 * AbsProduct(c, r, t) : 0.0;
            EXPECT_NEAR(got[i], want[i], bound) << TypeName(type) << " 8-bit, rows " << n_rows << " tokens " << n_tokens << " at " << t << "," << r;
          }
        }
      }
    }
  }
  }
}

// The int8 products of many tokens read panel rows as they read rows as stored: the same packed
// integers, scales and offsets, so the same results bit for bit (AVX-512 packer and reference).
TEST(PanelRowsTest, Int8ProductsReadPanelRowsExactly) {
  if (!Int8ProductsUsable()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
    const Case c = Make(1024, 6, 6, type);
    const Int8Activations x(c.x.data(), 8, c.cols, c.cols);
    const WeightRows stored{c.q8_0.data(), type, c.cols, c.n_rows};
    const WeightRows panels{c.panels.data(), type, c.cols, c.n_rows, 0, RowOrder::kPanels};
    for (bool reference : {false, true}) {
      std::vector<float> want(static_cast<size_t>(8 * c.n_rows)), got(want.size());
      Int8Rows(stored, x, 0, c.n_rows, want.data(), c.n_rows, reference);
      Int8Rows(panels, x, 0, c.n_rows, got.data(), c.n_rows, reference);
      EXPECT_EQ(want, got) << TypeName(type) << (reference ? " reference" : " AVX-512");
    }
  }
}

// A token's result does not depend on the tokens computed with it (the batch invariance the
// engine's fast path relies on): bit for bit, alone (one row at a time) or among 8 (the same,
// four tokens a pass) or among 24 (four-row tiles).
TEST(PanelRowsTest, ATokenGivesTheSameBitsAloneAndInABatch) {
  if (!Int8ProductsUsable()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
    const auto product = type == GgmlType::kQ8_0 ? Q8_0PanelProduct8Avx512Vnni : Q4KPanelProduct8Avx512Vnni;
    const Case c = Make(1024, 6, 5, type);
    const Q8PanelRows x8(c.x.data(), kTokens, c.cols, c.cols);
    std::vector<Q8PanelRow> xs;
    for (int t = 0; t < kTokens; ++t) xs.push_back(x8.row(t));
    for (int batch : {8, kTokens}) {
      std::vector<float> all(static_cast<size_t>(batch * c.n_rows));
      product(c.panels.data(), c.row_bytes(), c.n_rows, c.cols, xs.data(), batch, all.data(), c.n_rows);
      for (int t = 0; t < batch; ++t) {
        std::vector<float> alone(static_cast<size_t>(c.n_rows));
        product(c.panels.data(), c.row_bytes(), c.n_rows, c.cols, &xs[static_cast<size_t>(t)], 1, alone.data(), c.n_rows);
        for (int64_t r = 0; r < c.n_rows; ++r) {
          EXPECT_EQ(alone[static_cast<size_t>(r)], all[static_cast<size_t>(t * c.n_rows + r)])
              << TypeName(type) << " batch " << batch << " token " << t << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace frugal::kernels
