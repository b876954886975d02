#include "engine/engine.h"

#include <xxhash.h>

#include <algorithm>
#include <new>

#include "kv/block_key.h"
#include "kv/sequence_cache.h"
#include "model/footprint.h"
#include "util/log.h"

namespace frugal::engine {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kError: return "error";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

uint64_t ModelFingerprint(const model::LoadedModel& model) {
  // The header (metadata and tensor table) and the first bytes of every tensor's data: files
  // that differ only in their weights differ there too (a whole-file hash would read hundreds
  // of GB).
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  const io::RandomAccessFile& f = model.file.file();
  std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(model.file.data_offset(), uint64_t{1} << 24)));
  if (f.ReadAt(0, buf).ok()) XXH3_64bits_update(state, buf.data(), buf.size());
  for (const io::GgufTensorInfo& t : model.file.tensors()) {
    std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>(t.n_bytes, 256)));
    if (f.ReadAt(t.file_offset, head).ok()) XXH3_64bits_update(state, head.data(), head.size());
  }
  const uint64_t size = model.file.file_size();
  XXH3_64bits_update(state, &size, sizeof(size));
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

ModelCosts ModelCostsOf(const model::LoadedModel& model, const kv::BlockShape& shape) {
  const model::Footprint fp = model::ComputeFootprint(model.config, model::TensorEntriesOf(model.file));
  return {.kv_bytes_per_token = static_cast<double>(shape.bytes_per_token()),
          .mha_bytes_per_token = static_cast<double>(fp.kv_mha_bytes_per_token),
          .weight_bytes_per_step = static_cast<double>(fp.every_token_bytes),
          .embedding_row_bytes = static_cast<double>(fp.embedding_row_bytes),
          .bytes_per_expert = static_cast<double>(fp.bytes_per_expert),
          .expert_all_bytes = static_cast<double>(fp.routed_expert_bytes),
          .expert_resident_bytes = model.expert_store ? static_cast<double>(model.expert_store->Traffic().resident_bytes)
                                                      : static_cast<double>(fp.routed_expert_bytes)};
}

struct Engine::Generation {
  int64_t id;
  GenerationRequest request;
  std::shared_ptr<kv::SequenceKv> sequence;
  Sampler sampler;
  std::unique_ptr<tokenizer::StreamDecoder> decoder;
  StopMatcher stops;
  std::vector<int32_t> history;  // prompt, then generated tokens (for the penalties)
  Usage usage;
  GenerationWork work;
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  int32_t pending = -1;  // the sampled token to feed next (decode); -1 while prefilling
  bool preempted = false;  // recomputing `history` after a preemption
  bool done = false;
};

Engine::Engine(const model::LoadedModel& model, const tokenizer::Tokenizer* tokenizer, const EngineOptions& options,
               ThreadPool& pool)
    : model_(model), tokenizer_(tokenizer), options_(options), pool_(pool), transformer_(model) {}

Engine::~Engine() {
  if (disk_ != nullptr) {
    blocks_->StoreAllToDisk();  // what RAM holds survives a restart
    disk_->Drain();
  }
}

StatusOr<std::unique_ptr<Engine>> Engine::Create(const model::LoadedModel& model, const tokenizer::Tokenizer* tokenizer,
                                                 const EngineOptions& options, ThreadPool& pool) {
  if (options.context < 1) return InvalidArgument("the context must be positive, not {}", options.context);
  if (options.step_tokens < 1) return InvalidArgument("the step must hold at least one token");
  EngineOptions o = options;
  if (o.block_tokens <= 0) o.block_tokens = kv::kDefaultBlockTokens;
  const kv::BlockShape shape = kv::ShapeFor(model.config, o.kv_dtype, o.block_tokens);
  o.block_tokens = shape.block_tokens;  // V4: a multiple of 128
  if (o.kv_budget == 0) {  // what -c implies: one sequence of the full context
    o.kv_budget = (static_cast<uint64_t>(o.context) + shape.block_tokens - 1) / shape.block_tokens * shape.block_bytes();
    // V4: and room for the two prefix-cache snapshots a sequence leaves (kv/sequence_kv.h).
    o.kv_budget += 2 * kv::SnapshotBlocks(shape) * shape.block_bytes();
  }
  auto e = std::unique_ptr<Engine>(new Engine(model, tokenizer, o, pool));
  FRUGAL_ASSIGN_OR_RETURN(e->blocks_, kv::BlockPool::Create(shape, o.kv_budget));
  e->fingerprint_ = ModelFingerprint(model);
  e->costs_ = ModelCostsOf(model, shape);
  if (!o.cache_dir.empty() && shape.v4) {
    // A V4 prefix also needs a snapshot of its window state, which stays in RAM: the tier would
    // only write blocks nobody reads back.
    LogWarning("disk cache off: DeepSeek-V4 prefixes are cached in RAM only (docs/DISK_CACHE.md)");
  } else if (!o.cache_dir.empty()) {
    kv::DiskTierOptions d{.dir = o.cache_dir, .budget_bytes = o.cache_disk_budget, .write_through = o.cache_write_through};
    StatusOr<std::unique_ptr<kv::DiskTier>> disk = kv::DiskTier::Open(d, shape, e->fingerprint_);
    if (disk.ok()) {
      e->disk_ = std::move(*disk);
      e->blocks_->AttachDisk(e->disk_.get());
    } else if (disk.status().code() == StatusCode::kInvalidArgument) {
      return disk.status();  // a bad budget is the caller's mistake
    } else {
      LogWarning("disk cache off: {}", disk.status().ToString());
    }
  }
  return e;
}

