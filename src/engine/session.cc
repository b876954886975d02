#include "engine/session.h"

#include <algorithm>

namespace frugal::engine {

Session::Session(const model::LoadedModel& model, const SessionOptions& options, ThreadPool& pool)
    : options_(options), pool_(pool), transformer_(model.config, model.weights),
      cache_(model.config.n_layers, options.context, model.config.mla.latent_width(), options.kv_dtype) {}

StatusOr<int> Session::Feed(std::span<const int32_t> tokens) {
  if (tokens.empty()) return InvalidArgument("empty prompt");
  if (tokens.size() > static_cast<size_t>(cache_.capacity())) {
    return OutOfRange("prompt of {} tokens exceeds the context of {}; raise -c", tokens.size(), cache_.capacity());
  }
  size_t common = 0;
  while (common < tokens_.size() && common < tokens.size() && tokens_[common] == tokens[common]) ++common;
  // Recompute at least the last token so that its logits are fresh.
  if (common == tokens.size()) --common;
  tokens_.resize(common);
  const int chunk = std::max(1, options_.prefill_chunk);
  for (size_t pos = common; pos < tokens.size(); pos += static_cast<size_t>(chunk)) {
    const size_t len = std::min(static_cast<size_t>(chunk), tokens.size() - pos);
    const model::ForwardOptions o{.attention = options_.attention, .exact = options_.exact};
    FRUGAL_RETURN_IF_ERROR(transformer_.Forward(tokens.subspan(pos, len), static_cast<int>(pos), cache_, o, pool_, &logits_));
    tokens_.insert(tokens_.end(), tokens.begin() + static_cast<long>(pos), tokens.begin() + static_cast<long>(pos + len));
  }
  return static_cast<int>(tokens.size() - common);
}

Status Session::Append(int32_t token) {
  if (tokens_.size() >= static_cast<size_t>(cache_.capacity())) {
    return OutOfRange("context limit of {} tokens reached; raise -c", cache_.capacity());
  }
  const model::ForwardOptions o{.attention = options_.attention, .exact = options_.exact};
  FRUGAL_RETURN_IF_ERROR(transformer_.Forward(std::span(&token, 1), static_cast<int>(tokens_.size()), cache_, o, pool_, &logits_));
  tokens_.push_back(token);
  return OkStatus();
}

}  // namespace frugal::engine
