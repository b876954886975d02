#include "server/http_server.h"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <deque>
#include <optional>
#include <thread>

#include "server/api_error.h"
#include "util/log.h"

namespace frugal::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::signal_set signals{ioc, SIGTERM, SIGINT};
  net::steady_timer accept_retry{ioc};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<int> open_responses{0};

  void Accept();
};

namespace {

constexpr size_t kHeaderLimit = 64 << 10;
constexpr size_t kPipelinedLimit = 64 << 10;  // bytes buffered from a client while it is answered

std::string Reason(int status) {
  const auto r = http::obsolete_reason(static_cast<http::status>(status));
  return r.empty() ? "Unknown" : std::string(r);
}

// One connection. All members are touched on the connection's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}

  void Begin() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }
  // The parts of a response, queued in order; `last` completes the response.
  void Enqueue(std::string data, bool last) {
    if (closed_ || !responding_) return;
    out_.emplace_back(std::move(data), last);
    WriteNext();
  }
  std::string Head(int status, const std::string& content_type, const HeaderList& headers, bool chunked,
                   size_t length) const {
    std::string h = fmt::format("HTTP/1.1 {} {}\r\nServer: frugal\r\nContent-Type: {}\r\n", status, Reason(status), content_type);
    if (chunked) h += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
    else h += fmt::format("Content-Length: {}\r\n", length);
    h += close_after_ ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    for (const auto& [k, v] : headers) h += k + ": " + v + "\r\n";
    return h + "\r\n";
  }
  void SetOnGone(std::function<void()> f) {
    if (closed_) {
      if (f) f();
      return;
    }
    if (responding_) on_gone_ = std::move(f);
  }
  bool closed() const { return closed_; }
  void set_close_after() { close_after_ = true; }
  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void ReadRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(std::chrono::seconds(server_.options.read_timeout_s));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnHeader(ec);
    });
  }

  // Headers read: a client that sent "Expect: 100-continue" (curl does for bodies over 1 KiB)
  // waits for this before it sends the body; then the body.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRequest(ec);
    const auto& h = parser_->get();
    if (beast::iequals(h[http::field::expect], "100-continue") && !parser_->is_done()) {
      if (parser_->content_length() && *parser_->content_length() > server_.options.max_body_bytes) {
        return OnRequest(http::error::body_limit);  // refuse before the client sends it
      }
      continue_ = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(continue_), [self = shared_from_this()](beast::error_code wec, size_t) {
        if (wec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }
  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec);

  void Watch() {
    // A read while the answer is open: it ends with an error when the client goes away. Bytes
    // a client sends meanwhile (a pipelined request) stay in the buffer for the next read.
    if (closed_ || watching_ || buffer_.size() >= kPipelinedLimit) return;
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->OnWatch(ec, n);
    });
  }
  void OnWatch(beast::error_code ec, size_t n) {
    watching_ = false;
    if (!ec) {
      buffer_.commit(n);
      if (responding_) Watch();
      else ReadRequest();
      return;
    }
    if (ec == net::error::operation_aborted && !closed_) {
      if (!responding_) ReadRequest();  // cancelled because the answer completed
      return;
    }
    Gone();
  }

  void WriteNext() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    net::async_write(stream_, net::buffer(out_.front().first), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }
  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (closed_) {
      out_.clear();  // kept until now: the write that just ended was reading it
      return;
    }
    if (ec) return Gone();
    const bool last = out_.front().second;
    out_.pop_front();
    if (last) return Complete();
    WriteNext();
  }

  void Complete() {
    responding_ = false;
    --server_.open_responses;
    on_gone_ = nullptr;
    if (close_after_) return Close();
    if (watching_) {
      beast::error_code ignored;
      stream_.socket().cancel(ignored);  // OnWatch then reads the next request
    } else {
      ReadRequest();
    }
  }

  // The client went away (or a write failed): the open answer is abandoned.
  void Gone() {
    if (closed_) return;
    if (responding_) {
      responding_ = false;
      --server_.open_responses;
      std::function<void()> f = std::move(on_gone_);
      on_gone_ = nullptr;
      Close();
      if (f) f();
      return;
    }
    Close();
  }

  void Close() {
    closed_ = true;
    if (!writing_) out_.clear();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::pair<std::string, bool>> out_;
  std::function<void()> on_gone_;
  std::string continue_;
  bool writing_ = false, watching_ = false, responding_ = false, close_after_ = false, closed_ = false;

  friend class SessionResponder;
};

