#include "model/config.h"

#include <algorithm>
#include <cmath>

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


// deepseek4: the MLA fields describe the one shared K=V head (latent_width() = head_dim, so
// generic sizing sees one row per token and layer); window layers rope without YaRN, compressed
// layers with the file's YaRN at compress_rope_freq_base.
Status ReadV4Keys(KeyReader& k, const io::GgufFile& file, ModelConfig* c) {
  MlaConfig& m = c->mla;
  CompressedAttentionConfig& v = c->v4;
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.head_count", &m.n_heads));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.q_lora_rank", &m.q_lora_rank));
  FRUGAL_RETURN_IF_ERROR(k.Int("rope.dimension_count", &m.qk_rope_head_dim));
  int value_length = 0;
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.key_length", &v.head_dim));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.value_length", &value_length));
  if (value_length != v.head_dim) {
    return DataLoss("deepseek4 shares one K=V head, but key_length {} != value_length {}", v.head_dim, value_length);
  }
  if (v.head_dim <= m.qk_rope_head_dim) {
    return DataLoss("key_length {} is not larger than rope.dimension_count {}", v.head_dim, m.qk_rope_head_dim);
  }
  m.kv_lora_rank = m.qk_nope_head_dim = v.head_dim - m.qk_rope_head_dim;
  m.v_head_dim = v.head_dim;
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.sliding_window", &v.window));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.output_group_count", &v.output_groups));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.output_lora_rank", &v.output_lora_rank));
  FRUGAL_ASSIGN_OR_RETURN(const std::vector<int64_t> ratios, file.GetIntArray("deepseek4.attention.compress_ratios"));
  if (ratios.size() < static_cast<size_t>(c->n_layers)) {
    return DataLoss("attention.compress_ratios has {} entries for {} layers", ratios.size(), c->n_layers);
  }
  for (int l = 0; l < c->n_layers; ++l) {  // entries past the layers belong to the MTP block
    const int64_t r = ratios[static_cast<size_t>(l)];
    if (r != 0 && r != 4 && r != 128) {
      return Unimplemented("layer {} has compression ratio {}; frugal knows 0, 4 (CSA) and 128 (HCA)", l, r);
    }
    v.compress_ratios.push_back(static_cast<int>(r));
  }
  RopeConfig rope;
  FRUGAL_RETURN_IF_ERROR(ReadRopeKeys(k, file, c->architecture, &rope));
  c->rope = RopeConfig{.freq_base = rope.freq_base};
  v.compressed_rope = rope;
  FRUGAL_ASSIGN_OR_RETURN(v.compressed_rope.freq_base, file.GetFloat("deepseek4.attention.compress_rope_freq_base"));
  v.compressed_rope.yarn_log_multiplier = 0.0;  // V4 applies no YaRN magnitude factor
  FRUGAL_RETURN_IF_ERROR(k.Int("hyper_connection.count", &c->hc.n_streams));
  FRUGAL_RETURN_IF_ERROR(k.Int("hyper_connection.sinkhorn_iterations", &c->hc.sinkhorn_iterations));
  FRUGAL_ASSIGN_OR_RETURN(c->hc.eps, file.GetFloat("deepseek4.hyper_connection.epsilon"));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.head_count", &c->indexer.n_heads));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.key_length", &c->indexer.head_dim));
  FRUGAL_RETURN_IF_ERROR(k.Int("attention.indexer.top_k", &c->indexer.top_k));
  MoeConfig& e = c->moe;
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_count", &e.n_experts));
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_used_count", &e.n_experts_used));
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_feed_forward_length", &e.expert_ff));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("expert_shared_count", &e.n_shared));
  int gating = 0;
  FRUGAL_RETURN_IF_ERROR(k.Int("expert_gating_func", &gating));
  if (gating != static_cast<int>(GatingFunction::kSqrtSoftplus)) {
    return Unimplemented("deepseek4 with expert_gating_func {} (frugal knows 4, sqrtsoftplus)", gating);
  }
  e.gating = GatingFunction::kSqrtSoftplus;
  FRUGAL_RETURN_IF_ERROR(k.OptionalFloat("expert_weights_scale", &e.weights_scale));
  FRUGAL_RETURN_IF_ERROR(k.OptionalBool("expert_weights_norm", &e.weights_norm));
  FRUGAL_RETURN_IF_ERROR(k.OptionalInt("hash_layer_count", &e.n_hash_layers));
  if (e.n_hash_layers > c->n_layers) return DataLoss("hash_layer_count {} exceeds the {} layers", e.n_hash_layers, c->n_layers);
  if (k.Has("swiglu_clamp_exp")) {
    FRUGAL_ASSIGN_OR_RETURN(const std::vector<double> limits, file.GetFloatArray("deepseek4.swiglu_clamp_exp"));
    for (size_t l = 0; l < limits.size() && l < static_cast<size_t>(c->n_layers); ++l) {
      if (limits[l] != limits[0]) return Unimplemented("swiglu_clamp_exp differs between layers ({} and {})", limits[0], limits[l]);
    }
    if (!limits.empty()) e.swiglu_limit = static_cast<float>(limits[0]);
  }
  e.has_bias = e.n_hash_layers < c->n_layers;
  return OkStatus();
}

