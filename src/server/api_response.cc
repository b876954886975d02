#include "server/api_response.h"

#include <nlohmann/json.hpp>
#include <random>

namespace frugal::server {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// frugal's: the request priced under the server's price sheet (--prices), and what the prompt
// would have cost with no prompt cache.
Json CostJson(const ledger::PriceSheet& sheet, const engine::Usage& u) {
  const ledger::TokenCost c = ledger::PriceTokens(sheet, u.cache_hit_tokens, u.cache_miss_tokens, u.completion_tokens);
  return {{"currency", "USD"},
          {"price_sheet", sheet.name},
          {"prompt_cache_hit", c.hit_usd},
          {"prompt_cache_miss", c.miss_usd},
          {"completion", c.output_usd},
          {"total", c.total_usd},
          {"saved_by_prompt_cache", c.uncached_prompt_usd - c.hit_usd - c.miss_usd}};
}

Json UsageJson(const ResponseMeta& m, const engine::Usage& u) {
  Json j = {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cache_hit_tokens}}},
          {"prompt_cache_hit_tokens", u.cache_hit_tokens},
          {"prompt_cache_miss_tokens", u.cache_miss_tokens},
          // frugal's: where the hits came from (RAM blocks, or read back from the disk tier)
          {"prompt_cache_hit_tokens_by_tier",
           {{"ram", u.cache_hit_tokens - u.cache_hit_disk_tokens}, {"disk", u.cache_hit_disk_tokens}}}};
  if (!m.prices.name.empty()) j["cost"] = CostJson(m.prices, u);
  return j;
}

bool Chat(const ResponseMeta& m) { return m.endpoint == Endpoint::kChat; }

Json Envelope(const ResponseMeta& m, bool chunk) {
  const char* object = Chat(m) ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  Json j = {{"id", m.id}, {"object", object}, {"created", m.created}, {"model", m.model}};
  if (chunk && m.include_usage) j["usage"] = nullptr;
  return j;
}

std::string Event(const Json& j) { return "data: " + Dump(j) + "\n\n"; }

Json Choice(const ResponseMeta& m, const Json& delta_or_text, const char* finish_reason) {
  Json c = {{"index", 0}};
  if (Chat(m)) c["delta"] = delta_or_text;
  else c["text"] = delta_or_text;
  c["logprobs"] = nullptr;
  c["finish_reason"] = finish_reason != nullptr ? Json(finish_reason) : Json(nullptr);
  return c;
}

}  // namespace

std::string NewResponseId(Endpoint endpoint) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

std::string CompletionBody(const ResponseMeta& meta, const std::string& text, const char* finish_reason,
                           const engine::Usage& usage, const std::string* reasoning) {
  Json j = Envelope(meta, false);
  Json choice = {{"index", 0}};
  if (Chat(meta)) choice["message"] = {{"role", "assistant"}, {"content", text}};
  if (Chat(meta) && reasoning != nullptr) choice["message"]["reasoning_content"] = *reasoning;
  else choice["text"] = text;
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;
  j["choices"] = Json::array({choice});
  j["usage"] = UsageJson(meta, usage);
  return Dump(j);
}

std::string RoleEvent(const ResponseMeta& meta) {
  Json j = Envelope(meta, true);
  j["choices"] = Json::array({Choice(meta, {{"role", "assistant"}, {"content", ""}}, nullptr)});
  return Event(j);
}

std::string TextEvent(const ResponseMeta& meta, const std::string& text) {
  Json j = Envelope(meta, true);
  j["choices"] = Json::array({Choice(meta, Chat(meta) ? Json{{"content", text}} : Json(text), nullptr)});
  return Event(j);
}

std::string ReasoningEvent(const ResponseMeta& meta, const std::string& reasoning) {
  Json j = Envelope(meta, true);
  j["choices"] = Json::array({Choice(meta, Json{{"reasoning_content", reasoning}}, nullptr)});
  return Event(j);
}

std::string FinishEvent(const ResponseMeta& meta, const char* finish_reason) {
  Json j = Envelope(meta, true);
  j["choices"] = Json::array({Choice(meta, Chat(meta) ? Json::object() : Json(""), finish_reason)});
  return Event(j);
}

std::string UsageEvent(const ResponseMeta& meta, const engine::Usage& usage) {
  Json j = Envelope(meta, true);
  j["choices"] = Json::array();
  j["usage"] = UsageJson(meta, usage);
  return Event(j);
}

std::string ErrorEvent(const std::string& error_body) { return "data: " + error_body + "\n\n"; }

std::string ModelsBody(const std::string& model, int64_t created) {
  return Dump({{"object", "list"},
               {"data", Json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "frugal"}}})}});
}

}  // namespace frugal::server
