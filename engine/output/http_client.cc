#include "engine/output/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <stdexcept>

namespace gsoc::output {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using ErrorCode = boost::system::error_code;

// Errors that, on a reused keep-alive connection, mean the server closed it
// while it was idle (so the request never reached it and can go again now).
bool IsStaleConnectionError(const ErrorCode& error) {
  return error == http::error::end_of_stream || error == net::error::eof ||
         error == net::error::connection_reset || error == net::error::broken_pipe ||
         error == ssl::error::stream_truncated;
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), ssl_context_(ssl::context::tls_client) {
  if (options_.url.tls) ConfigureTlsContext();
}

HttpClient::~HttpClient() { Disconnect(); }

void HttpClient::ConfigureTlsContext() {
  ssl_context_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
  if (!options_.tls_verify) return;
  ErrorCode error;
  if (options_.tls_ca_file.empty()) {
    ssl_context_.set_default_verify_paths(error);
  } else {
    ssl_context_.load_verify_file(options_.tls_ca_file, error);
  }
  if (error) {
    throw std::invalid_argument("webhook tls: cannot load CA certificates " + options_.tls_ca_file +
                                ": " + error.message());
  }
}

void HttpClient::Interrupt() {
  interrupted_ = true;
  io_.stop();
}

HttpOutcome HttpClient::Post(const HttpRequest& request, Clock::time_point deadline) {
  Attempt attempt = PostOnce(request, deadline);
  if (attempt.stale_connection && Clock::now() < deadline) attempt = PostOnce(request, deadline);
  return std::move(attempt.outcome);
}

HttpClient::Attempt HttpClient::PostOnce(const HttpRequest& request, Clock::time_point deadline) {
  if (interrupted_) return {HttpOutcome{0, {}, "interrupted (shutdown)"}};
  const bool reused = connected();
  if (!reused) {
    if (auto failure = Connect(deadline)) return Failure(*failure, false);
  }
  if (ErrorCode error = Write(request, deadline)) return Failure({"write", error}, reused);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  if (ErrorCode error = Read(parser, deadline)) return Failure({"read", error}, reused);
  auto response = parser.release();
  if (!response.keep_alive()) Disconnect();
  return {HttpOutcome{static_cast<int>(response.result_int()), std::move(response.body()), {}}};
}

HttpClient::Attempt HttpClient::Failure(const StepError& failure, bool reused) {
  Disconnect();
  std::string error = std::string(failure.step) + ": " + failure.error.message();
  return {HttpOutcome{0, {}, std::move(error)}, reused && IsStaleConnectionError(failure.error)};
}

std::optional<HttpClient::StepError> HttpClient::Connect(Clock::time_point deadline) {
  net::ip::tcp::resolver resolver(io_);
  ErrorCode error;
  Endpoints endpoints = resolver.resolve(options_.url.host, options_.url.port, error);
  if (error) return StepError{"resolve", error};
  if (options_.url.tls) return ConnectTls(endpoints, deadline);
  plain_.emplace(io_);
  if (error = ConnectTcp(*plain_, endpoints, deadline); error) {
    Disconnect();
    return StepError{"connect", error};
  }
  return std::nullopt;
}

std::optional<HttpClient::StepError> HttpClient::ConnectTls(const Endpoints& endpoints,
                                                            Clock::time_point deadline) {
  tls_.emplace(io_, ssl_context_);
  std::optional<StepError> failure;
  if (ErrorCode error = PrepareTls(*tls_)) {
    failure = StepError{"tls setup", error};
  } else if (ErrorCode error = ConnectTcp(beast::get_lowest_layer(*tls_), endpoints, deadline)) {
    failure = StepError{"connect", error};
  } else {
    beast::get_lowest_layer(*tls_).expires_at(OperationDeadline(deadline));
    error = RunToCompletion([this](auto handler) {
      tls_->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (error) failure = StepError{"tls handshake", error};
  }
  if (failure) Disconnect();
  return failure;
}

// SNI (names only: RFC 6066 has no IP addresses there) and verification of
// the chain and of the name or address against the certificate.
ErrorCode HttpClient::PrepareTls(TlsStream& stream) {
  const WebhookUrl& url = options_.url;
  if (!url.host_is_ip && !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    return ErrorCode(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
  }
  ErrorCode error;
  if (options_.tls_verify) {
    stream.set_verify_mode(ssl::verify_peer, error);
    if (!error) stream.set_verify_callback(ssl::host_name_verification(url.host), error);
  } else {
    stream.set_verify_mode(ssl::verify_none, error);
  }
  return error;
}

ErrorCode HttpClient::ConnectTcp(beast::tcp_stream& stream, const Endpoints& endpoints,
                                 Clock::time_point deadline) {
  stream.expires_at(OperationDeadline(deadline));
  return RunToCompletion(
      [&stream, &endpoints](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
}

ErrorCode HttpClient::Write(const HttpRequest& request, Clock::time_point deadline) {
  auto write = [&](auto& stream) {
    beast::get_lowest_layer(stream).expires_at(OperationDeadline(deadline));
    return RunToCompletion(
        [&](auto handler) { http::async_write(stream, request, std::move(handler)); });
  };
  return tls_ ? write(*tls_) : write(*plain_);
}

ErrorCode HttpClient::Read(http::response_parser<http::string_body>& parser,
                           Clock::time_point deadline) {
  auto read = [&](auto& stream) {
    beast::get_lowest_layer(stream).expires_at(OperationDeadline(deadline));
    return RunToCompletion(
        [&](auto handler) { http::async_read(stream, buffer_, parser, std::move(handler)); });
  };
  return tls_ ? read(*tls_) : read(*plain_);
}

void HttpClient::Disconnect() {
  ErrorCode ignored;
  if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
  if (plain_) plain_->socket().close(ignored);
  tls_.reset();
  plain_.reset();
  buffer_.clear();
}

Clock::time_point HttpClient::OperationDeadline(Clock::time_point deadline) const {
  Clock::time_point now = Clock::now();
  if (deadline - now < options_.timeout) return deadline;
  return now + options_.timeout;
}

// Starts one asynchronous operation and runs the io_context until it is
// done (or Interrupt stops it: then the handler never runs and the result is
// operation_aborted; the io_context is never run again).
template <typename Initiate>
ErrorCode HttpClient::RunToCompletion(Initiate&& initiate) {
  std::optional<ErrorCode> result;
  initiate([&result](ErrorCode error, auto&&...) { result = error; });
  io_.restart();
  if (!interrupted_) io_.run();
  return result.value_or(net::error::operation_aborted);
}

}  // namespace gsoc::output
