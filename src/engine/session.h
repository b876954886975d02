// One conversation with a model: its latent cache, the tokens the cache holds, and prefill /
// decode steps. Feeding a new prompt reuses the cached prefix it shares with what was processed
// before (so a chat turn only prefills the new text). Owned by the engine thread.
#pragma once

#include <span>
#include <vector>

#include "engine/sampler.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "util/thread_pool.h"

namespace frugal::engine {

struct SessionOptions {
  int context = 4096;
  model::KvDtype kv_dtype = model::KvDtype::kF16;
  int prefill_chunk = 512;  // tokens per forward call during prefill
  model::AttentionPath attention = model::AttentionPath::kAuto;
  bool exact = false;  // exact float kernels only (no activation rounding)
};

class Session {
 public:
  Session(const model::LoadedModel& model, const SessionOptions& options, ThreadPool& pool);

  // Makes the cache hold `tokens` (reusing the common prefix), and leaves the logits of the last
  // token in logits(). Returns the number of tokens actually computed.
  StatusOr<int> Feed(std::span<const int32_t> tokens);
  // Appends one token (a decode step).
  Status Append(int32_t token);
  const std::vector<float>& logits() const { return logits_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int context() const { return cache_.capacity(); }
  size_t cache_bytes() const { return cache_.bytes(); }

 private:
  SessionOptions options_;
  ThreadPool& pool_;
  model::Transformer transformer_;
  model::LatentCache cache_;
  std::vector<int32_t> tokens_;  // what the cache holds, position by position
  std::vector<float> logits_;
};

}  // namespace frugal::engine
