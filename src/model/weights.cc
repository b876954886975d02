#include "model/weights.h"

#include <cstring>

#include <fmt/format.h>

#include "kernels/dequantize.h"
#include "model/tensor_layout.h"

namespace frugal::model {
namespace {

class Resolver {
 public:
  explicit Resolver(const io::GgufFile& file) : file_(file) {}

  Status View(const std::string& name, ConstTensorView* out) {
    const io::GgufTensorInfo* t = file_.FindTensor(name);
    if (t == nullptr) return DataLoss("tensor '{}' is missing", name);
    if (!kernels::CanDequantize(t->type)) {
      return Unimplemented("tensor '{}' has type {}, which frugal cannot compute with yet", name, TypeName(t->type));
    }
    FRUGAL_ASSIGN_OR_RETURN(std::span<const std::byte> data, file_.MappedTensorData(*t));
    *out = {data.data(), t->type, t->shape};
    return OkStatus();
  }
  Status Floats(const std::string& name, std::vector<float>* out) {
    ConstTensorView v;
    FRUGAL_RETURN_IF_ERROR(View(name, &v));
    out->resize(v.shape.elements());
    for (uint64_t r = 0; r < v.shape.rows(); ++r) {
      kernels::DequantizeRow(v.type, v.row(r), out->data() + r * v.shape.ne[0], static_cast<int64_t>(v.shape.ne[0]));
    }
    return OkStatus();
  }
  // An I32 tensor's values.
  Status Ints(const std::string& name, std::vector<int32_t>* out) {
    const io::GgufTensorInfo* t = file_.FindTensor(name);
    if (t == nullptr) return DataLoss("tensor '{}' is missing", name);
    if (t->type != GgmlType::kI32) return DataLoss("tensor '{}' has type {}, not i32", name, TypeName(t->type));
    FRUGAL_ASSIGN_OR_RETURN(std::span<const std::byte> data, file_.MappedTensorData(*t));
    out->resize(t->shape.elements());
    if (data.size() < out->size() * sizeof(int32_t)) return DataLoss("tensor '{}' is truncated", name);
    std::memcpy(out->data(), data.data(), out->size() * sizeof(int32_t));
    return OkStatus();
  }
  Status LayerView(int l, const char* base, ConstTensorView* out) { return View(LayerTensorName(l, base), out); }
  Status LayerFloats(int l, const char* base, std::vector<float>* out, const char* suffix = "weight") {
    return Floats(LayerTensorName(l, base, suffix), out);
  }

 private:
  const io::GgufFile& file_;
};

// The routed experts (and shared ones) of MoE layer l.
Status LoadExperts(Resolver& r, const ModelConfig& c, int l, LayerWeights* w) {
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_gate_exps", &w->gate_exps));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_up_exps", &w->up_exps));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_down_exps", &w->down_exps));
  if (c.moe.n_shared > 0) {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_gate_shexp", &w->gate_shexp));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_up_shexp", &w->up_shexp));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_down_shexp", &w->down_shexp));
  }
  return OkStatus();
}

Status LoadHc(Resolver& r, const std::string& prefix, HcWeights* w) {
  FRUGAL_RETURN_IF_ERROR(r.View(prefix + "fn.weight", &w->fn));
  FRUGAL_RETURN_IF_ERROR(r.Floats(prefix + "base.weight", &w->base));
  return r.Floats(prefix + "scale.weight", &w->scale);
}

Status LoadCompressor(Resolver& r, int l, const std::string& prefix, CompressorWeights* w) {
  FRUGAL_RETURN_IF_ERROR(r.View(LayerTensorName(l, prefix + "_kv"), &w->kv));
  FRUGAL_RETURN_IF_ERROR(r.View(LayerTensorName(l, prefix + "_gate"), &w->gate));
  FRUGAL_RETURN_IF_ERROR(r.Floats(LayerTensorName(l, prefix + "_ape"), &w->ape));
  return r.Floats(LayerTensorName(l, prefix + "_norm"), &w->norm);
}

