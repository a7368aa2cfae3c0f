// HttpClient: a keep-alive HTTP/1.1 client for one origin, with optional TLS
// (private to gsoc_output; the webhook's sender thread is its only user).
//
// Blocking calls built from Beast's asynchronous operations run to
// completion on a private io_context, because beast::tcp_stream enforces its
// expiry (connect, TLS handshake, write, read) only on asynchronous
// operations. Name resolution is the system resolver's (its own timeouts).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "engine/output/webhook_url.h"

namespace gsoc::output {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using Clock = std::chrono::steady_clock;

struct HttpClientOptions {
  WebhookUrl url;
  std::chrono::milliseconds timeout{5000};  // per connect, handshake, write, read
  bool tls_verify = true;
  std::string tls_ca_file;  // empty: the system CAs
};

// What one POST came to: the server's status, or why there is none.
struct HttpOutcome {
  int status = 0;     // 0: no response, see error
  std::string body;   // the response body (at most kResponseBodyLimit bytes)
  std::string error;  // e.g. "connect: Connection refused"
};

class HttpClient {
 public:
  static constexpr size_t kResponseBodyLimit = 1 << 20;

  // Throws std::invalid_argument when the CA file cannot be loaded.
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends on the open connection or a new one; no operation runs past
  // `deadline`. A reused connection that turns out closed by the server
  // (EOF, reset) is replaced and the request sent once more at once.
  HttpOutcome Post(const HttpRequest& request, Clock::time_point deadline);

  // Any thread: aborts the running operation and fails all later ones.
  void Interrupt();

 private:
  using Endpoints = boost::asio::ip::tcp::resolver::results_type;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  struct StepError {
    const char* step;
    boost::system::error_code error;
  };
  struct Attempt {
    HttpOutcome outcome;
    bool stale_connection = false;  // failed on a connection the server had closed
  };

  void ConfigureTlsContext();
  bool connected() const { return plain_.has_value() || tls_.has_value(); }
  Attempt PostOnce(const HttpRequest& request, Clock::time_point deadline);
  std::optional<StepError> Connect(Clock::time_point deadline);
  std::optional<StepError> ConnectTls(const Endpoints& endpoints, Clock::time_point deadline);
  boost::system::error_code ConnectTcp(boost::beast::tcp_stream& stream, const Endpoints& endpoints,
                                       Clock::time_point deadline);
  boost::system::error_code PrepareTls(TlsStream& stream);
  boost::system::error_code Write(const HttpRequest& request, Clock::time_point deadline);
  boost::system::error_code Read(
      boost::beast::http::response_parser<boost::beast::http::string_body>& parser,
      Clock::time_point deadline);
  Attempt Failure(const StepError& failure, bool reused);
  void Disconnect();
  Clock::time_point OperationDeadline(Clock::time_point deadline) const;
  template <typename Initiate>
  boost::system::error_code RunToCompletion(Initiate&& initiate);

  HttpClientOptions options_;
  boost::asio::io_context io_;  // before the streams: outlives them
  boost::asio::ssl::context ssl_context_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
  boost::beast::flat_buffer buffer_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace gsoc::output
