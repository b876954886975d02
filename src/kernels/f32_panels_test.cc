// Float row panels (f32_panels.h): the scalar reference and the AVX-512 kernel against a
// double-precision loop — f32/f16/bf16 rows, partial panels, first rows and columns only,
// token counts around the 8-token tile, strided activations and outputs; and the prepared
// weights on the fast path without AMX.
#include "kernels/f32_panels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "kernels/stored_matrix_for_tests.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

struct Use {
  int64_t end, cols, tokens;
};

TEST(F32PanelsTest, ReferenceAndAvx512MatchDoubleLoop) {
  Rng rng(3);
  const bool avx512 = F32PanelsUsable();
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    const StoredMatrix m = MakeStoredMatrix(type, 70, 200, rng);  // 5 panels, the last with 6 rows
    const F32Panels panels(m.view());
    for (const Use& u : {Use{70, 200, 19}, Use{48, 37, 8}, Use{16, 200, 1}, Use{33, 1, 9}, Use{70, 0, 3}}) {
      for (int64_t begin : {int64_t{0}, int64_t{16}}) {
        if (begin >= u.end) continue;
        const int64_t xs = u.cols + 5, ys = u.end + 3;
        std::vector<float> x(static_cast<size_t>(u.tokens * xs));
        for (float& v : x) v = static_cast<float>(rng.Gaussian());
        for (const bool fast : {false, true}) {
          if (fast && !avx512) continue;
          std::vector<float> y(static_cast<size_t>(u.tokens * ys), -7.0f);
          (fast ? F32PanelRowsFast : F32PanelRowsRef)(panels, begin, u.end, u.cols, x.data(), xs, u.tokens, y.data(), ys);
          for (int64_t t = 0; t < u.tokens; ++t) {
            for (int64_t r = 0; r < ys; ++r) {
              const float got = y[static_cast<size_t>(t * ys + r)];
              const std::string where = std::string(TypeName(type)) + (fast ? " avx512 " : " ref ") + std::to_string(r) +
                                        "," + std::to_string(t) + " of " + std::to_string(u.end) + "x" + std::to_string(u.cols);
              if (r < begin || r >= u.end) {
                ASSERT_EQ(got, -7.0f) << "wrote outside the rows: " << where;
                continue;
              }
              double ref = 0, magnitude = 0;
              for (int64_t k = 0; k < u.cols; ++k) {
                const double p = static_cast<double>(m.dense[static_cast<size_t>(r * m.cols + k)]) * x[static_cast<size_t>(t * xs + k)];
                ref += p;
                magnitude += std::fabs(p);
              }
              ASSERT_NEAR(got, ref, 1e-6 * magnitude + 1e-30) << where;
            }
          }
        }
      }
    }
  }
  if (!avx512) GTEST_SKIP() << "AVX-512 absent: only the reference ran";
}

TEST(F32PanelsTest, PreparedWeightsUseThemWithoutAmx) {
  Rng rng(9);
  const StoredMatrix m = MakeStoredMatrix(GgmlType::kF32, 40, 64, rng);
  const PreparedWeights prepared(m.view(), /*exact=*/false);
  EXPECT_EQ(prepared.f32() != nullptr, F32PanelsUsable() && !AmxUsable());
  EXPECT_EQ(PreparedWeights(m.view(), /*exact=*/true).f32(), nullptr);
  std::vector<float> x(static_cast<size_t>(12 * 64)), y(static_cast<size_t>(12 * 40));
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  ThreadPool pool(2);
  MatMul(prepared, 40, 64, x.data(), y.data(), {.n_tokens = 12}, &pool);
  for (int64_t t = 0; t < 12; ++t) {
    for (int64_t r = 0; r < 40; ++r) {
      double ref = 0, magnitude = 0;
      for (int64_t k = 0; k < 64; ++k) {
        const double p = static_cast<double>(m.dense[static_cast<size_t>(r * 64 + k)]) * x[static_cast<size_t>(t * 64 + k)];
        ref += p;
        magnitude += std::fabs(p);
      }
      ASSERT_NEAR(y[static_cast<size_t>(t * 40 + r)], ref, 1e-6 * magnitude + 1e-30) << t << "," << r;
    }
  }
}

}  // namespace
}  // namespace frugal::kernels
