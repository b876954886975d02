#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "engine/sampler.h"

namespace frugal::engine {
namespace {

SamplingParams Off() {
  return {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .repeat_penalty = 1.0f,
          .presence_penalty = 0.0f, .frequency_penalty = 0.0f, .repeat_last_n = 64, .seed = 1};
}

TEST(SamplerTest, GreedyTakesTheArgmaxAndTiesTheLowerId) {
  SamplingParams p = Off();
  p.temperature = 0;
  Sampler s(p);
  const std::vector<float> logits = {0.1f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.Sample(logits, {}), 1);
}

TEST(SamplerTest, TopKOneIsGreedyAtAnyTemperature) {
  SamplingParams p = Off();
  p.top_k = 1;
  p.temperature = 5.0f;
  Sampler s(p);
  const std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.Sample(logits, {}), 1);
}

TEST(SamplerTest, SameSeedSameSequence) {
  SamplingParams p = Off();
  p.seed = 42;
  Sampler a(p), b(p);
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = std::sin(static_cast<float>(i));
  std::vector<int32_t> ha, hb;
  for (int i = 0; i < 30; ++i) {
    ha.push_back(a.Sample(logits, ha));
    hb.push_back(b.Sample(logits, hb));
  }
  EXPECT_EQ(ha, hb);
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> hc;
  for (int i = 0; i < 30; ++i) hc.push_back(c.Sample(logits, hc));
  EXPECT_NE(ha, hc);
}

TEST(SamplerTest, FrequenciesFollowTheSoftmax) {
  // logits ln 1, ln 2, ln 7: probabilities 0.1, 0.2, 0.7.
  Sampler s(Off());
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(7.0f)};
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[s.Sample(logits, {})]++;
  EXPECT_NEAR(counts[0] / static_cast<double>(n), 0.1, 0.015);
  EXPECT_NEAR(counts[2] / static_cast<double>(n), 0.7, 0.015);
}

TEST(SamplerTest, TopPAndMinPCutTheTail) {
  // Probabilities 0.5, 0.3, 0.15, 0.05.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplingParams p = Off();
  p.top_p = 0.75f;  // 0.5 + 0.3 reaches it: only ids 0 and 1 remain
  Sampler top_p(p);
  for (int i = 0; i < 200; ++i) EXPECT_LT(top_p.Sample(logits, {}), 2);
  p = Off();
  p.min_p = 0.35f;  // keeps p ≥ 0.175: ids 0 and 1
  Sampler min_p(p);
  for (int i = 0; i < 200; ++i) EXPECT_LT(min_p.Sample(logits, {}), 2);
}

TEST(SamplerTest, PenaltiesAsComputedByHand) {
  SamplingParams p = Off();
  p.temperature = 0;
  p.repeat_penalty = 2.0f;  // id 0: 3.0 → 1.5, below id 1's 2.0
  Sampler rep(p);
  const std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(rep.Sample(logits, history), 1);
  p = Off();
  p.temperature = 0;
  p.frequency_penalty = 0.6f;  // id 0 seen twice: 3.0 − 1.2 = 1.8 < 2.0
  Sampler freq(p);
  const std::vector<int32_t> twice = {0, 0};
  EXPECT_EQ(freq.Sample(logits, history), 0);  // once: 2.4 > 2.0
  EXPECT_EQ(freq.Sample(logits, twice), 1);
  p = Off();
  p.temperature = 0;
  p.presence_penalty = 1.5f;  // 3.0 − 1.5 = 1.5 < 2.0
  p.repeat_last_n = 1;        // only the last token counts
  Sampler pres(p);
  EXPECT_EQ(pres.Sample(logits, std::vector<int32_t>{0, 2}), 0);
  EXPECT_EQ(pres.Sample(logits, std::vector<int32_t>{2, 0}), 1);
}

TEST(SamplerTest, RejectsBadParameters) {
  SamplingParams p = Off();
  p.top_p = 0;
  EXPECT_FALSE(ValidateSamplingParams(p).ok());
  p = Off();
  p.temperature = NAN;
  EXPECT_FALSE(ValidateSamplingParams(p).ok());
  EXPECT_TRUE(ValidateSamplingParams(Off()).ok());
}

}  // namespace
}  // namespace frugal::engine
