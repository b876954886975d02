#include "model/ffn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
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

namespace {

// One product group of the MoE block: a routed expert with the tokens routed to it, or the
// shared experts (every token, weight 1).
struct Active {
  kernels::WeightRows gate, up, down;
  float limit;  // SwiGLU clamp (0: none)
  const std::vector<std::pair<int, float>>* tokens;  // null: the shared experts, all tokens
  int n;
  // Gathered inputs [n, H] (null when the expert takes every token: xn itself); not zero-filled:
  // every row is copied in (tens of MB a layer in prefill).
  std::unique_ptr<float[]> x;
};

// Runs the groups as one grouped gate/up product and one grouped down product, and adds each
// group's outputs, weighted, to out (in the order of `active`).
void RunGroups(std::vector<Active>& active, const float* xn, int n_tokens, int h, bool exact, ThreadPool& pool, float* out) {
  const size_t n_active = active.size();
  if (n_active == 0) return;
  // Experts that take every token share one prepared copy of xn (prepared only if there are any).
  std::unique_ptr<kernels::PreparedInput> all_tokens;
  if (std::any_of(active.begin(), active.end(), [](const Active& a) { return a.x == nullptr; })) {
    all_tokens = std::make_unique<kernels::PreparedInput>(xn, h, kernels::MatMulParams{.n_tokens = n_tokens, .exact = exact});
  }
  std::vector<std::unique_ptr<kernels::PreparedInput>> inputs(n_active), mids(n_active);
  // [n, ff_e] and [n, H] per expert, written in full before they are read (not zero-filled:
  // tens of MB a layer in prefill).
  std::vector<std::unique_ptr<float[]>> g(n_active), y(n_active);
  // Inputs prepared in parallel when there are many rows (prefill), inline for decode (a
  // synchronization would cost more than the work), then the products.
  int64_t routed_rows = 0;
  for (const Active& a : active) routed_rows += a.n;
  auto for_each_active = [&](const std::function<void(int64_t, int64_t, int)>& fn) {
    if (routed_rows < 64) {
      fn(0, static_cast<int64_t>(n_active), 0);
    } else {
      pool.ParallelForDynamic(static_cast<int64_t>(n_active), 1, fn);
    }
  };
  for_each_active([&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      const Active& a = active[static_cast<size_t>(i)];
      if (a.x == nullptr) continue;
      inputs[static_cast<size_t>(i)] =
          std::make_unique<kernels::PreparedInput>(a.x.get(), h, kernels::MatMulParams{.n_tokens = a.n, .exact = exact});
    }
  });
  std::vector<kernels::SwiGluGroup> swiglu;
  for (size_t i = 0; i < n_active; ++i) {
    g[i].reset(new float[static_cast<size_t>(active[i].n) * active[i].gate.n_rows]);
    swiglu.push_back({active[i].gate, active[i].up, active[i].x == nullptr ? all_tokens.get() : inputs[i].get(), g[i].get(),
                      active[i].limit});
  }
  kernels::MatMulSwiGluGrouped(swiglu, &pool);
  for_each_active([&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      const Active& a = active[static_cast<size_t>(i)];
      mids[static_cast<size_t>(i)] = std::make_unique<kernels::PreparedInput>(
          g[static_cast<size_t>(i)].get(), a.gate.n_rows, kernels::MatMulParams{.n_tokens = a.n, .exact = exact});
    }
  });
  std::vector<kernels::ProductGroup> down;
  for (size_t i = 0; i < n_active; ++i) {
    y[i].reset(new float[static_cast<size_t>(active[i].n) * h]);
    down.push_back({active[i].down, mids[i].get(), y[i].get()});
  }
  kernels::MatMulGrouped(down, &pool);
  for (size_t i = 0; i < n_active; ++i) {
    const Active& a = active[i];
    for (int j = 0; j < a.n; ++j) {
      const int t = a.tokens ? (*a.tokens)[static_cast<size_t>(j)].first : j;
      const float weight = a.tokens ? (*a.tokens)[static_cast<size_t>(j)].second : 1.0f;
      kernels::Axpy(weight, y[i].get() + static_cast<size_t>(j) * h, out + static_cast<size_t>(t) * h, h);
    }
  }
}

}  // namespace

