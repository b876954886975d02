#include "model/weights.h"

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
  Status LayerView(int l, const char* base, ConstTensorView* out) { return View(LayerTensorName(l, base), out); }
  Status LayerFloats(int l, const char* base, std::vector<float>* out, const char* suffix = "weight") {
    return Floats(LayerTensorName(l, base, suffix), out);
  }

 private:
  const io::GgufFile& file_;
};

Status LoadLayer(Resolver& r, const ModelConfig& c, int l, LayerWeights* w) {
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

}  // namespace

StatusOr<Weights> LoadWeights(const io::GgufFile& file, const ModelConfig& c) {
  Resolver r(file);
  Weights w;
  FRUGAL_RETURN_IF_ERROR(r.View("token_embd.weight", &w.token_embd));
  FRUGAL_RETURN_IF_ERROR(r.Floats("output_norm.weight", &w.output_norm));
  FRUGAL_RETURN_IF_ERROR(r.View("output.weight", &w.output));
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) FRUGAL_RETURN_IF_ERROR(LoadLayer(r, c, l, &w.layers[l]));
  return w;
}

}  // namespace frugal::model
