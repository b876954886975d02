// MatMul / MatMulTransposed against a double-precision loop over dequantized rows, with
// strides, odd sizes and every stored type; ops against hand-computed values.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/act_quant.h"
#include "kernels/amx_matmul.h"
#include "kernels/dequantize.h"
#include "kernels/float_dot.h"
#include "kernels/int8_gemm.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/panel_rows.h"
#include "kernels/quantize.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

struct Matrix {
  std::vector<std::byte> bytes;
  std::vector<float> dense;  // dequantized, [rows, cols]
  WeightRows rows;
};

Matrix MakeMatrix(GgmlType type, int64_t rows, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  Matrix m;
  const uint64_t rb = RowBytes(type, static_cast<uint64_t>(cols));
  m.bytes.resize(rb * static_cast<uint64_t>(rows));
  m.dense.resize(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    QuantizeRow(type, x.data() + r * cols, m.bytes.data() + static_cast<uint64_t>(r) * rb, cols);
    DequantizeRow(type, m.bytes.data() + static_cast<uint64_t>(r) * rb, m.dense.data() + r * cols, cols);
  }
  m.rows = {m.bytes.data(), type, cols, rows};
  return m;
}

class MatMulTypes : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatMulTypes, MatchesDoubleLoop) {
  const GgmlType type = GetParam();
  const int64_t cols = TraitsOf(type).block_elems == 256 ? 512 : 96, rows = 37, tokens = 17;
  const Matrix m = MakeMatrix(type, rows, cols, 1);
  Rng rng(2);
  const int64_t xs = cols + 3, ys = rows + 2;  // strided activations and outputs
  std::vector<float> x(static_cast<size_t>(tokens * xs)), y(static_cast<size_t>(tokens * ys), -7.0f);
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  ThreadPool pool(2);
  for (int64_t n : {int64_t{1}, int64_t{5}, tokens}) {  // decode-sized, few-token (4 per block) and batched paths
    std::fill(y.begin(), y.end(), -7.0f);
    const MatMulParams p{.n_tokens = n, .x_stride = xs, .y_stride = ys};
    MatMul(m.rows, x.data(), y.data(), p, &pool);
    const bool int8 = PathOf(type, cols, p) == ProductPath::kInt8 || PathOf(type, cols, p) == ProductPath::kQ8Rows;
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double ref = 0, magnitude = 0;
        for (int64_t k = 0; k < cols; ++k) {
          ref += static_cast<double>(m.dense[r * cols + k]) * x[t * xs + k];
          magnitude += std::fabs(static_cast<double>(m.dense[r * cols + k]) * x[t * xs + k]);
        }
        // 8-bit activations: their rounding bound (int8_gemm_test shows it is tight); else 16-bit.
        const double bound = int8 ? Int8RoundingBound(&m.dense[r * cols], &x[t * xs], cols) + 1e-5 * magnitude
                                  : 1e-4 * std::sqrt(static_cast<double>(cols));
        EXPECT_NEAR(y[t * ys + r], ref, bound) << n << ": " << t << "," << r;
      }
      EXPECT_EQ(y[t * ys + rows], -7.0f) << "wrote past n_rows";
    }
  }
  // Transposed: y[t, k] = Σ_r W[r, k] x[t, r].
  std::vector<float> xt(static_cast<size_t>(tokens * rows)), yt(static_cast<size_t>(tokens * cols));
  for (float& v : xt) v = static_cast<float>(rng.Gaussian());
  MatMulTransposed(m.rows, xt.data(), yt.data(), {.n_tokens = tokens});
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t k = 0; k < cols; ++k) {
      double ref = 0;
      for (int64_t r = 0; r < rows; ++r) ref += static_cast<double>(m.dense[r * cols + k]) * xt[t * rows + r];
      EXPECT_NEAR(yt[t * cols + k], ref, 1e-4 * std::sqrt(static_cast<double>(rows))) << t << "," << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, MatMulTypes,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0,
                                           GgmlType::kQ4_0, GgmlType::kQ5_1, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K,
                                           GgmlType::kMXFP4),
                         [](const auto& p) { return std::string(TypeName(p.param)); });

