// Forward-pass properties on generated models: both attention paths, chunked prefill and
// one-token decode give the same logits; bad input is an error. (Agreement with the independent
// numpy reference is checked by tests/reference/check_forward.py.)
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "model/loaded_model.h"
#include "kv/sequence_cache.h"
#include "model/transformer.h"
#include "tools/model_generator.h"

namespace frugal {
namespace {

std::unique_ptr<model::LoadedModel> Generate(const tools::GeneratorOptions& o) {
  const std::string path = ::testing::TempDir() + "/frugal_fwd_" + std::to_string(::getpid()) + "_" + o.preset;
  ThreadPool pool(2);
  EXPECT_TRUE(tools::GenerateModel(o, path, pool).ok());
  auto m = model::LoadModel(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  std::remove(path.c_str());
  return std::move(m).value();
}

std::vector<int32_t> Ids(int n, int vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
  return ids;
}

// All-position logits, processing the ids in chunks of `chunk` through `path`.
std::vector<float> Logits(const model::LoadedModel& m, const std::vector<int32_t>& ids, int chunk,
                          model::AttentionPath path, model::KvDtype kv = model::KvDtype::kF32, int threads = 2,
                          bool exact = false) {
  model::Transformer tf(m.config, m.weights);
  auto cache = kv::SequenceCache::Create(m.config, static_cast<int>(ids.size()), kv);
  EXPECT_TRUE(cache.ok());
  ThreadPool pool(threads);
  std::vector<float> all, part;
  for (size_t pos = 0; pos < ids.size(); pos += static_cast<size_t>(chunk)) {
    const size_t len = std::min(static_cast<size_t>(chunk), ids.size() - pos);
    const model::SequenceChunk c{std::span(ids).subspan(pos, len), static_cast<int>(pos), (*cache)->View(), model::LogitsWanted::kAll};
    Status s = tf.Forward(std::span(&c, 1), {.attention = path, .exact = exact}, pool, &part);
    EXPECT_TRUE(s.ok()) << s.ToString();
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

class ForwardPaths : public ::testing::TestWithParam<tools::GeneratorOptions> {};

TEST_P(ForwardPaths, NaiveAbsorbedChunkedAndDecodeAgree) {
  auto m = Generate(GetParam());
  const std::vector<int32_t> ids = Ids(64, m->config.vocab_size);
  const auto naive = Logits(*m, ids, 64, model::AttentionPath::kNaive);
  const auto absorbed = Logits(*m, ids, 64, model::AttentionPath::kAbsorbed);
  const auto chunked = Logits(*m, ids, 24, model::AttentionPath::kNaive);
  const auto decode = Logits(*m, ids, 1, model::AttentionPath::kAbsorbed);
  // These models' weights are f32, so the fast naive path keeps W_UK in f32 too
  // (kernels::TransposedForProducts rounds only quantized files' to q8_0). Exact paths: 1e-5.
  EXPECT_LT(MaxDiff(naive, absorbed), 1e-4);
  EXPECT_LT(MaxDiff(naive, chunked), 1e-4);
  EXPECT_LT(MaxDiff(naive, decode), 1e-4);
  const auto exact_naive = Logits(*m, ids, 64, model::AttentionPath::kNaive, model::KvDtype::kF32, 2, true);
  const auto exact_absorbed = Logits(*m, ids, 1, model::AttentionPath::kAbsorbed, model::KvDtype::kF32, 2, true);
  EXPECT_LT(MaxDiff(exact_naive, exact_absorbed), 1e-5);
  // A 16-bit latent cache changes the numbers only a little.
  EXPECT_LT(MaxDiff(naive, Logits(*m, ids, 64, model::AttentionPath::kNaive, model::KvDtype::kF16)), 2e-2);
  float spread = 0;  // the check would be vacuous if all logits were equal
  for (float v : naive) spread = std::max(spread, std::fabs(v - naive[0]));
  EXPECT_GT(spread, 1e-2);
}

INSTANTIATE_TEST_SUITE_P(
    Presets, ForwardPaths,
    ::testing::Values(tools::GeneratorOptions{.preset = "tiny"},
                      tools::GeneratorOptions{.preset = "tiny", .q_lora_rank = 0, .kv_b_layout = model::KvBLayout::kLegacy},
                      tools::GeneratorOptions{.preset = "v3-shaped", .skew = true}),
    [](const auto& p) { return p.index == 0 ? std::string("tiny") : p.index == 1 ? std::string("tiny_legacy") : std::string("v3"); });

// Decode over a context long enough for the threads to split the cached rows of the latent sums
// (from 16·threads² positions) agrees with one thread (which never splits them), and gives the
// same bits on every run: each sum's order does not depend on scheduling.
TEST(ForwardTest, LongDecodeAgreesAcrossThreadCountsAndRepeatsExactly) {
  auto m = Generate({.preset = "tiny"});
  const std::vector<int32_t> ids = Ids(160, m->config.vocab_size);
  const auto two = Logits(*m, ids, 1, model::AttentionPath::kAbsorbed, model::KvDtype::kF16, 2);
  const auto again = Logits(*m, ids, 1, model::AttentionPath::kAbsorbed, model::KvDtype::kF16, 2);
  const auto one = Logits(*m, ids, 1, model::AttentionPath::kAbsorbed, model::KvDtype::kF16, 1);
  EXPECT_LT(MaxDiff(two, one), 1e-4);
  ASSERT_EQ(two.size(), again.size());
  EXPECT_EQ(0, std::memcmp(two.data(), again.data(), two.size() * sizeof(float))) << "two runs gave different bits";
}

TEST(ForwardTest, BadInputIsAnError) {
  auto m = Generate({.preset = "tiny"});
  model::Transformer tf(m->config, m->weights);
  auto cache = std::move(kv::SequenceCache::Create(m->config, 4, model::KvDtype::kF16, /*block_tokens=*/4)).value();
  ThreadPool pool(1);
  std::vector<float> logits;
  const auto run = [&](std::span<const int32_t> ids) {
    const model::SequenceChunk c{ids, 0, cache->View(), model::LogitsWanted::kLast};
    return tf.Forward(std::span(&c, 1), {}, pool, &logits);
  };
  const std::vector<int32_t> bad = {1, m->config.vocab_size};
  EXPECT_EQ(run(bad).code(), StatusCode::kInvalidArgument);
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  Status s = run(five);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("exceed the sequence's cache of 4"), std::string::npos);
  EXPECT_EQ(run(std::span(five).first(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tf.Forward({}, {}, pool, &logits).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace frugal
