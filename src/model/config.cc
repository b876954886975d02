#include "model/config.h"

#include "model/tensor_layout.h"

namespace frugal::model {
namespace {

// Limits well above any released model, so hostile files cannot size huge arrays from a key.
constexpr int kMaxLayers = 1024;
constexpr int kMaxHeads = 1024;
constexpr int kMaxDim = 1 << 20;
constexpr int kMaxExperts = 4096;
constexpr int kMaxVocab = 1 << 24;

class KeyReader {
 public:
  KeyReader(const io::GgufFile& file, std::string arch) : file_(file), prefix_(arch + ".") {}

  Status Int(const std::string& key, int* out) {
    auto v = file_.GetInt(prefix_ + key);
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > INT32_MAX) return DataLoss("key '{}{}' = {} is out of range", prefix_, key, *v);
    *out = static_cast<int>(*v);
    return OkStatus();
  }
  // Absent keys keep *out unchanged.
  Status OptionalInt(const std::string& key, int* out) {
    return file_.Has(prefix_ + key) ? Int(key, out) : OkStatus();
  }
  Status OptionalFloat(const std::string& key, double* out) {
    if (!file_.Has(prefix_ + key)) return OkStatus();
    FRUGAL_ASSIGN_OR_RETURN(*out, file_.GetFloat(prefix_ + key));
    return OkStatus();
  }
  Status OptionalBool(const std::string& key, bool* out) {
    if (!file_.Has(prefix_ + key)) return OkStatus();
    FRUGAL_ASSIGN_OR_RETURN(*out, file_.GetBool(prefix_ + key));
    return OkStatus();
  }
  bool Has(const std::string& key) const { return file_.Has(prefix_ + key); }

 private:
  const io::GgufFile& file_;
  std::string prefix_;
};

Status ReadMlaKeys(KeyReader& k, const io::GgufFile& file, MlaConfig* mla) {
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.head_count", &mla->n_heads));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("attention.q_lora_rank", &mla->q_lora_rank));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.kv_lora_rank", &mla->kv_lora_rank));
  FRUGAL_RETURN_IF_ERROR(k.Int("rope.dimension_count", &mla->qk_rope_head_dim));
  int key_length = 0, value_length = 0;
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.key_length", &key_length));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.value_length", &value_length));
  if (k.Has("attention.key_length_mla")) {
    // Split-MLA conversions: key/value_length describe the latent cache (kv_lora+rope /
    // kv_lora); the per-head sizes are in the *_mla keys.
    int key_mla = 0, value_mla = 0;
    FRUGAL_RETURN_IF_ERROR(k.Int("attention.key_length_mla", &key_mla));
    FRUGAL_RETURN_IF_ERROR(k.Int("attention.value_length_mla", &value_mla));
    if (key_length != mla->kv_lora_rank + mla->qk_rope_head_dim || value_length != mla->kv_lora_rank) {
      return DataLoss("attention.key_length/value_length = {}/{} but an MLA file must have "
                      "kv_lora_rank+rope = {} and kv_lora_rank = {}",
                      key_length, value_length, mla->kv_lora_rank + mla->qk_rope_head_dim,
                      mla->kv_lora_rank);
    }
    key_length = key_mla;
    value_length = value_mla;
  }
  mla->qk_nope_head_dim = key_length - mla->qk_rope_head_dim;
  mla->v_head_dim = value_length;
  if (mla->qk_nope_head_dim <= 0) {
    return DataLoss("key head size {} is not larger than rope.dimension_count {}", key_length,
                    mla->qk_rope_head_dim);
  }
  const bool split = file.FindTensor("blk.0.attn_k_b.weight") != nullptr;
  const bool legacy = file.FindTensor("blk.0.attn_kv_b.weight") != nullptr;
  if (split == legacy) {
    return DataLoss("layer 0 must have either attn_k_b/attn_v_b or attn_kv_b (found {})",
                    split ? "both" : "neither");
  }
  mla->kv_b_layout = split ? KvBLayout::kSplit : KvBLayout::kLegacy;
  return OkStatus();
}