// The transpose of a q8_0 [96, 64] matrix: exact in f32 on the exact path; q8_0 rows within
// half a q8_0 step (a block's largest magnitude / 127) plus the f16 scale's rounding on the fast path.
TEST(MatMulTest, TransposedForProducts) {
  const int64_t rows = 96, cols = 64;
  std::vector<float> src(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < src.size(); ++i) src[i] = std::sin(static_cast<float>(i) * 0.37f) * (1.0f + static_cast<float>(i % 7));
  const size_t rb = RowBytes(GgmlType::kQ8_0, cols);
  std::vector<std::byte> q(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) QuantizeRow(GgmlType::kQ8_0, src.data() + r * cols, q.data() + static_cast<size_t>(r) * rb, cols);
  const WeightRows w{q.data(), GgmlType::kQ8_0, cols, rows};
  std::vector<float> deq(src.size()), row(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) DequantizeRow(GgmlType::kQ8_0, w.row(r), deq.data() + r * cols, cols);
  const OwnedRows exact = TransposedForProducts(w, true);
  ASSERT_EQ(exact.rows.type, GgmlType::kF32);
  ASSERT_EQ(exact.rows.n_rows, cols);
  ASSERT_EQ(exact.rows.cols, rows);
  for (int64_t c = 0; c < cols; ++c) {
    DequantizeRow(GgmlType::kF32, exact.rows.row(c), row.data(), rows);
    for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(row[static_cast<size_t>(r)], deq[static_cast<size_t>(r * cols + c)]);
  }
  const OwnedRows fast = TransposedForProducts(w, false);
  ASSERT_EQ(fast.rows.type, GgmlType::kQ8_0);
  for (int64_t c = 0; c < cols; ++c) {
    DequantizeRow(GgmlType::kQ8_0, fast.rows.row(c), row.data(), rows);
    for (int64_t b = 0; b < rows; b += 32) {
      float amax = 0;
      for (int64_t r = b; r < b + 32; ++r) amax = std::max(amax, std::fabs(deq[static_cast<size_t>(r * cols + c)]));
      for (int64_t r = b; r < b + 32; ++r) {
        ASSERT_NEAR(row[static_cast<size_t>(r)], deq[static_cast<size_t>(r * cols + c)], 0.5f * amax / 127 + amax / 2048 + 1e-6f);
      }
    }
  }
}

TEST(OpsTest, TransposeMatchesThePlainLoop) {
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {16, 16}, {17, 5}, {100, 128}, {3, 40}}) {
    std::vector<float> src(static_cast<size_t>(rows * cols)), got(src.size(), -1.0f);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) * 0.5f + 1.0f;
    Transpose(src.data(), rows, cols, got.data());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(got[static_cast<size_t>(c * rows + r)], src[static_cast<size_t>(r * cols + c)]) << rows << "x" << cols;
    }
  }
}

TEST(OpsTest, DotManyMatchesDoubleLoop) {
  for (int64_t dim : {1, 16, 37, 192, 576}) {
    for (int64_t n_keys : {1, 3, 4, 9}) {
      Rng rng(static_cast<uint64_t>(dim * 100 + n_keys));
      const int64_t stride = dim + 5;
      std::vector<float> q(static_cast<size_t>(dim)), keys(static_cast<size_t>(n_keys * stride)), out(static_cast<size_t>(n_keys));
      for (float& v : q) v = static_cast<float>(rng.Gaussian());
      for (float& v : keys) v = static_cast<float>(rng.Gaussian());
      DotMany(q.data(), keys.data(), stride, n_keys, dim, 0.5f, out.data());
      for (int64_t j = 0; j < n_keys; ++j) {
        double ref = 0;
        for (int64_t d = 0; d < dim; ++d) ref += static_cast<double>(q[static_cast<size_t>(d)]) * keys[static_cast<size_t>(j * stride + d)];
        EXPECT_NEAR(out[static_cast<size_t>(j)], 0.5 * ref, 1e-4 * std::sqrt(static_cast<double>(dim))) << dim << "/" << j;
      }
    }
  }
}

