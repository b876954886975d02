#include "model/footprint.h"

#include <algorithm>

#include "model/tensor_layout.h"

namespace frugal::model {

std::vector<TensorEntry> TensorEntriesOf(const io::GgufFile& file) {
  std::vector<TensorEntry> out;
  for (const io::GgufTensorInfo& t : file.tensors()) {
    out.push_back({t.name, t.type, t.shape.elements(), t.n_bytes});
  }
  return out;
}

namespace {
// Layer index of "blk.N....", or -1.
int LayerOf(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int layer = 0;
  for (size_t i = 4; i < name.size() && name[i] != '.'; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    layer = layer * 10 + (name[i] - '0');
    if (layer > 1 << 20) return -1;
  }
  return layer;
}
}  // namespace

Footprint ComputeFootprint(const ModelConfig& c, const std::vector<TensorEntry>& tensors) {
  Footprint f;
  std::map<int, uint64_t> expert_bytes_by_layer;
  for (const TensorEntry& t : tensors) {
    const TensorRole role = RoleOfTensorName(t.name);
    f.total_bytes += t.bytes;
    f.total_params += t.elements;
    TypeTotals& tt = f.by_type[std::string(TypeName(t.type))];
    ++tt.tensors;
    tt.elements += t.elements;
    tt.bytes += t.bytes;
    f.by_role[TensorRoleName(role)] += t.bytes;
    const int layer = LayerOf(t.name);
    const bool in_model = layer < c.n_layers;  // MTP layers are not part of a decode step
    switch (role) {
      case TensorRole::kEmbedding:
        f.embedding_row_bytes = t.bytes / std::max(1, c.vocab_size);
        break;
      case TensorRole::kRoutedExpert:
        f.routed_expert_bytes += t.bytes;
        f.routed_expert_params += t.elements;
        if (in_model) expert_bytes_by_layer[layer] += t.bytes;
        break;
      case TensorRole::kOther:
        break;
      default:
        if (in_model) {
          f.every_token_bytes += t.bytes;
          f.active_params_per_token += t.elements;
        }
    }
  }
  const int n_exp = std::max(1, c.moe.n_experts);
  uint64_t routed_active = 0;
  for (const auto& [layer, bytes] : expert_bytes_by_layer) {
    f.bytes_per_expert = std::max(f.bytes_per_expert, bytes / n_exp);
    routed_active += bytes / n_exp * static_cast<uint64_t>(c.moe.n_experts_used);
  }
  f.n_expert_lockers = static_cast<uint64_t>(c.n_moe_layers()) * static_cast<uint64_t>(c.moe.n_experts);
  f.active_bytes_per_token = f.every_token_bytes + f.embedding_row_bytes + routed_active;
  const uint64_t expert_params = 3ull * c.hidden * c.moe.expert_ff;
  f.active_params_per_token += static_cast<uint64_t>(c.hidden) +
                               expert_params * c.moe.n_experts_used * c.n_moe_layers();
  const uint64_t layers = static_cast<uint64_t>(c.n_layers);
  // V3.2 also caches its indexer's key per token per layer.
  f.kv_latent_bytes_per_token = layers * (c.mla.latent_width() + (c.has_indexer() ? c.indexer.head_dim : 0)) * 2;
  f.kv_mha_bytes_per_token = layers * c.mla.n_heads * (c.mla.qk_head_dim() + c.mla.v_head_dim) * 2;
  return f;
}

}  // namespace frugal::model
