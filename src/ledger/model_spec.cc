#include "ledger/model_spec.h"

#include <algorithm>

namespace frugal::ledger {
namespace {

// An MLA model of the V2/V3 line; `total_b` / `active_b`: published parameter counts (billions).
ModelSpec Mla(const char* name, int layers, int hidden, int heads, int dense_layers, int experts, int top_k, int shared,
              int moe_ff, int context, double total_b, double active_b) {
  ModelSpec s;
  s.name = name;
  s.cache = CacheKind::kMla;
  s.n_layers = layers;
  s.hidden = hidden;
  s.n_heads = heads;
  s.kv_lora = 512;
  s.qk_nope = 128;
  s.qk_rope = 64;
  s.v_head = 128;
  s.context_max = context;
  s.moe_layers = layers - dense_layers;
  s.n_experts = experts;
  s.top_k = top_k;
  s.n_shared = shared;
  s.moe_ff = moe_ff;
  s.total_params = total_b * 1e9;
  s.active_params = active_b * 1e9;
  return s;
}

ModelSpec V4(const char* name, int layers, int hidden, int heads, int csa, int hca, int experts, int moe_ff, double total_b,
             double active_b) {
  ModelSpec s;
  s.name = name;
  s.cache = CacheKind::kV4;
  s.n_layers = layers;
  s.hidden = hidden;
  s.n_heads = heads;
  s.v4_head_dim = 512;
  s.qk_rope = 64;
  s.index_head_dim = 128;
  s.csa_layers = csa;
  s.hca_layers = hca;
  s.window = 128;
  s.context_max = 1048576;
  s.moe_layers = layers;  // every V4 layer is MoE
  s.n_experts = experts;
  s.top_k = 6;
  s.n_shared = 1;
  s.moe_ff = moe_ff;
  s.total_params = total_b * 1e9;
  s.active_params = active_b * 1e9;
  return s;
}

}  // namespace

std::vector<std::string> BuiltinModelNames() {
  return {"deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "deepseek-r1", "kimi-k2", "deepseek-v3.2", "deepseek-v4-flash",
          "deepseek-v4-pro"};
}

StatusOr<ModelSpec> BuiltinModel(const std::string& name) {
  // Reference §0 (V2-Lite … K2, V3.2) and §6.2 (V4); parameter counts as published (K2's 1T/32B
  // is marked unverified there).
  if (name == "deepseek-v2-lite") return Mla("deepseek-v2-lite", 27, 2048, 16, 1, 64, 6, 2, 1408, 163840, 15.7, 2.4);
  if (name == "deepseek-v2") return Mla("deepseek-v2", 60, 5120, 128, 1, 160, 6, 2, 1536, 163840, 236, 21);
  if (name == "deepseek-v3") return Mla("deepseek-v3", 61, 7168, 128, 3, 256, 8, 1, 2048, 163840, 671, 37);
  if (name == "deepseek-r1") return Mla("deepseek-r1", 61, 7168, 128, 3, 256, 8, 1, 2048, 163840, 671, 37);
  if (name == "kimi-k2") return Mla("kimi-k2", 61, 7168, 64, 1, 384, 8, 1, 2048, 262144, 1000, 32);
  if (name == "deepseek-v3.2") {
    ModelSpec s = Mla("deepseek-v3.2", 61, 7168, 128, 3, 256, 8, 1, 2048, 163840, 671, 37);
    s.cache = CacheKind::kMlaDsa;
    s.index_head_dim = 128;
    return s;
  }
  // Flash: 43 layers, 2 window-only, 21 CSA (ratio 4), 20 HCA (ratio 128); Pro: 30 CSA, 31 HCA.
  if (name == "deepseek-v4-flash") return V4("deepseek-v4-flash", 43, 4096, 64, 21, 20, 256, 2048, 284, 13);
  if (name == "deepseek-v4-pro") return V4("deepseek-v4-pro", 61, 7168, 128, 30, 31, 384, 3072, 1600, 49);
  std::string names;
  for (const std::string& n : BuiltinModelNames()) names += (names.empty() ? "" : ", ") + n;
  return InvalidArgument("unknown model '{}': a GGUF file or one of {}", name, names);
}

ModelSpec SpecFromFile(const std::string& name, const model::ModelConfig& config, const model::Footprint& footprint) {
  ModelSpec s;
  s.name = name;
  s.cache = CacheKind::kMla;
  s.n_layers = config.n_layers;
  s.hidden = config.hidden;
  s.n_heads = config.mla.n_heads;
  s.kv_lora = config.mla.kv_lora_rank;
  s.qk_nope = config.mla.qk_nope_head_dim;
  s.qk_rope = config.mla.qk_rope_head_dim;
  s.v_head = config.mla.v_head_dim;
  s.context_max = config.context_length;
  s.moe_layers = config.n_moe_layers();
  s.n_experts = config.moe.n_experts;
  s.top_k = config.moe.n_experts_used;
  s.n_shared = config.moe.n_shared;
  s.moe_ff = config.moe.expert_ff;
  s.total_params = static_cast<double>(footprint.total_params);
  s.active_params = static_cast<double>(footprint.active_params_per_token);
  s.file_bytes = footprint.total_bytes;
  s.file_expert_bytes = footprint.routed_expert_bytes;
  s.file_active_bytes = footprint.active_bytes_per_token;
  return s;
}

}  // namespace frugal::ledger
