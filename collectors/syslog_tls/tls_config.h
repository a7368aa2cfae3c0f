// The `tls:` section of a syslog_tls listener (RFC 5425 syslog over TLS).
// Read by this component: tls_config.cc registers the `syslog_tls` listener
// kind with the config loader, and stores a TlsListenerConfig in
// ListenerConfig::options.
//
//   tls:
//     certificate: /etc/gsoc/tls/server.crt   # PEM, chain after the leaf
//     private_key: /etc/gsoc/tls/server.key   # PEM
//     client_ca: /etc/gsoc/tls/agencies-ca.crt  # optional: require client certificates
//     crl: /etc/gsoc/tls/agencies.crl         # optional: revoked client certificates (PEM)
//     handshake_timeout: 10s                  # a connection must finish its handshake by then
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace gsoc {

struct ListenerConfig;

struct TlsListenerConfig {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::filesystem::path client_ca;  // empty: no client certificate asked for
  std::filesystem::path crl;        // empty: no revocation list
  std::chrono::milliseconds handshake_timeout{10'000};

  bool requires_client_certificate() const { return !client_ca.empty(); }
};

// The TLS section of a listener config, when it has one (a syslog_tls listener).
const TlsListenerConfig* TlsOptions(const ListenerConfig& listener);

}  // namespace gsoc
