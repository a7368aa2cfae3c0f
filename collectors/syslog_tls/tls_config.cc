#include "collectors/syslog_tls/tls_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/duration.h"

namespace gsoc {
namespace {

// Reads a file path key; relative to base_dir; must name a readable file.
void ReadPath(const YAML::Node& node, const char* key, const std::string& path,
              const std::filesystem::path& base_dir, bool required, std::filesystem::path& out,
              const TlsConfigError& error) {
  const YAML::Node value = node[key];
  const std::string key_path = path + "." + key;
  if (!value.IsDefined() || value.IsNull()) {
    if (required) error(node, key_path, "missing (a PEM file)");
    return;
  }
  if (!value.IsScalar() || value.Scalar().empty()) {
    error(value, key_path, "expected a file path");
    return;
  }
  out = std::filesystem::absolute(base_dir / value.Scalar()).lexically_normal();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(out, ec)) {
    error(value, key_path, "not a readable file: " + out.string());
  }
}

}  // namespace

void ReadTlsConfig(const YAML::Node& node, const std::string& path,
                   const std::filesystem::path& base_dir, TlsListenerConfig& out,
                   const TlsConfigError& error) {
  if (!node.IsDefined() || node.IsNull()) {
    error(node, path, "missing: a syslog_tls listener needs tls: {certificate, private_key}");
    return;
  }
  if (!node.IsMap()) {
    error(node, path, "expected a mapping");
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key != "certificate" && key != "private_key" && key != "client_ca" && key != "crl" &&
        key != "handshake_timeout") {
      error(it->first, path + "." + key, "unknown key");
    }
  }
  ReadPath(node, "certificate", path, base_dir, true, out.certificate, error);
  ReadPath(node, "private_key", path, base_dir, true, out.private_key, error);
  ReadPath(node, "client_ca", path, base_dir, false, out.client_ca, error);
  ReadPath(node, "crl", path, base_dir, false, out.crl, error);
  if (!out.crl.empty() && out.client_ca.empty()) {
    error(node["crl"], path + ".crl", "a CRL needs client_ca (it revokes client certificates)");
  }
  if (const YAML::Node timeout = node["handshake_timeout"]; timeout.IsDefined()) {
    const auto duration = timeout.IsScalar() ? ParseDuration(timeout.Scalar()) : std::nullopt;
    if (!duration || duration->count() < 100 || duration->count() > 600'000) {
      error(timeout, path + ".handshake_timeout", "expected a duration from 100ms to 10m");
    } else {
      out.handshake_timeout = *duration;
    }
  }
}

}  // namespace gsoc
