#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "model/latent_blocks.h"
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

TEST(LatentBlocksTest, RoundsToTheCacheTypeAndAddressesBlocks) {
  // Two blocks of 4 positions, 2 layers of 576 values (512 latent + 64 rope key).
  for (KvDtype dtype : {KvDtype::kF16, KvDtype::kBF16, KvDtype::kF32}) {
    const LatentLayout layout{576, dtype, 4};
    EXPECT_EQ(layout.row_bytes(), 576u * KvValueBytes(dtype));
    std::vector<std::byte> a(2 * layout.layer_bytes()), b(2 * layout.layer_bytes());
    const std::vector<std::byte*> blocks = {a.data(), b.data()};
    const LatentBlocks v(layout, blocks);
    EXPECT_EQ(v.capacity(), 8);
    EXPECT_EQ(v.Row(1, 5), b.data() + layout.layer_bytes() + layout.row_bytes());
    std::vector<float> row(576), back(6 * 576);
    for (int i = 0; i < 576; ++i) row[i] = 0.001f * static_cast<float>(i) - 0.2f;
    v.Write(1, 5, row.data());
    v.Read(1, 6, back.data());
    const double rel = dtype == KvDtype::kF32 ? 0 : dtype == KvDtype::kF16 ? 1e-3 : 8e-3;
    for (int i = 0; i < 576; ++i) EXPECT_NEAR(back[5 * 576 + i], row[i], rel * std::fabs(row[i]) + 1e-7);
  }
}

}  // namespace
}  // namespace frugal::model