class SessionResponder : public Responder {
 public:
  explicit SessionResponder(std::shared_ptr<Session> s) : session_(std::move(s)) {}

  void Send(int status, const std::string& content_type, std::string body, HeaderList headers) override {
    if (done_.exchange(true) || started_) return;
    net::post(session_->executor(), [s = session_, status, content_type, body = std::move(body), headers = std::move(headers)]() mutable {
      s->Enqueue(s->Head(status, content_type, headers, false, body.size()) + body, true);
    });
  }
  void StartStream(int status, const std::string& content_type, HeaderList headers) override {
    if (done_ || started_.exchange(true)) return;
    net::post(session_->executor(), [s = session_, status, content_type, headers = std::move(headers)] {
      s->Enqueue(s->Head(status, content_type, headers, true, 0), false);
    });
  }
  void Write(std::string data) override {
    if (done_ || !started_ || data.empty()) return;
    std::string chunk = fmt::format("{:x}\r\n", data.size());
    chunk += data;
    chunk += "\r\n";
    net::post(session_->executor(), [s = session_, chunk = std::move(chunk)]() mutable { s->Enqueue(std::move(chunk), false); });
  }
  void End() override {
    if (!started_ || done_.exchange(true)) return;
    net::post(session_->executor(), [s = session_] { s->Enqueue("0\r\n\r\n", true); });
  }
  void OnClientGone(std::function<void()> callback) override {
    net::post(session_->executor(), [s = session_, callback = std::move(callback)]() mutable { s->SetOnGone(std::move(callback)); });
  }

 private:
  std::shared_ptr<Session> session_;
  std::atomic<bool> done_{false}, started_{false};
};

void Session::OnRequest(beast::error_code ec) {
  if (closed_) return;
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset || ec == net::error::eof) {
    return Close();
  }
  responding_ = true;
  ++server_.open_responses;
  auto responder = std::make_shared<SessionResponder>(shared_from_this());
  if (ec) {
    // A request Beast could not parse: answered, then the connection closes (its framing is lost).
    close_after_ = true;
    const bool too_big = ec == http::error::body_limit;
    const ApiError e{too_big ? 413 : 400,
                     too_big ? fmt::format("the request body is larger than the limit of {} bytes", server_.options.max_body_bytes)
                             : fmt::format("malformed HTTP request: {}", ec.message()),
                     "invalid_request_error", {}, {}};
    responder->Send(e.status, "application/json", ErrorBody(e), {});
    return;
  }
  stream_.expires_never();
  const auto& msg = parser_->get();
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.body = std::move(parser_->get().body());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  close_after_ = !msg.keep_alive();
  Watch();
  try {
    server_.handler(std::move(req), responder);
  } catch (const std::exception& e) {
    LogError("request handler failed: {}", e.what());
    responder->Send(500, "application/json", ErrorBody({500, "internal error", "server_error", {}, {}}), {});
  }
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->Begin();
    }
    if (!acceptor.is_open()) return;
    if (ec && ec != net::error::operation_aborted) {
      // Out of file descriptors (or another refusal): retrying at once would spin a core.
      LogError("accept: {}; retrying in 100 ms", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code) {
        if (acceptor.is_open()) Accept();
      });
      return;
    }
    Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  const auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec || endpoints.empty()) return InvalidArgument("cannot resolve host '{}': {}", options.host, ec.message());
  const tcp::endpoint ep = endpoints.begin()->endpoint();
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return MakeStatus(StatusCode::kIoError, "cannot listen on {}:{}: {}", options.host, options.port, ec.message());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Start() {
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i) {
    impl_->threads.emplace_back([this] {
      for (;;) {
        try {
          impl_->ioc.run();
          return;
        } catch (const std::exception& e) {  // a handler's exception must not end the thread
          LogError("I/O thread: {}", e.what());
        }
      }
    });
  }
}

void HttpServer::StopAccepting() {
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->work.reset();
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
}

int HttpServer::open_responses() const { return impl_->open_responses.load(); }

void HttpServer::OnSignal(std::function<void(int)> f) {
  impl_->signals.async_wait([this, f = std::move(f)](beast::error_code ec, int signal) {
    if (ec) return;
    f(signal);
    OnSignal(f);  // a second signal is reported too
  });
}

}  // namespace frugal::server