Status ReadRopeKeys(KeyReader& k, const io::GgufFile& file, const std::string& arch, RopeConfig* rope) {
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("rope.freq_base", &rope->freq_base));
  const std::string type_key = arch + ".rope.scaling.type";
  if (!file.Has(type_key)) return OkStatus();
  FRUGAL_ASSIGN_OR_RETURN(std::string type, file.GetString(type_key));
  if (type == "none") return OkStatus();
  if (type != "yarn") {
    return Unimplemented("rope scaling type '{}' is not supported (frugal knows none and yarn)", type);
  }
  rope->scaling = RopeScalingType::kYarn;
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("rope.scaling.factor", &rope->factor));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("rope.scaling.original_context_length", &rope->original_context_length));
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("rope.scaling.yarn_beta_fast", &rope->beta_fast));
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("rope.scaling.yarn_beta_slow", &rope->beta_slow));
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("rope.scaling.yarn_log_multiplier", &rope->yarn_log_multiplier));
  return OkStatus();
}

Status ReadMoeKeys(KeyReader& k, const io::GgufFile& file, MoeConfig* moe) {
  FRUGAL_RETURN_IF_ERROR(k.Int("feed_forward_length", &moe->dense_ff));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("leading_dense_block_count", &moe->n_leading_dense));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_count", &moe->n_experts));
  if (moe->n_experts == 0) return OkStatus();
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_used_count", &moe->n_experts_used));
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_feed_forward_length", &moe->expert_ff));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_shared_count", &moe->n_shared));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_group_count", &moe->n_groups));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_group_used_count", &moe->n_groups_used));
  // Files that predate these keys are V2: one group.
  if (moe->n_groups == 0) moe->n_groups = 1;
  if (moe->n_groups_used == 0) moe->n_groups_used = moe->n_groups;
  int gating = 1;  // absent: softmax (V2), as llama.cpp assumes
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_gating_func", &gating));
  if (gating != 1 && gating != 2) {
    return Unimplemented("expert_gating_func {} is not supported (1 softmax, 2 sigmoid)", gating);
  }
  moe->gating = static_cast<GatingFunction>(gating);
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("expert_weights_scale", &moe->weights_scale));
  FRUGAL_RETURN_IF_ERROR(k.OptionalBool("expert_weights_norm", &moe->weights_norm));
  moe->has_bias = file.FindTensor(LayerTensorName(moe->n_leading_dense, "exp_probs_b", "bias")) != nullptr;
  return OkStatus();
}

}  // namespace

Status ValidateModelConfig(const ModelConfig& c) {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  const MlaConfig& m = c.mla;
  if (!in(c.n_layers, 1, kMaxLayers)) return DataLoss("block_count {} is out of range 1..{}", c.n_layers, kMaxLayers);
  if (!in(c.hidden, 1, kMaxDim)) return DataLoss("embedding_length {} is out of range", c.hidden);
  if (!in(c.vocab_size, 1, kMaxVocab)) return DataLoss("vocabulary size {} is out of range", c.vocab_size);
  if (!in(m.n_heads, 1, kMaxHeads)) return DataLoss("attention.head_count {} is out of range", m.n_heads);
  if (!in(m.kv_lora_rank, 1, kMaxDim) || !in(m.q_lora_rank, 0, kMaxDim) ||
      !in(m.qk_nope_head_dim, 1, kMaxDim) || !in(m.v_head_dim, 1, kMaxDim)) {
    return DataLoss("MLA sizes out of range: q_lora {}, kv_lora {}, nope {}, v {}", m.q_lora_rank,
                    m.kv_lora_rank, m.qk_nope_head_dim, m.v_head_dim);
  }
  if (!in(m.qk_rope_head_dim, 2, kMaxDim) || m.qk_rope_head_dim % 2 != 0) {
    return DataLoss("rope.dimension_count {} must be even and positive (RoPE rotates pairs)", m.qk_rope_head_dim);
  }
  if (!(c.rms_eps > 0 && c.rms_eps < 1)) return DataLoss("layer_norm_rms_epsilon {} is out of range", c.rms_eps);
  const MoeConfig& e = c.moe;
  if (!in(e.n_leading_dense, 0, c.n_layers)) {
    return DataLoss("leading_dense_block_count {} exceeds block_count {}", e.n_leading_dense, c.n_layers);
  }
  if (e.n_leading_dense > 0 && !in(e.dense_ff, 1, kMaxDim)) return DataLoss("feed_forward_length {} is out of range", e.dense_ff);
  if (e.n_experts == 0) {
    if (e.n_leading_dense != c.n_layers) return DataLoss("expert_count is 0 but not every layer is dense");
    return OkStatus();
  }
  if (!in(e.n_experts, 1, kMaxExperts)) return DataLoss("expert_count {} is out of range", e.n_experts);
  if (!in(e.n_experts_used, 1, e.n_experts)) {
    return DataLoss("expert_used_count {} must be 1..expert_count ({})", e.n_experts_used, e.n_experts);
  }
  if (!in(e.expert_ff, 1, kMaxDim) || !in(e.n_shared, 0, kMaxExperts)) {
    return DataLoss("expert_feed_forward_length {} / expert_shared_count {} out of range", e.expert_ff, e.n_shared);
  }
  if (!in(e.n_groups, 1, e.n_experts) || e.n_experts % e.n_groups != 0 || !in(e.n_groups_used, 1, e.n_groups)) {
    return DataLoss("expert groups {} (using {}) must divide expert_count {}", e.n_groups, e.n_groups_used, e.n_experts);
  }
  if (e.n_groups_used * (e.n_experts / e.n_groups) < e.n_experts_used) {
    return DataLoss("{} groups of {} experts cannot supply expert_used_count {}", e.n_groups_used,
                    e.n_experts / e.n_groups, e.n_experts_used);
  }
  if (c.has_indexer()) {
    const IndexerConfig& x = c.indexer;
    if (!in(x.n_heads, 1, kMaxHeads) || !in(x.head_dim, m.qk_rope_head_dim, m.latent_width()) || !in(x.top_k, 1, 1 << 20)) {
      return DataLoss("indexer sizes out of range: {} heads of {} (rope {} .. latent width {}), top_k {}", x.n_heads,
                      x.head_dim, m.qk_rope_head_dim, m.latent_width(), x.top_k);
    }
  }
  if (c.rope.scaling == RopeScalingType::kYarn && !(c.rope.factor >= 1.0)) {
    return DataLoss("rope.scaling.factor {} must be >= 1 for yarn", c.rope.factor);
  }
  return OkStatus();
}

