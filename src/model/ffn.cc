#include "model/ffn.h"

#include <fmt/format.h>

#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/router.h"

namespace frugal::model {
namespace {

// SwiGLU over explicit row blocks (a whole dense matrix, or one expert's slice).
void SwiGlu(const kernels::WeightRows& gate, const kernels::WeightRows& up, const kernels::WeightRows& down,
            const float* x, int n_tokens, bool exact, ThreadPool& pool, float* out) {
  std::vector<float> g(static_cast<size_t>(n_tokens * gate.n_rows));  // [T, ff]: silu(gate·x) ⊙ up·x
  kernels::MatMulSwiGlu(gate, up, x, g.data(), {.n_tokens = n_tokens, .exact = exact}, &pool);
  kernels::MatMul(down, g.data(), out, {.n_tokens = n_tokens, .exact = exact}, &pool);
}

}  // namespace

void DenseFfn(const ConstTensorView& gate, const ConstTensorView& up, const ConstTensorView& down,
              const float* x, int n_tokens, bool exact, ThreadPool& pool, float* out) {
  SwiGlu(kernels::AllRows(gate), kernels::AllRows(up), kernels::AllRows(down), x, n_tokens, exact, pool, out);
}

void MoeFfn(const ModelConfig& c, const LayerWeights& w, int layer, const float* xn, int n_tokens, bool exact,
            ThreadPool& pool, TensorSink* sink, float* out) {
  const int h = c.hidden, n_exp = c.moe.n_experts, k = c.moe.n_experts_used, ff = c.moe.expert_ff;
  std::vector<float> logits(static_cast<size_t>(n_tokens) * n_exp);  // [T, E], router in f32
  kernels::MatMul(kernels::AllRows(w.gate_inp), xn, logits.data(), {.n_tokens = n_tokens, .exact = true}, &pool);
  const RouterParams rp = RouterParamsOf(c.moe, w.exp_bias.empty() ? nullptr : w.exp_bias.data());
  // Per expert: the tokens routed to it and their weights.
  std::vector<std::vector<std::pair<int, float>>> assigned(static_cast<size_t>(n_exp));
  std::vector<int> experts(static_cast<size_t>(k));
  std::vector<float> weights(static_cast<size_t>(k));
  std::vector<float> dense_weights(sink ? static_cast<size_t>(n_tokens) * n_exp : 0, 0.0f);
  for (int t = 0; t < n_tokens; ++t) {
    Route(logits.data() + static_cast<size_t>(t) * n_exp, rp, experts.data(), weights.data());
    for (int i = 0; i < k; ++i) {
      assigned[experts[i]].push_back({t, weights[i]});
      if (sink) dense_weights[static_cast<size_t>(t) * n_exp + experts[i]] = weights[i];
    }
  }
  if (sink) sink->Put(fmt::format("blk.{}.router_weights", layer), dense_weights.data(), {n_tokens, n_exp});
  std::fill(out, out + static_cast<size_t>(n_tokens) * h, 0.0f);
  std::vector<float> xs, ys;
  for (int e = 0; e < n_exp; ++e) {
    const auto& tokens = assigned[e];
    if (tokens.empty()) continue;
    const int n = static_cast<int>(tokens.size());
    xs.resize(static_cast<size_t>(n) * h);  // [n, H]: the tokens routed to expert e, gathered
    ys.resize(static_cast<size_t>(n) * h);
    for (int i = 0; i < n; ++i) std::copy_n(xn + static_cast<size_t>(tokens[i].first) * h, h, xs.begin() + static_cast<long>(i) * h);
    SwiGlu(kernels::RowsOf(w.gate_exps, int64_t{e} * ff, ff), kernels::RowsOf(w.up_exps, int64_t{e} * ff, ff),
           kernels::RowsOf(w.down_exps, int64_t{e} * h, h), xs.data(), n, exact, pool, ys.data());
    for (int i = 0; i < n; ++i) {
      kernels::Axpy(tokens[i].second, ys.data() + static_cast<size_t>(i) * h, out + static_cast<size_t>(tokens[i].first) * h, h);
    }
  }
  if (c.moe.n_shared > 0) {
    std::vector<float> shared(static_cast<size_t>(n_tokens) * h);
    DenseFfn(w.gate_shexp, w.up_shexp, w.down_shexp, xn, n_tokens, exact, pool, shared.data());
    for (size_t i = 0; i < shared.size(); ++i) out[i] += shared[i];
  }
}

}  // namespace frugal::model
