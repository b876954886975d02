// The HTTP/1.1 transport: Boost.Beast over Asio, asynchronous, so hundreds of slow streaming
// connections cost a socket and a buffer each, not a thread. Beast parses requests (bodies over
// the limit → 413, malformed requests → 400, idle or slow-header connections time out); the
// handler answers through a Responder, from any thread: a whole response, or a chunked stream
// (server-sent events). A client that goes away while its response is open is reported to the
// responder's close callback, so its work can be cancelled. Keep-alive is supported.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace frugal::server {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // The value of a header (name lower-case), empty if absent.
  std::string Header(std::string_view name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request's answer. Thread-safe; calls after the answer is complete are ignored.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(int status, const std::string& content_type, std::string body, HeaderList headers = {}) = 0;
  // A chunked response; Write sends a piece, End finishes it.
  virtual void StartStream(int status, const std::string& content_type, HeaderList headers = {}) = 0;
  virtual void Write(std::string data) = 0;
  virtual void End() = 0;
  // Called once (on an I/O thread) if the client disconnects before the answer is complete.
  virtual void OnClientGone(std::function<void()> callback) = 0;
};

using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<Responder> responder)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  uint64_t max_body_bytes = 8u << 20;
  int io_threads = 2;
  int read_timeout_s = 60;  // a request (headers and body) must arrive within this; idle keep-alive too
};

class HttpServer {
 public:
  // Binds and listens (errors: address in use, bad host); serves once Start is called.
  static StatusOr<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options, HttpHandler handler);
  ~HttpServer();  // Stop()
  void Start();
  // Closes the listening socket: no new connections (open ones are still served).
  void StopAccepting();
  // Stops the I/O threads; open connections are closed.
  void Stop();
  // Responses begun and not yet complete.
  int open_responses() const;
  // Calls `f` on an I/O thread when SIGTERM or SIGINT arrives.
  void OnSignal(std::function<void(int)> f);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace frugal::server