StatusOr<ModelConfig> LoadModelConfig(const io::GgufFile& file) {
  ModelConfig c;
  FRUGAL_ASSIGN_OR_RETURN(c.architecture, file.GetString("general.architecture"));
  if (c.architecture != "deepseek2" && c.architecture != "deepseek32") {
    return Unimplemented("architecture '{}' is not supported; frugal runs deepseek2 (DeepSeek-V2/V2-Lite/V3/R1, "
                         "Kimi-K2) and deepseek32 (V3.2) files and sizes deepseek4 ones (inspect, plan)",
                         c.architecture);
  }
  if (file.Has("general.name")) {
    FRUGAL_ASSIGN_OR_RETURN(c.name, file.GetString("general.name"));
  }
  KeyReader k(file, c.architecture);
  int block_count = 0;
  FRUGAL_RETURN_IF_ERROR(k.Int("block_count", &block_count));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("nextn_predict_layers", &c.n_nextn_layers));
  c.n_layers = block_count - c.n_nextn_layers;
  FRUGAL_RETURN_IF_ERROR(k.Int("embedding_length", &c.hidden));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("context_length", &c.context_length));
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("attention.layer_norm_rms_epsilon", &c.rms_eps));
  const io::GgufTensorInfo* embd = file.FindTensor("token_embd.weight");
  if (embd == nullptr) return DataLoss("tensor 'token_embd.weight' is missing");
  c.vocab_size = static_cast<int>(std::min<uint64_t>(embd->shape.ne[1], INT32_MAX));
  int vocab_key = c.vocab_size;
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("vocab_size", &vocab_key));
  if (vocab_key != c.vocab_size) {
    return DataLoss("vocab_size key {} disagrees with token_embd.weight rows {}", vocab_key, c.vocab_size);
  }
  FRUGAL_RETURN_IF_ERROR(ReadMlaKeys(k, file, &c.mla));
  FRUGAL_RETURN_IF_ERROR(ReadRopeKeys(k, file, c.architecture, &c.rope));
  FRUGAL_RETURN_IF_ERROR(ReadMoeKeys(k, file, &c.moe));
  if (c.architecture == "deepseek32") {
    FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.head_count", &c.indexer.n_heads));
    FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.key_length", &c.indexer.head_dim));
    FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.top_k", &c.indexer.top_k));
    if (c.mla.q_lora_rank == 0) return DataLoss("deepseek32 needs query compression (attention.q_lora_rank)");
  }
  FRUGAL_RETURN_IF_ERROR(ValidateModelConfig(c));
  FRUGAL_RETURN_IF_ERROR(CheckTensorsMatchConfig(c, file));
  return c;
}

}  // namespace frugal::model
