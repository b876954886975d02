// Routing rules with answers worked out by hand.
#include <cmath>

#include <gtest/gtest.h>

#include "model/router.h"

namespace frugal::model {
namespace {

TEST(RouterTest, SoftmaxTopKWithoutRenormalization) {
  // logits ln(1), ln(2), ln(3), ln(4): softmax = 0.1, 0.2, 0.3, 0.4.
  const float logits[4] = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  int e[2];
  float w[2];
  Route(logits, {.n_experts = 4, .top_k = 2, .scale = 2.0f}, e, w);
  EXPECT_EQ(e[0], 3);
  EXPECT_EQ(e[1], 2);
  EXPECT_NEAR(w[0], 0.8f, 1e-6);  // 0.4 × 2
  EXPECT_NEAR(w[1], 0.6f, 1e-6);  // 0.3 × 2
  Route(logits, {.n_experts = 4, .top_k = 2, .normalize = true}, e, w);
  EXPECT_NEAR(w[0], 4.0f / 7.0f, 1e-6);
  EXPECT_NEAR(w[1], 3.0f / 7.0f, 1e-6);
}

TEST(RouterTest, SoftmaxGroupsScoredByTheirBestExpert) {
  // Groups {0,1} {2,3} {4,5}; best experts 0.9 (g0), 0.5 (g1, but 0.5+0.45 would win by sum),
  // 0.6 (g2). Keep 2 groups by max: g0 and g2 → top-2 experts 0 and 5.
  const float logits[6] = {0.9f, 0.1f, 0.5f, 0.45f, 0.0f, 0.6f};
  int e[2];
  float w[2];
  Route(logits, {.n_experts = 6, .top_k = 2, .n_groups = 3, .n_groups_used = 2}, e, w);
  EXPECT_EQ(e[0], 0);
  EXPECT_EQ(e[1], 5);
}

TEST(RouterTest, SigmoidGroupsBySumOfTopTwoAndBiasOnlySelects) {
  // Sigmoid scores s = σ(logit). Groups {0,1} {2,3}. Bias lifts expert 3 so group 1's top-2
  // biased sum wins and expert 3 is chosen, but its weight is its UNBIASED score.
  const float logits[4] = {1.0f, -1.0f, 0.0f, -2.0f};
  const float bias[4] = {0.0f, 0.0f, 0.0f, 1.0f};
  int e[2];
  float w[2];
  const RouterParams p{.n_experts = 4, .top_k = 2, .n_groups = 2, .n_groups_used = 1,
                       .gating = GatingFunction::kSigmoid, .normalize = true, .scale = 2.5f, .bias = bias};
  Route(logits, p, e, w);
  // biased: 0.731, 0.269 (sum 1.0) vs 0.5, 1.119 (sum 1.619) → group 1; order by biased score: 3, 2.
  EXPECT_EQ(e[0], 3);
  EXPECT_EQ(e[1], 2);
  const float s3 = 1.0f / (1.0f + std::exp(2.0f)), s2 = 0.5f;
  EXPECT_NEAR(w[0], 2.5f * s3 / (s3 + s2), 1e-6);
  EXPECT_NEAR(w[1], 2.5f * s2 / (s3 + s2), 1e-6);
}

TEST(RouterTest, TiesGoToTheLowerIndex) {
  const float logits[4] = {1.0f, 2.0f, 2.0f, 2.0f};
  int e[2];
  float w[2];
  Route(logits, {.n_experts = 4, .top_k = 2}, e, w);
  EXPECT_EQ(e[0], 1);
  EXPECT_EQ(e[1], 2);
}

}  // namespace
}  // namespace frugal::model
