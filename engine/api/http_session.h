// Private to gsoc_api: one HTTP/1.1 connection (plain or TLS), keep-alive,
// limits and timeouts, and the SSE stream it may turn into.
//
// Everything of a session runs on its own strand. Errors are Beast error
// codes; an exception from a route becomes a 500 (routes.cc) and nothing
// escapes a handler. A session lives as long as an operation holds it.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

#include "engine/api/api_context.h"
#include "engine/api/routes.h"
#include "engine/api/stream_feed.h"

namespace gsoc::api {

namespace beast = boost::beast;
namespace net = boost::asio;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Start() = 0;
  virtual void Abort() = 0;  // any thread: close now (server stop, eviction)
  // Any thread: the connection has not authenticated and is not closing, so
  // it may be closed to make room for another.
  bool Evictable() const { return evictable_.load(); }

 protected:
  std::atomic<bool> evictable_{true};
};

// Told when a session is gone (frees its connection slot).
class SessionRegistry {
 public:
  virtual void Remove(uint64_t session_id) = 0;

 protected:
  ~SessionRegistry() = default;
};

// The hub's notify for one stream: posts a wake-up to the session's strand
// at most once until the strand has taken it; disarmed when the stream
// closes, after which it posts nothing (the io_context may be gone).
class StreamWaker {
 public:
  explicit StreamWaker(std::function<void()> post_wake) : post_wake_(std::move(post_wake)) {}
  void Wake() {
    if (pending_.exchange(true)) return;
    std::lock_guard lock(mutex_);
    if (post_wake_) post_wake_();
  }
  void Taken() { pending_.store(false); }
  void Disarm() {
    std::lock_guard lock(mutex_);
    post_wake_ = nullptr;
  }

 private:
  std::atomic<bool> pending_{false};
  std::mutex mutex_;
  std::function<void()> post_wake_;
};

