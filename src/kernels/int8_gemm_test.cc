// The int8 products (int8_gemm.h): the activation quantization against its definition, the
// block decomposition against the dequantizer, the scalar product against a double-precision
// product of the dequantized weights and the *quantized* activations (so only float rounding
// remains), the AVX-512 pack and kernel against the scalar ones, and the whole path against the
// exact product within the bound that 8-bit activations allow (½·dx·Σ|w| per block).
#include "kernels/int8_gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/int8_gemm_internal.h"
#include "kernels/quantize.h"
#include "kernels/stored_matrix_for_tests.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

const GgmlType kTypes[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                           GgmlType::kQ5_1, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kMXFP4};

// Rows with a positive mean, so that the per-block offsets (Q4_1, K-quant minimums) matter.
StoredMatrix MakeMatrix(GgmlType type, int64_t rows, int64_t cols, Rng& rng) {
  return MakeStoredMatrix(type, rows, cols, rng, 0.3);
}

// n_tokens rows of cols values.
std::vector<float> Activations(int64_t n_tokens, int64_t cols, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(n_tokens * cols));
  for (size_t i = 0; i < x.size(); ++i) {
    // In every row, block 3 an outlier block (40× the others) and block 2 all zeros.
    const int64_t block = static_cast<int64_t>(i) % cols / 32;
    const double scale = block == 3 ? 40.0 : block == 2 ? 0.0 : 1.0;
    x[i] = static_cast<float>(scale * rng.Gaussian());
  }
  return x;
}

int64_t ColsFor(GgmlType type) { return TraitsOf(type).block_elems == 256 ? 768 : 160; }  // partial groups

std::string Name(GgmlType type) { return std::string(TypeName(type)); }

TEST(Int8GemmTest, TokenQuantizationFollowsItsDefinition) {
  Rng rng(5);
  const Int8Shape s{600};  // 19 blocks (the last of 24 values): two groups, the second mostly padding
  const std::vector<float> x = Activations(1, s.cols, rng);
  std::vector<uint8_t> ref(Int8Activations::TokenBytes(s), 0xCD);  // poisoned: every byte must be written
  QuantizeInt8Token(x.data(), s, ref.data());
  const float* dx = reinterpret_cast<const float*>(ref.data() + s.padded_cols());
  const float* sx = dx + s.padded_blocks();
  for (int64_t b = 0; b < s.padded_blocks(); ++b) {
    const int64_t n = std::clamp<int64_t>(s.cols - 32 * b, 0, 32);
    float amax = 0;
    for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[static_cast<size_t>(32 * b + j)]));
    const float d = amax / 127.0f;
    EXPECT_EQ(dx[b], d) << b;
    int sum = 0;
    for (int64_t j = 0; j < 32; ++j) {
      const int q = ref[static_cast<size_t>(Int8InterleavedOffset(32 * b + j))] - 128;
      sum += q;
      const float v = j < n ? x[static_cast<size_t>(32 * b + j)] : 0.0f;  // padding: zero
      EXPECT_LE(std::fabs(v - d * static_cast<float>(q)), 0.5f * d * 1.0001f) << b << " " << j;
    }
    EXPECT_FLOAT_EQ(sx[b], d * static_cast<float>(sum)) << b;
  }
  // The interleaved order is a permutation of each group's 512 bytes.
  std::vector<int> seen(static_cast<size_t>(s.padded_cols()));
  for (int64_t k = 0; k < s.padded_cols(); ++k) ++seen[static_cast<size_t>(Int8InterleavedOffset(k))];
  for (int v : seen) ASSERT_EQ(v, 1);
  if (!Int8ProductsUsable()) GTEST_SKIP() << "AVX-512 VNNI absent: only the scalar definition ran";
  std::vector<uint8_t> fast(ref.size() + 64, 0xCD);
  uint8_t* aligned = fast.data() + (64 - reinterpret_cast<uintptr_t>(fast.data()) % 64) % 64;
  QuantizeInt8TokenAvx512(x.data(), s, aligned);
  EXPECT_EQ(0, std::memcmp(aligned, ref.data(), ref.size()));
}

TEST(Int8GemmTest, BlocksDecomposeToTheDequantizedValues) {
  Rng rng(7);
  for (GgmlType type : kTypes) {
    const StoredMatrix m = MakeMatrix(type, 2, ColsFor(type), rng);
    for (int64_t r = 0; r < m.rows; ++r) {
      for (int64_t j = 0; j < m.cols / 32; ++j) {
        Block32 b;
        DecomposeBlock32(type, m.view().row(r), j, &b);
        for (int k = 0; k < 32; ++k) {
          const float want = m.dense[static_cast<size_t>(r * m.cols + 32 * j + k)];
          const float got = b.scale[k / 4] * static_cast<float>(b.q[k]) + b.m;
          ASSERT_NEAR(got, want, 2e-6f * (std::fabs(want) + std::fabs(b.m)) + 1e-30f) << Name(type) << " " << j << " " << k;
        }
      }
    }
  }
}

// y[t, r] from the dequantized weights and the dequantized 8-bit activations, in double: what
// the int8 path computes up to float rounding.
std::vector<double> QuantizedProduct(const StoredMatrix& m, const Int8Activations& a) {
  std::vector<double> y(static_cast<size_t>(a.n_tokens() * m.rows));
  for (int64_t t = 0; t < a.n_tokens(); ++t) {
    for (int64_t r = 0; r < m.rows; ++r) {
      double s = 0;
      for (int64_t k = 0; k < m.cols; ++k) {
        s += static_cast<double>(m.dense[static_cast<size_t>(r * m.cols + k)]) * a.dx(t)[k / 32] * (a.u(t)[Int8InterleavedOffset(k)] - 128);
      }
      y[static_cast<size_t>(t * m.rows + r)] = s;
    }
  }
  return y;
}

