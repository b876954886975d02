// The request path shared by `frugal run` and the server: many generations advance together in
// steps. Each Step() takes the decode token of every generation that has one and fills the rest
// of the step's token budget with prefill chunks of generations still reading their prompt
// (oldest first), runs them as one forward call over the paged latent cache, samples, and
// detokenizes incrementally. A new generation first takes the longest prefix of its prompt the
// prefix cache holds (or the sequence it continues), so only the rest is computed; its usage
// reports those as cache-hit tokens and the rest as misses, as DeepSeek's API does.
// When a decode token finds the KV pool full, the newest generation holding blocks is preempted:
// its blocks go back to the pool and it waits to be recomputed (prompt and generated tokens,
// from what the prefix cache still holds) before it samples again, so the older ones finish.
// With a disk tier (EngineOptions::cache_dir), blocks RAM evicts are written to disk and a
// prompt's prefix is looked up in RAM, then on disk; when the engine is destroyed, the
// published blocks RAM holds are written too, so a restarted process finds them.
// A generation ends at EOS, a stop string, max_tokens or the context limit (finish reason stop
// or length), or with an error of its own (the KV cache full, non-finite logits). Nothing here
// writes to stdout. Owned by one thread (the engine thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "engine/stop_matcher.h"
#include "kv/block_pool.h"
#include "kv/disk_tier.h"
#include "kv/sequence_kv.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/thread_pool.h"

namespace frugal::engine {

struct EngineOptions {
  int context = 4096;        // tokens per sequence: prompt + completion
  uint64_t kv_budget = 0;    // bytes of latent blocks for all sequences; 0: one full context
  int block_tokens = 0;      // positions per block; 0: kv::kDefaultBlockTokens
  model::KvDtype kv_dtype = model::KvDtype::kF16;
  int step_tokens = 512;     // tokens per forward step (decode tokens first, then prefill chunks)
  // Prefill tokens a step may carry while other generations decode: a long prompt is read in
  // chunks this size between their tokens, so their inter-token latency stays bounded.
  // 0: step_tokens (prefill as fast as possible).
  int prefill_tokens_while_decoding = 0;
  // > 0: prefill chunks while others decode are sized from measured step times so that such a
  // step takes about max(this many times a step of decode tokens alone, paced_step_floor_s):
  // the chunk grows while steps are faster, shrinks when slower (at least 4 tokens, at most the
  // cap above). The floor keeps prompts moving when the decode step is short (few streams).
  double max_step_slowdown = 0;
  double paced_step_floor_s = 0.1;
  model::AttentionPath attention = model::AttentionPath::kAuto;
  bool exact = false;        // exact float kernels only
  // The prefix cache's disk tier (kv/disk_tier.h): used when cache_dir is set. A directory that
  // cannot be opened is reported (stderr) and generation goes on without it.
  std::string cache_dir = {};
  uint64_t cache_disk_budget = 0;  // bytes; 0: half the filesystem's free space
  bool cache_write_through = false;
};

enum class FinishReason { kNone, kStop, kLength, kError, kCancelled };
const char* FinishReasonName(FinishReason r);

struct Usage {
  int prompt_tokens = 0;
  int cache_hit_tokens = 0;   // prompt tokens whose latents were reused (prompt_cache_hit_tokens)
  int cache_hit_disk_tokens = 0;  // of those, read back from the disk tier (the rest were in RAM)
  int cache_miss_tokens = 0;  // prompt tokens computed (prompt_cache_miss_tokens)
  int completion_tokens = 0;
};

// What a generation used, for the ledger (ledger/ledger_record.h): its token share of each
// forward step it took part in (a step's time, weights read and expert traffic split by tokens).
struct GenerationWork {
  double wall_s = 0;              // submitted → finished
  double prefill_s = 0, decode_s = 0;
  int recomputed_tokens = 0;      // computed again after a preemption
  double kv_peak_bytes = 0;       // latent bytes of its tokens, the most it held
  double kv_byte_seconds = 0;     // latent bytes held × step seconds, every step it was running
  double kv_bytes_read = 0;       // latent bytes its attention read (each chunk reads its prefix)
  double kv_disk_bytes_read = 0;  // prompt cache hits read from the disk tier
  double weight_bytes_read = 0;   // non-expert weights (once per step) and embedding rows
  double expert_bytes_ram = 0, expert_bytes_disk = 0, expert_fetches = 0, expert_stall_s = 0;
};

// Per-token and per-step byte counts of the model the engine runs, for the ledger.
struct ModelCosts {
  double kv_bytes_per_token = 0;    // the latent as the pool holds it (its dtype)
  double mha_bytes_per_token = 0;   // a full multi-head cache of the same heads and dims, 16 bits
  double weight_bytes_per_step = 0; // read once by every step: attention, dense FFN, shared experts, head
  double embedding_row_bytes = 0;   // per token
  double bytes_per_expert = 0;      // one routed expert in one layer
  double expert_all_bytes = 0;      // all routed experts
  double expert_resident_bytes = 0; // RAM they get: the store's tier, or all (the mapping)
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  int max_tokens = 128;
  std::vector<std::string> stop;
  SamplingParams sampling;
  std::string tenant;  // prefix-cache scope: sequences share cached blocks only within a tenant
  // Continue this sequence (a conversation): it keeps what it holds that the prompt starts with.
  // Null: a new sequence.
  std::shared_ptr<kv::SequenceKv> sequence;
};

// What a step produced for one generation.
struct GenerationEvent {
  int64_t id = 0;
  std::string text;      // newly released text (whole UTF-8 characters)
  int32_t token = -1;    // the token sampled in this step, -1 if none
  FinishReason finish = FinishReason::kNone;
  Status error;          // with kError
  Usage usage;           // so far; final when finished
  GenerationWork work;   // when finished
};

class Engine {
 public:
  static StatusOr<std::unique_ptr<Engine>> Create(const model::LoadedModel& model, const tokenizer::Tokenizer* tokenizer,
                                                  const EngineOptions& options, ThreadPool& pool);
  ~Engine();