Status Engine::WarmUp(int tokens) {
  const int n = std::min({tokens, options_.step_tokens, options_.context - 1});
  if (n < 1) return OkStatus();
  const kv::BlockShape& shape = blocks_->shape();
  const uint64_t blocks = (static_cast<uint64_t>(n) + 1 + shape.block_tokens - 1) / shape.block_tokens +
                          (shape.v4 ? 2 * kv::SnapshotBlocks(shape) : 0);
  FRUGAL_ASSIGN_OR_RETURN(std::unique_ptr<kv::BlockPool> own_pool, kv::BlockPool::Create(shape, blocks * shape.block_bytes()));
  const kv::PrefixScope scope{fingerprint_, options_.kv_dtype, options_.block_tokens, "warm-up"};
  kv::SequenceKv sequence(*own_pool, kv::RootKey(scope));  // destroyed before its pool
  std::vector<int32_t> ids(static_cast<size_t>(n) + 1);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((i * 7919 + 1) % static_cast<size_t>(model_.config.vocab_size));
  const model::ForwardOptions o{.attention = options_.attention, .exact = options_.exact};
  std::vector<float> logits;
  for (const auto& [begin, count] : {std::pair{0, n}, std::pair{n, 1}}) {  // the prompt, then a decode token
    FRUGAL_RETURN_IF_ERROR(sequence.Reserve(count));
    const model::SequenceChunk c{std::span(ids).subspan(static_cast<size_t>(begin), static_cast<size_t>(count)), begin,
                                 sequence.View(), model::LogitsWanted::kLast, sequence.v4_tail()};
    try {
      FRUGAL_RETURN_IF_ERROR(transformer_.Forward(std::span(&c, 1), o, pool_, &logits));
    } catch (const std::bad_alloc&) {
      return ResourceExhausted("out of memory warming up with {} tokens", n);
    }
    sequence.Commit(c.tokens);
  }
  return OkStatus();
}

std::shared_ptr<kv::SequenceKv> Engine::NewSequence(const std::string& tenant) {
  const kv::PrefixScope scope{fingerprint_, options_.kv_dtype, options_.block_tokens, tenant};
  return std::make_shared<kv::SequenceKv>(*blocks_, kv::RootKey(scope));
}

