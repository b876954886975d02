// Where a model's bytes are and which of them each token touches: the numbers behind
// `frugal inspect`, the expert tiers and the capacity planner. Pure computation; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/config.h"
#include "util/ggml_type.h"

namespace frugal::model {

struct TensorEntry {  // a stored tensor, by name, type and size
  std::string name;
  GgmlType type;
  uint64_t elements;
  uint64_t bytes;
};

struct TypeTotals {
  uint64_t tensors = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;
};

struct Footprint {
  uint64_t total_bytes = 0;
  uint64_t total_params = 0;
  std::map<std::string, TypeTotals> by_type;  // type name -> totals
  std::map<std::string, uint64_t> by_role;    // TensorRoleName -> bytes

  uint64_t embedding_row_bytes = 0;  // one token_embd row (what a token reads of it)
  // Read in full by every token: attention, norms, dense FFN, router, shared experts, head.
  uint64_t every_token_bytes = 0;
  uint64_t routed_expert_bytes = 0;  // all routed experts (the part that can live in a slower tier)
  uint64_t routed_expert_params = 0;
  uint64_t bytes_per_expert = 0;     // gate+up+down of one expert in one layer (largest layer)
  uint64_t n_expert_lockers = 0;     // (layer, expert) pairs
  // every_token + one embedding row + top-k experts in each MoE layer.
  uint64_t active_bytes_per_token = 0;
  uint64_t active_params_per_token = 0;

  // KV cache per token, all layers, at 2 bytes per value (f16/bf16).
  uint64_t kv_latent_bytes_per_token = 0;  // layers × (kv_lora + rope [+ V3.2's index key]): the model's own cache
  uint64_t kv_mha_bytes_per_token = 0;     // layers × heads × (nope + rope + v): standard MHA cache
};

Footprint ComputeFootprint(const ModelConfig& config, const std::vector<TensorEntry>& tensors);
// Entries for the tensors of a file.
std::vector<TensorEntry> TensorEntriesOf(const io::GgufFile& file);

}  // namespace frugal::model
