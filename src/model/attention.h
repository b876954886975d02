// Multi-head latent attention for a step's tokens — the chunks of one or many sequences, each
// over its own latent cache — by either path:
//  - naive: per-head K (nope part) and V built from the cached latents, standard attention;
//    cheaper for long prefill chunks;
//  - absorbed: W_UK folded into the query, multi-query attention over the 576-wide cached rows
//    (latent + rope key), W_UV applied to the latent-space result; the decode path.
// Both read the same cache (which holds only latents and rope keys) and give the same numbers.
// The projections into and out of attention run once for all tokens of the step (weights read
// once); the attention proper runs per sequence, in parallel across sequences or, for a single
// sequence, across its cached rows and heads.
// (../shared/reference/deepseek-architectures.md §1.1, §1.3.) Owned by the engine thread.
#pragma once

#include <span>
#include <vector>

#include "model/config.h"
#include "model/latent_blocks.h"
#include "model/tensor_sink.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

enum class AttentionPath { kAuto, kNaive, kAbsorbed };

// One sequence's tokens in a step: rows [row, row + n) of the step's inputs, at positions
// [pos0, pos0 + n) of its cache (which holds positions < pos0 and has room for the new ones).
struct AttentionSegment {
  LatentBlocks cache;
  int pos0;
  int n;
  int row;
  AttentionPath path;  // kNaive or kAbsorbed (kAuto is resolved by the caller)
};

struct AttentionInput {
  const ModelConfig& config;
  const LayerWeights& weights;
  const std::vector<float>& rope_freqs;  // [rope/2]
  float scale;                           // softmax scale
  int layer;
  std::span<const AttentionSegment> segments;  // in row order, covering every row
  int n_tokens;                                // rows of the step
  TensorSink* sink;
  bool exact;  // exact float kernels only
};

// xn: [n_tokens, hidden] (normed input); out: [n_tokens, hidden]. Writes each segment's latents
// and rope keys to its cache.
void MlaAttention(const AttentionInput& in, const float* xn, ThreadPool& pool, float* out);

}  // namespace frugal::model