StatusOr<int64_t> Engine::Submit(GenerationRequest request) {
  const int n = static_cast<int>(request.prompt.size());
  if (n == 0) return InvalidArgument("the prompt is empty");
  if (n >= options_.context) {  // prompt + completion must fit, as OpenAI's API counts
    return InvalidArgument("the prompt has {} tokens; the context of {} tokens (prompt + completion) leaves no room to generate",
                           n, options_.context);
  }
  for (int32_t id : request.prompt) {
    if (id < 0 || id >= model_.config.vocab_size) {
      return InvalidArgument("token id {} is outside the vocabulary (0..{})", id, model_.config.vocab_size - 1);
    }
  }
  if (request.max_tokens < 0) return InvalidArgument("max_tokens must not be negative");
  FRUGAL_RETURN_IF_ERROR(ValidateSamplingParams(request.sampling));
  for (const auto& g : active_) {
    if (request.sequence && g->sequence == request.sequence) {
      return InvalidArgument("the sequence is in use by generation {}", g->id);
    }
  }
  auto g = std::make_unique<Generation>(Generation{next_id_++, {}, nullptr, Sampler(request.sampling), nullptr,
                                                   StopMatcher(request.stop), request.prompt, {}, {},
                                                   std::chrono::steady_clock::now(), -1, false, false});
  g->sequence = request.sequence ? request.sequence : NewSequence(request.tenant);
  if (&g->sequence->pool() != blocks_.get()) return InvalidArgument("the sequence belongs to another engine");
  g->usage.prompt_tokens = n;
  const kv::PrefixHit hit = g->sequence->Reuse(request.prompt);
  g->usage.cache_hit_tokens = hit.tokens;
  g->usage.cache_hit_disk_tokens = hit.disk_tokens;
  g->usage.cache_miss_tokens = n - g->usage.cache_hit_tokens;
  g->work.kv_disk_bytes_read = hit.disk_tokens * costs_.kv_bytes_per_token;
  if (tokenizer_ != nullptr) g->decoder = std::make_unique<tokenizer::StreamDecoder>(*tokenizer_);
  g->request = std::move(request);
  const int64_t id = g->id;
  active_.push_back(std::move(g));
  return id;
}

std::optional<GenerationEvent> Engine::Cancel(int64_t id) {
  const auto it = std::find_if(active_.begin(), active_.end(), [&](const std::unique_ptr<Generation>& g) { return g->id == id; });
  if (it == active_.end()) return std::nullopt;
  GenerationEvent ev;
  ev.id = id;
  ev.finish = FinishReason::kCancelled;
  ev.usage = (*it)->usage;
  ev.work = (*it)->work;
  ev.work.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - (*it)->submitted).count();
  active_.erase(it);
  return ev;
}

int Engine::decoding() const {
  return static_cast<int>(std::count_if(active_.begin(), active_.end(), [](const auto& g) { return g->pending >= 0; }));
}

void Engine::Pace(int decode_tokens, int prefill_tokens, double seconds, int cap) {
  if (decode_tokens == 0 || options_.max_step_slowdown <= 0) return;
  if (prefill_tokens == 0) {  // a decode-only step: the reference time
    decode_step_s_ = decode_step_s_ > 0 ? 0.7 * decode_step_s_ + 0.3 * seconds : seconds;
    return;
  }
  if (decode_step_s_ <= 0) return;
  // Step time ≈ decode time + prefill tokens × cost per token: the chunk that meets the target.
  const double target = std::max(options_.max_step_slowdown * decode_step_s_, options_.paced_step_floor_s);
  const double per_token = std::max(seconds - decode_step_s_, 1e-6) / prefill_tokens;
  const double fit = (target - decode_step_s_) / per_token;
  const double next = std::clamp(fit, 0.5 * adaptive_chunk_, 2.0 * adaptive_chunk_);  // no jumps on one noisy step
  adaptive_chunk_ = std::clamp(static_cast<int>(next), 4, cap);
}

bool Engine::PreemptNewest() {
  for (auto it = active_.rbegin(); it != active_.rend(); ++it) {
    Generation& g = **it;
    if (g.done || g.sequence->length() == 0) continue;
    // What it computed is recomputed from `history` (prompt + generated, the pending token
    // last), so sampling resumes exactly where it stopped.
    g.sequence->Truncate(0);
    g.pending = -1;
    g.preempted = true;
    ++preemptions_;
    return true;
  }
  return false;
}

void Engine::Finish(Generation& g, FinishReason reason, Status error, GenerationEvent* event) {
  if (g.decoder) event->text += g.stops.Push(g.decoder->Flush());
  event->text += g.stops.Flush();
  event->finish = reason;
  event->error = std::move(error);
  event->usage = g.usage;
  event->work = g.work;
  event->work.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - g.submitted).count();
  g.done = true;
}

struct Engine::StepShare {
  Generation* g;
  int tokens;
  int pos0;      // where its chunk starts
  bool decode;
};

