#include "server/api_service.h"

#include <fmt/format.h>

#include <optional>
#include <random>

#include "server/api_response.h"
#include "server/reasoning_split.h"

namespace frugal::server {
namespace {

constexpr const char* kJson = "application/json";

// Equal strings, in time that depends only on their lengths (an API key is not guessable by
// timing).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

int StatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kResourceExhausted: return 503;
    default: return 500;
  }
}

ApiError EngineError(const Status& s) {
  const int status = StatusFor(s);
  return {status, s.message(), status == 400 ? "invalid_request_error" : "server_error", {}, {}};
}

int64_t Now() { return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

ApiService::ApiService(ApiServiceOptions options, Metrics& metrics) : options_(std::move(options)), metrics_(metrics) {}

void ApiService::SetReady(BatchLoop* loop, const tokenizer::Tokenizer* tokenizer, tokenizer::ChatTemplate chat_template,
                          int context, int64_t loaded_at) {
  loop_ = loop;
  tokenizer_ = tokenizer;
  template_ = chat_template;
  context_ = context;
  loaded_at_ = loaded_at;
  ready_.store(true, std::memory_order_release);
}

void ApiService::Reply(Responder& r, int status, const std::string& body, HeaderList headers) {
  metrics_.CountHttp(status);
  r.Send(status, kJson, body, std::move(headers));
}

void ApiService::Error(Responder& r, const ApiError& e, HeaderList headers) {
  Reply(r, e.status, ErrorBody(e), std::move(headers));
}

bool ApiService::Authorized(const HttpRequest& request) const {
  if (options_.api_key.empty()) return true;
  return ConstantTimeEquals(request.Header("authorization"), "Bearer " + options_.api_key);
}

void ApiService::Handle(HttpRequest request, std::shared_ptr<Responder> responder) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const bool ready = ready_.load(std::memory_order_acquire);
  if (path == "/health") {
    if (request.method != "GET") {
      return Error(*responder, {405, "use GET for /health", "invalid_request_error", {}, "method_not_allowed"}, {{"Allow", "GET"}});
    }
    if (!ready) return Reply(*responder, 503, R"({"status":"loading"})");
    if (draining_) return Reply(*responder, 503, R"({"status":"draining"})");
    return Reply(*responder, 200, R"({"status":"ok"})");
  }
  if (!Authorized(request)) {
    return Error(*responder, {401, "a valid API key is required: send 'Authorization: Bearer KEY'", "authentication_error", {},
                              "invalid_api_key"});
  }
  struct Route {
    const char* path;
    const char* method;
  };
  static constexpr Route kRoutes[] = {{"/v1/chat/completions", "POST"}, {"/v1/completions", "POST"}, {"/v1/models", "GET"},
                                      {"/metrics", "GET"},
                                      // llama-server's unversioned aliases
                                      {"/chat/completions", "POST"}, {"/completions", "POST"}, {"/models", "GET"}};
  const Route* route = nullptr;
  for (const Route& r : kRoutes) {
    if (path == r.path) route = &r;
  }
  if (route == nullptr) {
    return Error(*responder, {404, fmt::format("no such endpoint: {}", path.substr(0, 200)), "invalid_request_error", {},
                              "unknown_url"});
  }
  if (request.method != route->method) {
    return Error(*responder,
                 {405, fmt::format("{} takes {}, not {}", route->path, route->method, request.method.substr(0, 20)),
                  "invalid_request_error", {}, "method_not_allowed"},
                 {{"Allow", route->method}});
  }
  if (path == "/metrics") {
    metrics_.CountHttp(200);
    return responder->Send(200, "text/plain; version=0.0.4", metrics_.Render(ready ? loop_->Gauges() : LiveGauges{}));
  }
  if (path.ends_with("/models")) return Reply(*responder, 200, ModelsBody(options_.model_id, loaded_at_));
  if (!ready) return Error(*responder, {503, "the model is loading", "server_error", {}, "loading"}, {{"Retry-After", "5"}});
  if (draining_) return Error(*responder, {503, "the server is shutting down", "server_error", {}, "draining"});
  Complete(request, responder, path.ends_with("/chat/completions"));
}

