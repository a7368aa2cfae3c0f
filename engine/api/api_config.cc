#include "engine/api/api_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadApiTls(ConfigReader& reader, const YAML::Node& node, ApiConfig& api) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "api.tls", {"certificate", "private_key"})) return;
  if (node["certificate"].IsDefined()) {
    reader.ExistingPath(node["certificate"], "api.tls.certificate", api.tls_certificate);
  }
  if (node["private_key"].IsDefined()) {
    reader.ExistingPath(node["private_key"], "api.tls.private_key", api.tls_private_key);
  }
  if (api.tls_certificate.empty() != api.tls_private_key.empty()) {
    reader.Error(node, "api.tls", "needs both certificate and private_key");
  }
}

void ReadApi(ConfigReader& reader, const YAML::Node& node, Config& config) {
  ApiConfig& api = config.api;
  api.token_file = config.data_dir / "api-token";
  api.auth_db = config.data_dir / "auth.db";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "api",
                       {"enabled", "address", "port", "tokens", "token_file", "tls", "threads",
                        "max_streams", "max_connections", "max_request_size", "idle_timeout",
                        "request_timeout", "max_response_size", "stream_write_timeout",
                        "live_ring_size", "audit_max_entries", "audit_max_size"})) {
    return;
  }
  reader.Scalar(node, "enabled", "api", api.enabled);
  reader.Address(node, "api", api.address);
  if (node["port"].IsDefined()) reader.Port(node, "api", api.port);
  const YAML::Node tokens = node["tokens"];
  if (tokens.IsDefined() && !tokens.IsNull()) {
    if (!tokens.IsSequence()) {
      reader.Error(tokens, "api.tokens", "expected a list of tokens");
    } else {
      for (const YAML::Node& token : tokens) {
        if (!token.IsScalar() || token.Scalar().size() < 16) {
          reader.Error(token, "api.tokens", "a token must be a string of at least 16 characters");
          continue;
        }
        api.tokens.push_back(token.Scalar());
      }
    }
  }
  std::string token_file;
  reader.Scalar(node, "token_file", "api", token_file);
  if (!token_file.empty()) api.token_file = reader.Resolve(token_file);
  ReadApiTls(reader, node["tls"], api);
  reader.Size(node, "threads", "api", api.threads, 1, 64);
  reader.Size(node, "max_streams", "api", api.max_streams, 1, 100000);
  reader.Size(node, "max_connections", "api", api.max_connections, 1, 1000000);
  reader.Size(node, "max_request_size", "api", api.max_request_bytes, 1024, 1 << 24);
  reader.Seconds(node, "idle_timeout", "api", api.idle_timeout);
  reader.Millis(node, "request_timeout", "api", api.request_timeout, 100);
  reader.Size(node, "max_response_size", "api", api.max_response_bytes, 64 * 1024, 1ull << 32);
  reader.Millis(node, "stream_write_timeout", "api", api.stream_write_timeout, 100);
  reader.Size(node, "live_ring_size", "api", api.live_ring_bytes, 0, 1ull << 36);
  reader.Size(node, "audit_max_entries", "api", api.audit_max_entries, 1, 100'000'000);
  reader.Size(node, "audit_max_size", "api", api.audit_max_bytes, 64 * 1024, 1ull << 36);
}

const ConfigRegistration kSection{ConfigSection{"api", 70, ReadApi}};

}  // namespace

}  // namespace gsoc