void Engine::Account(const std::vector<StepShare>& members, double seconds, const model::ForwardCounters& counters,
                     const model::ExpertTraffic& traffic) {
  double total = 0;
  for (const StepShare& m : members) total += m.tokens;
  if (total <= 0) return;
  const bool store = model_.expert_store != nullptr;
  for (const StepShare& m : members) {
    GenerationWork& w = m.g->work;
    const double share = m.tokens / total;
    (m.decode ? w.decode_s : w.prefill_s) += seconds * share;
    if (!m.decode && m.g->preempted) w.recomputed_tokens += m.tokens;
    w.kv_bytes_read += static_cast<double>(m.pos0 + m.tokens) * costs_.kv_bytes_per_token;
    w.weight_bytes_read += costs_.weight_bytes_per_step * share + costs_.embedding_row_bytes * m.tokens;
    if (store) {
      w.expert_bytes_ram += static_cast<double>(traffic.bytes_served) * share;
      w.expert_bytes_disk += static_cast<double>(traffic.bytes_read) * share;
      w.expert_fetches += static_cast<double>(traffic.reads) * share;
      w.expert_stall_s += traffic.stall_s * share;
    } else {
      w.expert_bytes_ram += static_cast<double>(counters.routed_experts) * costs_.bytes_per_expert * share;
    }
  }
  // Every running generation holds its latents through the step, computing or not.
  for (const auto& g : active_) {
    const double held = static_cast<double>(g->sequence->length()) * costs_.kv_bytes_per_token;
    g->work.kv_byte_seconds += held * seconds;
    g->work.kv_peak_bytes = std::max(g->work.kv_peak_bytes, held);
  }
}

void Engine::Sampled(Generation& g, const float* logits, std::vector<GenerationEvent>* events) {
  const int v = model_.config.vocab_size;
  GenerationEvent ev;
  ev.id = g.id;
  if (g.request.max_tokens == 0) {
    Finish(g, FinishReason::kLength, OkStatus(), &ev);
    events->push_back(std::move(ev));
    return;
  }
  const int32_t token = g.sampler.Sample(std::span(logits, static_cast<size_t>(v)), g.history);
  ev.token = token;
  if (tokenizer_ != nullptr && token == tokenizer_->eos_id()) {
    Finish(g, FinishReason::kStop, OkStatus(), &ev);
    events->push_back(std::move(ev));
    return;
  }
  ++g.usage.completion_tokens;
  g.history.push_back(token);
  if (g.decoder) ev.text = g.stops.Push(g.decoder->Push(token));
  if (g.stops.stopped()) {
    Finish(g, FinishReason::kStop, OkStatus(), &ev);
  } else if (g.usage.completion_tokens >= g.request.max_tokens || static_cast<int>(g.history.size()) >= options_.context) {
    // max_tokens, or prompt + completion fill the context.
    Finish(g, FinishReason::kLength, OkStatus(), &ev);
  } else {
    g.pending = token;
    ev.usage = g.usage;
  }
  events->push_back(std::move(ev));
}