void ApiService::Complete(const HttpRequest& request, const std::shared_ptr<Responder>& responder, bool chat) {
  auto parsed = ParseCompletionRequest(request.body, chat ? Endpoint::kChat : Endpoint::kCompletions);
  if (auto* e = std::get_if<ApiError>(&parsed)) return Error(*responder, *e);
  CompletionRequest& req = std::get<CompletionRequest>(parsed);
  if (!req.model.empty() && req.model != options_.model_id) {
    return Error(*responder, {404, fmt::format("the model '{}' does not exist; this server serves '{}'", req.model.substr(0, 200),
                                               options_.model_id),
                              "invalid_request_error", "model", "model_not_found"});
  }
  // The prompt's tokens.
  const tokenizer::Tokenizer& tok = *tokenizer_;
  std::vector<int32_t> ids;
  if (chat) {
    const std::string bos = tok.bos_id() >= 0 ? tok.TokenText(tok.bos_id()) : "";
    const std::string eos = tok.eos_id() >= 0 ? tok.TokenText(tok.eos_id()) : "";
    ids = tok.Encode(tokenizer::RenderChat(template_, req.messages, true, bos, eos), {.add_bos = false, .parse_special = true});
  } else if (req.prompt_is_ids) {
    for (int64_t id : req.prompt_ids) {
      if (id < 0 || id >= tok.vocab_size()) {
        return Error(*responder, BadRequest(fmt::format("token id {} is outside the vocabulary (0..{})", id, tok.vocab_size() - 1),
                                            "prompt"));
      }
      ids.push_back(static_cast<int32_t>(id));
    }
  } else {
    ids = tok.Encode(req.prompt_text, {.add_bos = true, .parse_special = true});
  }
  if (ids.empty()) return Error(*responder, BadRequest("the prompt is empty", chat ? "messages" : "prompt"));
  const int n = static_cast<int>(ids.size());
  if (n >= context_) {
    return Error(*responder, {400,
                              fmt::format("the prompt has {} tokens; the context of {} tokens (prompt + completion) leaves no "
                                          "room to generate", n, context_),
                              "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded"});
  }
  auto job = std::make_shared<Job>();
  job->request.prompt = std::move(ids);
  job->request.max_tokens = static_cast<int>(std::min<int64_t>(req.max_tokens.value_or(context_), context_));
  job->request.stop = req.stop;
  job->request.sampling = req.sampling;
  if (!req.seeded) job->request.sampling.seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  const std::string tenant_header = request.Header("x-tenant");
  job->billed_tenant = !tenant_header.empty() ? tenant_header : req.user;
  job->request.tenant = options_.share_cache ? "" : job->billed_tenant;
  if (Status s = engine::ValidateSamplingParams(job->request.sampling); !s.ok()) return Error(*responder, EngineError(s));

  // The answer, built from the events on the engine thread.
  struct Answer {
    ResponseMeta meta;
    bool stream = false, started = false;
    std::string text, reasoning;
    std::optional<ReasoningSplitter> split;  // R1: reasoning apart, as DeepSeek's API returns it
  };
  auto answer = std::make_shared<Answer>();
  const Endpoint endpoint = chat ? Endpoint::kChat : Endpoint::kCompletions;
  answer->meta = {endpoint, NewResponseId(endpoint), Now(), options_.model_id, req.stream && req.include_usage, options_.prices};
  answer->stream = req.stream;
  if (chat && template_.kind == tokenizer::ChatTemplateKind::kDeepSeekR1 && template_.think_prefix) answer->split.emplace(true);
  job->on_event = [this, answer, responder](const engine::GenerationEvent& ev) {
    Answer& a = *answer;
    const bool error = ev.finish == engine::FinishReason::kError;
    const bool last = ev.finish != engine::FinishReason::kNone;
    SplitText piece{{}, ev.text};
    if (a.split) {
      piece = a.split->Push(ev.text);
      if (last) {
        SplitText rest = a.split->Flush();
        piece.reasoning += rest.reasoning;
        piece.content += rest.content;
      }
    }
    if (!a.stream) {
      a.text += piece.content;
      a.reasoning += piece.reasoning;
      if (error) return Error(*responder, EngineError(ev.error));
      if (last) {
        Reply(*responder, 200, CompletionBody(a.meta, a.text, engine::FinishReasonName(ev.finish), ev.usage,
                                              a.split ? &a.reasoning : nullptr));
      }
      return;
    }
    if (!a.started) {
      if (error) return Error(*responder, EngineError(ev.error));  // nothing sent yet: a plain error answer
      a.started = true;
      metrics_.CountHttp(200);
      responder->StartStream(200, "text/event-stream");
      if (a.meta.endpoint == Endpoint::kChat) responder->Write(RoleEvent(a.meta));
    }
    if (!piece.reasoning.empty()) responder->Write(ReasoningEvent(a.meta, piece.reasoning));
    if (!piece.content.empty()) responder->Write(TextEvent(a.meta, piece.content));
    if (!last) return;
    if (error) {
      responder->Write(ErrorEvent(ErrorBody(EngineError(ev.error))));
    } else {
      responder->Write(FinishEvent(a.meta, engine::FinishReasonName(ev.finish)));
      if (a.meta.include_usage) responder->Write(UsageEvent(a.meta, ev.usage));
    }
    responder->Write(kDoneEvent);
    responder->End();
  };
  std::weak_ptr<Job> weak = job;
  BatchLoop* loop = loop_;
  if (!loop->Submit(job)) {
    return Error(*responder, {429, "the server is busy: the request queue is full; retry later", "rate_limit_error", {},
                              "queue_full"},
                 {{"Retry-After", "1"}});
  }
  responder->OnClientGone([loop, weak] {
    if (auto j = weak.lock()) loop->Cancel(*j);
  });
}

}  // namespace frugal::server