  // Queues a generation; its prompt is matched against the prefix cache now. Errors: an empty
  // prompt, one that fills the context (both numbers named; prompt + completion ≤ context), bad sampling parameters, a
  // sequence another running generation uses.
  StatusOr<int64_t> Submit(GenerationRequest request);
  // Ends a generation now: returns its final event (finish kCancelled, no text), or nothing for
  // an unknown id. No further event comes for it.
  std::optional<GenerationEvent> Cancel(int64_t id);
  // Runs one step; appends an event for every generation that sampled a token or finished.
  Status Step(std::vector<GenerationEvent>* events);
  // Computes a synthetic prompt of `tokens` (at most a step's and the context's) and one decode
  // token in a KV pool of its own, then frees it: this engine's pool, prefix cache, disk tier,
  // counters and pacing are untouched (an expert store counts its reads as any step's). What it
  // leaves is warm memory — without it the first steps of a fresh process pay first-touch page
  // faults on their scratch (docs/BENCHMARKS.md "Warm-up") — and, with an expert store, the
  // experts it routed to. Run it on the thread that will run Step (malloc's arenas are per
  // thread).
  Status WarmUp(int tokens);
  bool idle() const { return active_.empty(); }
  int active() const { return static_cast<int>(active_.size()); }
  // Generations that hold a pending decode token (past their prompt) / preemptions so far.
  int decoding() const;
  int64_t preemptions() const { return preemptions_; }

  // A new empty sequence in this engine's pool (for callers that keep a conversation's).
  std::shared_ptr<kv::SequenceKv> NewSequence(const std::string& tenant);
  const kv::BlockPool& blocks() const { return *blocks_; }
  // The disk tier, or null (none asked for, or it could not be opened).
  const kv::DiskTier* disk_cache() const { return disk_.get(); }
  const EngineOptions& options() const { return options_; }
  uint64_t model_fingerprint() const { return fingerprint_; }
  const ModelCosts& costs() const { return costs_; }

 private:
  struct Generation;
  Engine(const model::LoadedModel& model, const tokenizer::Tokenizer* tokenizer, const EngineOptions& options,
         ThreadPool& pool);
  void Sampled(Generation& g, const float* logits, std::vector<GenerationEvent>* events);
  void Finish(Generation& g, FinishReason reason, Status error, GenerationEvent* event);
  // Splits a forward step's time and traffic over its members and charges the KV every running
  // generation held during it.
  struct StepShare;
  void Account(const std::vector<StepShare>& members, double seconds, const model::ForwardCounters& counters,
               const model::ExpertTraffic& traffic);
  // Adjusts the prefill chunk from a step's time (max_step_slowdown).
  void Pace(int decode_tokens, int prefill_tokens, double seconds, int cap);
  // Frees the newest blocks-holding generation's blocks; false if none holds any.
  bool PreemptNewest();

  const model::LoadedModel& model_;
  const tokenizer::Tokenizer* tokenizer_;  // may be null: events then carry no text
  EngineOptions options_;
  ThreadPool& pool_;
  model::Transformer transformer_;
  std::unique_ptr<kv::DiskTier> disk_;  // before blocks_: outlives the pool that writes to it
  std::unique_ptr<kv::BlockPool> blocks_;
  uint64_t fingerprint_ = 0;
  ModelCosts costs_;
  int64_t next_id_ = 1;
  int64_t preemptions_ = 0;
  double decode_step_s_ = 0;  // recent time of a step of decode tokens only
  int adaptive_chunk_ = 16;   // prefill tokens per step while others decode (max_step_slowdown)
  std::vector<std::unique_ptr<Generation>> active_;  // in admission order
  std::vector<float> logits_;
};

// The byte counts of `model` with its latent cache in `shape`'s dtype; the expert tier's RAM
// from its store when it has one.
ModelCosts ModelCostsOf(const model::LoadedModel& model, const kv::BlockShape& shape);

// A fingerprint of a model file's identity (its metadata and tensor table): equal files give
// equal fingerprints, so cached latents are never shared across models.
uint64_t ModelFingerprint(const model::LoadedModel& model);

}  // namespace frugal::engine
