// WebhookUrl: the parsed form of WebhookOptions::url (private to gsoc_output).
#pragma once

#include <string>
#include <string_view>

namespace gsoc::output {

struct WebhookUrl {
  bool tls = false;         // https
  std::string host;         // name or address; an IPv6 address without brackets
  std::string port;         // numeric; 80 or 443 when the URL has none
  std::string target;       // path and query, starting with '/'; no fragment
  bool host_is_ip = false;  // an IPv4 or IPv6 literal (no SNI for those)

  // host[:port] for the Host header: brackets around IPv6, port only when
  // it is not the scheme's default.
  std::string HostHeader() const;
  // scheme://host:port, for logs (no path or query: they may carry tokens).
  std::string Origin() const;
};

// Accepts http://host[:port][/path][?query][#fragment] and https://...; the
// host may be a name, an IPv4 address or an IPv6 address in brackets.
// Throws std::invalid_argument saying what is wrong (the URL itself is not
// repeated: it may carry a token).
WebhookUrl ParseWebhookUrl(std::string_view url);

}  // namespace gsoc::output
