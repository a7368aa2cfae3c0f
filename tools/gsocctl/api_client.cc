// ApiClient: one connection per request, Beast operations run on a private
// io_context so that every step has a deadline (beast::tcp_stream timeouts
// only apply to asynchronous operations).
#include "tools/gsocctl/api_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <optional>
#include <string_view>

#include "engine/util/ascii.h"

namespace gsoc::ctl {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr uint64_t kMaxReplyBytes = 1ull << 30;
constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

std::string Describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == http::error::end_of_stream || ec == net::error::eof) return "connection closed";
  return ec.message();
}

// Starts one asynchronous operation and runs the io_context until it is done
// (the tcp_stream's expiry cancels it with beast::error::timeout).
template <class Start>
beast::error_code RunOne(net::io_context& io, Start&& start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// The Server-Sent Events wire format (HTML "Parsing an event stream"):
// lines end with CRLF, LF or CR; "field: value"; ":" starts a comment; a
// blank line dispatches the event (data lines joined with "\n").
class SseParser {
 public:
  using Handler = std::function<bool(uint64_t id, const std::string& data)>;

  // False when the handler asked to stop.
  bool Feed(std::string_view bytes, const Handler& on_event) {
    for (const char c : bytes) {
      if (after_cr_ && c == '\n') {
        after_cr_ = false;
        continue;
      }
      after_cr_ = c == '\r';
      if (c == '\r' || c == '\n') {
        const bool go_on = Line(on_event);
        line_.clear();
        if (!go_on) return false;
      } else {
        line_.push_back(c);
      }
    }
    return true;
  }

 private:
  bool Line(const Handler& on_event) {
    if (line_.empty()) return Dispatch(on_event);
    if (line_.front() == ':') return true;  // comment (keepalive)
    const size_t colon = line_.find(':');
    const std::string_view field = std::string_view(line_).substr(0, colon);
    std::string_view value;
    if (colon != std::string::npos) {
      value = std::string_view(line_).substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      data_.append(value);
      data_.push_back('\n');
      has_data_ = true;
    } else if (field == "event") {
      event_ = value;
    } else if (field == "id") {
      uint64_t id = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (ec == std::errc() && end == value.data() + value.size()) last_id_ = id;
    }
    return true;  // "retry" and unknown fields: nothing to do
  }

  bool Dispatch(const Handler& on_event) {
    const bool alert = event_.empty() || event_ == "message";  // not "event: triage"
    event_.clear();
    if (!has_data_) return true;
    data_.pop_back();  // the last "\n"
    const bool go_on = !alert || on_event(last_id_, data_);
    data_.clear();
    has_data_ = false;
    return go_on;
  }

  std::string line_;
  std::string data_;
  std::string event_;
  bool has_data_ = false;
  bool after_cr_ = false;
  uint64_t last_id_ = 0;
};

// One connection to the API, plain or TLS.
class Connection {
 public:
  explicit Connection(const ApiEndpoint& endpoint)
      : endpoint_(endpoint), tls_context_(ssl::context::tls_client) {}

  // Resolves, connects and (https) completes the TLS handshake; empty, or
  // what failed.
  std::string Open() {
    const std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
    tcp::resolver resolver(io_);
    beast::error_code ec;
    const auto addresses = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
    if (ec) return "cannot resolve " + endpoint_.host + ": " + Describe(ec);
    if (endpoint_.tls) {
      ec = PrepareTls();
      if (ec) return "TLS setup: " + Describe(ec);
    } else {
      plain_.emplace(io_);
    }
    Lowest().expires_after(endpoint_.connect_timeout);
    ec = RunOne(io_, [&](auto handler) { Lowest().async_connect(addresses, std::move(handler)); });
    if (ec) return "cannot connect to " + where + ": " + Describe(ec);
    if (!endpoint_.tls) return "";
    Lowest().expires_after(endpoint_.connect_timeout);
    ec = RunOne(io_, [&](auto handler) {
      tls_->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    return ec ? "TLS handshake with " + where + ": " + Describe(ec) : "";
  }

  beast::error_code SendGet(const std::string& target, const std::string& accept,
                            const std::optional<uint64_t>& last_event_id) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, HostHeader());
    request.set(http::field::user_agent, "gsocctl/" GSOC_VERSION);
    request.set(http::field::accept, accept);
    request.set(http::field::authorization, "Bearer " + endpoint_.token);
    request.set(http::field::connection, "close");
    if (last_event_id) {
      request.set(http::field::cache_control, "no-cache");
      request.set("Last-Event-ID", std::to_string(*last_event_id));
    }
    Lowest().expires_after(endpoint_.read_timeout);
    return RunOne(io_, [&](auto handler) {
      WithStream([&](auto& stream) { http::async_write(stream, request, std::move(handler)); });
    });
  }

  beast::error_code SendWithBody(const std::string& method, const std::string& target,
                                 const std::string& body) {
    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, HostHeader());
    request.set(http::field::user_agent, "gsocctl/" GSOC_VERSION);
    request.set(http::field::accept, "application/json");
    request.set(http::field::authorization, "Bearer " + endpoint_.token);
    request.set(http::field::connection, "close");
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    Lowest().expires_after(endpoint_.read_timeout);
    return RunOne(io_, [&](auto handler) {
      WithStream([&](auto& stream) { http::async_write(stream, request, std::move(handler)); });
    });
  }

  template <class Parser>
  beast::error_code ReadHeader(Parser& parser, std::chrono::milliseconds timeout) {
    Lowest().expires_after(timeout);
    return RunOne(io_, [&](auto handler) {
      WithStream([&](auto& stream) {
        http::async_read_header(stream, buffer_, parser, std::move(handler));
      });
    });
  }

  template <class Parser>
  beast::error_code Read(Parser& parser, std::chrono::milliseconds timeout) {
    Lowest().expires_after(timeout);
    return RunOne(io_, [&](auto handler) {
      WithStream(
          [&](auto& stream) { http::async_read(stream, buffer_, parser, std::move(handler)); });
    });
  }

  // Reads the body of `parser` as it arrives, passing each piece to sink
  // (false: stop); each read may take up to `timeout`. Returns the error
  // that ended it, or success when the body is complete or sink stopped.
  beast::error_code ReadBody(http::response_parser<http::buffer_body>& parser,
                             std::chrono::milliseconds timeout,
                             const std::function<bool(std::string_view)>& sink) {
    char chunk[16 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      Lowest().expires_after(timeout);
      beast::error_code ec = RunOne(io_, [&](auto handler) {
        WithStream([&](auto& stream) {
          http::async_read_some(stream, buffer_, parser, std::move(handler));
        });
      });
      if (ec == http::error::need_buffer) ec = {};
      const size_t received = sizeof chunk - parser.get().body().size;
      if (received > 0 && !sink(std::string_view(chunk, received))) return {};
      if (ec) return ec;
    }
    return {};
  }

 private:
  beast::error_code PrepareTls() {
    beast::error_code ec;
    if (endpoint_.insecure) {
      tls_context_.set_verify_mode(ssl::verify_none);
    } else {
      tls_context_.set_default_verify_paths(ec);
      if (ec) return ec;
      tls_context_.set_verify_mode(ssl::verify_peer);
      tls_context_.set_verify_callback(ssl::host_name_verification(endpoint_.host));
    }
    tls_.emplace(io_, tls_context_);
    if (!IsIpAddress(endpoint_.host) &&
        !SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.host.c_str())) {
      return beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    }
    return ec;
  }

  std::string HostHeader() const {
    const bool ipv6 = endpoint_.host.find(':') != std::string::npos;
    const std::string host = ipv6 ? "[" + endpoint_.host + "]" : endpoint_.host;
    return host + ":" + std::to_string(endpoint_.port);
  }

  beast::tcp_stream& Lowest() { return plain_ ? *plain_ : beast::get_lowest_layer(*tls_); }

  template <class Action>
  void WithStream(Action&& action) {
    if (plain_) {
      action(*plain_);
    } else {
      action(*tls_);
    }
  }

  const ApiEndpoint& endpoint_;
  net::io_context io_;
  ssl::context tls_context_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

