#include "engine/session.h"

#include <algorithm>
#include <chrono>

#include "kv/sequence_cache.h"

namespace frugal::engine {

Session::Session(const model::LoadedModel& model, const SessionOptions& options, ThreadPool& pool)
    : options_(options), pool_(pool), transformer_(model) {}

StatusOr<std::unique_ptr<Session>> Session::Create(const model::LoadedModel& model, const SessionOptions& options,
                                                   ThreadPool& pool) {
  if (options.context < 1) return InvalidArgument("the context must be positive");
  auto s = std::unique_ptr<Session>(new Session(model, options, pool));
  const kv::BlockShape shape =
      kv::ShapeFor(model.config, options.kv_dtype, options.block_tokens > 0 ? options.block_tokens : kv::kDefaultBlockTokens);
  const uint64_t blocks = (static_cast<uint64_t>(options.context) + shape.block_tokens - 1) / shape.block_tokens;
  FRUGAL_ASSIGN_OR_RETURN(s->blocks_, kv::BlockPool::Create(shape, blocks * shape.block_bytes()));
  s->sequence_ = std::make_unique<kv::SequenceKv>(*s->blocks_, 0);
  return s;
}

Status Session::Run(std::span<const int32_t> tokens) {
  const int n = static_cast<int>(tokens.size());
  if (sequence_->length() + n > options_.context) {
    return OutOfRange("context limit of {} tokens reached; raise -c", options_.context);
  }
  FRUGAL_RETURN_IF_ERROR(sequence_->Reserve(n));
  const model::SequenceChunk c{tokens, sequence_->length(), sequence_->View(), model::LogitsWanted::kLast, sequence_->v4_tail()};
  model::ForwardCounters counters;
  const model::ForwardOptions o{.attention = options_.attention, .exact = options_.exact, .counters = &counters};
  const auto t0 = std::chrono::steady_clock::now();
  FRUGAL_RETURN_IF_ERROR(transformer_.Forward(std::span(&c, 1), o, pool_, &logits_));
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sequence_->Commit(tokens);
  ++work_.steps;
  work_.tokens += n;
  work_.kv_rows_read += c.pos0 + n;
  work_.routed_experts += counters.routed_experts;
  work_.seconds += t;
  work_.kv_byte_seconds += static_cast<double>(sequence_->length()) * static_cast<double>(blocks_->shape().bytes_per_token()) * t;
  return OkStatus();
}

StatusOr<int> Session::Feed(std::span<const int32_t> tokens) {
  if (tokens.empty()) return InvalidArgument("empty prompt");
  if (tokens.size() > static_cast<size_t>(options_.context)) {
    return OutOfRange("prompt of {} tokens exceeds the context of {}; raise -c", tokens.size(), options_.context);
  }
  const size_t common = static_cast<size_t>(sequence_->Reuse(tokens).tokens);
  const size_t chunk = static_cast<size_t>(std::max(1, options_.prefill_chunk));
  for (size_t pos = common; pos < tokens.size(); pos += chunk) {
    FRUGAL_RETURN_IF_ERROR(Run(tokens.subspan(pos, std::min(chunk, tokens.size() - pos))));
  }
  return static_cast<int>(tokens.size() - common);
}

Status Session::Append(int32_t token) { return Run(std::span(&token, 1)); }

}  // namespace frugal::engine