Status ValidateV4Config(const ModelConfig& c) {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  const MlaConfig& m = c.mla;
  const CompressedAttentionConfig& v = c.v4;
  if (!in(m.n_heads, 1, kMaxHeads) || !in(m.q_lora_rank, 1, kMaxDim) || !in(v.head_dim, 2, kMaxDim)) {
    return DataLoss("attention sizes out of range: {} heads of {}, q_lora {}", m.n_heads, v.head_dim, m.q_lora_rank);
  }
  if (!in(m.qk_rope_head_dim, 2, v.head_dim - 1) || m.qk_rope_head_dim % 2 != 0) {
    return DataLoss("rope.dimension_count {} must be even, positive and below key_length {}", m.qk_rope_head_dim, v.head_dim);
  }
  if (!in(v.window, 1, 1 << 20)) return DataLoss("attention.sliding_window {} is out of range", v.window);
  // Each sequence holds window × head_dim f32 values per layer: bounded, so that no file can size
  // a huge allocation per request (V4-Flash: 11 MiB).
  if (int64_t{v.window} * v.head_dim * c.n_layers * 4 > (int64_t{1} << 30)) {
    return DataLoss("sliding_window {} × key_length {} × {} layers is over 1 GiB of window state per sequence", v.window,
                    v.head_dim, c.n_layers);
  }
  if (v.compress_ratios.size() != static_cast<size_t>(c.n_layers)) {
    return DataLoss("{} compression ratios for {} layers", v.compress_ratios.size(), c.n_layers);
  }
  for (int r : v.compress_ratios) {
    if (r != 0 && r != 4 && r != 128) return Unimplemented("compression ratio {} (frugal knows 0, 4 and 128)", r);
  }
  if (c.moe.gating != GatingFunction::kSqrtSoftplus) return Unimplemented("deepseek4 routes with sqrt-softplus scores only");
  if (!in(c.moe.n_hash_layers, 0, c.n_layers)) return DataLoss("hash_layer_count {} is out of range", c.moe.n_hash_layers);
  if (!in(v.output_groups, 1, m.n_heads) || m.n_heads % v.output_groups != 0 || !in(v.output_lora_rank, 1, kMaxDim)) {
    return DataLoss("attention.output_group_count {} must divide the {} heads (output_lora_rank {})", v.output_groups, m.n_heads,
                    v.output_lora_rank);
  }
  if (c.hc.n_streams != 4) return Unimplemented("hyper_connection.count {} (frugal knows 4 streams)", c.hc.n_streams);
  if (!in(c.hc.sinkhorn_iterations, 1, 1000) || !(c.hc.eps >= 0 && c.hc.eps < 1)) {
    return DataLoss("hyper_connection sinkhorn_iterations {} / epsilon {} out of range", c.hc.sinkhorn_iterations, c.hc.eps);
  }
  const bool csa = std::find(v.compress_ratios.begin(), v.compress_ratios.end(), 4) != v.compress_ratios.end();
  const IndexerConfig& x = c.indexer;
  if (csa && (!in(x.n_heads, 1, kMaxHeads) || !in(x.head_dim, m.qk_rope_head_dim + 1, kMaxDim) || !in(x.top_k, 1, 1 << 20))) {
    return DataLoss("indexer sizes out of range: {} heads of {} (more than rope {}), top_k {}", x.n_heads, x.head_dim,
                    m.qk_rope_head_dim, x.top_k);
  }
  const MoeConfig& e = c.moe;
  if (!in(e.n_experts, 1, kMaxExperts) || !in(e.n_experts_used, 1, e.n_experts) || !in(e.expert_ff, 1, kMaxDim) ||
      !in(e.n_shared, 0, kMaxExperts)) {
    return DataLoss("experts out of range: {} of {} used, ff {}, shared {}", e.n_experts_used, e.n_experts, e.expert_ff, e.n_shared);
  }
  if (!(e.swiglu_limit >= 0) || !std::isfinite(e.swiglu_limit)) return DataLoss("swiglu_clamp_exp {} is out of range", e.swiglu_limit);
  if (!(c.rms_eps > 0 && c.rms_eps < 1)) return DataLoss("layer_norm_rms_epsilon {} is out of range", c.rms_eps);
  if (v.compressed_rope.scaling == RopeScalingType::kYarn && !(v.compressed_rope.factor >= 1.0)) {
    return DataLoss("rope.scaling.factor {} must be >= 1 for yarn", v.compressed_rope.factor);
  }
  return OkStatus();
}

}  // namespace

Status ValidateModelConfig(const ModelConfig& c) {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  const MlaConfig& m = c.mla;
  if (!in(c.n_layers, 1, kMaxLayers)) return DataLoss("block_count {} is out of range 1..{}", c.n_layers, kMaxLayers);
  if (!in(c.hidden, 1, kMaxDim)) return DataLoss("embedding_length {} is out of range", c.hidden);
  if (!in(c.vocab_size, 1, kMaxVocab)) return DataLoss("vocabulary size {} is out of range", c.vocab_size);
  if (c.is_v4()) return ValidateV4Config(c);
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
  if (c.architecture != "deepseek2" && c.architecture != "deepseek32" && c.architecture != "deepseek4") {
    return Unimplemented("architecture '{}' is not supported; frugal runs deepseek2 (DeepSeek-V2/V2-Lite/V3/R1, "
                         "Kimi-K2), deepseek32 (V3.2) and deepseek4 (V4) files",
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
  if (c.architecture == "deepseek4") {
    FRUGAL_RETURN_IF_ERROR(ReadV4Keys(k, file, &c));
    FRUGAL_RETURN_IF_ERROR(ValidateModelConfig(c));
    FRUGAL_RETURN_IF_ERROR(CheckTensorsMatchConfig(c, file));
    return c;
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
