#include "model/tensor_layout.h"

#include <fmt/format.h>

namespace frugal::model {
namespace {

TensorShape Shape(std::initializer_list<int64_t> dims) {
  TensorShape s;
  for (int64_t d : dims) s.ne[s.n_dims++] = static_cast<uint64_t>(d);
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void AddAttention(const ModelConfig& c, int l, std::vector<TensorSpec>* out) {
  const MlaConfig& m = c.mla;
  const int64_t h = c.hidden, nh = m.n_heads;
  auto add = [&](const char* base, TensorShape shape, TensorRole role) {
    out->push_back({LayerTensorName(l, base), shape, role, l});
  };
  add("attn_norm", Shape({h}), TensorRole::kNorm);
  if (m.q_lora_rank > 0) {
    add("attn_q_a_norm", Shape({m.q_lora_rank}), TensorRole::kNorm);
    add("attn_q_a", Shape({h, m.q_lora_rank}), TensorRole::kAttention);
    add("attn_q_b", Shape({m.q_lora_rank, nh * m.qk_head_dim()}), TensorRole::kAttention);
  } else {
    add("attn_q", Shape({h, nh * m.qk_head_dim()}), TensorRole::kAttention);
  }
  add("attn_kv_a_norm", Shape({m.kv_lora_rank}), TensorRole::kNorm);
  add("attn_kv_a_mqa", Shape({h, m.latent_width()}), TensorRole::kAttention);
  if (m.kv_b_layout == KvBLayout::kSplit) {
    add("attn_k_b", Shape({m.qk_nope_head_dim, m.kv_lora_rank, nh}), TensorRole::kAttention);
    add("attn_v_b", Shape({m.kv_lora_rank, m.v_head_dim, nh}), TensorRole::kAttention);
  } else {
    add("attn_kv_b", Shape({m.kv_lora_rank, nh * (m.qk_nope_head_dim + m.v_head_dim)}), TensorRole::kAttention);
  }
  add("attn_output", Shape({nh * m.v_head_dim, h}), TensorRole::kAttention);
  if (c.has_indexer()) {  // V3.2's lightning indexer
    const IndexerConfig& x = c.indexer;
    out->push_back({LayerTensorName(l, "indexer.k_norm"), Shape({x.head_dim}), TensorRole::kNorm, l});
    out->push_back({LayerTensorName(l, "indexer.k_norm", "bias"), Shape({x.head_dim}), TensorRole::kNorm, l});
    add("indexer.proj", Shape({h, x.n_heads}), TensorRole::kAttention);
    add("indexer.attn_k", Shape({h, x.head_dim}), TensorRole::kAttention);
    add("indexer.attn_q_b", Shape({m.q_lora_rank, int64_t{x.n_heads} * x.head_dim}), TensorRole::kAttention);
  }
}

// The routed experts (and shared ones) of MoE layer l.
void AddExperts(const ModelConfig& c, int l, std::vector<TensorSpec>* out) {
  const MoeConfig& e = c.moe;
  const int64_t h = c.hidden, f = e.expert_ff, n = e.n_experts;
  auto add = [&](const char* base, TensorShape shape, TensorRole role) { out->push_back({LayerTensorName(l, base), shape, role, l}); };
  add("ffn_gate_exps", Shape({h, f, n}), TensorRole::kRoutedExpert);
  add("ffn_up_exps", Shape({h, f, n}), TensorRole::kRoutedExpert);
  add("ffn_down_exps", Shape({f, h, n}), TensorRole::kRoutedExpert);
  if (e.n_shared > 0) {
    add("ffn_gate_shexp", Shape({h, f * e.n_shared}), TensorRole::kSharedExpert);
    add("ffn_up_shexp", Shape({h, f * e.n_shared}), TensorRole::kSharedExpert);
    add("ffn_down_shexp", Shape({f * e.n_shared, h}), TensorRole::kSharedExpert);
  }
}

void AddFfn(const ModelConfig& c, int l, std::vector<TensorSpec>* out) {
  const MoeConfig& e = c.moe;
  const int64_t h = c.hidden;
  auto add = [&](const char* base, TensorShape shape, TensorRole role, const char* suffix = "weight") {
    out->push_back({LayerTensorName(l, base, suffix), shape, role, l});
  };
  add("ffn_norm", Shape({h}), TensorRole::kNorm);
  if (!c.IsMoeLayer(l)) {
    add("ffn_gate", Shape({h, e.dense_ff}), TensorRole::kDenseFfn);
    add("ffn_up", Shape({h, e.dense_ff}), TensorRole::kDenseFfn);
    add("ffn_down", Shape({e.dense_ff, h}), TensorRole::kDenseFfn);
    return;
  }
  const int64_t n = e.n_experts;
  add("ffn_gate_inp", Shape({h, n}), TensorRole::kRouter);
  if (e.has_bias) add("exp_probs_b", Shape({n}), TensorRole::kRouter, "bias");
  AddExperts(c, l, out);
}

// deepseek4 (llama.cpp's names; ../shared/reference/deepseek-architectures.md §6).
void AddV4Layer(const ModelConfig& c, int l, std::vector<TensorSpec>* out) {
  const MlaConfig& m = c.mla;
  const CompressedAttentionConfig& v = c.v4;
  const MoeConfig& e = c.moe;
  const int64_t h = c.hidden, nh = m.n_heads, hd = v.head_dim, g = v.output_groups;
  const int64_t mix = (2 + int64_t{c.hc.n_streams}) * c.hc.n_streams, hc_dim = int64_t{c.hc.n_streams} * h;
  auto add = [&](const char* base, TensorShape shape, TensorRole role, const char* suffix = "weight") {
    out->push_back({LayerTensorName(l, base, suffix), shape, role, l});
  };
  add("attn_norm", Shape({h}), TensorRole::kNorm);
  add("attn_sinks", Shape({nh}), TensorRole::kAttention);
  add("attn_q_a", Shape({h, m.q_lora_rank}), TensorRole::kAttention);
  add("attn_q_a_norm", Shape({m.q_lora_rank}), TensorRole::kNorm);
  add("attn_q_b", Shape({m.q_lora_rank, nh * hd}), TensorRole::kAttention);
  add("attn_kv", Shape({h, hd}), TensorRole::kAttention);
  add("attn_kv_a_norm", Shape({hd}), TensorRole::kNorm);
  add("attn_output_a", Shape({nh * hd / g, g * v.output_lora_rank}), TensorRole::kAttention);
  add("attn_output_b", Shape({g * v.output_lora_rank, h}), TensorRole::kAttention);
  for (const char* part : {"attn", "ffn"}) {
    const std::string p = fmt::format("hc_{}_", part);
    add((p + "fn").c_str(), Shape({hc_dim, mix}), TensorRole::kHyperConnection);
    add((p + "base").c_str(), Shape({mix}), TensorRole::kHyperConnection);
    add((p + "scale").c_str(), Shape({3}), TensorRole::kHyperConnection);
  }
  const int ratio = v.compress_ratios[static_cast<size_t>(l)];
  if (ratio != 0) {
    const int64_t coff = ratio == 4 ? 2 : 1;
    add("attn_compressor_kv", Shape({h, coff * hd}), TensorRole::kAttention);
    add("attn_compressor_gate", Shape({h, coff * hd}), TensorRole::kAttention);
    add("attn_compressor_ape", Shape({coff * hd, ratio}), TensorRole::kAttention);
    add("attn_compressor_norm", Shape({hd}), TensorRole::kNorm);
  }
  if (ratio == 4) {
    const IndexerConfig& x = c.indexer;
    add("indexer.proj", Shape({h, x.n_heads}), TensorRole::kAttention);
    add("indexer.attn_q_b", Shape({m.q_lora_rank, int64_t{x.n_heads} * x.head_dim}), TensorRole::kAttention);
    add("indexer_compressor_kv", Shape({h, 2 * int64_t{x.head_dim}}), TensorRole::kAttention);
    add("indexer_compressor_gate", Shape({h, 2 * int64_t{x.head_dim}}), TensorRole::kAttention);
    add("indexer_compressor_ape", Shape({2 * int64_t{x.head_dim}, 4}), TensorRole::kAttention);
    add("indexer_compressor_norm", Shape({x.head_dim}), TensorRole::kNorm);
  }
  const int64_t n = e.n_experts;
  add("ffn_norm", Shape({h}), TensorRole::kNorm);
  add("ffn_gate_inp", Shape({h, n}), TensorRole::kRouter);
  if (l < e.n_hash_layers) {
    add("ffn_gate_tid2eid", Shape({e.n_experts_used, c.vocab_size}), TensorRole::kRouter);
  } else {
    add("exp_probs_b", Shape({n}), TensorRole::kRouter, "bias");
  }
  AddExperts(c, l, out);
}

std::string ConfigSummary(const ModelConfig& c) {
  const MlaConfig& m = c.mla;
  return fmt::format("hidden {}, heads {}, q_lora {}, kv_lora {}, nope {}, rope {}, v {}, experts {}, "
                     "expert ff {}, shared {}, dense ff {}, vocab {}",
                     c.hidden, m.n_heads, m.q_lora_rank, m.kv_lora_rank, m.qk_nope_head_dim,
                     m.qk_rope_head_dim, m.v_head_dim, c.moe.n_experts, c.moe.expert_ff,
                     c.moe.n_shared, c.moe.dense_ff, c.vocab_size);
}

}  // namespace

const char* TensorRoleName(TensorRole role) {
  switch (role) {
    case TensorRole::kEmbedding: return "embedding";
    case TensorRole::kNorm: return "norm";
    case TensorRole::kAttention: return "attention";
    case TensorRole::kDenseFfn: return "dense_ffn";
    case TensorRole::kRouter: return "router";
    case TensorRole::kSharedExpert: return "shared_expert";
    case TensorRole::kRoutedExpert: return "routed_expert";
    case TensorRole::kOutput: return "output";
    case TensorRole::kHyperConnection: return "hyper_connection";
    case TensorRole::kOther: return "other";
  }
  return "?";
}

std::string LayerTensorName(int layer, const std::string& base, const std::string& suffix) {
  return fmt::format("blk.{}.{}.{}", layer, base, suffix);
}

TensorRole RoleOfTensorName(const std::string& name) {
  if (name == "token_embd.weight") return TensorRole::kEmbedding;
  if (name == "output.weight") return TensorRole::kOutput;
  if (EndsWith(name, "norm.weight")) return TensorRole::kNorm;
  if (name.find(".nextn.") != std::string::npos) return TensorRole::kOther;
  if (EndsWith(name, "_exps.weight")) return TensorRole::kRoutedExpert;
  if (EndsWith(name, "_shexp.weight")) return TensorRole::kSharedExpert;
  if (EndsWith(name, "ffn_gate_inp.weight") || EndsWith(name, "exp_probs_b.bias") || EndsWith(name, "ffn_gate_tid2eid.weight")) {
    return TensorRole::kRouter;
  }
  if (name.find("hc_") != std::string::npos) return TensorRole::kHyperConnection;
  if (name.find(".attn_") != std::string::npos || name.find(".indexer") != std::string::npos) return TensorRole::kAttention;
  if (EndsWith(name, "ffn_gate.weight") || EndsWith(name, "ffn_up.weight") || EndsWith(name, "ffn_down.weight")) {
    return TensorRole::kDenseFfn;
  }
  return TensorRole::kOther;
}

std::vector<TensorSpec> ExpectedTensors(const ModelConfig& c) {
  std::vector<TensorSpec> out;
  const int64_t h = c.hidden, v = c.vocab_size;
  out.push_back({"token_embd.weight", Shape({h, v}), TensorRole::kEmbedding});
  out.push_back({"output_norm.weight", Shape({h}), TensorRole::kNorm});
  out.push_back({"output.weight", Shape({h, v}), TensorRole::kOutput});
  if (c.is_v4()) {
    const int64_t n = c.hc.n_streams;
    out.push_back({"output_hc_fn.weight", Shape({n * h, n}), TensorRole::kHyperConnection});
    out.push_back({"output_hc_base.weight", Shape({n}), TensorRole::kHyperConnection});
    out.push_back({"output_hc_scale.weight", Shape({1}), TensorRole::kHyperConnection});
    for (int l = 0; l < c.n_layers; ++l) AddV4Layer(c, l, &out);
    return out;
  }
  for (int l = 0; l < c.n_layers; ++l) {
    AddAttention(c, l, &out);
    AddFfn(c, l, &out);
  }
  return out;
}

std::string FormatShape(const TensorShape& s) {
  std::string out = "[";
  for (int d = 0; d < s.n_dims; ++d) out += fmt::format("{}{}", d ? ", " : "", s.ne[d]);
  return out + "]";
}

Status CheckTensorsMatchConfig(const ModelConfig& c, const io::GgufFile& file) {
  for (const TensorSpec& spec : ExpectedTensors(c)) {
    const io::GgufTensorInfo* t = file.FindTensor(spec.name);
    if (t == nullptr) {
      if (spec.role == TensorRole::kRoutedExpert || spec.role == TensorRole::kRouter) {
        return DataLoss("tensor '{}' is missing: layer {} is a MoE layer (leading_dense_block_count = {}, "
                        "expert_count = {}) but lacks its expert tensors",
                        spec.name, spec.layer, c.moe.n_leading_dense, c.moe.n_experts);
      }
      return DataLoss("tensor '{}' is missing", spec.name);
    }
    if (!(t->shape == spec.shape)) {
      return DataLoss("tensor '{}' has shape {} but the hyperparameters ({}) imply {}; the file's "
                      "keys disagree with its tensors",
                      spec.name, FormatShape(t->shape), ConfigSummary(c), FormatShape(spec.shape));
    }
  }
  return OkStatus();
}

}  // namespace frugal::model
