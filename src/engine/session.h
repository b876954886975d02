// One sequence run step by step without the batching engine, over a block pool of its own:
// prefill in chunks and decode steps. Feeding a new prompt reuses the cached prefix it shares
// with what was processed before. For benchmarks and tests of the forward pass on one sequence
// (`frugal bench`); generation goes through engine.h. Owned by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kv/block_pool.h"
#include "kv/sequence_kv.h"
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
  int block_tokens = 0;  // 0: kv::kDefaultBlockTokens
};

// What the session's forward steps did since it was created or ResetWork (for the ledger).
struct SessionWork {
  int64_t steps = 0, tokens = 0;
  int64_t kv_rows_read = 0;    // Σ over steps of the positions attention read (prefix + chunk)
  int64_t routed_experts = 0;  // Σ over steps of distinct (layer, routed expert) pairs computed
  double seconds = 0;          // in forward steps
  double kv_byte_seconds = 0;  // latent bytes held after each step × its seconds
};

class Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Create(const model::LoadedModel& model, const SessionOptions& options,
                                                   ThreadPool& pool);

  // Makes the cache hold `tokens` (reusing the common prefix), and leaves the logits of the last
  // token in logits(). Returns the number of tokens actually computed.
  StatusOr<int> Feed(std::span<const int32_t> tokens);
  // Appends one token (a decode step).
  Status Append(int32_t token);
  const std::vector<float>& logits() const { return logits_; }
  const std::vector<int32_t>& tokens() const { return sequence_->tokens(); }
  int context() const { return options_.context; }
  size_t cache_bytes() const { return blocks_->Stats().storage_bytes; }
  const SessionWork& work() const { return work_; }
  void ResetWork() { work_ = {}; }

 private:
  Session(const model::LoadedModel& model, const SessionOptions& options, ThreadPool& pool);
  Status Run(std::span<const int32_t> tokens);

  SessionOptions options_;
  ThreadPool& pool_;
  model::Transformer transformer_;
  std::unique_ptr<kv::BlockPool> blocks_;
  std::unique_ptr<kv::SequenceKv> sequence_;
  std::vector<float> logits_;
  SessionWork work_;
};

}  // namespace frugal::engine