template <class Stream>
class HttpSession : public SessionBase, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  HttpSession(Stream stream, ApiContext& context, SessionRegistry& registry, uint64_t id)
      : stream_(std::move(stream)),
        context_(context),
        registry_(registry),
        id_(id),
        keepalive_timer_(stream_.get_executor()) {}
  ~HttpSession() override {
    context_.response_bytes.fetch_sub(response_bytes_);
    EndStream();
    registry_.Remove(id_);
  }

  void Start() override {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Run(); });
  }

  void Abort() override {
    this->evictable_.store(false);
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  // One write holds at most kStreamChunkBytes plus one batch: with 64
  // streams of 121 KB alerts, ~2.2 MB each at most while a client is slow.
  static constexpr size_t kStreamBatchAlerts = 16;
  static constexpr size_t kStreamChunkBytes = 256 * 1024;
  static constexpr int kStreamRoundsPerPump = 16;
  static constexpr size_t kDrainBytes = 1 << 20;
  static constexpr size_t kFirstReadBytes = 4096;

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  template <class Method>
  auto Bind(Method method) {
    return beast::bind_front_handler(method, this->shared_from_this());
  }

  void Run() {
    if constexpr (kTls) {
      Lowest().expires_after(std::min<std::chrono::milliseconds>(context_.options.idle_timeout,
                                                                 context_.options.request_timeout));
      stream_.async_handshake(net::ssl::stream_base::server, Bind(&HttpSession::OnHandshake));
    } else {
      DoRead();
    }
  }

  void OnHandshake(beast::error_code error) {
    if (error) return Close();
    DoRead();
  }

  // Waits for the first byte of the next request: an unauthenticated
  // connection only request_timeout, one that authenticated idle_timeout.
  void DoRead() {
    if (closed_) return;
    if (buffer_.size() > 0) return ReadRequest();  // pipelined: already here
    const auto& options = context_.options;
    const auto wait =
        authenticated_
            ? std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout)
            : std::min<std::chrono::milliseconds>(options.idle_timeout, options.request_timeout);
    Lowest().expires_after(wait);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes), Bind(&HttpSession::OnFirstBytes));
  }

  void OnFirstBytes(beast::error_code error, size_t bytes) {
    buffer_.commit(bytes);
    if (error) return Close();  // idle, reset or end of stream
    ReadRequest();
  }

  // The whole request must be in within request_timeout.
  void ReadRequest() {
    const auto limit = static_cast<std::uint32_t>(
        std::min<size_t>(context_.options.max_request_bytes, UINT32_MAX));
    parser_.emplace();
    parser_->header_limit(limit);
    parser_->body_limit(limit);
    Lowest().expires_after(context_.options.request_timeout);
    beast::http::async_read(stream_, buffer_, *parser_, Bind(&HttpSession::OnRead));
  }

  void OnRead(beast::error_code error, size_t) {
    if (!error) return HandleRequest(parser_->release());
    namespace http = beast::http;
    if (error == beast::error::timeout) {
      context_.request_timeouts.fetch_add(1, std::memory_order_relaxed);
      return Close();  // a request that does not complete holds nothing
    }
    if (error == http::error::header_limit) {
      return RefuseAndClose(http::status::request_header_fields_too_large,
                            "request head too large");
    }
    if (error == http::error::body_limit) {
      return RefuseAndClose(http::status::payload_too_large, "request body too large");
    }
    const bool parse_error =
        error.category() == http::make_error_code(http::error::bad_target).category();
    if (parse_error && error != http::error::end_of_stream &&
        error != http::error::partial_message) {
      return RefuseAndClose(http::status::bad_request, "malformed request: " + error.message());
    }
    if (error == http::error::end_of_stream) return GracefulClose();
    Close();  // reset, a request cut short
  }

  // "address:port" of the client, for the audit log.
  std::string PeerAddress() {
    boost::system::error_code error;
    const auto endpoint = Lowest().socket().remote_endpoint(error);
    if (error) return {};
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void HandleRequest(HttpRequest request) {
    Routed routed = RouteRequest(context_, request, PeerAddress());
    if (routed.authenticated && !authenticated_) {
      authenticated_ = true;
      this->evictable_.store(false);
    }
    if (routed.stream) {
      stream_token_id_ = routed.principal ? routed.principal->token_id : std::string();
      return StartStream(std::move(*routed.stream), routed.route, request);
    }
    // No unauthenticated client holds a connection with requests that fail.
    if (!routed.authenticated && routed.reply->result_int() >= 400) {
      routed.reply->keep_alive(false);
    }
    Send(std::move(*routed.reply), routed.route);
  }

  void Send(HttpResponse response, const std::string& route) {
    context_.requests.Count(route, static_cast<int>(response.result_int()));
    close_after_write_ = !response.keep_alive();
    response_ = std::move(response);
    response_bytes_ = response_->body().size();
    context_.response_bytes.fetch_add(response_bytes_);
    Lowest().expires_after(context_.options.idle_timeout);
    beast::http::async_write(stream_, *response_, Bind(&HttpSession::OnWrite));
  }

  void ReleaseResponse() {
    context_.response_bytes.fetch_sub(response_bytes_);
    response_bytes_ = 0;
    response_.reset();
  }

  void OnWrite(beast::error_code error, size_t) {
    ReleaseResponse();
    if (error) return Close();
    if (close_after_write_) return GracefulClose();
    DoRead();
  }

  void RefuseAndClose(beast::http::status status, const std::string& message) {
    const bool head_done = parser_ && parser_->is_header_done();
    const std::string route =
        head_done ? RoutePattern({parser_->get().target().data(), parser_->get().target().size()})
                  : "other";
    const unsigned version = head_done ? parser_->get().version() : 11;
    parser_.reset();
    Send(ErrorResponse(status, message, version, false), route);
  }

  // Tells the client we are done and lets its remaining bytes arrive before
  // closing, so that a reply to a refused request is not lost to a reset.
  void GracefulClose() {
    if (closed_) return;
    Lowest().expires_after(std::chrono::seconds(2));
    if constexpr (kTls) {
      stream_.async_shutdown(Bind(&HttpSession::OnShutdown));
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
      Drain();
    }
  }

  void OnShutdown(beast::error_code) { Close(); }

  void Drain() { stream_.async_read_some(net::buffer(drain_buffer_), Bind(&HttpSession::OnDrain)); }

  void OnDrain(beast::error_code error, size_t bytes) {
    drained_ += bytes;
    if (error || drained_ > kDrainBytes || closed_) return Close();
    Drain();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    this->evictable_.store(false);
    EndStream();
    Lowest().close();
  }

  // --- Server-Sent Events -------------------------------------------------

  void StartStream(StreamQuery query, const std::string& route, const HttpRequest& request) {
    if (!context_.AcquireStream()) {
      return Send(ErrorResponse(beast::http::status::service_unavailable, "too many streams open",
                                request.version(), request.keep_alive()),
                  route);
    }
    context_.requests.Count(route, 200);
    streaming_ = true;
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    waker_ = std::make_shared<StreamWaker>([weak, executor] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->OnWake();
      });
    });
    subscription_ = context_.hub.Subscribe([waker = waker_] { waker->Wake(); });
    feed_.emplace(context_.reader, context_.hub, std::move(query.filter), query.last_event_id,
                  context_.hooks.triage);
    // A bounded kernel buffer, so a client that takes nothing stalls our
    // writes soon and stream_write_timeout closes it.
    boost::system::error_code ignored;
    Lowest().socket().set_option(
        net::socket_base::send_buffer_size(static_cast<int>(
            std::min<size_t>(context_.options.stream_send_buffer_bytes, INT32_MAX))),
        ignored);
    Lowest().expires_never();
    stream_.async_read_some(net::buffer(drain_buffer_), Bind(&HttpSession::OnStreamClientData));
    ArmKeepalive();
    WriteStream(StreamHead(request.version()));
  }

  static std::string StreamHead(unsigned version) {
    std::string head = version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
    head +=
        "Server: gsoc\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n";
    return head;
  }

  // A stream client has nothing more to say: data or EOF ends the stream.
  void OnStreamClientData(beast::error_code, size_t) { Close(); }

  void OnWake() {
    if (!streaming_) return;
    waker_->Taken();
    Pump();
  }

  // Reads what the client can take next (at its pace: nothing is read while
  // a write is in flight, so a slow client never holds up the hub).
  // A stream ends when its token is revoked (checked at each wake and keepalive).
  bool StreamTokenRevoked() const {
    return context_.hooks.auth != nullptr && context_.hooks.auth->Revoked(stream_token_id_);
  }

  void Pump() {
    if (!streaming_ || closed_ || writing_) return;
    if (StreamTokenRevoked()) return Close();
    std::string out;
    bool more = true;
    try {
      for (int round = 0; more && round < kStreamRoundsPerPump && out.size() < kStreamChunkBytes;
           ++round) {
        more = feed_->Next(out, kStreamBatchAlerts);
      }
    } catch (const std::exception&) {
      return Close();  // the store failed; the client resumes from its last id
    }
    if (!out.empty()) return WriteStream(std::move(out));
    if (more) net::post(stream_.get_executor(), Bind(&HttpSession::Pump));  // yield
  }

  void WriteStream(std::string data) {
    writing_ = true;
    write_buffer_ = std::move(data);
    // The write timer only (the pending read of the client's EOF was started
    // with no expiry).
    Lowest().expires_after(context_.options.stream_write_timeout);
    net::async_write(stream_, net::buffer(write_buffer_), Bind(&HttpSession::OnStreamWrite));
  }

  void OnStreamWrite(beast::error_code error, size_t) {
    writing_ = false;
    if (error == beast::error::timeout) {
      context_.stream_write_timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    if (error) return Close();
    Pump();
  }

  void ArmKeepalive() {
    keepalive_timer_.expires_after(context_.options.keepalive_interval);
    keepalive_timer_.async_wait(Bind(&HttpSession::OnKeepalive));
  }

  void OnKeepalive(beast::error_code error) {
    if (error || !streaming_ || closed_) return;
    if (StreamTokenRevoked()) return Close();
    if (!writing_) WriteStream(": keepalive\n\n");
    ArmKeepalive();
  }

  void EndStream() {
    if (!streaming_) return;
    streaming_ = false;
    waker_->Disarm();
    subscription_.reset();
    keepalive_timer_.cancel();
    context_.ReleaseStream();
  }

  Stream stream_;
  ApiContext& context_;
  SessionRegistry& registry_;
  const uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  size_t response_bytes_ = 0;  // counted in context_.response_bytes until sent
  bool authenticated_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  std::array<char, 4096> drain_buffer_{};
  size_t drained_ = 0;
  // Stream state.
  bool streaming_ = false;
  bool writing_ = false;
  std::string write_buffer_;
  net::steady_timer keepalive_timer_;
  std::shared_ptr<StreamWaker> waker_;
  std::unique_ptr<LiveHub::Subscription> subscription_;
  std::optional<StreamFeed> feed_;
  std::string stream_token_id_;  // the token the stream runs under
};

}  // namespace gsoc::api
