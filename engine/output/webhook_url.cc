#include "engine/output/webhook_url.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "engine/util/ascii.h"

namespace gsoc::output {

namespace {

namespace ip = boost::asio::ip;

[[noreturn]] void Fail(std::string_view reason) {
  throw std::invalid_argument("webhook url: " + std::string(reason));
}

bool IsHostNameChar(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; }

bool IsIpv4(const std::string& host) {
  boost::system::error_code error;
  ip::make_address_v4(host, error);
  return !error;
}

void ParseScheme(std::string_view scheme, WebhookUrl& url) {
  std::string lower = AsciiLower(scheme);
  if (lower == "http") {
    url.tls = false;
  } else if (lower == "https") {
    url.tls = true;
  } else {
    Fail("unsupported scheme '" + lower + "' (http or https)");
  }
}

std::string ParsePort(std::string_view text) {
  if (text.empty()) Fail("empty port");
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
    Fail("invalid port '" + std::string(text) + "'");
  }
  return std::to_string(port);
}

// "[v6]" or "[v6]:port"; returns the text after the bracket.
std::string_view ParseBracketedHost(std::string_view authority, WebhookUrl& url) {
  size_t close = authority.find(']');
  if (close == std::string_view::npos) Fail("unterminated IPv6 address (missing ']')");
  url.host = std::string(authority.substr(1, close - 1));
  boost::system::error_code error;
  ip::make_address_v6(url.host, error);
  if (error) Fail("invalid IPv6 address '" + url.host + "'");
  url.host_is_ip = true;
  std::string_view rest = authority.substr(close + 1);
  if (!rest.empty() && rest.front() != ':') Fail("unexpected text after the IPv6 address");
  return rest;
}

// "name", "name:port", "v4" or "v4:port"; returns the ":port" part, if any.
std::string_view ParsePlainHost(std::string_view authority, WebhookUrl& url) {
  size_t colon = authority.find(':');
  if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
    Fail("an IPv6 address needs brackets: http://[::1]:8080/");
  }
  std::string_view host = authority.substr(0, colon);
  if (host.empty()) Fail("missing host");
  if (!std::ranges::all_of(host,
                           [](char c) { return IsHostNameChar(static_cast<unsigned char>(c)); })) {
    Fail("invalid host name '" + std::string(host) + "'");
  }
  url.host = std::string(host);
  url.host_is_ip = IsIpv4(url.host);
  return colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
}

void ParseAuthority(std::string_view authority, WebhookUrl& url) {
  if (authority.find('@') != std::string_view::npos) {
    Fail("credentials in the URL are not supported; set an Authorization header");
  }
  if (authority.empty()) Fail("missing host");
  std::string_view port = authority.front() == '[' ? ParseBracketedHost(authority, url)
                                                   : ParsePlainHost(authority, url);
  url.port = port.empty() ? (url.tls ? "443" : "80") : ParsePort(port.substr(1));
}

void ParseTarget(std::string_view rest, WebhookUrl& url) {
  rest = rest.substr(0, rest.find('#'));
  for (char c : rest) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) Fail("the path contains spaces or control characters");
  }
  if (rest.empty()) {
    url.target = "/";
  } else if (rest.front() == '?') {
    url.target = "/" + std::string(rest);
  } else {
    url.target = std::string(rest);
  }
}

}  // namespace

std::string WebhookUrl::HostHeader() const {
  std::string header = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? "443" : "80")) header += ":" + port;
  return header;
}

std::string WebhookUrl::Origin() const {
  std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (tls ? "https://" : "http://") + bracketed + ":" + port;
}

WebhookUrl ParseWebhookUrl(std::string_view text) {
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) Fail("missing scheme (http:// or https://)");
  WebhookUrl url;
  ParseScheme(text.substr(0, scheme_end), url);
  std::string_view rest = text.substr(scheme_end + 3);
  size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  ParseAuthority(rest.substr(0, authority_end), url);
  ParseTarget(rest.substr(authority_end), url);
  return url;
}

}  // namespace gsoc::output