Status Engine::Step(std::vector<GenerationEvent>* events) {
  struct Member {
    Generation* g;
    std::span<const int32_t> tokens;
  };
  std::vector<Member> members;
  std::vector<model::SequenceChunk> chunks;
  int budget = options_.step_tokens;
  const auto fail = [&](Generation& g, Status s) {
    GenerationEvent ev;
    ev.id = g.id;
    Finish(g, FinishReason::kError, std::move(s), &ev);
    events->push_back(std::move(ev));
  };
  // Decode tokens first: each running generation advances every step.
  // A full pool preempts the newest generation holding blocks (possibly this one; only newer
  // ones than those already in the step, since the order is admission order).
  for (auto& gp : active_) {
    Generation& g = *gp;
    if (g.pending < 0 || budget == 0) continue;
    Status s = g.sequence->Reserve(1);
    while (!s.ok() && g.pending >= 0 && PreemptNewest()) {
      if (g.pending >= 0) s = g.sequence->Reserve(1);
    }
    if (g.pending < 0) continue;  // preempted itself: recomputed later
    if (!s.ok()) {
      fail(g, s);
      continue;
    }
    members.push_back({&g, std::span(&g.pending, 1)});
    --budget;
  }
  // Then prefill chunks (prompts, and the history of preempted generations), oldest generation
  // first, within what is left of the step; less while others decode.
  const int decode_tokens = static_cast<int>(members.size());
  const int prefill_cap = options_.prefill_tokens_while_decoding > 0 ? options_.prefill_tokens_while_decoding : options_.step_tokens;
  const bool pace = decode_tokens > 0 && options_.max_step_slowdown > 0 && decode_step_s_ > 0;
  if (decode_tokens > 0) budget = std::min(budget, pace ? std::min(adaptive_chunk_, prefill_cap) : prefill_cap);
  std::vector<Generation*> waiting;  // prefills the full pool holds back
  for (auto& gp : active_) {
    Generation& g = *gp;
    if (g.pending >= 0 || g.done || budget == 0) continue;
    if (g.preempted && g.sequence->length() == 0) g.sequence->Reuse(g.history);
    const std::vector<int32_t>& feed = g.history;  // the prompt, plus what it generated if preempted
    const int have = g.sequence->length();
    int n = std::min(budget, static_cast<int>(feed.size()) - have);
    // V4: a chunk that stops short of the prompt's end stops on a block boundary, and the one
    // that would reach the end stops first at the last boundary before the prompt's final token:
    // there the sequence keeps the state a prefix-cache snapshot needs (kv/sequence_kv.h).
    if (const int b = blocks_->shape().block_tokens; blocks_->shape().v4) {
      const int total = static_cast<int>(feed.size()), last_boundary = (total - 1) / b * b;
      if (have + n < total && n > b) {
        n -= (have + n) % b;
      } else if (have + n == total && have < last_boundary && last_boundary < total) {
        n = last_boundary - have;
      }
    }
    if (Status s = g.sequence->Reserve(n); !s.ok()) {
      waiting.push_back(&g);  // waits for blocks the others release
      continue;
    }
    members.push_back({&g, std::span(feed).subspan(static_cast<size_t>(have), static_cast<size_t>(n))});
    budget -= n;
  }
  // Nothing can run while prefills wait: the newest of them fails, so that its blocks let the
  // others go on (a single request larger than the pool fails at once).
  if (members.empty() && !waiting.empty()) {
    Generation& g = *waiting.back();
    fail(g, ResourceExhausted("the KV cache is full: {} blocks of {} tokens cannot hold the waiting prompts; raise --kv-budget",
                              blocks_->n_blocks(), options_.block_tokens));
    g.sequence->Truncate(0);  // its blocks back to the pool now (a shared conversation keeps none)
  }
  for (const Member& m : members) {
    const bool last = m.g->pending >= 0 || m.g->sequence->length() + static_cast<int>(m.tokens.size()) == static_cast<int>(m.g->history.size());
    chunks.push_back({m.tokens, m.g->sequence->length(), m.g->sequence->View(),
                      last ? model::LogitsWanted::kLast : model::LogitsWanted::kNone, m.g->sequence->v4_tail()});
  }
  if (!chunks.empty()) {
    model::ForwardCounters counters;
    const model::ForwardOptions o{.attention = options_.attention, .exact = options_.exact, .counters = &counters};
    const model::ExpertTraffic before = model_.expert_store ? model_.expert_store->Traffic() : model::ExpertTraffic{};
    std::vector<StepShare> shares;
    for (size_t i = 0; i < members.size(); ++i) {
      shares.push_back({members[i].g, static_cast<int>(members[i].tokens.size()), chunks[i].pos0, static_cast<int>(i) < decode_tokens});
    }
    Status s;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      s = transformer_.Forward(chunks, o, pool_, &logits_);
    } catch (const std::bad_alloc&) {
      s = ResourceExhausted("out of memory in a forward step of {} sequences", chunks.size());
    }
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int prefill_tokens = 0;
    for (size_t i = static_cast<size_t>(decode_tokens); i < members.size(); ++i) prefill_tokens += static_cast<int>(members[i].tokens.size());
    if (s.ok()) Pace(decode_tokens, prefill_tokens, t, prefill_cap);
    model::ExpertTraffic traffic = model_.expert_store ? model_.expert_store->Traffic() : model::ExpertTraffic{};
    traffic.bytes_read -= before.bytes_read;
    traffic.bytes_served -= before.bytes_served;
    traffic.reads -= before.reads;
    traffic.stall_s -= before.stall_s;
    if (!s.ok()) {
      Account(shares, t, counters, traffic);
      for (const Member& m : members) fail(*m.g, s);
    } else {
      for (size_t i = 0; i < members.size(); ++i) members[i].g->sequence->Commit(members[i].tokens);
      Account(shares, t, counters, traffic);  // after the commits: the latents held include the step's
      size_t row = 0;
      for (size_t i = 0; i < members.size(); ++i) {
        Generation& g = *members[i].g;
        if (chunks[i].logits == model::LogitsWanted::kNone) continue;
        g.pending = -1;
        g.preempted = false;
        Sampled(g, logits_.data() + row * static_cast<size_t>(model_.config.vocab_size), events);
        ++row;
      }
    }
  }
  std::erase_if(active_, [](const std::unique_ptr<Generation>& g) { return g->done; });
  return OkStatus();
}

}  // namespace frugal::engine
