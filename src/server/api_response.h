// The JSON OpenAI's and DeepSeek's APIs answer with: whole completion objects, server-sent-event
// chunks, usage (with DeepSeek's prompt_cache_hit_tokens / prompt_cache_miss_tokens and OpenAI's
// prompt_tokens_details.cached_tokens), the model list. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "ledger/prices.h"
#include "server/api_request.h"

namespace frugal::server {

struct ResponseMeta {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;  // chatcmpl-… / cmpl-…
  int64_t created = 0;
  std::string model;
  bool include_usage = false;  // streaming: "usage": null on choice chunks, a usage chunk last
  // Usage carries a "cost" object priced under this sheet (none when its name is empty).
  ledger::PriceSheet prices;
};

// A new response id for the endpoint ("chatcmpl-" or "cmpl-" and 24 random hex digits).
std::string NewResponseId(Endpoint endpoint);

// reasoning: DeepSeek's `reasoning_content` (R1), omitted when null.
std::string CompletionBody(const ResponseMeta& meta, const std::string& text, const char* finish_reason,
                           const engine::Usage& usage, const std::string* reasoning = nullptr);
// Server-sent events, each "data: {…}\n\n".
std::string RoleEvent(const ResponseMeta& meta);  // chat only: the assistant role, empty content
std::string TextEvent(const ResponseMeta& meta, const std::string& text);
std::string ReasoningEvent(const ResponseMeta& meta, const std::string& reasoning);  // chat: delta.reasoning_content
std::string FinishEvent(const ResponseMeta& meta, const char* finish_reason);
std::string UsageEvent(const ResponseMeta& meta, const engine::Usage& usage);
std::string ErrorEvent(const std::string& error_body);
inline constexpr const char* kDoneEvent = "data: [DONE]\n\n";

std::string ModelsBody(const std::string& model, int64_t created);

}  // namespace frugal::server
