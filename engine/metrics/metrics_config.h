// The `metrics:` section (Prometheus endpoint); read by metrics_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 9102;
  size_t max_connections = 64;                      // beyond: the oldest waiting one is closed
  std::chrono::milliseconds request_timeout{5000};  // a request head must arrive within this
};

}  // namespace gsoc