TEST(OpsTest, FastExpMatchesLibm) {
  for (double x = -87.0; x <= 88.0; x += 0.00731) {
    const float xf = static_cast<float>(x);
    const double ref = std::exp(static_cast<double>(xf));
    EXPECT_NEAR(FastExp(xf), ref, 3e-7 * ref) << x;
  }
  EXPECT_GT(FastExp(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isfinite(FastExp(1000.0f)));
}

TEST(OpsTest, SoftmaxMatchesDoubleLoopAtEveryLength) {
  for (int64_t n : {1, 15, 16, 17, 100, 1000}) {
    Rng rng(static_cast<uint64_t>(n));
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian() * 4);
    std::vector<double> ref(x.begin(), x.end());
    const double mx = *std::max_element(ref.begin(), ref.end());
    double sum = 0;
    for (double& v : ref) sum += (v = std::exp(v - mx));
    Softmax(x.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(x[static_cast<size_t>(i)], ref[static_cast<size_t>(i)] / sum, 1e-6) << n << "/" << i;
  }
}

// DeepSeek-V4's clamp: silu(min(g, L)) · clamp(u, −L, L).
TEST(OpsTest, SiluMulClamped) {
  float g[3] = {20.0f, -3.0f, 5.0f};
  const float up[3] = {15.0f, -12.0f, 2.0f};
  SiluMulClamped(g, up, 3, 10.0f);
  EXPECT_NEAR(g[0], 10.0 / (1 + std::exp(-10.0)) * 10.0, 1e-4);
  EXPECT_NEAR(g[1], -3.0 / (1 + std::exp(3.0)) * -10.0, 1e-5);
  EXPECT_NEAR(g[2], 5.0 / (1 + std::exp(-5.0)) * 2.0, 1e-5);
}

TEST(OpsTest, RmsNormSoftmaxSiluRope) {
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 0.5f};
  float out[4];
  RmsNorm(x, w, 4, 0.0f, out);  // rms = sqrt(30/4)
  const float inv = 1.0f / std::sqrt(7.5f);
  EXPECT_FLOAT_EQ(out[0], inv);
  EXPECT_FLOAT_EQ(out[2], 6 * inv);
  EXPECT_FLOAT_EQ(out[3], 2 * inv);
  float s[3] = {0.0f, std::log(2.0f), std::log(5.0f)};
  Softmax(s, 3);
  EXPECT_NEAR(s[0], 0.125, 1e-7);
  EXPECT_NEAR(s[2], 0.625, 1e-7);
  float g[2] = {0.0f, 2.0f};
  const float up[2] = {3.0f, 0.5f};
  SiluMul(g, up, 2);
  EXPECT_FLOAT_EQ(g[0], 0.0f);
  EXPECT_NEAR(g[1], 2.0 / (1 + std::exp(-2.0)) * 0.5, 1e-6);
  float r[4] = {1, 0, 1, 2};
  const float freqs[2] = {static_cast<float>(M_PI / 2), 1.0f};
  RopeAdjacentPairs(r, 4, freqs, 0.0f);  // position 0: identity
  EXPECT_EQ(r[0], 1.0f);
  EXPECT_EQ(r[3], 2.0f);
  RopeAdjacentPairs(r, 4, freqs, 1.0f);  // first pair by 90°: (1, 0) -> (0, 1)
  EXPECT_NEAR(r[0], 0.0f, 1e-7);
  EXPECT_NEAR(r[1], 1.0f, 1e-7);
  EXPECT_NEAR(r[2], std::cos(1.0) - 2 * std::sin(1.0), 1e-6);
  EXPECT_NEAR(r[3], std::sin(1.0) + 2 * std::cos(1.0), 1e-6);
}

}  // namespace
}  // namespace frugal::kernels

namespace frugal::kernels {
namespace {

// Every ISA variant of the Q8_0 × quantized-activation dot product against the scalar reference.
TEST(ActQuantTest, DotVariantsMatchTheScalarReference) {
  for (int64_t n : {32, 64, 96, 1024, 4096}) {
    const Matrix m = MakeMatrix(GgmlType::kQ8_0, 1, n, static_cast<uint64_t>(n));
    Rng rng(3);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    x[5] = 40.0f;  // an outlier in the first block
    const Q16Rows xq(x.data(), 1, n, n);
    const float ref = DotQ8_0Ref(m.bytes.data(), xq.row(0), n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;  // 16-bit activations: near exact
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;  // CPU lacks it
      EXPECT_NEAR(DotQ8_0For(level)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref)))
          << IsaName(level) << " n=" << n;
    }
    // The 4-token kernel against four single dots.
    const Q16Rows four(x.data(), 4, n / 4 / 32 * 32, n / 4);
    const int64_t m4 = n / 4 / 32 * 32;
    if (m4 == 0) continue;
    const Matrix w4 = MakeMatrix(GgmlType::kQ8_0, 1, m4, 5);
    const Q16Row rows[4] = {four.row(0), four.row(1), four.row(2), four.row(3)};
    for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;
      DotQ8x4Fn four_kernel = DotQ8_0x4For(level);
      if (four_kernel == nullptr) four_kernel = DotQ8_0x4Ref;
      float out[4];
      four_kernel(w4.bytes.data(), rows, m4, out);
      for (int i = 0; i < 4; ++i) {
        const float single = DotQ8_0Ref(w4.bytes.data(), rows[i], m4);
        EXPECT_NEAR(out[i], single, 1e-4 * (1 + std::fabs(single))) << i << " " << IsaName(level);
      }
    }
  }
}

TEST(ActQuantTest, Q4KDotMatchesTheDequantizedRow) {
  for (int64_t n : {256, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kQ4_K, 1, n, 21);
    Rng rng(8);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    const float ref = DotQ4_KRef(m.bytes.data(), xq.row(0), n);
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;
      EXPECT_NEAR(DotQ4_KFor(level)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref))) << IsaName(level);
    }
    // The 4-token kernel: four copies of x, each scaled differently.
    std::vector<float> x4(static_cast<size_t>(4 * n));
    for (int t = 0; t < 4; ++t) {
      for (int64_t k = 0; k < n; ++k) x4[static_cast<size_t>(t * n + k)] = x[static_cast<size_t>(k)] * static_cast<float>(t + 1);
    }
    const Q16Rows xq4(x4.data(), 4, n, n);
    const Q16Row rows[4] = {xq4.row(0), xq4.row(1), xq4.row(2), xq4.row(3)};
    float out[4];
    DotQ8x4Fn four_kernel = DotQ4_Kx4For(DetectedIsa());
    if (four_kernel == nullptr) four_kernel = DotQ4_Kx4Ref;
    four_kernel(m.bytes.data(), rows, n, out);
    for (int t = 0; t < 4; ++t) {
      const float single = DotQ4_KRef(m.bytes.data(), rows[t], n);
      EXPECT_NEAR(out[t], single, 1e-4 * (1 + std::fabs(single))) << t;
    }
  }
}

