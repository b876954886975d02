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

#include "kernels/cpu_features.h"
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

// Random unit-Gaussian queries, keys and values of a shape, with row strides past dk and dv, and
// outputs pre-filled with a sentinel (-7) to catch writes past dv.
struct Case {
  int n_keys;
  int64_t qs, ks, vs, os;
  std::vector<float> q, k, v;
  Case(const Shape& s, Rng& rng)
      : n_keys(s.first_visible + s.n_queries - 1), qs(s.dk + 3), ks(s.dk + 5), vs(s.dv + 2), os(s.dv + 4),
        q(static_cast<size_t>(s.n_queries * qs)), k(static_cast<size_t>(n_keys * ks)), v(static_cast<size_t>(n_keys * vs)) {
    for (std::vector<float>* x : {&q, &k, &v}) {
      for (float& e : *x) e = static_cast<float>(rng.Gaussian());
    }
  }
  std::vector<float> Output(const Shape& s) const { return std::vector<float>(static_cast<size_t>(s.n_queries * os), -7.0f); }
  AttentionBlockArgs Args(const Shape& s, float* o) const {
    return {.q = q.data(), .q_stride = qs, .n_queries = s.n_queries, .k = k.data(), .k_stride = ks, .dk = s.dk, .v = v.data(),
            .v_stride = vs, .dv = s.dv, .first_visible = s.first_visible, .scale = s.scale, .o = o, .o_stride = os};
  }
  // Largest |a − b| over the written columns; fails if `fast` was written past dv.
  double Worst(const Shape& s, const std::vector<float>& fast, const std::vector<float>& ref) const {
    double worst = 0;
    for (int i = 0; i < s.n_queries; ++i) {
      for (int64_t d = 0; d < os; ++d) {
        const size_t at = static_cast<size_t>(i * os + d);
        if (d >= s.dv) {
          EXPECT_EQ(fast[at], -7.0f) << "wrote past dv: query " << i << " column " << d;
          continue;
        }
        worst = std::max(worst, static_cast<double>(std::fabs(fast[at] - ref[at])));
      }
    }
    return worst;
  }
};

