// The `api:` section (the HTTP API); read by api_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

// The HTTP API.
struct ApiConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::vector<std::string> tokens;   // empty: the token file (generated on first start)
  std::filesystem::path token_file;  // default <data_dir>/api-token
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
  size_t threads = 2;
  size_t max_streams = 64;
  size_t max_connections = 256;
  size_t max_request_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::milliseconds request_timeout{5000};        // a started request must be whole by then
  size_t max_response_bytes = 4 << 20;                    // a page of alerts ends early beyond this
  std::chrono::milliseconds stream_write_timeout{10000};  // an SSE client must take data
  size_t live_ring_bytes = 64 << 20;  // recent alerts kept for live streams, in bytes
  // Tokens made by `gsocctl token create` and the audit log (engine/auth).
  std::filesystem::path auth_db;       // default <data_dir>/auth.db
  size_t audit_max_entries = 100'000;  // the oldest audit entries go beyond these
  size_t audit_max_bytes = 32 << 20;
};

}  // namespace gsoc