TEST(ActQuantTest, Q4_0DotMatchesTheDequantizedRow) {
  for (int64_t n : {32, 96, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kQ4_0, 1, n, 51);
    Rng rng(13);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    const float ref = DotQ4_0Ref(m.bytes.data(), xq.row(0), n);
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;
      EXPECT_NEAR(DotQ4_0For(level)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref))) << IsaName(level);
    }
  }
}

TEST(ActQuantTest, Mxfp4DotMatchesTheDequantizedRow) {
  for (int64_t n : {32, 96, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kMXFP4, 1, n, 53);
    Rng rng(17);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    const float ref = DotMxfp4Ref(m.bytes.data(), xq.row(0), n);
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;
    if (DetectedIsa() == IsaLevel::kAvx512Vnni) {
      EXPECT_NEAR(DotMxfp4For(IsaLevel::kAvx512Vnni)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref)));
    }
  }
}

TEST(ActQuantTest, Q6KDotMatchesTheDequantizedRow) {
  for (int64_t n : {256, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kQ6_K, 1, n, 41);
    Rng rng(12);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    const float ref = DotQ6_KRef(m.bytes.data(), xq.row(0), n);
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;
      EXPECT_NEAR(DotQ6_KFor(level)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref))) << IsaName(level);
    }
    // The 4-token kernel against four single dots.
    std::vector<float> x4(static_cast<size_t>(4 * n));
    for (float& v : x4) v = static_cast<float>(rng.Gaussian());
    const Q16Rows q4(x4.data(), 4, n, n);
    const Q16Row rows[4] = {q4.row(0), q4.row(1), q4.row(2), q4.row(3)};
    const DotQ8x4Fn four = DotQ6_Kx4For(DetectedIsa());
    if (four == nullptr) continue;  // no 4-token kernel at this level: nothing more to compare
    float out[4];
    four(m.bytes.data(), rows, n, out);
    for (int t = 0; t < 4; ++t) {
      const float single = DotQ6_KRef(m.bytes.data(), rows[t], n);
      EXPECT_NEAR(out[t], single, 1e-4 * (1 + std::fabs(single))) << t;
    }
  }
}

TEST(ActQuantTest, PairOrderKPlacesEachValueWhereTheNibbleWordsExpectIt) {
  // Independent statement of the order: output position o of super-block s, half h = o / 128,
  // group g = (o % 128) / 32 (low-nibble even, low odd, high even, high odd), lane k = o % 32:
  // block 4h + (g >= 2) + 2·(k >= 16), element 2·(k % 16) + (g % 2).
  const int64_t n = 512;
  std::vector<int16_t> in(static_cast<size_t>(n)), out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) in[static_cast<size_t>(i)] = static_cast<int16_t>(i);
  PairOrderK(in.data(), n, out.data());
  for (int64_t o = 0; o < n; ++o) {
    const int64_t s = o / 256, r = o % 256, h = r / 128, g = (r % 128) / 32, k = r % 32;
    const int64_t block = 4 * h + (g >= 2 ? 1 : 0) + 2 * (k >= 16 ? 1 : 0);
    const int64_t element = 2 * (k % 16) + g % 2;
    EXPECT_EQ(out[static_cast<size_t>(o)], 256 * s + 32 * block + element) << o;
  }
  if (DetectedIsa() == IsaLevel::kAvx512Vnni) {
    std::vector<int16_t> vec(out.size(), -1);
    PairOrderKAvx512(in.data(), n, vec.data());
    EXPECT_EQ(vec, out);
  }
}

TEST(ActQuantTest, Mxfp4FourRowKernelMatchesTheReference) {
  if (DotMxfp4RowsFor(DetectedIsa()) == nullptr) GTEST_SKIP() << "no four-row MXFP4 kernel at this ISA level";
  for (int64_t n : {32, 128, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kMXFP4, 8, n, 73 + static_cast<uint64_t>(n));
    Rng rng(16);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    const uint64_t rb = m.rows.row_bytes();
    float out[8];
    DotMxfp4RowsFor(DetectedIsa())(m.bytes.data(), rb, 8, xq.row(0), n, out);
    for (int j = 0; j < 8; ++j) {
      const float ref = DotMxfp4Ref(m.bytes.data() + j * rb, xq.row(0), n);
      EXPECT_NEAR(out[j], ref, 1e-4 * (1 + std::fabs(ref))) << n << "/" << j;
    }
  }
}

