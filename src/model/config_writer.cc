#include "model/config_writer.h"

namespace frugal::model {

namespace {

// deepseek4: llama.cpp's keys, as its converter writes them (the v4-tiny fixture's list).
void WriteV4Keys(const ModelConfig& c, io::GgufWriter* w) {
  const std::string a = "deepseek4.";
  const MlaConfig& m = c.mla;
  const MoeConfig& e = c.moe;
  const CompressedAttentionConfig& v = c.v4;
  auto u32 = [&](const std::string& key, int x) { w->SetValue(a + key, io::GgufValue::Uint32(static_cast<uint32_t>(x))); };
  auto f32 = [&](const std::string& key, double x) { w->SetValue(a + key, io::GgufValue::Float32(static_cast<float>(x))); };
  w->SetValue("general.architecture", io::GgufValue::String("deepseek4"));
  w->SetValue("general.name", io::GgufValue::String(c.name));
  u32("vocab_size", c.vocab_size);
  u32("block_count", c.n_layers);
  u32("context_length", c.context_length);
  u32("embedding_length", c.hidden);
  u32("embedding_length_out", c.hc.n_streams * c.hidden);
  u32("attention.head_count", m.n_heads);
  u32("attention.head_count_kv", 1);
  u32("attention.key_length", v.head_dim);
  u32("attention.value_length", v.head_dim);
  u32("rope.dimension_count", m.qk_rope_head_dim);
  u32("attention.q_lora_rank", m.q_lora_rank);
  u32("attention.sliding_window", v.window);
  u32("attention.output_group_count", v.output_groups);
  u32("attention.output_lora_rank", v.output_lora_rank);
  w->SetValue(a + "attention.compress_ratios", io::GgufValue::Int32Array(std::vector<int32_t>(v.compress_ratios.begin(), v.compress_ratios.end())));
  f32("attention.compress_rope_freq_base", v.compressed_rope.freq_base);
  f32("attention.layer_norm_rms_epsilon", c.rms_eps);
  f32("rope.freq_base", c.rope.freq_base);
  const RopeConfig& r = v.compressed_rope;
  if (r.scaling == RopeScalingType::kYarn) {
    w->SetValue(a + "rope.scaling.type", io::GgufValue::String("yarn"));
    f32("rope.scaling.factor", r.factor);
    u32("rope.scaling.original_context_length", r.original_context_length);
    f32("rope.scaling.yarn_beta_fast", r.beta_fast);
    f32("rope.scaling.yarn_beta_slow", r.beta_slow);
  }
  u32("attention.indexer.head_count", c.indexer.n_heads);
  u32("attention.indexer.key_length", c.indexer.head_dim);
  u32("attention.indexer.top_k", c.indexer.top_k);
  u32("hyper_connection.count", c.hc.n_streams);
  u32("hyper_connection.sinkhorn_iterations", c.hc.sinkhorn_iterations);
  f32("hyper_connection.epsilon", c.hc.eps);
  u32("expert_count", e.n_experts);
  u32("expert_used_count", e.n_experts_used);
  u32("expert_shared_count", e.n_shared);
  u32("expert_feed_forward_length", e.expert_ff);
  u32("expert_gating_func", static_cast<int>(e.gating));
  f32("expert_weights_scale", e.weights_scale);
  w->SetValue(a + "expert_weights_norm", io::GgufValue::Bool(e.weights_norm));
  u32("hash_layer_count", e.n_hash_layers);
  // The shared expert unclamped, as DeepSeek's reference has it (llama.cpp clamps it by this key).
  w->SetValue(a + "swiglu_clamp_exp", io::GgufValue::Float32Array(std::vector<float>(static_cast<size_t>(c.n_layers), e.swiglu_limit)));
  w->SetValue(a + "swiglu_clamp_shexp", io::GgufValue::Float32Array(std::vector<float>(static_cast<size_t>(c.n_layers), 0.0f)));
}

}  // namespace

void WriteModelConfigKeys(const ModelConfig& c, io::GgufWriter* w) {
  if (c.is_v4()) {
    WriteV4Keys(c, w);
    return;
  }
  const std::string a = c.architecture.empty() ? std::string("deepseek2.") : c.architecture + ".";
  const MlaConfig& m = c.mla;
  const MoeConfig& e = c.moe;
  auto u32 = [&](const std::string& key, int v) { w->SetValue(a + key, io::GgufValue::Uint32(static_cast<uint32_t>(v))); };
  auto f32 = [&](const std::string& key, double v) { w->SetValue(a + key, io::GgufValue::Float32(static_cast<float>(v))); };
  w->SetValue("general.architecture", io::GgufValue::String(a.substr(0, a.size() - 1)));
  w->SetValue("general.name", io::GgufValue::String(c.name));
  u32("vocab_size", c.vocab_size);
  u32("context_length", c.context_length);
  u32("embedding_length", c.hidden);
  u32("feed_forward_length", e.dense_ff);
  u32("block_count", c.n_layers);
  u32("attention.head_count", m.n_heads);
  f32("attention.layer_norm_rms_epsilon", c.rms_eps);
  f32("rope.freq_base", c.rope.freq_base);
  u32("rope.dimension_count", m.qk_rope_head_dim);
  if (m.q_lora_rank > 0) u32("attention.q_lora_rank", m.q_lora_rank);
  u32("attention.kv_lora_rank", m.kv_lora_rank);
  if (m.kv_b_layout == KvBLayout::kSplit) {  // llama.cpp's MLA conversion: latent "K/V"
    u32("attention.head_count_kv", 1);
    u32("attention.key_length", m.kv_lora_rank + m.qk_rope_head_dim);
    u32("attention.value_length", m.kv_lora_rank);
    u32("attention.key_length_mla", m.qk_head_dim());
    u32("attention.value_length_mla", m.v_head_dim);
  } else {
    u32("attention.head_count_kv", m.n_heads);
    u32("attention.key_length", m.qk_head_dim());
    u32("attention.value_length", m.v_head_dim);
  }
  u32("leading_dense_block_count", e.n_leading_dense);
  u32("expert_count", e.n_experts);
  u32("expert_used_count", e.n_experts_used);
  u32("expert_shared_count", e.n_shared);
  u32("expert_feed_forward_length", e.expert_ff);
  u32("expert_group_count", e.n_groups);
  u32("expert_group_used_count", e.n_groups_used);
  u32("expert_gating_func", static_cast<int>(e.gating));
  f32("expert_weights_scale", e.weights_scale);
  w->SetValue(a + "expert_weights_norm", io::GgufValue::Bool(e.weights_norm));
  if (c.has_indexer()) {
    u32("attention.indexer.head_count", c.indexer.n_heads);
    u32("attention.indexer.key_length", c.indexer.head_dim);
    u32("attention.indexer.top_k", c.indexer.top_k);
  }
  if (c.rope.scaling == RopeScalingType::kYarn) {
    w->SetValue(a + "rope.scaling.type", io::GgufValue::String("yarn"));
    f32("rope.scaling.factor", c.rope.factor);
    u32("rope.scaling.original_context_length", c.rope.original_context_length);
    f32("rope.scaling.yarn_log_multiplier", c.rope.yarn_log_multiplier);
    f32("rope.scaling.yarn_beta_fast", c.rope.beta_fast);
    f32("rope.scaling.yarn_beta_slow", c.rope.beta_slow);
  }
}

}  // namespace frugal::model