TEST(AttentionBlockTest, Avx512MatchesReference) {
  if (!F32PanelsUsable()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Rng rng(11);
  for (const Shape& s : {Shape{1, 1, 192, 128, 0.07f}, Shape{5, 2, 192, 128, 0.07f}, Shape{16, 9, 192, 128, 0.07f},
                         Shape{17, 40, 192, 128, 0.3f}, Shape{31, 300, 192, 128, 0.07f}, Shape{33, 7, 7, 13, 1.0f},
                         Shape{64, 1, 192, 128, 0.07f}, Shape{64, 515, 192, 128, 0.5f}, Shape{48, 257, 64, 9, 0.2f}}) {
    const Case c(s, rng);
    std::vector<float> ref = c.Output(s), fast = ref;
    AttentionBlockRef(c.Args(s, ref.data()));
    AlignedBuffer<float> scratch(static_cast<size_t>(AttentionBlockScratchFloats(c.n_keys, s.dk, s.dv)), false);
    AttentionBlockAvx512(c.Args(s, fast.data()), scratch.data());
    const double worst = c.Worst(s, fast, ref);
    // Outputs are convex combinations of unit Gaussians: f32 sums keep them within ~1e-6.
    EXPECT_LT(worst, 1e-5) << "queries " << s.n_queries << ", first_visible " << s.first_visible << ", dk " << s.dk
                           << ", dv " << s.dv;
  }
}

TEST(AttentionBlockBf16Test, RoundsToNearestEven) {
  EXPECT_EQ(RoundToBf16(1.0f), 0x3f80);
  EXPECT_EQ(RoundToBf16(-2.0f), 0xc000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: even (1) wins; 1 + 3·2^-8 halfway between
  // 1 + 2^-7 and 1 + 2^-6: even (1 + 2^-6) wins; just above halfway rounds up.
  EXPECT_EQ(RoundToBf16(1.0f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(RoundToBf16(1.0f + 3 * 0x1p-8f), 0x3f82);
  EXPECT_EQ(RoundToBf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(Bf16ToFloat(0x3f81), 1.0f + 0x1p-7f);
}

TEST(AttentionBlockBf16Test, Avx512PackerMatchesReference) {
  if (!Avx512Bf16Usable()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  Rng rng(5);
  for (const Shape& s : {Shape{0, 1, 192, 128, 0}, Shape{0, 7, 7, 13, 0}, Shape{0, 16, 16, 16, 0}, Shape{0, 33, 31, 17, 0}}) {
    const int n_keys = s.first_visible;
    const int64_t ks = s.dk + 3, vs = s.dv + 1;
    std::vector<float> k(static_cast<size_t>(n_keys * ks)), v(static_cast<size_t>(n_keys * vs));
    for (float& x : k) x = static_cast<float>(rng.Gaussian());
    for (float& x : v) x = static_cast<float>(rng.Gaussian());
    const size_t words = static_cast<size_t>(AttentionBf16PackedPairs(n_keys, s.dk, s.dv));
    std::vector<uint32_t> ref(words + 8, 0xdeadbeef), fast = ref;
    PackAttentionBf16Ref(k.data(), ks, s.dk, v.data(), vs, s.dv, n_keys, ref.data());
    PackAttentionBf16Avx512(k.data(), ks, s.dk, v.data(), vs, s.dv, n_keys, fast.data());
    EXPECT_EQ(fast, ref) << "keys " << n_keys << ", dk " << s.dk << ", dv " << s.dv;
    for (size_t i = words; i < ref.size(); ++i) ASSERT_EQ(fast[i], 0xdeadbeef) << "wrote past the packed words";
    // Spot checks of the layout itself: key 0's first pair, and the last key pair's partner.
    EXPECT_EQ(ref[0], RoundToBf16(k[0]) | (static_cast<uint32_t>(RoundToBf16(k[1])) << 16));
    const AttentionBf16Packed kv = AttentionBf16Layout(ref.data(), n_keys, s.dk);
    const int last_pair = (n_keys - 1) / 2;
    const uint32_t high = kv.v[static_cast<size_t>(last_pair) * s.dv] >> 16;
    EXPECT_EQ(high, n_keys % 2 == 1 ? 0u : RoundToBf16(v[static_cast<size_t>((n_keys - 1) * vs)]));
  }
}

TEST(AttentionBlockBf16Test, Avx512MatchesReference) {
  if (!Avx512Bf16Usable()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  Rng rng(12);
  for (const Shape& s : {Shape{1, 1, 192, 128, 0.07f}, Shape{5, 2, 192, 128, 0.07f}, Shape{16, 9, 192, 128, 0.07f},
                         Shape{17, 40, 192, 128, 0.3f}, Shape{31, 300, 192, 128, 0.07f}, Shape{33, 7, 7, 13, 1.0f},
                         Shape{64, 1, 192, 128, 0.07f}, Shape{64, 516, 192, 128, 0.5f}, Shape{48, 257, 64, 9, 0.2f},
                         Shape{20, 255, 33, 20, 0.2f}}) {
    const Case c(s, rng);
    std::vector<float> ref = c.Output(s), exact = ref, fast = ref;
    AttentionBlockBf16Ref(c.Args(s, ref.data()));
    AttentionBlockRef(c.Args(s, exact.data()));
    std::vector<uint32_t> packed(static_cast<size_t>(AttentionBf16PackedPairs(c.n_keys, s.dk, s.dv)));
    PackAttentionBf16Avx512(c.k.data(), c.ks, s.dk, c.v.data(), c.vs, s.dv, c.n_keys, packed.data());
    AlignedBuffer<float> scratch(static_cast<size_t>(AttentionBlockScratchFloats(c.n_keys, s.dk, s.dv)), false);
    AttentionBlockArgs a = c.Args(s, fast.data());
    a.k = nullptr;  // the kernel reads the packed keys and values only
    a.v = nullptr;
    AttentionBlockBf16Avx512(a, AttentionBf16Layout(packed.data(), c.n_keys, s.dk), scratch.data());
    const double worst = c.Worst(s, fast, ref), worst_exact = c.Worst(s, fast, exact);
    // Against the same roundings in double: the f32 sums are within ~1e-5, but a weight whose
    // last f32 bits differ rounds to the neighbouring bf16 now and then (~1 in 5,000 weights
    // here): one key's weight off by 2^-8 of itself moves an output by up to ~2e-4. A wrong
    // pair, lane or mask moves them by 1e-2 and more. Against f32 attention: the roundings
    // themselves (scores off by ~2^-9 of |q||k|: up to 4e-2 at the scale-0.5 shapes, whose
    // logits spread with a deviation of ~7).
    EXPECT_LT(worst, 5e-4) << "queries " << s.n_queries << ", first_visible " << s.first_visible << ", dk " << s.dk
                           << ", dv " << s.dv;
    EXPECT_LT(worst_exact, 6e-2) << "queries " << s.n_queries << ", first_visible " << s.first_visible;
  }
}

}  // namespace
}  // namespace frugal::kernels