TEST(ActQuantTest, Q8_0FourRowKernelMatchesTheOneRowKernel) {
  if (DotQ8_0RowsFor(DetectedIsa()) == nullptr) GTEST_SKIP() << "no four-row Q8_0 kernel at this ISA level";
  for (int64_t n : {32, 128, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kQ8_0, 8, n, 71 + static_cast<uint64_t>(n));
    Rng rng(15);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n);
    const uint64_t rb = m.rows.row_bytes();
    float out[8];
    DotQ8_0RowsFor(DetectedIsa())(m.bytes.data(), rb, 8, xq.row(0), n, out);
    for (int j = 0; j < 8; ++j) {
      const float ref = DotQ8_0Ref(m.bytes.data() + j * rb, xq.row(0), n);
      EXPECT_NEAR(out[j], ref, 1e-4 * (1 + std::fabs(ref))) << n << "/" << j;
    }
  }
}

TEST(ActQuantTest, Q4KFourRowKernelMatchesTheOneRowKernel) {
  if (DotQ4_KRowsFor(DetectedIsa()) == nullptr) GTEST_SKIP() << "no four-row Q4_K kernel at this ISA level";
  for (int64_t n : {256, 1024}) {
    const Matrix m = MakeMatrix(GgmlType::kQ4_K, 8, n, 51 + static_cast<uint64_t>(n));
    Rng rng(14);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    const Q16Rows xq(x.data(), 1, n, n, /*pair_order=*/true);
    const uint64_t rb = m.rows.row_bytes();
    float out[8];
    DotQ4_KRowsFor(DetectedIsa())(m.bytes.data(), rb, 8, xq.row(0), n, out);
    for (int j = 0; j < 8; ++j) {
      const float ref = DotQ4_KRef(m.bytes.data() + j * rb, xq.row(0), n);
      EXPECT_NEAR(out[j], ref, 1e-4 * (1 + std::fabs(ref))) << n << "/" << j;
    }
  }
}

TEST(ActQuantTest, Q5KDotMatchesTheDequantizedRow) {
  for (int64_t n : {256, 1024, 2048}) {
    const Matrix m = MakeMatrix(GgmlType::kQ5_K, 1, n, 43 + static_cast<uint64_t>(n));
    Rng rng(13);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    x[3] = -30.0f;  // an outlier
    const Q16Rows xq(x.data(), 1, n, n);
    double exact = 0;
    for (int64_t k = 0; k < n; ++k) exact += static_cast<double>(m.dense[static_cast<size_t>(k)]) * x[static_cast<size_t>(k)];
    const float ref = DotQ5_KRef(m.bytes.data(), xq.row(0), n);
    EXPECT_NEAR(ref, exact, 1e-3 * (1 + std::fabs(exact))) << n;
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
      if (static_cast<int>(DetectedIsa()) < static_cast<int>(level)) continue;
      EXPECT_NEAR(DotQ5_KFor(level)(m.bytes.data(), xq.row(0), n), ref, 1e-4 * (1 + std::fabs(ref))) << IsaName(level);
    }
    std::vector<float> x4(static_cast<size_t>(4 * n));
    for (float& v : x4) v = static_cast<float>(rng.Gaussian());
    const Q16Rows q4(x4.data(), 4, n, n);
    const Q16Row rows[4] = {q4.row(0), q4.row(1), q4.row(2), q4.row(3)};
    const DotQ8x4Fn four = DotQ5_Kx4For(DetectedIsa());
    if (four == nullptr) continue;  // no 4-token kernel at this level: nothing more to compare
    float out[4];
    four(m.bytes.data(), rows, n, out);
    for (int t = 0; t < 4; ++t) {
      const float single = DotQ5_KRef(m.bytes.data(), rows[t], n);
      EXPECT_NEAR(out[t], single, 1e-4 * (1 + std::fabs(single))) << t;
    }
  }
}

TEST(ActQuantTest, FusedSwiGluEqualsTheSeparateProducts) {
  for (GgmlType type : {GgmlType::kF32, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    const Matrix gate = MakeMatrix(type, 40, 256, 31), up = MakeMatrix(type, 40, 256, 32);
    Rng rng(9);
    std::vector<float> x(5 * 256);
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    ThreadPool pool(2);
    for (bool exact : {true, false}) {
      const MatMulParams p{.n_tokens = 5, .exact = exact};
      std::vector<float> fused(5 * 40), g(5 * 40), u(5 * 40);
      MatMulSwiGlu(gate.rows, up.rows, x.data(), fused.data(), p, &pool);
      MatMul(gate.rows, x.data(), g.data(), p, &pool);
      MatMul(up.rows, x.data(), u.data(), p, &pool);
      SiluMul(g.data(), u.data(), static_cast<int64_t>(g.size()));
      for (size_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(fused[i], g[i]) << TypeName(type) << " " << i;
    }
  }
}

TEST(ActQuantTest, FastMatMulStaysCloseToExact) {
  const Matrix m = MakeMatrix(GgmlType::kQ8_0, 33, 256, 11);
  Rng rng(4);
  std::vector<float> x(3 * 256), fast(3 * 33), exact(3 * 33);
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  ThreadPool pool(2);
  MatMul(m.rows, x.data(), fast.data(), {.n_tokens = 3}, &pool);
  MatMul(m.rows, x.data(), exact.data(), {.n_tokens = 3, .exact = true}, &pool);
  // 16-bit activations: within 2e-3; 8-bit ones (AVX-512 VNNI without AMX): int8_gemm.h's bound
  const bool eight_bit = PathOf(GgmlType::kQ8_0, 256, {.n_tokens = 3}) == ProductPath::kQ8Rows;
  for (size_t i = 0; i < fast.size(); ++i) {
    const int64_t t = static_cast<int64_t>(i) / 33, r = static_cast<int64_t>(i) % 33;
    const double bound = eight_bit ? Int8RoundingBound(m.dense.data() + r * 256, x.data() + t * 256, 256) + 1e-5 : 2e-3;
    EXPECT_NEAR(fast[i], exact[i], bound) << i;
  }
}

}  // namespace
}  // namespace frugal::kernels

