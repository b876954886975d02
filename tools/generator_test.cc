#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "io/file.h"
#include "io/gguf_file.h"
#include "kernels/dequantize.h"
#include "model/config.h"
#include "tools/model_generator.h"
#include "tools/vocab.h"

namespace frugal::tools {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/frugal_gen_" + std::to_string(::getpid()) + "_" + name;
}

io::GgufFile Generate(const GeneratorOptions& o, const std::string& name) {
  ThreadPool pool(2);
  const std::string path = TempPath(name);
  Status s = GenerateModel(o, path, pool);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto f = io::OpenGguf(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  std::remove(path.c_str());  // the mapping stays valid
  return std::move(f).value();
}

std::vector<float> Rows(const io::GgufFile& f, const std::string& name) {
  const io::GgufTensorInfo* t = f.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  std::vector<float> out(t->shape.elements());
  auto data = f.MappedTensorData(*t);
  const uint64_t n = t->shape.ne[0], rb = RowBytes(t->type, n);
  for (uint64_t r = 0; r < t->shape.rows(); ++r) {
    kernels::DequantizeRow(t->type, data->data() + r * rb, out.data() + r * n, static_cast<int64_t>(n));
  }
  return out;
}

TEST(GeneratorTest, DeterministicPerSeedAndThreadCount) {
  GeneratorOptions o{.preset = "tiny", .dtype = GgmlType::kQ8_0};
  const std::string a = TempPath("a"), b = TempPath("b"), c = TempPath("c");
  ThreadPool one(1), two(2);
  ASSERT_TRUE(GenerateModel(o, a, one).ok());
  ASSERT_TRUE(GenerateModel(o, b, two).ok());
  o.seed = 43;
  ASSERT_TRUE(GenerateModel(o, c, two).ok());
  auto ba = io::ReadWholeFile(a), bb = io::ReadWholeFile(b), bc = io::ReadWholeFile(c);
  EXPECT_TRUE(*ba == *bb);
  EXPECT_FALSE(*ba == *bc);
  for (const auto& p : {a, b, c}) std::remove(p.c_str());
}

struct Variant {
  std::string preset;
  GgmlType dtype;
  std::optional<int> q_lora = std::nullopt;
  std::optional<model::KvBLayout> layout = std::nullopt;
  std::optional<double> yarn = std::nullopt;
};

class PresetVariants : public ::testing::TestWithParam<Variant> {};

TEST_P(PresetVariants, LoadsWithTheRequestedShape) {
  const Variant v = GetParam();
  GeneratorOptions o{.preset = v.preset, .dtype = v.dtype, .q_lora_rank = v.q_lora,
                     .kv_b_layout = v.layout, .yarn_factor = v.yarn};
  auto plan = PlanModel(o);
  ASSERT_TRUE(plan.ok());
  io::GgufFile f = Generate(o, v.preset);
  auto c = model::LoadModelConfig(f);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mla.q_lora_rank, plan->config.mla.q_lora_rank);
  EXPECT_EQ(c->mla.kv_b_layout, plan->config.mla.kv_b_layout);
  EXPECT_EQ(c->rope.scaling, plan->config.rope.scaling);
  EXPECT_EQ(c->moe.gating, plan->config.moe.gating);
  EXPECT_EQ(c->moe.has_bias, plan->config.moe.has_bias);
  for (const PlannedTensor& t : plan->tensors) {
    const io::GgufTensorInfo* info = f.FindTensor(t.spec.name);
    ASSERT_NE(info, nullptr) << t.spec.name;
    EXPECT_EQ(info->type, t.type) << t.spec.name;
  }
  // Weights in the requested type wherever rows allow it.
  EXPECT_EQ(f.FindTensor("blk.1.ffn_up_exps.weight")->type, v.dtype);
  EXPECT_EQ(f.FindTensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
}

INSTANTIATE_TEST_SUITE_P(
    Generator, PresetVariants,
    ::testing::Values(Variant{"tiny", GgmlType::kF32}, Variant{"tiny", GgmlType::kQ4_K},
                      Variant{"tiny", GgmlType::kQ6_K}, Variant{"tiny", GgmlType::kQ5_0},
                      Variant{"tiny", GgmlType::kBF16, 0, model::KvBLayout::kLegacy, 8.0},
                      Variant{"v3-shaped", GgmlType::kF32}, Variant{"v3-shaped", GgmlType::kQ8_0, 0},
                      Variant{"v3-shaped", GgmlType::kF16, {}, model::KvBLayout::kLegacy, 0.0}));

TEST(GeneratorTest, MiniPlanIsAboutOneBillionParameters) {
  auto plan = PlanModel({.preset = "mini"});
  ASSERT_TRUE(plan.ok());
  uint64_t params = 0;
  for (const PlannedTensor& t : plan->tensors) {
    params += t.spec.shape.elements();
    if (t.spec.role != model::TensorRole::kNorm && t.spec.role != model::TensorRole::kRouter) {
      EXPECT_EQ(t.type, GgmlType::kQ8_0) << t.spec.name;
    }
  }
  EXPECT_GT(params, 1'000'000'000u);
  EXPECT_LT(params, 1'100'000'000u);
  EXPECT_EQ(plan->config.mla.q_lora_rank, 0);
  EXPECT_EQ(plan->config.rope.scaling, model::RopeScalingType::kYarn);
}

// Share of top-k selections that go to the most-selected eighth of the experts, and the
// popular set, when routing each token's (normalized) embedding through layer 1's router.
struct Routing {
  double top_share;
  std::set<int> popular;
};

Routing RouteEmbeddings(const io::GgufFile& f, int64_t token_begin, int64_t token_end) {
  auto c = model::LoadModelConfig(f);
  const int h = c->hidden, n_exp = c->moe.n_experts, k = c->moe.n_experts_used;
  const std::vector<float> embd = Rows(f, "token_embd.weight");
  const std::vector<float> router = Rows(f, "blk.1.ffn_gate_inp.weight");
  std::vector<int> counts(n_exp, 0);
  for (int64_t t = token_begin; t < token_end; ++t) {
    const float* x = embd.data() + t * h;
    double ss = 0;
    for (int j = 0; j < h; ++j) ss += x[j] * x[j];
    const double inv = 1.0 / std::sqrt(ss / h);
    std::vector<std::pair<double, int>> scores;
    for (int e = 0; e < n_exp; ++e) {
      double s = 0;
      for (int j = 0; j < h; ++j) s += router[e * h + j] * x[j] * inv;
      scores.push_back({s, e});
    }
    std::partial_sort(scores.begin(), scores.begin() + k, scores.end(), std::greater<>());
    for (int i = 0; i < k; ++i) counts[scores[i].second]++;
  }
  std::vector<std::pair<int, int>> ranked;
  for (int e = 0; e < n_exp; ++e) ranked.push_back({counts[e], e});
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  Routing r{0, {}};
  const int top = std::max(1, n_exp / 8);
  for (int i = 0; i < top; ++i) {
    r.top_share += ranked[i].first;
    r.popular.insert(ranked[i].second);
  }
  r.top_share /= static_cast<double>((token_end - token_begin) * k);
  return r;
}

TEST(GeneratorTest, SkewConcentratesRoutingAndDriftsWithContent) {
  const GeneratorOptions o{.preset = "v3-shaped", .skew = true};
  io::GgufFile skewed = Generate(o, "skew");
  io::GgufFile plain = Generate({.preset = "v3-shaped"}, "plain");
  const int64_t v = model::LoadModelConfig(skewed)->vocab_size;
  const Routing s_first = RouteEmbeddings(skewed, 0, v / 4);
  const Routing s_last = RouteEmbeddings(skewed, 3 * v / 4, v);
  const Routing p_first = RouteEmbeddings(plain, 0, v / 4);
  // An eighth of the experts (4 of 32) takes most of the traffic with skew (uniform: 1/8).
  EXPECT_GT(s_first.top_share, 0.5);
  EXPECT_LT(p_first.top_share, 0.3);
  // Text from another region of the vocabulary goes to a different popular set.
  EXPECT_NE(s_first.popular, s_last.popular);
}

TEST(VocabTest, SyntheticMergesAreConsistent) {
  const Vocab v = MakeSyntheticVocab();
  std::set<std::string> tokens(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(tokens.size(), v.tokens.size()) << "duplicate tokens";
  EXPECT_EQ(v.tokens.size(), v.token_types.size());
  EXPECT_EQ(v.tokens[0], "<｜begin▁of▁sentence｜>");
  for (const std::string& m : v.merges) {
    const size_t sp = m.find(' ');
    ASSERT_NE(sp, std::string::npos);
    const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    EXPECT_TRUE(tokens.count(a) && tokens.count(b) && tokens.count(a + b)) << m;
  }
  EXPECT_GT(v.merges.size(), 200u);
}

TEST(VocabTest, ImportsTheDeepSeekV3TokenizerLikeLlamaCpp) {
  const std::string dir = std::string(FRUGAL_SOURCE_DIR) + "/deps/tokenizer-deepseek_v3/models";
  if (!std::filesystem::exists(dir + "/tokenizer.json")) {
    GTEST_SKIP() << "tokenizer absent: run scripts/install-deps.sh";
  }
  auto v = ImportHfTokenizer(dir, 129280, "deepseek-v3");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->tokens.size(), 129280u);
  // tokenizer.json: 128000 base tokens (ids 0..2 also listed as added) plus added tokens up to
  // id 128814: 818 added tokens, all control (special, or <｜...｜>); 465 ids without a token.
  std::map<int32_t, int> by_type;
  for (int32_t t : v->token_types) by_type[t]++;
  EXPECT_EQ(by_type[kTokenControl], 818);
  EXPECT_EQ(by_type[kTokenUnused], 129280 - 128815);
  EXPECT_EQ(by_type[kTokenNormal], 128000 - 3);
  EXPECT_EQ(v->tokens[0], "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(v->tokens[1], "<｜end▁of▁sentence｜>");
  EXPECT_EQ(v->tokens[128803], "<｜User｜>");
  EXPECT_EQ(v->tokens[129279], "[PAD129279]");
  EXPECT_EQ(v->bos_id, 0);
  EXPECT_EQ(v->eos_id, 1);
  EXPECT_EQ(v->merges.size(), 127741u);
  EXPECT_EQ(v->merges[0], "Ġ t");
  EXPECT_NE(v->chat_template.find("<｜Assistant｜>"), std::string::npos);
  EXPECT_EQ(v->chat_template, kDeepSeekV3ChatTemplate);
}

TEST(VocabTest, MissingTokenizerIsAClearError) {
  auto v = ImportHfTokenizer("/nonexistent", 10, "deepseek-v3");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("install-deps"), std::string::npos) << v.status().message();
}

}  // namespace
}  // namespace frugal::tools
