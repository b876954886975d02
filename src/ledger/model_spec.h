// What the planner needs to know of a model: its attention and cache layout, its experts, and
// its parameter counts. Built-in specs for the DeepSeek family (../shared/reference
// deepseek-architectures.md §0 and §6.2), or one read from a GGUF file's config and tensor table.
// Pure data; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/footprint.h"
#include "util/status.h"

namespace frugal::ledger {

enum class CacheKind {
  kMla,     // V2, V3, Kimi-K2: the latent (kv_lora) + the shared rope key per token per layer
  kMlaDsa,  // V3.2: the MLA latent plus the sparse-attention indexer's key per token per layer
  kV4,      // V4: compressed rows (CSA every 4 tokens with indexer keys, HCA every 128) + windows
};

struct ModelSpec {
  std::string name;
  CacheKind cache = CacheKind::kMla;
  int n_layers = 0;
  int hidden = 0;
  int n_heads = 0;
  int kv_lora = 0;     // MLA latent width
  int qk_nope = 0, qk_rope = 0, v_head = 0;
  int index_head_dim = 0;  // DSA / V4 indexer key width
  // V4: one K=V head of head_dim per token; layers by compression ratio; the sliding window.
  int v4_head_dim = 0, csa_layers = 0, hca_layers = 0, window = 0;
  int context_max = 0;
  // Experts.
  int moe_layers = 0, n_experts = 0, top_k = 0, n_shared = 0, moe_ff = 0;
  // Parameters (without multi-token-prediction layers): all, and those every decoded token
  // reads (attention, norms, dense FFN, router, shared experts, head, and top_k routed experts).
  double total_params = 0, active_params = 0;
  // From a file: its bytes by class (0 for built-ins, which are sized by --weight-type).
  uint64_t file_bytes = 0, file_expert_bytes = 0, file_active_bytes = 0;

  double params_per_expert() const { return 3.0 * hidden * moe_ff; }
  double routed_expert_params() const { return params_per_expert() * n_experts * moe_layers; }
};

// deepseek-v2-lite, deepseek-v2, deepseek-v3, deepseek-r1, kimi-k2, deepseek-v3.2,
// deepseek-v4-flash, deepseek-v4-pro.
std::vector<std::string> BuiltinModelNames();
StatusOr<ModelSpec> BuiltinModel(const std::string& name);
// A deepseek2 GGUF file's spec (MLA cache; bytes from its tensor table).
ModelSpec SpecFromFile(const std::string& name, const model::ModelConfig& config, const model::Footprint& footprint);

}  // namespace frugal::ledger