namespace frugal::kernels {
namespace {

TEST(FloatDotTest, HalfPrecisionVariantsMatchTheDequantizedDot) {
  for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t n : {1, 7, 16, 64, 100, 1024, 1031}) {
      const Matrix m = MakeMatrix(type, 1, n, static_cast<uint64_t>(n) + 17);
      Rng rng(9);
      std::vector<float> x(static_cast<size_t>(n));
      for (float& v : x) v = static_cast<float>(rng.Gaussian());
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += static_cast<double>(m.dense[static_cast<size_t>(i)]) * x[static_cast<size_t>(i)];
        magnitude += std::abs(static_cast<double>(m.dense[static_cast<size_t>(i)]) * x[static_cast<size_t>(i)]);
      }
      for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
        if (static_cast<int>(level) > static_cast<int>(DetectedIsa())) continue;
        const FloatDotFn dot = type == GgmlType::kF16 ? DotF16For(level) : DotBF16For(level);
        EXPECT_NEAR(dot(m.bytes.data(), x.data(), n), exact, 1e-6 * magnitude + 1e-6) << TypeName(type) << " " << n << " " << IsaName(level);
      }
    }
  }
}

}  // namespace
}  // namespace frugal::kernels

namespace frugal::kernels {
namespace {

double DoubleDot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Decode shapes (1–3 tokens) take the four-row Q4_K kernel inside MatMul, with a remainder of
// rows that are not a multiple of four.
TEST(MatMulPathsTest, FewTokensQ4KMatchDoubleLoop) {
  const int64_t rows = 37, cols = 512;
  const Matrix m = MakeMatrix(GgmlType::kQ4_K, rows, cols, 61);
  for (int64_t tokens : {1, 2, 3}) {
    Rng rng(static_cast<uint64_t>(tokens));
    std::vector<float> x(static_cast<size_t>(tokens * cols)), y(static_cast<size_t>(tokens * rows));
    for (float& v : x) v = static_cast<float>(rng.Gaussian());
    ThreadPool pool(2);
    MatMul(m.rows, x.data(), y.data(), {.n_tokens = tokens}, &pool);
    // 16-bit activations (~3e-5 of a block's largest value) or, with AVX-512 VNNI and no AMX,
    // 8-bit ones (int8_gemm.h's bound)
    const bool eight_bit = PathOf(GgmlType::kQ4_K, cols, {.n_tokens = tokens}) == ProductPath::kQ8Rows;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* wr = m.dense.data() + r * cols;
        const float* xt = x.data() + t * cols;
        const double ref = DoubleDot(wr, xt, cols);
        const double bound = eight_bit ? Int8RoundingBound(wr, xt, cols) + 1e-5 * (1 + std::fabs(ref)) : 1e-3 * (1 + std::fabs(ref));
        EXPECT_NEAR(y[static_cast<size_t>(t * rows + r)], ref, bound) << t << "," << r;
      }
    }
  }
}