Status LoadV4Layer(Resolver& r, const ModelConfig& c, int l, LayerWeights* w) {
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_norm", &w->attn_norm));
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_sinks", &w->sinks));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_q_a", &w->q_a));
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_q_a_norm", &w->q_a_norm));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_q_b", &w->q_b));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_kv", &w->kv));
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_kv_a_norm", &w->kv_a_norm));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_output_a", &w->output_a));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_output_b", &w->output_b));
  FRUGAL_RETURN_IF_ERROR(LoadHc(r, fmt::format("blk.{}.hc_attn_", l), &w->hc_attn));
  FRUGAL_RETURN_IF_ERROR(LoadHc(r, fmt::format("blk.{}.hc_ffn_", l), &w->hc_ffn));
  const int ratio = c.v4.compress_ratios[static_cast<size_t>(l)];
  if (ratio != 0) FRUGAL_RETURN_IF_ERROR(LoadCompressor(r, l, "attn_compressor", &w->compressor));
  if (ratio == 4) {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "indexer.proj", &w->idx_proj));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "indexer.attn_q_b", &w->idx_q_b));
    FRUGAL_RETURN_IF_ERROR(LoadCompressor(r, l, "indexer_compressor", &w->idx_compressor));
  }
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "ffn_norm", &w->ffn_norm));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_gate_inp", &w->gate_inp));
  if (l < c.moe.n_hash_layers) {
    FRUGAL_RETURN_IF_ERROR(r.Ints(LayerTensorName(l, "ffn_gate_tid2eid"), &w->tid2eid));
    for (int32_t e : w->tid2eid) {
      if (e < 0 || e >= c.moe.n_experts) return DataLoss("layer {}'s hash-routing table names expert {} of {}", l, e, c.moe.n_experts);
    }
  } else {
    FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "exp_probs_b", &w->exp_bias, "bias"));
  }
  return LoadExperts(r, c, l, w);
}

Status LoadLayer(Resolver& r, const ModelConfig& c, int l, LayerWeights* w) {
  if (c.is_v4()) return LoadV4Layer(r, c, l, w);
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_norm", &w->attn_norm));
  if (c.mla.q_lora_rank > 0) {
    FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_q_a_norm", &w->q_a_norm));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_q_a", &w->q_a));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_q_b", &w->q_b));
  } else {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_q", &w->q));
  }
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "attn_kv_a_norm", &w->kv_a_norm));
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_kv_a_mqa", &w->kv_a_mqa));
  if (c.mla.kv_b_layout == KvBLayout::kSplit) {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_k_b", &w->k_b));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_v_b", &w->v_b));
  } else {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_kv_b", &w->kv_b));
  }
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "attn_output", &w->attn_output));
  if (c.has_indexer()) {
    FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "indexer.k_norm", &w->idx_k_norm));
    FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "indexer.k_norm", &w->idx_k_norm_bias, "bias"));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "indexer.proj", &w->idx_proj));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "indexer.attn_k", &w->idx_k));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "indexer.attn_q_b", &w->idx_q_b));
  }
  FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "ffn_norm", &w->ffn_norm));
  if (!c.IsMoeLayer(l)) {
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_gate", &w->ffn_gate));
    FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_up", &w->ffn_up));
    return r.LayerView(l, "ffn_down", &w->ffn_down);
  }
  FRUGAL_RETURN_IF_ERROR(r.LayerView(l, "ffn_gate_inp", &w->gate_inp));
  if (c.moe.has_bias) FRUGAL_RETURN_IF_ERROR(r.LayerFloats(l, "exp_probs_b", &w->exp_bias, "bias"));
  return LoadExperts(r, c, l, w);
}

}  // namespace

StatusOr<Weights> LoadWeights(const io::GgufFile& file, const ModelConfig& c) {
  Resolver r(file);
  Weights w;
  FRUGAL_RETURN_IF_ERROR(r.View("token_embd.weight", &w.token_embd));
  FRUGAL_RETURN_IF_ERROR(r.Floats("output_norm.weight", &w.output_norm));
  FRUGAL_RETURN_IF_ERROR(r.View("output.weight", &w.output));
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) FRUGAL_RETURN_IF_ERROR(LoadLayer(r, c, l, &w.layers[l]));
  if (c.is_v4()) FRUGAL_RETURN_IF_ERROR(LoadHc(r, "output_hc_", &w.hc_head));
  return w;
}

}  // namespace frugal::model
