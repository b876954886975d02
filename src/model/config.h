// Model hyperparameters of a deepseek2-architecture file, grouped by concept and validated
// once (config.cc). Immutable after loading; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "util/status.h"

namespace frugal::model {

// How the per-head key/value up-projection is stored.
enum class KvBLayout {
  kSplit,   // attn_k_b {nope, kv_lora, heads} + attn_v_b {kv_lora, v, heads} (llama.cpp ≥ 2025)
  kLegacy,  // attn_kv_b {kv_lora, heads·(nope+v)} (older conversions)
};

struct MlaConfig {
  int n_heads = 0;
  int q_lora_rank = 0;  // 0: no query compression (attn_q), as in V2-Lite
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  KvBLayout kv_b_layout = KvBLayout::kSplit;

  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  // Cached per token per layer: the normalized latent and the shared roped key.
  int latent_width() const { return kv_lora_rank + qk_rope_head_dim; }
};

enum class RopeScalingType { kNone, kYarn };

struct RopeConfig {
  double freq_base = 10000.0;
  RopeScalingType scaling = RopeScalingType::kNone;
  double factor = 1.0;
  int original_context_length = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double yarn_log_multiplier = 0.0;  // 0.1·mscale_all_dim
};

// Router scores: softmax (V2), sigmoid (V3), sqrt(softplus(·)) (V4); the values are the file's
// expert_gating_func.
enum class GatingFunction { kSoftmax = 1, kSigmoid = 2, kSqrtSoftplus = 4 };

struct MoeConfig {
  int n_leading_dense = 0;  // layers [0, n_leading_dense) use a dense FFN
  int dense_ff = 0;         // feed_forward_length of the dense layers
  int n_experts = 0;        // routed experts per MoE layer (0: no MoE layers)
  int n_experts_used = 0;   // top-k
  int n_shared = 0;
  int expert_ff = 0;
  int n_groups = 1;
  int n_groups_used = 1;
  GatingFunction gating = GatingFunction::kSoftmax;
  double weights_scale = 1.0;
  bool weights_norm = false;
  bool has_bias = false;  // exp_probs_b.bias present: selection-only bias (V3)
  // V4: layers [0, n_hash_layers) pick their experts from a fixed token → experts table
  // (ffn_gate_tid2eid) instead of the scores; the rest use the bias (has_bias then refers to them).
  int n_hash_layers = 0;
  // V4: routed experts' SwiGLU clamp, silu(min(gate, L)) · clamp(up, −L, L); 0: none. DeepSeek's
  // reference leaves the shared expert unclamped, and so does frugal (llama.cpp clamps it too).
  float swiglu_limit = 0.0f;
};

// DeepSeek-V3.2's lightning indexer (DeepSeek Sparse Attention): per layer, each query attends
// only to the top_k cached tokens its indexer scores highest (all while fewer are visible).
// top_k 0: none (deepseek2).
struct IndexerConfig {
  int n_heads = 0;
  int head_dim = 0;  // [rope | nope]: RoPE on the first qk_rope_head_dim values
  int top_k = 0;
};

// DeepSeek-V4's manifold-constrained hyper-connections: the residual stream is n_streams copies
// mixed per sub-layer (../shared/reference/deepseek-architectures.md §6.7). 0 streams: none.
struct HyperConnectionConfig {
  int n_streams = 0;
  int sinkhorn_iterations = 0;
  double eps = 0.0;
};

// DeepSeek-V4's hybrid attention (§6.3): one shared K=V head of head_dim per token, RoPE on its
// last rope dims (mla.qk_rope_head_dim), a sliding window of raw rows, and per layer a
// compression ratio: 0 window only, 4 CSA (overlapping blocks of 4, top-k chosen by the
// indexer), 128 HCA (every complete block of 128). Output through o_groups low-rank projections.
struct CompressedAttentionConfig {
  int head_dim = 0;
  int window = 0;
  int output_groups = 0;
  int output_lora_rank = 0;
  std::vector<int> compress_ratios;  // per layer (the forward pass's layers)
  RopeConfig compressed_rope;        // RoPE of layers with ratio > 0 (ratio-0 layers: `rope`)
};

struct ModelConfig {
  std::string architecture;
  std::string name;
  int n_layers = 0;  // transformer blocks used for the forward pass (MTP layers excluded)
  int n_nextn_layers = 0;  // extra multi-token-prediction blocks stored after them
  int hidden = 0;
  int vocab_size = 0;
  int context_length = 0;
  double rms_eps = 1e-6;
  MlaConfig mla;
  RopeConfig rope;
  MoeConfig moe;
  IndexerConfig indexer;  // V3.2: over tokens, every layer; V4: over CSA layers' compressed blocks
  HyperConnectionConfig hc;
  CompressedAttentionConfig v4;

  bool is_v4() const { return hc.n_streams > 0; }
  bool has_indexer() const { return indexer.top_k > 0 && !is_v4(); }
  // Layers of the paged cache: the MLA rows, then (V3.2) a row per layer holding the indexer's
  // key in its first head_dim values.
  int cache_layers() const { return has_indexer() ? 2 * n_layers : n_layers; }
  bool IsMoeLayer(int layer) const { return moe.n_experts > 0 && layer >= moe.n_leading_dense; }
  int n_moe_layers() const { return moe.n_experts > 0 ? n_layers - moe.n_leading_dense : 0; }
};

// Reads the `deepseek2.*` keys (or `deepseek32.*`: the same plus the indexer's) (../shared/DESIGN.md "Model files"), detects the tensor
// layout variants, validates the values and checks every expected tensor's presence and shape.
// Errors say what is wrong and how to fix it.
StatusOr<ModelConfig> LoadModelConfig(const io::GgufFile& file);
// Range and consistency checks on the values alone (used by LoadModelConfig and the generator).
Status ValidateModelConfig(const ModelConfig& config);

}  // namespace frugal::model