double AbsSum(const StoredMatrix& m, const float* x, int64_t r) {
  double s = 0;
  for (int64_t k = 0; k < m.cols; ++k) s += std::fabs(static_cast<double>(m.dense[static_cast<size_t>(r * m.cols + k)]) * x[k]);
  return s;
}

TEST(Int8GemmTest, ReferenceAndAvx512MatchTheQuantizedProduct) {
  Rng rng(11);
  for (GgmlType type : kTypes) {
    const int64_t rows = 13, cols = ColsFor(type);  // 13: a partial last quad
    const StoredMatrix m = MakeMatrix(type, rows, cols, rng);
    for (int64_t n_tokens : {1, 3, 4, 7, 9}) {  // partial token tiles
      const std::vector<float> x = Activations(n_tokens, cols, rng);
      const Int8Activations a(x.data(), n_tokens, cols, cols);
      const std::vector<double> want = QuantizedProduct(m, a);
      std::vector<float> ref(static_cast<size_t>(n_tokens * rows), -1.0f), fast(ref);
      Int8Rows(m.view(), a, 0, rows, ref.data(), rows, /*reference=*/true);
      if (Int8ProductsUsable()) Int8Rows(m.view(), a, 0, rows, fast.data(), rows);
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          const size_t i = static_cast<size_t>(t * rows + r);
          // float rounding of sums of ~cols terms, each up to |w·x| (the integers are exact)
          const double tol = 1e-5 * AbsSum(m, x.data() + t * cols, r) + 1e-6;
          EXPECT_NEAR(ref[i], want[i], tol) << Name(type) << " tokens " << n_tokens << " t " << t << " r " << r;
          if (Int8ProductsUsable()) {
            EXPECT_NEAR(fast[i], want[i], tol) << Name(type) << " tokens " << n_tokens << " t " << t << " r " << r;
          }
        }
      }
    }
  }
  if (!Int8ProductsUsable()) GTEST_SKIP() << "AVX-512 VNNI absent: only the reference ran";
}

TEST(Int8GemmTest, Avx512PackMatchesTheReferencePack) {
  if (!Int8ProductsUsable()) GTEST_SKIP() << "AVX-512 VNNI absent";
  Rng rng(13);
  for (GgmlType type : kTypes) {
    for (int64_t cols : {TraitsOf(type).block_elems == 256 ? int64_t{768} : int64_t{96}, int64_t{1024}}) {
      const StoredMatrix m = MakeMatrix(type, 6, cols, rng);
      const Int8Shape s{cols};
      const uint64_t quad = Int8Panel::QuadBytes(s);
      // Both poisoned first: every byte must be written (production buffers are not zeroed).
      AlignedBuffer<uint8_t> ref(2 * quad, /*zeroed=*/false), fast(2 * quad, /*zeroed=*/false);
      std::memset(ref.data(), 0xCD, 2 * quad);
      std::memset(fast.data(), 0xCD, 2 * quad);
      PackInt8PanelRef(m.view(), 0, 6, ref.data());
      PackInt8PanelAvx512(m.view(), 0, 6, fast.data());
      // weights, scales, starts and offsets: the same bytes
      EXPECT_EQ(0, std::memcmp(ref.data(), fast.data(), 2 * quad)) << Name(type) << " cols " << cols;
    }
  }
}

// The whole fast path (MatMul picks int8 from 4 tokens on without AMX) against the exact
// product: within ½·dx·Σ|w| per block (the activation rounding) plus float rounding — a bound
// that a lost block of 32 (a chunk or lane mix-up) exceeds in most outputs (checked).
TEST(Int8GemmTest, MatMulIsWithinTheActivationRoundingOfExact) {
  if (PathOf(GgmlType::kQ8_0, 160, {.n_tokens = 17}) != ProductPath::kInt8) {
    GTEST_SKIP() << "17-token products do not take 8-bit activations on this CPU";
  }
  Rng rng(17);
  for (GgmlType type : kTypes) {
    const int64_t rows = 37, cols = ColsFor(type), n_tokens = 17;
    const StoredMatrix m = MakeMatrix(type, rows, cols, rng);
    const std::vector<float> x = Activations(n_tokens, cols, rng);
    std::vector<float> fast(static_cast<size_t>(n_tokens * rows)), exact(fast.size());
    MatMul(m.view(), x.data(), fast.data(), {.n_tokens = n_tokens}, nullptr);
    MatMul(m.view(), x.data(), exact.data(), {.n_tokens = n_tokens, .exact = true}, nullptr);
    const Int8Activations a(x.data(), n_tokens, cols, cols);
    int missed = 0;  // outputs where dropping block 3 would stay within the bound
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double bound = 1e-5 * AbsSum(m, x.data() + t * cols, r) + 1e-6, block3 = 0;
        for (int64_t k = 0; k < cols; ++k) {
          const double w = m.dense[static_cast<size_t>(r * cols + k)];
          bound += 0.5 * a.dx(t)[k / 32] * std::fabs(w);
          if (k / 32 == 3) block3 += w * x[static_cast<size_t>(t * cols + k)];
        }
        const size_t i = static_cast<size_t>(t * rows + r);
        EXPECT_NEAR(fast[i], exact[i], bound) << Name(type) << " t " << t << " r " << r;
        missed += std::fabs(block3) <= bound;
      }
    }
    EXPECT_LT(missed, n_tokens * rows / 5) << Name(type);
  }
}

}  // namespace
}  // namespace frugal::kernels
