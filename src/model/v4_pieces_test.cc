// DeepSeek-V4's pieces one at a time, with answers worked out by hand: the hyper-connections'
// Sinkhorn normalization and the orientation of their mixing matrix, the compressor's block
// pooling (ratio 4 overlapping, ratio 128), sqrt-softplus and hash routing. (The whole forward
// pass is checked against llama.cpp's logits and the numpy reference: tests/reference.)
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "model/compressor.h"
#include "model/hyper_connections.h"
#include "model/router.h"

namespace frugal::model {
namespace {

TEST(HyperConnectionsTest, SinkhornFirstNormalizesColumnsThenAlternates) {
  // One iteration: columns only. [[1, 2], [3, 4]] has column sums 4 and 6.
  float m[4] = {1, 2, 3, 4};
  SinkhornNormalize(m, 2, 1, 0.0f);
  EXPECT_FLOAT_EQ(m[0], 0.25f);
  EXPECT_FLOAT_EQ(m[1], 2.0f / 6.0f);
  EXPECT_FLOAT_EQ(m[2], 0.75f);
  EXPECT_FLOAT_EQ(m[3], 4.0f / 6.0f);
  // Twenty: doubly stochastic (rows and columns sum to 1) for any positive start.
  float p[16];
  for (int i = 0; i < 16; ++i) p[i] = 0.05f + static_cast<float>((i * 7) % 5);
  SinkhornNormalize(p, 4, 20, 1e-6f);
  for (int i = 0; i < 4; ++i) {
    float row = 0, col = 0;
    for (int j = 0; j < 4; ++j) {
      row += p[i * 4 + j];
      col += p[j * 4 + i];
    }
    EXPECT_NEAR(row, 1.0f, 2e-3) << "row " << i;
    EXPECT_NEAR(col, 1.0f, 1e-5) << "column " << i;  // the last step normalizes columns
  }
}

// comb[t][src][dst]: stream dst receives comb[src][dst] of stream src (the transposition that
// ports of DeepSeek's code get wrong); post weights the sub-layer's output into every stream.
TEST(HyperConnectionsTest, ExpandAndCollapseFollowSourceAndDestination) {
  const int s = 4, h = 2;
  std::vector<float> streams = {1, 10, 2, 20, 3, 30, 4, 40};  // stream k = (k+1)·[1, 10]
  HcMixes m{s, {0, 0, 1, 0}, {0.5f, 0.5f, 0.5f, 0.5f}, std::vector<float>(16, 0.0f)};
  // A permutation: stream 0 → 1, 1 → 2, 2 → 3, 3 → 0.
  for (int src = 0; src < s; ++src) m.comb[static_cast<size_t>(src * s + (src + 1) % s)] = 1.0f;
  float x[2];
  CollapseStreams(streams.data(), m.pre.data(), 1, s, h, x);  // pre picks stream 2
  EXPECT_FLOAT_EQ(x[0], 3.0f);
  EXPECT_FLOAT_EQ(x[1], 30.0f);
  const float f[2] = {100, 200};
  ExpandStreams(f, m, 1, h, streams.data());
  EXPECT_FLOAT_EQ(streams[2], 50.0f + 1.0f);   // stream 1 ← 0.5·f + stream 0
  EXPECT_FLOAT_EQ(streams[3], 100.0f + 10.0f);
  EXPECT_FLOAT_EQ(streams[0], 50.0f + 4.0f);   // stream 0 ← 0.5·f + stream 3
  EXPECT_FLOAT_EQ(streams[6], 50.0f + 3.0f);   // stream 3 ← 0.5·f + stream 2
}

// Ratio 4, width 1: projected rows (a, b) per token. Block 0 pools b of tokens 0..3; block 1
// pools a of tokens 0..3 with b of tokens 4..7 — one softmax over the eight scores.
TEST(CompressorTest, OverlappingBlocksOfFour) {
  CompressorState c(4, 1);
  EXPECT_TRUE(c.overlaps());
  EXPECT_EQ(c.projected_width(), 2);
  float out = 0;
  const float zero[2] = {0, 0};
  for (int pos = 0; pos < 4; ++pos) {
    const float kv[2] = {static_cast<float>(pos), static_cast<float>(10 * pos)};  // a = pos, b = 10·pos
    EXPECT_EQ(c.Push(pos, kv, zero, &out), pos == 3);
  }
  EXPECT_FLOAT_EQ(out, 15.0f);  // mean of b: 0, 10, 20, 30
  for (int pos = 4; pos < 8; ++pos) {
    const float kv[2] = {static_cast<float>(pos), static_cast<float>(10 * pos)};
    EXPECT_EQ(c.Push(pos, kv, zero, &out), pos == 7);
  }
  EXPECT_FLOAT_EQ(out, (0 + 1 + 2 + 3 + 40 + 50 + 60 + 70) / 8.0f);  // a of block 0, b of block 1
  // A score far above the others takes the whole weight: token 9's b in block 2.
  for (int pos = 8; pos < 12; ++pos) {
    const float kv[2] = {-1.0f, pos == 9 ? 7.0f : -1.0f};
    const float score[2] = {0.0f, pos == 9 ? 60.0f : 0.0f};
    c.Push(pos, kv, score, &out);
  }
  EXPECT_NEAR(out, 7.0f, 1e-6);
}

TEST(CompressorTest, BlocksOf128DoNotOverlap) {
  CompressorState c(128, 2);
  EXPECT_FALSE(c.overlaps());
  EXPECT_EQ(c.projected_width(), 2);
  float out[2] = {0, 0};
  const float zero[2] = {0, 0};
  int emitted = 0;
  for (int pos = 0; pos < 256; ++pos) {
    const float kv[2] = {static_cast<float>(pos), 1.0f};
    if (c.Push(pos, kv, zero, out)) {
      ++emitted;
      EXPECT_FLOAT_EQ(out[0], (pos - 127 + pos) / 2.0f) << "block ending at " << pos;  // its own 128 tokens
      EXPECT_FLOAT_EQ(out[1], 1.0f);
    }
  }
  EXPECT_EQ(emitted, 2);
}

// The state a sequence carries between steps restores exactly (prefix-cache snapshots).
TEST(CompressorTest, SaveAndLoadResumeExactly) {
  CompressorState a(4, 3), b(4, 3);
  float out_a[3], out_b[3];
  for (int pos = 0; pos < 6; ++pos) {
    const float kv[6] = {1.0f * pos, 2, 3, 4, 5, -1.0f * pos}, score[6] = {0.1f * pos, 0, 1, 0, 2, 0};
    a.Push(pos, kv, score, out_a);
  }
  std::vector<std::byte> image(a.bytes());
  a.Save(image.data());
  b.Load(image.data());
  for (int pos = 6; pos < 8; ++pos) {
    const float kv[6] = {1.0f * pos, 2, 3, 4, 5, -1.0f * pos}, score[6] = {0.1f * pos, 0, 1, 0, 2, 0};
    EXPECT_EQ(a.Push(pos, kv, score, out_a), b.Push(pos, kv, score, out_b));
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out_a[i], out_b[i]);
}

// sqrt(softplus(x)): 0 → 0.83255, 1 → 1.14598, −1 → 0.55970, 2 → 1.45840.
TEST(RouterTest, SqrtSoftplusAndHashRouting) {
  const float logits[4] = {0.0f, 1.0f, -1.0f, 2.0f};
  const RouterParams p{.n_experts = 4, .top_k = 2, .gating = GatingFunction::kSqrtSoftplus, .normalize = true, .scale = 1.5f};
  int e[2];
  float w[2];
  Route(logits, p, e, w);
  EXPECT_EQ(e[0], 3);
  EXPECT_EQ(e[1], 1);
  EXPECT_NEAR(w[0], 1.5 * 1.45840 / (1.45840 + 1.14598), 1e-5);
  EXPECT_NEAR(w[1], 1.5 * 1.14598 / (1.45840 + 1.14598), 1e-5);
  // Hash-routed: the table's experts, weighted by their scores (the lowest two here).
  const int32_t fixed[2] = {2, 0};
  Route(logits, p, e, w, fixed);
  EXPECT_EQ(e[0], 2);
  EXPECT_EQ(e[1], 0);
  EXPECT_NEAR(w[0], 1.5 * 0.55970 / (0.55970 + 0.83255), 1e-5);
  EXPECT_NEAR(w[1], 1.5 * 0.83255 / (0.55970 + 0.83255), 1e-5);
}

}  // namespace
}  // namespace frugal::model
