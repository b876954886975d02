#include "server/api_request.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace frugal::server {
namespace {

using Json = nlohmann::json;

// The nesting depth of a JSON text (brackets outside strings), found before parsing so that a
// hostile body of 100,000 '[' costs nothing.
int NestingDepth(std::string_view body) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const char* TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Field readers: each returns an error naming the field, or stores the value.
struct Reader {
  const Json& body;
  std::optional<ApiError> error;

  const Json* Get(const char* name) {
    auto it = body.find(name);
    // An explicit null means "not given", as OpenAI's clients send it.
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(std::string message, const char* param) {
    if (!error) error = BadRequest(std::move(message), param);
  }
  void Number(const char* name, double lo, double hi, bool lo_open, float* out) {
    const Json* v = Get(name);
    if (v == nullptr) return;
    if (!v->is_number()) return Fail(fmt::format("'{}' must be a number, not {}", name, TypeName(*v)), name);
    const double x = v->get<double>();
    if (!std::isfinite(x) || x > hi || x < lo || (lo_open && x == lo)) {
      return Fail(fmt::format("'{}' must be in {}{}, {}]; got {}", name, lo_open ? "(" : "[", lo, hi, x), name);
    }
    *out = static_cast<float>(x);
  }
  bool Integer(const char* name, int64_t lo, int64_t* out) {
    const Json* v = Get(name);
    if (v == nullptr) return false;
    if (!v->is_number_integer()) return Fail(fmt::format("'{}' must be an integer, not {}", name, TypeName(*v)), name), false;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      *out = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                             : static_cast<int64_t>(u);
    } else {
      *out = v->get<int64_t>();
    }
    if (*out < lo) return Fail(fmt::format("'{}' must be at least {}; got {}", name, lo, *out), name), false;
    return true;
  }
  void Bool(const char* name, bool* out) {
    const Json* v = Get(name);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Fail(fmt::format("'{}' must be a boolean, not {}", name, TypeName(*v)), name);
    *out = v->get<bool>();
  }
  void String(const char* name, std::string* out) {
    const Json* v = Get(name);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(fmt::format("'{}' must be a string, not {}", name, TypeName(*v)), name);
    *out = v->get<std::string>();
  }
};

// A message's content: a string, or an array of text parts (OpenAI's content parts).
std::optional<std::string> ContentText(const Json& content, std::string* why) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return std::string();
  if (!content.is_array()) {
    *why = fmt::format("must be a string or an array of text parts, not {}", TypeName(content));
    return std::nullopt;
  }
  std::string text;
  for (const Json& part : content) {
    if (!part.is_object() || part.value("type", Json()) != "text" || !part.contains("text") || !part["text"].is_string()) {
      *why = "parts must be objects {\"type\": \"text\", \"text\": string} (only text is supported)";
      return std::nullopt;
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

void ReadMessages(Reader& r, CompletionRequest* out) {
  const Json* m = r.Get("messages");
  if (m == nullptr) return r.Fail("'messages' is required", "messages");
  if (!m->is_array()) return r.Fail(fmt::format("'messages' must be an array, not {}", TypeName(*m)), "messages");
  if (m->empty()) return r.Fail("'messages' must not be empty", "messages");
  for (size_t i = 0; i < m->size(); ++i) {
    const Json& msg = (*m)[i];
    const std::string where = fmt::format("messages[{}]", i);
    if (!msg.is_object()) return r.Fail(fmt::format("'{}' must be an object, not {}", where, TypeName(msg)), "messages");
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) return r.Fail(fmt::format("'{}.role' must be a string", where), "messages");
    std::string name = role->get<std::string>();
    if (name == "developer") name = "system";  // OpenAI's newer name for system instructions
    if (name != "system" && name != "user" && name != "assistant" && name != "tool") {
      return r.Fail(fmt::format("'{}.role' must be system, developer, user, assistant or tool; got '{}'", where, name),
                    "messages");
    }
    auto content = msg.find("content");
    if (content == msg.end() || (content->is_null() && name != "assistant")) {
      return r.Fail(fmt::format("'{}.content' is required", where), "messages");
    }
    std::string why;
    std::optional<std::string> text = ContentText(*content, &why);
    if (!text) return r.Fail(fmt::format("'{}.content' {}", where, why), "messages");
    std::string reasoning;
    if (auto rc = msg.find("reasoning_content"); rc != msg.end() && rc->is_string()) reasoning = rc->get<std::string>();
    out->messages.push_back({std::move(name), std::move(*text), std::move(reasoning)});
  }
}

void ReadPrompt(Reader& r, CompletionRequest* out) {
  const Json* p = r.Get("prompt");
  if (p == nullptr) return r.Fail("'prompt' is required", "prompt");
  if (p->is_string()) {
    out->prompt_text = p->get<std::string>();
    return;
  }
  if (!p->is_array()) {
    return r.Fail(fmt::format("'prompt' must be a string or an array of token ids, not {}", TypeName(*p)), "prompt");
  }
  if (p->size() == 1 && (*p)[0].is_string()) {
    out->prompt_text = (*p)[0].get<std::string>();
    return;
  }
  if (p->empty()) return r.Fail("'prompt' must not be empty", "prompt");
  for (const Json& id : *p) {
    if (id.is_string() || id.is_array()) return r.Fail("one prompt per request: 'prompt' holds several", "prompt");
    if (!id.is_number_integer()) return r.Fail("'prompt' token ids must be integers", "prompt");
    if (id.is_number_unsigned() && id.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return r.Fail("'prompt' holds a token id outside the vocabulary", "prompt");
    }
    out->prompt_ids.push_back(id.get<int64_t>());
  }
  out->prompt_is_ids = true;
}

void ReadStop(Reader& r, CompletionRequest* out) {
  const Json* s = r.Get("stop");
  if (s == nullptr) return;
  if (s->is_string()) {
    if (s->get<std::string>().empty()) return r.Fail("'stop' must not be an empty string", "stop");
    out->stop.push_back(s->get<std::string>());
    return;
  }
  if (!s->is_array()) return r.Fail(fmt::format("'stop' must be a string or an array of strings, not {}", TypeName(*s)), "stop");
  if (s->size() > 4) return r.Fail(fmt::format("'stop' holds {} strings; at most 4", s->size()), "stop");
  for (const Json& v : *s) {
    if (!v.is_string()) return r.Fail("'stop' must hold strings only", "stop");
    if (v.get<std::string>().empty()) return r.Fail("'stop' must not hold an empty string", "stop");
    out->stop.push_back(v.get<std::string>());
  }
}

}  // namespace

std::variant<CompletionRequest, ApiError> ParseCompletionRequest(std::string_view body, Endpoint endpoint) {
  if (NestingDepth(body) > kMaxJsonDepth) {
    return BadRequest(fmt::format("the body nests arrays and objects deeper than {} levels", kMaxJsonDepth));
  }
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return BadRequest("the body is not valid JSON (or not valid UTF-8)");
  if (!json.is_object()) return BadRequest(fmt::format("the body must be a JSON object, not {}", TypeName(json)));
  CompletionRequest out;
  out.endpoint = endpoint;
  // OpenAI's defaults: plain sampling at temperature 1.
  out.sampling.temperature = 1.0f;
  out.sampling.top_k = 0;
  out.sampling.top_p = 1.0f;
  out.sampling.min_p = 0.0f;
  Reader r{json, std::nullopt};
  if (endpoint == Endpoint::kChat) ReadMessages(r, &out);
  else ReadPrompt(r, &out);
  int64_t n = 0;
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (r.Integer(name, 0, &n)) out.max_tokens = n;
  }
  r.Number("temperature", 0, 2, false, &out.sampling.temperature);
  r.Number("top_p", 0, 1, true, &out.sampling.top_p);
  r.Number("min_p", 0, 1, false, &out.sampling.min_p);
  r.Number("presence_penalty", -2, 2, false, &out.sampling.presence_penalty);
  r.Number("frequency_penalty", -2, 2, false, &out.sampling.frequency_penalty);
  if (r.Integer("top_k", 0, &n)) out.sampling.top_k = static_cast<int>(std::min<int64_t>(n, std::numeric_limits<int>::max()));
  if (r.Integer("seed", std::numeric_limits<int64_t>::min(), &n)) {
    out.sampling.seed = static_cast<uint64_t>(n);
    out.seeded = true;
  }
  if (r.Integer("n", 1, &n) && n != 1) r.Fail("only n = 1 is supported", "n");
  ReadStop(r, &out);
  r.Bool("stream", &out.stream);
  if (const Json* so = r.Get("stream_options"); so != nullptr) {
    if (!so->is_object()) {
      r.Fail(fmt::format("'stream_options' must be an object, not {}", TypeName(*so)), "stream_options");
    } else if (auto iu = so->find("include_usage"); iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) r.Fail("'stream_options.include_usage' must be a boolean", "stream_options");
      else out.include_usage = iu->get<bool>();
    }
  }
  r.String("user", &out.user);
  r.String("model", &out.model);
  if (r.error) return *r.error;
  return out;
}

}  // namespace frugal::server
