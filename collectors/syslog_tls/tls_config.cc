#include "collectors/syslog_tls/tls_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"
#include "engine/config/duration.h"

namespace gsoc {
namespace {

// Reads a file path key; relative to base_dir; must name a readable file.
void ReadPath(ConfigReader& reader, const YAML::Node& node, const char* key,
              const std::string& path, bool required, std::filesystem::path& out) {
  const YAML::Node value = node[key];
  const std::string key_path = path + "." + key;
  if (!value.IsDefined() || value.IsNull()) {
    if (required) reader.Error(node, key_path, "missing (a PEM file)");
    return;
  }
  if (!value.IsScalar() || value.Scalar().empty()) {
    reader.Error(value, key_path, "expected a file path");
    return;
  }
  out = reader.Resolve(value.Scalar());
  std::error_code ec;
  if (!std::filesystem::is_regular_file(out, ec)) {
    reader.Error(value, key_path, "not a readable file: " + out.string());
  }
}

void ReadTlsSection(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                    TlsListenerConfig& out) {
  if (!node.IsDefined() || node.IsNull()) {
    reader.Error(node, path,
                 "missing: a syslog_tls listener needs tls: {certificate, private_key}");
    return;
  }
  if (!reader.CheckMap(node, path,
                       {"certificate", "private_key", "client_ca", "crl", "handshake_timeout"})) {
    return;
  }
  ReadPath(reader, node, "certificate", path, true, out.certificate);
  ReadPath(reader, node, "private_key", path, true, out.private_key);
  ReadPath(reader, node, "client_ca", path, false, out.client_ca);
  ReadPath(reader, node, "crl", path, false, out.crl);
  if (!out.crl.empty() && out.client_ca.empty()) {
    reader.Error(node["crl"], path + ".crl",
                 "a CRL needs client_ca (it revokes client certificates)");
  }
  if (const YAML::Node timeout = node["handshake_timeout"]; timeout.IsDefined()) {
    const auto duration = timeout.IsScalar() ? ParseDuration(timeout.Scalar()) : std::nullopt;
    if (!duration || duration->count() < 100 || duration->count() > 600'000) {
      reader.Error(timeout, path + ".handshake_timeout", "expected a duration from 100ms to 10m");
    } else {
      out.handshake_timeout = *duration;
    }
  }
}

void ReadSyslogTls(ConfigReader& reader, const YAML::Node& listener, const std::string& path,
                   ListenerConfig& out) {
  TlsListenerConfig tls;
  ReadTlsSection(reader, listener["tls"], path + ".tls", tls);
  out.options = std::move(tls);
}

// RFC 5425 syslog over TLS: the TCP listener's framing behind a TLS session.
const ConfigRegistration kSyslogTls{ListenerKind{"syslog_tls", false, {"tls"}, ReadSyslogTls}};

}  // namespace

const TlsListenerConfig* TlsOptions(const ListenerConfig& listener) {
  return std::any_cast<TlsListenerConfig>(&listener.options);
}

}  // namespace gsoc
