// DeepSeek-V4's attention for one layer and step (../shared/reference/deepseek-architectures.md
// §6.3; checked against llama.cpp's deepseek4 logits through tests/reference/forward_v4.py):
// queries q = W_q_b · RMSNorm(W_q_a · x) with a weightless RMSNorm per head; one shared row
// kv = RMSNorm(W_kv · x) per token, used as key and value; RoPE on the last rope dims of both
// (window-only layers: rope_theta without YaRN; compressed layers: compress_rope_theta with
// YaRN). Each query attends to its sequence's last `window` raw rows and — ratio 128 — every
// complete compressed block, or — ratio 4 — the top_k complete blocks its indexer scores
// highest, Σ_h w_h·relu(q_h·k_b); softmax with a per-head sink logit in the denominator; the
// output, RoPE undone at the query's position, goes through o_groups low-rank projections and
// W_o_b. New raw rows go to each sequence's V4Tail, compressed rows and index keys to its
// V4Blocks. Engine thread.
#pragma once

#include <span>
#include <vector>

#include "model/config.h"
#include "model/tensor_sink.h"
#include "model/v4_cache.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

// One sequence's part of the step: rows [row, row + n) at positions [pos0, pos0 + n).
struct V4Segment {
  V4Tail* tail = nullptr;
  V4Blocks blocks;
  int pos0 = 0;
  int n = 0;
  int row = 0;
};

struct V4RopeTables {
  std::vector<float> window;      // frequencies of ratio-0 layers
  std::vector<float> compressed;  // of compressed layers and the indexer
};
V4RopeTables V4RopeTablesOf(const ModelConfig& config);

struct V4AttentionInput {
  const ModelConfig& config;
  const LayerWeights& w;
  const V4RopeTables& rope;
  int layer;
  std::span<const V4Segment> segments;
  int n;  // rows of the step
  bool exact;
  TensorSink* sink;
};

// xn: [n, hidden] normed input; out: [n, hidden].
void V4Attention(const V4AttentionInput& in, const float* xn, ThreadPool& pool, float* out);

}  // namespace frugal::model
