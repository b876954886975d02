// The deepseek2/deepseek32 forward pass (deepseek4: v4_transformer.cc): embedding → per layer (RMSNorm → MLA → residual, RMSNorm → dense
// FFN or MoE → residual) → final norm → LM head. One call runs a step: the chunks of any number
// of sequences (prefill chunks and single decode tokens mixed), each at its own positions over
// its own latent cache. Every weight matrix is read once per step for all of the step's tokens
// (matrix-matrix products; each routed expert once for all tokens routed to it); attention runs
// per sequence. Thread-compatible (one call at a time); weights are shared read-only.
#pragma once

#include <span>
#include <vector>

#include "model/attention.h"
#include "model/config.h"
#include "model/ffn.h"
#include "model/latent_blocks.h"
#include "model/loaded_model.h"
#include "model/tensor_sink.h"
#include "model/v4_attention.h"
#include "model/v4_cache.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

// What a forward step did, for the ledger (added to, not reset).
struct ForwardCounters {
  int64_t routed_experts = 0;  // distinct (layer, routed expert) pairs the step computed
};

struct ForwardOptions {
  AttentionPath attention = AttentionPath::kAuto;
  // kAuto: chunks of at least naive_min_tokens + 2·√pos0 tokens use the naive path, shorter
  // ones (decode; short turns after a long context) the absorbed one. The naive path computes K
  // and V of every visible position per head once for the chunk; the absorbed one pays per new
  // token and visible position. The crossover measured on mini (docs/BENCHMARKS.md, "Attention
  // path"): about 32 new tokens at an empty cache, 80 after 512 cached, 96 after 1024, 120
  // after 2048, 160 after 4096.
  int naive_min_tokens = 32;
  // Where the naive path runs on the attention block kernel (kernels/attention_block.h: AVX-512
  // without AMX, fast path) both paths' costs grow alike with the cached positions, and the
  // naive one is cheaper from this many new tokens at every depth (measured 40–48 at depths 0,
  // 1024 and 4096; BENCHMARKS "Attention path").
  int naive_min_tokens_block_kernel = 48;
  // Exact float kernels only. Otherwise quantized weights may multiply 8-bit-rounded activations
  // (held to max 0.05 / mean 0.01 of the exact logits, the tolerance llama.cpp itself has).
  bool exact = false;
  TensorSink* sink = nullptr;   // receives named intermediates when set
  ForwardCounters* counters = nullptr;  // added to when set
};

enum class LogitsWanted { kNone, kLast, kAll };

// One sequence's part of a step: `tokens` at positions [pos0, pos0 + n) of `cache`, which holds
// the positions before pos0 and has room for the new ones.
// DeepSeek-V4 files: the blocks hold the compressed rows (V4BlockLayout of the cache's type and
// block size) and `v4_tail` the window and compressor state, whose length must be pos0.
struct SequenceChunk {
  std::span<const int32_t> tokens;
  int pos0 = 0;
  LatentBlocks cache;
  LogitsWanted logits = LogitsWanted::kLast;
  V4Tail* v4_tail = nullptr;
};

class Transformer {
 public:
  // Routed experts from the weights' views unless `experts.store` is set.
  Transformer(const ModelConfig& config, const Weights& weights, ExpertSources experts = {});
  // The model's weights, its expert store and routing recorder (if any).
  explicit Transformer(const LoadedModel& model);

  const ModelConfig& config() const { return config_; }
  // Runs one step: each chunk's latents go to its cache; *logits receives [rows, vocab], the
  // rows each chunk asks for in batch order. Bad token ids, positions beyond a cache and
  // non-finite activations or logits (a file with NaN weights, say) are errors, not crashes.
  Status Forward(std::span<const SequenceChunk> batch, const ForwardOptions& options, ThreadPool& pool,
                 std::vector<float>* logits) const;

 private:
  // deepseek4 (v4_transformer.cc): hyper-connected streams, V4Attention, V4 routing.
  Status ForwardV4(std::span<const SequenceChunk> batch, const ForwardOptions& options, ThreadPool& pool,
                   std::vector<float>* logits) const;
  Status Layer(int l, std::span<const AttentionSegment> segments, int n, float* x, const ForwardOptions& o,
               ThreadPool& pool) const;
  // Predicts the experts layer l routes the step's tokens to by applying its router to the
  // residual stream before it (x), and has the store start reading them.
  void PrefetchExperts(int l, const float* x, int n, ThreadPool& pool) const;

  const ModelConfig& config_;
  const Weights& weights_;
  ExpertSources experts_;
  std::vector<float> rope_freqs_;
  V4RopeTables v4_rope_;  // deepseek4 only
  float attention_scale_;
};

}  // namespace frugal::model
