// The `tls:` section of a syslog_tls listener (RFC 5425 syslog over TLS).
// Parsed by the listener itself (ReadTlsConfig); the config loader only
// hands it the node and collects the errors.
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
#include <functional>
#include <string>

namespace YAML {
class Node;
}

namespace gsoc {

struct TlsListenerConfig {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::filesystem::path client_ca;  // empty: no client certificate asked for
  std::filesystem::path crl;        // empty: no revocation list
  std::chrono::milliseconds handshake_timeout{10'000};

  bool requires_client_certificate() const { return !client_ca.empty(); }
};

// Reports one config error: the node it is about, the key path, the reason.
using TlsConfigError =
    std::function<void(const YAML::Node& node, const std::string& path, const std::string& reason)>;

// Reads `node` (the listener's `tls:` map) into `out`; relative paths are
// taken from `base_dir` (the config file's folder). Every problem goes to
// `error`, all at once. Files are checked to exist here and loaded at start.
void ReadTlsConfig(const YAML::Node& node, const std::string& path,
                   const std::filesystem::path& base_dir, TlsListenerConfig& out,
                   const TlsConfigError& error);

}  // namespace gsoc
