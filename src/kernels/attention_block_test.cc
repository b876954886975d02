// One head's attention over a block of queries (attention_block.h): the AVX-512 kernel against
// the double-precision reference — query counts around its 16-query panels and 2-panel pairs,
// first keys around its 8-key tiles and 256-key chunks, odd head dimensions, strides, scores
// spread wide enough that the maximum's subtraction matters — and the reference against a
// hand-computed case.
#include "kernels/attention_block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/f32_panels.h"
#include "util/aligned_buffer.h"
#include "util/rng.h"

namespace frugal::kernels {
namespace {

TEST(AttentionBlockTest, ReferenceMatchesAHandComputedCase) {
  // Two keys, one dimension: query 0 sees key 0 only; query 1 sees both with scores 1·2, 1·0.
  const float q[2] = {5.0f, 1.0f}, k[2] = {2.0f, 0.0f}, v[2] = {10.0f, -4.0f};
  float o[2] = {0, 0};
  AttentionBlockRef({.q = q, .q_stride = 1, .n_queries = 2, .k = k, .k_stride = 1, .dk = 1, .v = v, .v_stride = 1,
                     .dv = 1, .first_visible = 1, .scale = 0.5f, .o = o, .o_stride = 1});
  EXPECT_FLOAT_EQ(o[0], 10.0f);
  const double p0 = std::exp(1.0) / (std::exp(1.0) + 1.0);
  EXPECT_NEAR(o[1], p0 * 10.0 + (1.0 - p0) * -4.0, 1e-5);
}

struct Shape {
  int n_queries, first_visible, dk, dv;
  float scale;
};

TEST(AttentionBlockTest, Avx512MatchesReference) {
  if (!F32PanelsUsable()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Rng rng(11);
  for (const Shape& s : {Shape{1, 1, 192, 128, 0.07f}, Shape{5, 2, 192, 128, 0.07f}, Shape{16, 9, 192, 128, 0.07f},
                         Shape{17, 40, 192, 128, 0.3f}, Shape{31, 300, 192, 128, 0.07f}, Shape{33, 7, 7, 13, 1.0f},
                         Shape{64, 1, 192, 128, 0.07f}, Shape{64, 515, 192, 128, 0.5f}, Shape{48, 257, 64, 9, 0.2f}}) {
    const int n_keys = s.first_visible + s.n_queries - 1;
    const int64_t qs = s.dk + 3, ks = s.dk + 5, vs = s.dv + 2, os = s.dv + 4;
    std::vector<float> q(static_cast<size_t>(s.n_queries * qs)), k(static_cast<size_t>(n_keys * ks)),
        v(static_cast<size_t>(n_keys * vs));
    for (float& x : q) x = static_cast<float>(rng.Gaussian());
    for (float& x : k) x = static_cast<float>(rng.Gaussian());
    for (float& x : v) x = static_cast<float>(rng.Gaussian());
    std::vector<float> ref(static_cast<size_t>(s.n_queries * os), -7.0f), fast = ref;
    AttentionBlockArgs a{.q = q.data(), .q_stride = qs, .n_queries = s.n_queries, .k = k.data(), .k_stride = ks,
                         .dk = s.dk, .v = v.data(), .v_stride = vs, .dv = s.dv, .first_visible = s.first_visible,
                         .scale = s.scale, .o = ref.data(), .o_stride = os};
    AttentionBlockRef(a);
    AlignedBuffer<float> scratch(static_cast<size_t>(AttentionBlockScratchFloats(n_keys, s.dk, s.dv)), false);
    a.o = fast.data();
    AttentionBlockAvx512(a, scratch.data());
    double worst = 0;
    for (int i = 0; i < s.n_queries; ++i) {
      for (int64_t d = 0; d < os; ++d) {
        const size_t at = static_cast<size_t>(i * os + d);
        if (d >= s.dv) {
          ASSERT_EQ(fast[at], -7.0f) << "wrote past dv: query " << i << " column " << d;
          continue;
        }
        worst = std::max(worst, static_cast<double>(std::fabs(fast[at] - ref[at])));
      }
    }
    // Outputs are convex combinations of unit Gaussians: f32 sums keep them within ~1e-6.
    EXPECT_LT(worst, 1e-5) << "queries " << s.n_queries << ", first_visible " << s.first_visible << ", dk " << s.dk
                           << ", dv " << s.dv;
  }
}

}  // namespace
}  // namespace frugal::kernels