StatusOr<int> MoeFfn(const ModelConfig& c, const LayerWeights& w, int layer, const float* xn, int n_tokens, bool exact,
            ThreadPool& pool, TensorSink* sink, const ExpertSources& sources, float* out, std::span<const int32_t> token_ids) {
  const int h = c.hidden, n_exp = c.moe.n_experts, k = c.moe.n_experts_used, ff = c.moe.expert_ff;
  std::vector<float> logits(static_cast<size_t>(n_tokens) * n_exp);  // [T, E], router in f32
  kernels::MatMul(kernels::AllRows(w.gate_inp), xn, logits.data(), {.n_tokens = n_tokens, .exact = true}, &pool);
  const RouterParams rp = RouterParamsOf(c.moe, w.exp_bias.empty() ? nullptr : w.exp_bias.data());
  const bool hashed = !w.tid2eid.empty();
  if (hashed && token_ids.size() != static_cast<size_t>(n_tokens)) {
    return InvalidArgument("layer {} routes by token id but got {} ids for {} tokens", layer, token_ids.size(), n_tokens);
  }
  const auto finite = [](float s) { return std::isfinite(s); };
  if (!std::all_of(logits.begin(), logits.end(), finite) || !std::all_of(w.exp_bias.begin(), w.exp_bias.end(), finite)) {
    return DataLoss("non-finite router scores in layer {} (the model file may hold NaN or infinite weights)", layer);
  }
  // Per expert: the tokens routed to it and their weights.
  std::vector<std::vector<std::pair<int, float>>> assigned(static_cast<size_t>(n_exp));
  std::vector<int> experts(static_cast<size_t>(k));
  std::vector<float> weights(static_cast<size_t>(k));
  std::vector<float> dense_weights(sink ? static_cast<size_t>(n_tokens) * n_exp : 0, 0.0f);
  for (int t = 0; t < n_tokens; ++t) {
    const int32_t* fixed = hashed ? w.tid2eid.data() + static_cast<size_t>(token_ids[static_cast<size_t>(t)]) * k : nullptr;
    Route(logits.data() + static_cast<size_t>(t) * n_exp, rp, experts.data(), weights.data(), fixed);
    if (sources.recorder) sources.recorder->Record(layer, t, experts);
    for (int i = 0; i < k; ++i) {
      assigned[experts[i]].push_back({t, weights[i]});
      if (sink) dense_weights[static_cast<size_t>(t) * n_exp + experts[i]] = weights[i];
    }
  }
  if (sink) sink->Put(fmt::format("blk.{}.router_weights", layer), dense_weights.data(), {n_tokens, n_exp});
  std::vector<int> routed;  // experts with tokens, ascending
  for (int e = 0; e < n_exp; ++e) {
    if (!assigned[static_cast<size_t>(e)].empty()) routed.push_back(e);
  }
  auto make_active = [&](int e, const kernels::WeightRows& gate, const kernels::WeightRows& up, const kernels::WeightRows& down) {
    const auto& tokens = assigned[static_cast<size_t>(e)];
    Active a{gate, up, down, c.moe.swiglu_limit, &tokens, static_cast<int>(tokens.size()), nullptr};
    if (a.n < n_tokens) {  // else every token, in order: xn itself (always so in decode)
      a.x.reset(new float[static_cast<size_t>(a.n) * h]);
      for (int i = 0; i < a.n; ++i) {
        std::copy_n(xn + static_cast<size_t>(tokens[static_cast<size_t>(i)].first) * h, h, a.x.get() + static_cast<size_t>(i) * h);
      }
    }
    return a;
  };
  auto add_shared = [&](std::vector<Active>* active) {
    if (c.moe.n_shared > 0) {
      active->push_back({kernels::AllRows(w.gate_shexp), kernels::AllRows(w.up_shexp), kernels::AllRows(w.down_shexp), 0.0f,
                         nullptr, n_tokens, nullptr});
    }
  };
  std::fill(out, out + static_cast<size_t>(n_tokens) * h, 0.0f);
  if (sources.store == nullptr) {  // every expert in the mapping: one pass
    std::vector<Active> active;
    for (int e : routed) {
      active.push_back(make_active(e, kernels::RowsOf(w.gate_exps, int64_t{e} * ff, ff), kernels::RowsOf(w.up_exps, int64_t{e} * ff, ff),
                                   kernels::RowsOf(w.down_exps, int64_t{e} * h, h)));
    }
    add_shared(&active);
    RunGroups(active, xn, n_tokens, h, exact, pool, out);
    return static_cast<int>(routed.size());
  }
  // From the store, in waves of at most the experts it can pin at once (all of them in decode
  // and small batches); each wave's experts stay pinned until its products are done. The
  // shared experts go with the last wave, so the sums are added in the same order as above.
  const size_t wave = static_cast<size_t>(std::max(1, sources.store->wave_limit()));
  for (size_t w0 = 0; w0 < routed.size() || (routed.empty() && w0 == 0); w0 += wave) {
    const size_t w1 = std::min(routed.size(), w0 + wave);
    const std::span<const int> ids(routed.data() + w0, w1 - w0);
    std::vector<Active> active;
    ExpertLease lease;
    if (!ids.empty()) {
      FRUGAL_ASSIGN_OR_RETURN(lease, sources.store->Acquire(layer, ids));
      for (size_t i = 0; i < ids.size(); ++i) {
        const ExpertRows& r = lease.rows(i);
        active.push_back(make_active(ids[i], r.gate, r.up, r.down));
      }
    }
    if (w1 == routed.size()) add_shared(&active);
    RunGroups(active, xn, n_tokens, h, exact, pool, out);
    if (routed.empty()) break;
  }
  return static_cast<int>(routed.size());
}

}  // namespace frugal::model
