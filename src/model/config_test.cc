#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "io/gguf_writer.h"
#include "model/config.h"
#include "model/config_writer.h"
#include "model/tensor_layout.h"

namespace frugal::model {
namespace {

ModelConfig SmallConfig() {
  ModelConfig c;
  c.architecture = "deepseek2";
  c.name = "t";
  c.n_layers = 3;
  c.hidden = 64;
  c.vocab_size = 100;
  c.context_length = 512;
  c.mla = {.n_heads = 2, .q_lora_rank = 32, .kv_lora_rank = 32, .qk_nope_head_dim = 16,
           .qk_rope_head_dim = 8, .v_head_dim = 16};
  c.moe = {.n_leading_dense = 1, .dense_ff = 96, .n_experts = 4, .n_experts_used = 2, .n_shared = 1,
           .expert_ff = 32};
  return c;
}

struct Edits {
  std::function<void(io::GgufWriter*)> keys = nullptr;       // applied after the config keys
  std::set<std::string> drop = {};                           // tensors left out
  std::string reshape = {};                                  // tensor given a wrong shape
  std::vector<std::pair<std::string, TensorShape>> add = {}; // extra tensors
};

// A complete f32 file for `c` (zero weights), with optional edits.
io::GgufFile BuildFile(const ModelConfig& c, const Edits& e = {}) {
  io::GgufWriter w;
  WriteModelConfigKeys(c, &w);
  if (e.keys) e.keys(&w);
  for (const TensorSpec& s : ExpectedTensors(c)) {
    if (e.drop.count(s.name)) continue;
    TensorShape shape = s.shape;
    if (s.name == e.reshape) shape.ne[0] += 1;
    w.AddTensor(s.name, shape, GgmlType::kF32);
  }
  for (const auto& [name, shape] : e.add) w.AddTensor(name, shape, GgmlType::kF32);
  std::vector<std::byte> bytes;
  auto out = io::NewMemoryWritableFile(&bytes);
  EXPECT_TRUE(w.WriteHeader(*out).ok());
  for (size_t i = 0; i < w.tensor_count(); ++i) {
    std::vector<std::byte> zeros(w.TensorBytes(i));
    EXPECT_TRUE(w.WriteTensorData(*out, i, zeros).ok());
  }
  auto file = io::ReadGguf(io::NewMemoryFile("test.gguf", std::move(bytes)));
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return std::move(file).value();
}

void ExpectSame(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.mla.q_lora_rank, b.mla.q_lora_rank);
  EXPECT_EQ(a.mla.kv_lora_rank, b.mla.kv_lora_rank);
  EXPECT_EQ(a.mla.qk_nope_head_dim, b.mla.qk_nope_head_dim);
  EXPECT_EQ(a.mla.qk_rope_head_dim, b.mla.qk_rope_head_dim);
  EXPECT_EQ(a.mla.v_head_dim, b.mla.v_head_dim);
  EXPECT_EQ(a.mla.kv_b_layout, b.mla.kv_b_layout);
  EXPECT_EQ(a.moe.n_experts, b.moe.n_experts);
  EXPECT_EQ(a.moe.n_groups, b.moe.n_groups);
  EXPECT_EQ(a.moe.n_groups_used, b.moe.n_groups_used);
  EXPECT_EQ(a.moe.gating, b.moe.gating);
  EXPECT_EQ(a.moe.has_bias, b.moe.has_bias);
  EXPECT_EQ(a.moe.weights_norm, b.moe.weights_norm);
  EXPECT_FLOAT_EQ(static_cast<float>(a.moe.weights_scale), static_cast<float>(b.moe.weights_scale));
  EXPECT_EQ(a.rope.scaling, b.rope.scaling);
  EXPECT_FLOAT_EQ(static_cast<float>(a.rope.factor), static_cast<float>(b.rope.factor));
}

TEST(ConfigTest, RoundTripsEveryVariant) {
  std::vector<ModelConfig> variants;
  variants.push_back(SmallConfig());
  ModelConfig no_q = SmallConfig();
  no_q.mla.q_lora_rank = 0;
  variants.push_back(no_q);
  ModelConfig legacy = SmallConfig();
  legacy.mla.kv_b_layout = KvBLayout::kLegacy;
  variants.push_back(legacy);
  ModelConfig v3 = SmallConfig();
  v3.moe.n_experts = 8;
  v3.moe.n_groups = 4;
  v3.moe.n_groups_used = 2;
  v3.moe.gating = GatingFunction::kSigmoid;
  v3.moe.has_bias = true;
  v3.moe.weights_norm = true;
  v3.moe.weights_scale = 2.5;
  v3.rope.scaling = RopeScalingType::kYarn;
  v3.rope.factor = 40;
  v3.rope.original_context_length = 4096;
  variants.push_back(v3);
  for (const ModelConfig& c : variants) {
    io::GgufFile f = BuildFile(c);
    auto loaded = LoadModelConfig(f);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ExpectSame(*loaded, c);
  }
}

void ExpectError(const io::GgufFile& f, const std::vector<std::string>& fragments) {
  auto loaded = LoadModelConfig(f);
  ASSERT_FALSE(loaded.ok());
  for (const std::string& s : fragments) {
    EXPECT_NE(loaded.status().message().find(s), std::string::npos)
        << "'" << s << "' not in: " << loaded.status().message();
  }
}

TEST(ConfigTest, MissingExpertTensorsNameTheLayer) {
  ExpectError(BuildFile(SmallConfig(), {.drop = {"blk.2.ffn_up_exps.weight"}}),
              {"blk.2.ffn_up_exps.weight", "MoE layer", "leading_dense_block_count = 1"});
}

TEST(ConfigTest, ShapeDisagreementSaysWhatImpliesWhat) {
  ExpectError(BuildFile(SmallConfig(), {.reshape = "blk.1.attn_kv_a_mqa.weight"}),
              {"blk.1.attn_kv_a_mqa.weight", "[65, 40]", "imply [64, 40]", "kv_lora 32"});
}

TEST(ConfigTest, HeadSizesThatDisagreeWithTensors) {
  // key_length_mla says nope+rope = 32 but the tensors were made for 24.
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.attention.key_length_mla", io::GgufValue::Uint32(32));
                        }}),
              {"shape", "nope 24"});
}

