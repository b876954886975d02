// Feed-forward blocks: the dense SwiGLU FFN of the leading layers and of the shared experts,
// and the routed MoE block, where all tokens routed to an expert are computed together
// (../shared/reference/deepseek-architectures.md §2.1). Owned by the engine thread.
#pragma once

#include <cstdint>
#include <span>

#include "model/config.h"
#include "model/expert_source.h"
#include "model/routing_recorder.h"
#include "util/status.h"
#include "model/tensor_sink.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

// out[t] = down · (silu(gate · x[t]) ⊙ up · x[t]) for t < n_tokens; x, out: [n_tokens, hidden].
void DenseFfn(const ConstTensorView& gate, const ConstTensorView& up, const ConstTensorView& down,
              const float* x, int n_tokens, bool exact, ThreadPool& pool, float* out);

// Where routed experts come from: the weights' views (store null), or an expert store, which
// then holds each wave of them pinned while it is computed. The recorder, if any, is told each
// token's experts.
struct ExpertSources {
  ExpertSource* store = nullptr;
  RoutingRecorder* recorder = nullptr;
};

// Routed experts (+ shared experts) for n_tokens normed inputs; out: [n_tokens, hidden].
// The router always runs in f32 (exact); `exact` selects the experts' kernels. Non-finite router
// scores (NaN weights) are an error, never a routing decision; so is an expert the store cannot
// read. The result does not depend on where the experts came from (same kernels, same order).
// Returns how many distinct routed experts the tokens used (what the layer read of them).
// token_ids: the tokens' ids, needed by hash-routed layers (V4's first layers; LayerWeights::tid2eid).
// V4's routed experts clamp their SwiGLU (MoeConfig::swiglu_limit); the shared expert does not.
StatusOr<int> MoeFfn(const ModelConfig& config, const LayerWeights& w, int layer, const float* xn, int n_tokens, bool exact,
            ThreadPool& pool, TensorSink* sink, const ExpertSources& sources, float* out,
            std::span<const int32_t> token_ids = {});

}  // namespace frugal::model
