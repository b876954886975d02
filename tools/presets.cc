#include "tools/presets.h"

namespace frugal::tools {
namespace {

using model::GatingFunction;
using model::ModelConfig;
using model::RopeScalingType;

// DeepSeek-V2-Lite's YaRN: factor 40 over 4096 original positions, mscale_all_dim 0.707.
void SetV2LiteYarn(ModelConfig* c) {
  c->rope.scaling = RopeScalingType::kYarn;
  c->rope.factor = 40;
  c->rope.original_context_length = 4096;
  c->rope.beta_fast = 32;
  c->rope.beta_slow = 1;
  c->rope.yarn_log_multiplier = 0.0707;
  c->context_length = 163840;
}

Preset Tiny() {
  Preset p{"tiny", "unit-test model: ds2-tiny shape, small synthetic vocab, f32", {}, VocabSource::kSynthetic,
           GgmlType::kF32};
  ModelConfig& c = p.config;
  c.architecture = "deepseek2";
  c.name = "frugal-tiny";
  c.n_layers = 3;
  c.hidden = 256;
  c.context_length = 4096;
  c.rms_eps = 1e-6;
  c.mla = {.n_heads = 4, .q_lora_rank = 96, .kv_lora_rank = 64, .qk_nope_head_dim = 32,
           .qk_rope_head_dim = 16, .v_head_dim = 32};
  c.moe = {.n_leading_dense = 1, .dense_ff = 512, .n_experts = 8, .n_experts_used = 2, .n_shared = 1,
           .expert_ff = 256};
  return p;
}

Preset TinyV3Tok() {
  Preset p{"tiny-v3tok", "unit-test model with the real DeepSeek-V3 tokenizer (vocab 129280), f32", {},
           VocabSource::kDeepSeekV3, GgmlType::kF32};
  ModelConfig& c = p.config;
  c.architecture = "deepseek2";
  c.name = "frugal-tiny-v3tok";
  c.n_layers = 2;
  c.hidden = 64;
  c.vocab_size = 129280;
  c.context_length = 4096;
  c.mla = {.n_heads = 2, .q_lora_rank = 32, .kv_lora_rank = 32, .qk_nope_head_dim = 16,
           .qk_rope_head_dim = 16, .v_head_dim = 16};
  c.moe = {.n_leading_dense = 1, .dense_ff = 128, .n_experts = 4, .n_experts_used = 2, .n_shared = 1,
           .expert_ff = 64};
  return p;
}

Preset Mini() {
  Preset p{"mini", "benchmark model: DeepSeek-V2-Lite shape scaled down (~1.0 B parameters), q8_0", {},
           VocabSource::kDeepSeekV3, GgmlType::kQ8_0};
  ModelConfig& c = p.config;
  c.architecture = "deepseek2";
  c.name = "frugal-mini";
  c.n_layers = 8;
  c.hidden = 1024;
  c.vocab_size = 129280;
  c.mla = {.n_heads = 16, .q_lora_rank = 0, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
           .qk_rope_head_dim = 64, .v_head_dim = 128};
  c.moe = {.n_leading_dense = 1, .dense_ff = 5632, .n_experts = 64, .n_experts_used = 6, .n_shared = 2,
           .expert_ff = 512};
  SetV2LiteYarn(&c);
  return p;
}

Preset V3Shaped() {
  Preset p{"v3-shaped", "V3 routing: sigmoid, 8 groups top-4, selection bias, scale 2.5, renormalized; f32",
           {}, VocabSource::kSynthetic, GgmlType::kF32};
  ModelConfig& c = p.config;
  c.architecture = "deepseek2";
  c.name = "frugal-v3-shaped";
  c.n_layers = 4;
  c.hidden = 256;
  c.mla = {.n_heads = 4, .q_lora_rank = 96, .kv_lora_rank = 64, .qk_nope_head_dim = 32,
           .qk_rope_head_dim = 16, .v_head_dim = 32};
  c.moe = {.n_leading_dense = 1, .dense_ff = 512, .n_experts = 32, .n_experts_used = 4, .n_shared = 1,
           .expert_ff = 128, .n_groups = 8, .n_groups_used = 4, .gating = GatingFunction::kSigmoid,
           .weights_scale = 2.5, .weights_norm = true, .has_bias = true};
  // V3's YaRN: factor 40 over 4096, mscale_all_dim 1.0.
  SetV2LiteYarn(&c);
  c.rope.yarn_log_multiplier = 0.1;
  return p;
}

// DeepSeek-V3.2 in small: v3-shaped's MLA and routing, 3 layers, and the lightning indexer
// (16 heads × 64, top 16: sparse from the 17th position on), as the v32-tiny fixture.
Preset V32Tiny() {
  Preset p = V3Shaped();
  p.name = "v32-tiny";
  p.description = "DeepSeek-V3.2 (deepseek32): v3-shaped with 3 layers and a lightning indexer (top 16); f32";
  ModelConfig& c = p.config;
  c.architecture = "deepseek32";
  c.name = "frugal-v32-tiny";
  c.n_layers = 3;
  c.moe.n_experts = 16;
  c.moe.n_groups = 4;
  c.moe.n_groups_used = 2;
  c.moe.expert_ff = 32;
  c.indexer = {.n_heads = 16, .head_dim = 64, .top_k = 16};
  return p;
}

// DeepSeek-V4 (deepseek4) in small, the v4-tiny fixture's shape: 6 layers with compression
// ratios 0, 0, 4, 128, 4, 128; hidden 256, 4 streams; 4 heads on one K=V head of 128 (rope 32),
// window 32, 2 output groups of rank 64; indexer 16 × 64, top 8; 8 experts top 3 + 1 shared,
// sqrt-softplus, hash-routed first 3 layers, clamp 10; f32.
Preset V4Tiny() {
  Preset p{"v4-tiny", "DeepSeek-V4 (deepseek4): 6 layers (window, CSA, HCA), 4 streams, window 32, indexer top 8; f32",
           {}, VocabSource::kSynthetic, GgmlType::kF32};
  ModelConfig& c = p.config;
  c.architecture = "deepseek4";
  c.name = "frugal-v4-tiny";
  c.n_layers = 6;
  c.hidden = 256;
  c.context_length = 1048576;
  c.mla = {.n_heads = 4, .q_lora_rank = 64, .kv_lora_rank = 96, .qk_nope_head_dim = 96, .qk_rope_head_dim = 32, .v_head_dim = 128};
  c.rope = {.freq_base = 10000.0};
  c.v4 = {.head_dim = 128, .window = 32, .output_groups = 2, .output_lora_rank = 64, .compress_ratios = {0, 0, 4, 128, 4, 128},
          .compressed_rope = {.freq_base = 160000.0, .scaling = RopeScalingType::kYarn, .factor = 16.0,
                              .original_context_length = 65536, .beta_fast = 32.0, .beta_slow = 1.0}};
  c.hc = {.n_streams = 4, .sinkhorn_iterations = 20, .eps = 1e-6};
  c.indexer = {.n_heads = 16, .head_dim = 64, .top_k = 8};
  c.moe = {.n_experts = 8, .n_experts_used = 3, .n_shared = 1, .expert_ff = 32, .gating = GatingFunction::kSqrtSoftplus,
           .weights_scale = 1.5, .weights_norm = true, .has_bias = true, .n_hash_layers = 3, .swiglu_limit = 10.0f};
  return p;
}

// DeepSeek-V4-Flash's layer shapes (hidden 4096, 64 heads on one K=V head of 512, rope 64, q_lora
// 1024, window 128, 8 output groups of rank 1024, indexer 64 × 128 top 512, expert ff 2048, top 6
// + 1 shared, 4 streams) in 4 layers (ratios 0, 4, 128, 4; the first hash-routed) with 16 routed
// experts instead of 256 — for speed figures; q8_0 (routed experts: --expert-dtype mxfp4 as the
// real checkpoint's FP4).
Preset V4FlashShaped() {
  Preset p = V4Tiny();
  p.name = "v4-flash-shaped";
  p.description = "DeepSeek-V4-Flash's layer shapes, 4 layers (window, CSA, HCA, CSA), 16 experts top 6; q8_0";
  p.default_dtype = GgmlType::kQ8_0;
  ModelConfig& c = p.config;
  c.name = "frugal-v4-flash-shaped";
  c.n_layers = 4;
  c.hidden = 4096;
  c.mla = {.n_heads = 64, .q_lora_rank = 1024, .kv_lora_rank = 448, .qk_nope_head_dim = 448, .qk_rope_head_dim = 64, .v_head_dim = 512};
  c.v4.head_dim = 512;
  c.v4.window = 128;
  c.v4.output_groups = 8;
  c.v4.output_lora_rank = 1024;
  c.v4.compress_ratios = {0, 4, 128, 4};
  c.indexer = {.n_heads = 64, .head_dim = 128, .top_k = 512};
  c.moe.n_experts = 16;
  c.moe.n_experts_used = 6;
  c.moe.expert_ff = 2048;
  c.moe.n_hash_layers = 1;
  return p;
}

}  // namespace

std::vector<std::string> PresetNames() {
  return {"tiny", "tiny-v3tok", "mini", "v3-shaped", "v32-tiny", "v4-tiny", "v4-flash-shaped"};
}

StatusOr<Preset> FindPreset(const std::string& name) {
  if (name == "tiny") return Tiny();
  if (name == "tiny-v3tok") return TinyV3Tok();
  if (name == "mini") return Mini();
  if (name == "v3-shaped") return V3Shaped();
  if (name == "v32-tiny") return V32Tiny();
  if (name == "v4-tiny") return V4Tiny();
  if (name == "v4-flash-shaped") return V4FlashShaped();
  return InvalidArgument("unknown preset '{}' (choose tiny, tiny-v3tok, mini, v3-shaped, v32-tiny, v4-tiny or v4-flash-shaped)",
                         name);
}

}  // namespace frugal::tools