TEST(ConfigTest, HostileValuesAreRejected) {
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.block_count", io::GgufValue::Uint32(100000));
                        }}),
              {"block_count 100000"});
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.expert_used_count", io::GgufValue::Uint32(9));
                        }}),
              {"expert_used_count 9"});
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.expert_group_count", io::GgufValue::Uint32(3));
                        }}),
              {"must divide expert_count 4"});
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.attention.head_count", io::GgufValue::String("two"));
                        }}),
              {"attention.head_count", "string"});
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("general.architecture", io::GgufValue::String("llama"));
                        }}),
              {"'llama' is not supported"});
  ExpectError(BuildFile(SmallConfig(), {.keys = [](io::GgufWriter* w) {
                          w->SetValue("deepseek2.vocab_size", io::GgufValue::Uint32(99));
                        }}),
              {"vocab_size key 99"});
}

TEST(ConfigTest, NeedsExactlyOneKvBLayout) {
  ExpectError(BuildFile(SmallConfig(), {.drop = {"blk.0.attn_k_b.weight"}}), {"found neither"});
  TensorShape s;
  s.n_dims = 2;
  s.ne = {32, 64, 1, 1};
  ExpectError(BuildFile(SmallConfig(), {.add = {{"blk.0.attn_kv_b.weight", s}}}), {"found both"});
}

TEST(ConfigTest, FixtureFromLlamaCpp) {
  const std::string path = std::string(FRUGAL_SHARED_DIR) + "/fixtures/ds2-tiny-mixq.gguf";
  auto f = io::OpenGguf(path);
  if (!f.ok()) GTEST_SKIP() << "../shared/fixtures absent: " << f.status().ToString();
  auto c = LoadModelConfig(*f);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Values from ../shared/fixtures/README.md.
  EXPECT_EQ(c->vocab_size, 102400);
  EXPECT_EQ(c->hidden, 256);
  EXPECT_EQ(c->n_layers, 3);
  EXPECT_EQ(c->mla.n_heads, 4);
  EXPECT_EQ(c->mla.q_lora_rank, 96);
  EXPECT_EQ(c->mla.kv_lora_rank, 64);
  EXPECT_EQ(c->mla.qk_nope_head_dim, 32);
  EXPECT_EQ(c->mla.qk_rope_head_dim, 16);
  EXPECT_EQ(c->mla.v_head_dim, 32);
  EXPECT_EQ(c->mla.kv_b_layout, KvBLayout::kSplit);
  EXPECT_EQ(c->moe.n_experts, 8);
  EXPECT_EQ(c->moe.n_experts_used, 2);
  EXPECT_EQ(c->moe.n_shared, 1);
  EXPECT_EQ(c->moe.expert_ff, 256);
  EXPECT_EQ(c->moe.gating, GatingFunction::kSoftmax);
  EXPECT_EQ(c->moe.n_groups, 1);
  EXPECT_DOUBLE_EQ(c->moe.weights_scale, 1.0);
  EXPECT_FALSE(c->moe.weights_norm);
  EXPECT_EQ(c->moe.n_leading_dense, 1);
  EXPECT_EQ(c->moe.dense_ff, 512);
  EXPECT_EQ(c->rope.scaling, RopeScalingType::kNone);
  EXPECT_DOUBLE_EQ(c->rope.freq_base, 10000.0);
  EXPECT_EQ(c->context_length, 4096);
}

}  // namespace
}  // namespace frugal::model
