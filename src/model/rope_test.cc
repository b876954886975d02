#include <cmath>

#include <gtest/gtest.h>

#include "model/latent_cache.h"
#include "model/rope.h"

namespace frugal::model {
namespace {

TEST(RopeTest, PlainFrequencies) {
  RopeConfig r;
  r.freq_base = 10000;
  const auto f = RopeFrequencies(r, 64);
  ASSERT_EQ(f.size(), 32u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[16], 0.01f);  // 10000^(−32/64)
}

TEST(RopeTest, YarnRampForDeepSeekV2AndV3) {
  // θ = 1e4, original 4096, β 32/1, rope 64: correction dims give low = 10, high = 23
  // (deepseek-architectures.md §1.4): dims below 10 keep f, above 23 become f/40.
  RopeConfig r;
  r.scaling = RopeScalingType::kYarn;
  r.factor = 40;
  r.original_context_length = 4096;
  const auto f = RopeFrequencies(r, 64);
  for (int i : {0, 5, 10}) EXPECT_FLOAT_EQ(f[i], static_cast<float>(std::pow(1e4, -2.0 * i / 64))) << i;
  for (int i : {23, 31}) EXPECT_FLOAT_EQ(f[i], static_cast<float>(std::pow(1e4, -2.0 * i / 64) / 40)) << i;
  const double ramp = (16 - 10) / 13.0;  // i = 16, halfway through the ramp
  EXPECT_NEAR(f[16], 0.01 / 40 * ramp + 0.01 * (1 - ramp), 1e-9);
}

TEST(RopeTest, SoftmaxScaleWithYarn) {
  ModelConfig c;
  c.mla.qk_nope_head_dim = 128;
  c.mla.qk_rope_head_dim = 64;
  EXPECT_NEAR(AttentionScale(c), 1.0 / std::sqrt(192.0), 1e-7);
  c.rope.scaling = RopeScalingType::kYarn;
  c.rope.factor = 40;
  c.rope.yarn_log_multiplier = 0.1;  // V3 (mscale_all_dim 1.0): 0.135234
  EXPECT_NEAR(AttentionScale(c), 0.135234, 1e-6);
  c.rope.yarn_log_multiplier = 0.0707;  // V2/V2-Lite (0.707): 0.114721
  EXPECT_NEAR(AttentionScale(c), 0.114721, 1e-6);
}

TEST(LatentCacheTest, HoldsOnlyTheLatentAndRopeKey) {
  // mini: 8 layers × (512 + 64) × 2 bytes per token, f16.
  LatentCache c(8, 100, 576, KvDtype::kF16);
  EXPECT_EQ(c.bytes(), 100u * 8 * 576 * 2);
  std::vector<float> row(576), back(576);
  for (int i = 0; i < 576; ++i) row[i] = 0.001f * static_cast<float>(i) - 0.2f;
  c.Write(3, 42, row.data());
  c.Read(3, 42, 1, back.data());
  for (int i = 0; i < 576; ++i) EXPECT_NEAR(back[i], row[i], 1e-3 * std::fabs(row[i]) + 1e-7);
  LatentCache exact(1, 2, 576, KvDtype::kF32);
  exact.Write(0, 1, row.data());
  exact.Read(0, 1, 1, back.data());
  EXPECT_EQ(back, row);
}

}  // namespace
}  // namespace frugal::model