// Batch invariance: without AMX, a token's product with Q8_0 or Q4_K rows, as stored or in panel
// order, has the same bits whether the product holds it alone or with others — across every
// kernel a token count selects (rows as stored: few-token kernels below 16 tokens, int8 panels
// from 16; panel order: panel kernels, and for Q4_K from 128 tokens the int8 panels).
TEST(MatMulPathsTest, ATokenHasTheSameBitsAtEveryTokenCount) {
  if (!Int8ProductsUsable() || AmxUsable()) GTEST_SKIP() << "needs AVX-512 VNNI without AMX (AMX tiles round 8+ tokens to bf16)";
  const int64_t rows = 44, cols = 1024, most = 160;
  std::vector<float> x(static_cast<size_t>(most * cols));
  Rng rng(17);
  for (float& v : x) v = static_cast<float>(rng.Gaussian()) * (rng.Next() % 5 == 0 ? 8.0f : 1.0f);
  ThreadPool pool(2);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K}) {
    for (bool panels : {false, true}) {
      const Matrix m = MakeMatrix(type, rows, cols, 23);
      std::vector<std::byte> packed(m.bytes.size());
      WeightRows w = m.rows;
      if (panels) {
        const uint64_t rb = w.row_bytes();
        for (int64_t r = 0; r < rows; ++r) PackPanelRow(type, m.bytes.data() + r * rb, cols, packed.data() + r * rb);
        w.data = packed.data();
        w.order = RowOrder::kPanels;
      }
      std::vector<float> alone(static_cast<size_t>(most * rows));
      for (int64_t t = 0; t < most; ++t) MatMul(w, x.data() + t * cols, alone.data() + t * rows, {.n_tokens = 1}, &pool);
      for (int64_t n : {2, 3, 4, 5, 8, 9, 15, 16, 17, 40, 127, 128, 160}) {
        std::vector<float> y(static_cast<size_t>(n * rows));
        MatMul(w, x.data(), y.data(), {.n_tokens = n}, &pool);
        int64_t differ = 0;
        for (size_t i = 0; i < y.size(); ++i) {
          differ += y[i] != alone[i];
          const int64_t t = static_cast<int64_t>(i) / rows, r = static_cast<int64_t>(i) % rows;
          double magnitude = 0;  // Σ|w·x|: float summation order moves a sum by ~1e-7 of it
          for (int64_t k = 0; k < cols; ++k) magnitude += std::fabs(m.dense[static_cast<size_t>(r * cols + k)] * x[static_cast<size_t>(t * cols + k)]);
          EXPECT_NEAR(y[i], alone[i], 1e-6 * magnitude);
        }
        EXPECT_EQ(differ, 0) << TypeName(type) << (panels ? " panels, " : " as stored, ") << n << " tokens ("
                             << PathName(PathOf(type, cols, {.n_tokens = n}, w.order)) << ")";
      }
    }
  }
}

// Groups with different token counts (one decode-sized, one prefill-sized) in one section equal
// the separate products.
TEST(MatMulPathsTest, GroupedProductsEqualSeparateOnes) {
  const Matrix a = MakeMatrix(GgmlType::kQ8_0, 70, 256, 71), b = MakeMatrix(GgmlType::kQ4_K, 40, 256, 72);
  Rng rng(73);
  std::vector<float> xa(256), xb(static_cast<size_t>(20 * 256));
  for (float& v : xa) v = static_cast<float>(rng.Gaussian());
  for (float& v : xb) v = static_cast<float>(rng.Gaussian());
  ThreadPool pool(2);
  const PreparedInput ia(xa.data(), 256, {.n_tokens = 1}), ib(xb.data(), 256, {.n_tokens = 20});
  std::vector<float> ya(70), yb(20 * 40), sa(70), sb(20 * 40);
  MatMulGrouped({{a.rows, &ia, ya.data()}, {b.rows, &ib, yb.data()}}, &pool);
  MatMul(a.rows, ia, sa.data(), 0, &pool);
  MatMul(b.rows, ib, sb.data(), 0, &pool);
  EXPECT_EQ(ya, sa);
  EXPECT_EQ(yb, sb);
  // And against the double loop, so that "equal" is not two equal mistakes.
  const bool eight_bit = PathOf(GgmlType::kQ8_0, 256, {.n_tokens = 1}) == ProductPath::kQ8Rows;
  for (int64_t r = 0; r < 70; ++r) {
    const double ref = DoubleDot(a.dense.data() + r * 256, xa.data(), 256);
    const double bound = eight_bit ? Int8RoundingBound(a.dense.data() + r * 256, xa.data(), 256) + 1e-5 : 1e-3 * (1 + std::fabs(ref));
    EXPECT_NEAR(ya[static_cast<size_t>(r)], ref, bound) << r;
  }
}

// A row view of an input prepared once equals an input prepared (for views) from those rows alone, on the
// four-row decode kernels (Q4_K with its pair order, Q8_0), the one-row kernel (Q6_K) and the
// exact path, for one and two tokens per view.
TEST(MatMulPathsTest, RowViewsEqualInputsPreparedFromTheRows) {
  constexpr int64_t kHeads = 5, kCols = 512;
  Rng rng(81);
  std::vector<float> all(static_cast<size_t>(2 * kHeads * kCols));  // [token, head, cols]
  for (float& v : all) v = static_cast<float>(rng.Gaussian());
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ8_0, GgmlType::kQ6_K}) {
    const Matrix w = MakeMatrix(type, 12, kCols, 82);
    for (bool exact : {false, true}) {
      for (int64_t nt : {1, 2}) {
        const PreparedInput prepared(all.data(), kCols, {.n_tokens = nt * kHeads, .exact = exact, .row_views = true});
        for (int64_t h = 0; h < kHeads; ++h) {
          std::vector<float> rows(static_cast<size_t>(nt * kCols));
          for (int64_t t = 0; t < nt; ++t) {
            std::copy_n(all.data() + (t * kHeads + h) * kCols, kCols, rows.data() + t * kCols);
          }
          const PreparedInput alone(rows.data(), kCols, {.n_tokens = nt, .exact = exact, .row_views = true});
          std::vector<float> from_view(static_cast<size_t>(nt * 12)), from_rows(from_view.size());
          MatMul(w.rows, PreparedInput(prepared, h, kHeads, nt), from_view.data(), 0, nullptr);
          MatMul(w.rows, alone, from_rows.data(), 0, nullptr);
          EXPECT_EQ(from_view, from_rows) << TypeName(type) << " exact " << exact << " nt " << nt << " head " << h;
          for (int64_t t = 0; t < nt; ++t) {  // and near the double loop
            const double ref = DoubleDot(w.dense.data(), rows.data() + t * kCols, kCols);
            EXPECT_NEAR(from_view[static_cast<size_t>(t * 12)], ref, 1e-3 * (1 + std::fabs(ref)));
          }
        }
      }
    }
  }
}

