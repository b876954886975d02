// Multi-head latent attention for a chunk of tokens over the latent cache, by either path:
//  - naive: per-head K (nope part) and V built from the cached latents, standard attention;
//    cheaper for long prefill chunks;
//  - absorbed: W_UK folded into the query, multi-query attention over the 576-wide cached rows
//    (latent + rope key), W_UV applied to the latent-space result; the decode path.
// Both read the same cache (which holds only latents and rope keys) and give the same numbers.
// (../shared/reference/deepseek-architectures.md §1.1, §1.3.) Owned by the engine thread.
#pragma once

#include <vector>

#include "model/config.h"
#include "model/latent_cache.h"
#include "model/tensor_sink.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

enum class AttentionPath { kAuto, kNaive, kAbsorbed };

struct AttentionInput {
  const ModelConfig& config;
  const LayerWeights& weights;
  const std::vector<float>& rope_freqs;  // [rope/2]
  float scale;                           // softmax scale
  int layer;
  int pos0;      // position of the first token of the chunk
  int n_tokens;  // chunk length
  AttentionPath path;  // kAuto is resolved by the caller
  TensorSink* sink;
  bool exact;  // exact float kernels only
};

// xn: [n_tokens, hidden] (normed input); out: [n_tokens, hidden]. Writes the chunk's latents
// and rope keys to the cache at positions [pos0, pos0 + n_tokens).
void MlaAttention(const AttentionInput& in, const float* xn, LatentCache& cache, ThreadPool& pool, float* out);

}  // namespace frugal::model