template <class Fields>
std::map<std::string, std::string> HeaderMap(const Fields& fields) {
  std::map<std::string, std::string> headers;
  for (const auto& field : fields) {
    const auto name = field.name_string();
    const auto value = field.value();
    headers[AsciiLower(std::string_view(name.data(), name.size()))] =
        std::string(value.data(), value.size());
  }
  return headers;
}

}  // namespace

namespace {

// Opens a connection, sends with `send(connection)` and reads the whole reply.
template <class SendFn>
HttpReply RoundTrip(const ApiEndpoint& endpoint, SendFn send) {
  HttpReply reply;
  Connection connection(endpoint);
  reply.error = connection.Open();
  if (!reply.error.empty()) return reply;
  if (const auto ec = send(connection)) {
    reply.error = "sending the request: " + Describe(ec);
    return reply;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  if (const auto ec = connection.Read(parser, endpoint.read_timeout)) {
    reply.error = "reading the reply: " + Describe(ec);
    return reply;
  }
  reply.status = static_cast<int>(parser.get().result_int());
  reply.headers = HeaderMap(parser.get());
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace

HttpReply ApiClient::Get(const std::string& target, const std::string& accept) const {
  return RoundTrip(endpoint_, [&](Connection& connection) {
    return connection.SendGet(target, accept, std::nullopt);
  });
}

HttpReply ApiClient::Send(const std::string& method, const std::string& target,
                          const std::string& body) const {
  return RoundTrip(endpoint_, [&](Connection& connection) {
    return connection.SendWithBody(method, target, body);
  });
}

int ApiClient::Stream(const std::string& target, uint64_t last_event_id,
                      const std::function<bool(uint64_t id, const std::string& data)>& on_event,
                      std::string* error) const {
  Connection connection(endpoint_);
  *error = connection.Open();
  if (!error->empty()) return 0;
  if (const auto ec = connection.SendGet(target, "text/event-stream", last_event_id)) {
    *error = "sending the request: " + Describe(ec);
    return 0;
  }
  http::response_parser<http::buffer_body> parser;
  // Not boost::none: Beast 1.74 then refuses any body with a Content-Length
  // (it compares the length with the empty optional).
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  if (const auto ec = connection.ReadHeader(parser, endpoint_.read_timeout)) {
    *error = "reading the reply: " + Describe(ec);
    return 0;
  }
  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) {
    error->clear();
    connection.ReadBody(parser, endpoint_.read_timeout, [error](std::string_view piece) {
      error->append(piece);
      return error->size() < kMaxErrorBodyBytes;
    });
    return status;
  }
  SseParser events;
  bool stopped = false;
  const auto ec =
      connection.ReadBody(parser, endpoint_.stream_idle_timeout, [&](std::string_view piece) {
        stopped = !events.Feed(piece, on_event);
        return !stopped;
      });
  if (stopped) return status;
  if (ec == beast::error::timeout) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", endpoint_.stream_idle_timeout.count() / 1000.0);
    *error = std::string("nothing received for ") + seconds + " s";
  } else {
    *error = ec ? "connection lost: " + Describe(ec) : "the server ended the stream";
  }
  return status;
}

bool ParseEndpointUrl(const std::string& url, ApiEndpoint* endpoint) {
  std::string_view rest = url;
  bool tls;
  if (rest.starts_with("http://")) {
    tls = false;
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    tls = true;
    rest.remove_prefix(8);
  } else {
    return false;
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || after.size() == 1)) return false;
    if (!after.empty()) port = after.substr(1);
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty() || host.find(':') != std::string_view::npos) return false;
  }
  if (host.empty()) return false;
  uint16_t port_number = tls ? 443 : 80;
  if (!port.empty()) {
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (ec != std::errc() || end != port.data() + port.size() || port_number == 0) return false;
  }
  endpoint->tls = tls;
  endpoint->host = std::string(host);
  endpoint->port = port_number;
  return true;
}

}  // namespace gsoc::ctl
