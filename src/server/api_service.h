// The OpenAI/DeepSeek-compatible API over the transport: routing (/v1/chat/completions,
// /v1/completions, /v1/models, /health, /metrics), the API key, tenancy (X-Tenant header or the
// `user` field salt the prefix cache unless the cache is shared), request validation, prompt
// rendering and tokenization, and the answers: whole objects or server-sent events fed by the
// batch loop's events. Until SetReady every endpoint but /health and /metrics answers 503
// (loading); after BeginDrain new completions answer 503 (draining).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "ledger/prices.h"
#include "server/api_error.h"
#include "server/batch_loop.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace frugal::server {

struct ApiServiceOptions {
  std::string model_id;  // the name clients use
  std::string api_key;   // empty: no key needed
  bool share_cache = false;
  ledger::PriceSheet prices;  // usage.cost; none when its name is empty
};

class ApiService {
 public:
  ApiService(ApiServiceOptions options, Metrics& metrics);
  // The model is loaded: requests are served from now on. The pointers outlive the service's use.
  void SetReady(BatchLoop* loop, const tokenizer::Tokenizer* tokenizer, tokenizer::ChatTemplate chat_template, int context,
                int64_t loaded_at);
  void BeginDrain() { draining_ = true; }
  void Handle(HttpRequest request, std::shared_ptr<Responder> responder);

 private:
  void Complete(const HttpRequest& request, const std::shared_ptr<Responder>& responder, bool chat);
  void Reply(Responder& r, int status, const std::string& body, HeaderList headers = {});
  void Error(Responder& r, const ApiError& e, HeaderList headers = {});
  bool Authorized(const HttpRequest& request) const;

  const ApiServiceOptions options_;
  Metrics& metrics_;
  std::atomic<bool> ready_{false}, draining_{false};
  BatchLoop* loop_ = nullptr;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
  tokenizer::ChatTemplate template_;
  int context_ = 0;
  int64_t loaded_at_ = 0;
};

}  // namespace frugal::server
