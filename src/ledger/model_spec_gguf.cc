#include "ledger/model_spec_gguf.h"

namespace frugal::ledger {
namespace {

// A positive integer key of the architecture.
StatusOr<int> Positive(const io::GgufFile& f, const std::string& arch, const std::string& key) {
  const StatusOr<int64_t> v = f.GetInt(arch + "." + key);
  if (!v.ok()) return DataLoss("{}: {}", f.name(), v.status().message());
  if (*v < 1 || *v > (int64_t{1} << 30)) return DataLoss("{}: {}.{} = {} is out of range", f.name(), arch, key, *v);
  return static_cast<int>(*v);
}

StatusOr<int> NonNegative(const io::GgufFile& f, const std::string& arch, const std::string& key) {
  if (!f.Has(arch + "." + key)) return 0;
  const StatusOr<int64_t> v = f.GetInt(arch + "." + key);
  if (!v.ok()) return DataLoss("{}: {}", f.name(), v.status().message());
  if (*v < 0 || *v > (int64_t{1} << 30)) return DataLoss("{}: {}.{} = {} is out of range", f.name(), arch, key, *v);
  return static_cast<int>(*v);
}

bool IsRoutedExpert(const std::string& name) {
  return name.find("_exps.") != std::string::npos;
}

}  // namespace

bool PlannedFromKeys(const std::string& architecture) {
  return architecture == "deepseek32" || architecture == "deepseek4";
}

StatusOr<ModelSpec> SpecFromKeys(const std::string& name, const io::GgufFile& f) {
  FRUGAL_ASSIGN_OR_RETURN(const std::string arch, f.GetString("general.architecture"));
  if (!PlannedFromKeys(arch)) return MakeStatus(StatusCode::kUnimplemented, "{}: architecture '{}' is not deepseek32 or deepseek4", name, arch);
  ModelSpec s;
  s.name = name;
  FRUGAL_ASSIGN_OR_RETURN(s.n_layers, Positive(f, arch, "block_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.hidden, Positive(f, arch, "embedding_length"));
  FRUGAL_ASSIGN_OR_RETURN(s.n_heads, Positive(f, arch, "attention.head_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.context_max, Positive(f, arch, "context_length"));
  FRUGAL_ASSIGN_OR_RETURN(s.n_experts, Positive(f, arch, "expert_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.top_k, Positive(f, arch, "expert_used_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.n_shared, NonNegative(f, arch, "expert_shared_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.moe_ff, Positive(f, arch, "expert_feed_forward_length"));
  FRUGAL_ASSIGN_OR_RETURN(s.qk_rope, Positive(f, arch, "rope.dimension_count"));
  FRUGAL_ASSIGN_OR_RETURN(s.index_head_dim, Positive(f, arch, "attention.indexer.key_length"));
  if (arch == "deepseek32") {
    // MLA as deepseek2 (the *_mla key lengths: per head K = nope + rope, V), plus the indexer key.
    s.cache = CacheKind::kMlaDsa;
    FRUGAL_ASSIGN_OR_RETURN(s.kv_lora, Positive(f, arch, "attention.kv_lora_rank"));
    FRUGAL_ASSIGN_OR_RETURN(const int k_mla, Positive(f, arch, "attention.key_length_mla"));
    FRUGAL_ASSIGN_OR_RETURN(s.v_head, Positive(f, arch, "attention.value_length_mla"));
    if (k_mla <= s.qk_rope) return DataLoss("{}: key_length_mla {} is not above the rope dims {}", name, k_mla, s.qk_rope);
    s.qk_nope = k_mla - s.qk_rope;
    FRUGAL_ASSIGN_OR_RETURN(const int dense, NonNegative(f, arch, "leading_dense_block_count"));
    if (dense > s.n_layers) return DataLoss("{}: {} leading dense layers of {}", name, dense, s.n_layers);
    s.moe_layers = s.n_layers - dense;
  } else {
    // V4: one shared K=V head per token; each layer's compression ratio (0: window only).
    s.cache = CacheKind::kV4;
    FRUGAL_ASSIGN_OR_RETURN(s.v4_head_dim, Positive(f, arch, "attention.key_length"));
    FRUGAL_ASSIGN_OR_RETURN(s.window, Positive(f, arch, "attention.sliding_window"));
    FRUGAL_ASSIGN_OR_RETURN(const std::vector<int64_t> ratios, f.GetIntArray(arch + ".attention.compress_ratios"));
    if (ratios.size() < static_cast<size_t>(s.n_layers)) {
      return DataLoss("{}: {} compression ratios for {} layers", name, ratios.size(), s.n_layers);
    }
    for (int l = 0; l < s.n_layers; ++l) {  // entries past the layers belong to the MTP block
      const int64_t r = ratios[static_cast<size_t>(l)];
      if (r == 4) ++s.csa_layers;
      else if (r == 128) ++s.hca_layers;
      else if (r != 0) return DataLoss("{}: layer {} has compression ratio {} (frugal knows 0, 4 and 128)", name, l, r);
    }
    s.moe_layers = s.n_layers;
  }
  // Bytes and parameters from the tensor table; a token reads the non-expert tensors and top_k of
  // each layer's routed experts (the embedding: one row; not subtracted here, a small overcount).
  double params = 0, expert_params = 0;
  uint64_t bytes = 0, expert_bytes = 0;
  for (const io::GgufTensorInfo& t : f.tensors()) {
    params += static_cast<double>(t.shape.elements());
    bytes += t.n_bytes;
    if (IsRoutedExpert(t.name)) {
      expert_params += static_cast<double>(t.shape.elements());
      expert_bytes += t.n_bytes;
    }
  }
  const double used = static_cast<double>(s.top_k) / s.n_experts;
  s.total_params = params;
  s.active_params = params - expert_params * (1 - used);
  s.file_bytes = bytes;
  s.file_expert_bytes = expert_bytes;
  s.file_active_bytes = static_cast<uint64_t>(static_cast<double>(bytes - expert_bytes) + static_cast<double>(expert_bytes) * used);
  return s;
}

std::vector<LayerKindKv> KvByLayerKind(const ModelSpec& s) {
  const double key16 = 2.0 * s.index_head_dim;
  if (s.cache == CacheKind::kV4) {
    const double row16 = 2.0 * s.v4_head_dim;
    const int window_only = s.n_layers - s.csa_layers - s.hca_layers;
    // Every layer keeps its last `window` rows; CSA adds a row (and an index key) per 4 tokens,
    // HCA a row per 128.
    return {{"window only", window_only, 0, window_only * s.window * row16},
            {"CSA (ratio 4, indexer)", s.csa_layers, s.csa_layers * (row16 + key16) / 4, s.csa_layers * s.window * row16},
            {"HCA (ratio 128)", s.hca_layers, s.hca_layers * row16 / 128, s.hca_layers * s.window * row16}};
  }
  const double latent16 = 2.0 * (s.kv_lora + s.qk_rope);
  if (s.cache == CacheKind::kMlaDsa) return {{"MLA latent + indexer key", s.n_layers, s.n_layers * (latent16 + key16), 0}};
  return {{"MLA latent", s.n_layers, s.n_layers * latent16, 0}};
}

}  // namespace frugal::ledger
