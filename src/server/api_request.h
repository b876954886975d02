// The body of POST /v1/chat/completions and /v1/completions, parsed and validated: every field's
// type and range is checked here, so what reaches the engine is well-formed. Unknown fields are
// ignored (clients send extras). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/sampler.h"
#include "server/api_error.h"
#include "tokenizer/chat_template.h"

namespace frugal::server {

enum class Endpoint { kChat, kCompletions };

struct CompletionRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::vector<tokenizer::ChatMessage> messages;  // chat
  std::string prompt_text;                       // completions: text
  std::vector<int64_t> prompt_ids;               // completions: token ids (range checked later)
  bool prompt_is_ids = false;
  std::optional<int64_t> max_tokens;             // unset: up to the context
  engine::SamplingParams sampling;               // OpenAI's defaults: temperature 1, no top-k/top-p/min-p
  bool seeded = false;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  std::string user;
  std::string model;  // empty: the served model
};

// Deepest nesting of arrays and objects accepted in a body.
inline constexpr int kMaxJsonDepth = 64;

std::variant<CompletionRequest, ApiError> ParseCompletionRequest(std::string_view body, Endpoint endpoint);

}  // namespace frugal::server