// Batch invariance of attention's per-head products: a query's product through a row view has
// the same bits whether the view holds it alone or with other queries (the one-token kernels
// at every count: four rows a call where the type has them, else one).
TEST(MatMulPathsTest, RowViewsGiveAQueryTheSameBitsAtEveryCount) {
  constexpr int64_t kHeads = 3, kMost = 9;
  Rng rng(91);
  for (const auto& [type, cols] : std::vector<std::pair<GgmlType, int64_t>>{
           {GgmlType::kQ8_0, 128}, {GgmlType::kQ4_K, 512}, {GgmlType::kQ6_K, 512}, {GgmlType::kQ8_0, 512}}) {
    const Matrix w = MakeMatrix(type, 20, cols, 92);
    std::vector<float> all(static_cast<size_t>(kMost * kHeads * cols));  // [query, head, cols]
    for (float& v : all) v = static_cast<float>(rng.Gaussian());
    std::vector<float> first;  // every query's product, each alone
    for (int64_t q = 0; q < kMost; ++q) {
      const PreparedInput one(all.data() + q * kHeads * cols, cols, {.n_tokens = kHeads, .row_views = true});
      std::vector<float> y(20);
      MatMul(w.rows, PreparedInput(one, 1, kHeads, 1), y.data(), 0, nullptr);  // head 1
      first.insert(first.end(), y.begin(), y.end());
    }
    for (int64_t nt : {2, 4, 5, 9}) {
      const PreparedInput prepared(all.data(), cols, {.n_tokens = nt * kHeads, .row_views = true});
      std::vector<float> y(static_cast<size_t>(nt * 20));
      MatMul(w.rows, PreparedInput(prepared, 1, kHeads, nt), y.data(), 0, nullptr);
      EXPECT_TRUE(std::equal(y.begin(), y.end(), first.begin())) << TypeName(type) << " × " << cols << ", " << nt << " queries";
    }
  }
}

// The transposed product over a column window of wider rows (the latent part of cached rows,
// stride past the rope part), f16 rows converted on the fly.
TEST(MatMulPathsTest, TransposedProductOverAColumnWindow) {
  const int64_t rows = 50, width = 96, cols = 64, tokens = 5;
  const Matrix m = MakeMatrix(GgmlType::kF16, rows, width, 81);
  Rng rng(82);
  std::vector<float> x(static_cast<size_t>(tokens * rows)), y(static_cast<size_t>(tokens * cols));
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  WeightRows window{m.bytes.data() + 2 * 16, GgmlType::kF16, cols, rows};  // columns [16, 80)
  window.stride_bytes = 2 * width;
  MatMulTransposed(window, x.data(), y.data(), {.n_tokens = tokens});
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t k = 0; k < cols; ++k) {
      double ref = 0;
      for (int64_t r = 0; r < rows; ++r) ref += static_cast<double>(m.dense[static_cast<size_t>(r * width + 16 + k)]) * x[static_cast<size_t>(t * rows + r)];
      EXPECT_NEAR(y[static_cast<size_t>(t * cols + k)], ref, 1e-4 * std::sqrt(static_cast<double>(rows))) << t << "," << k;
    }
  }
}

TEST(FloatDotTest, HalfRowConvertersAreExact) {
  for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t n : {1, 15, 16, 17, 100}) {
      const Matrix m = MakeMatrix(type, 1, n, 90 + static_cast<uint64_t>(n));
      for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512Vnni}) {
        if (static_cast<int>(level) > static_cast<int>(DetectedIsa())) continue;
        std::vector<float> out(static_cast<size_t>(n), -1.0f);
        HalfToFloatFor(type, level)(m.bytes.data(), out.data(), n);
        EXPECT_EQ(out, m.dense) << TypeName(type) << " " << n << " " << IsaName(level);
      }
    }
  }
}

}  // namespace
}  // namespace frugal::kernels
