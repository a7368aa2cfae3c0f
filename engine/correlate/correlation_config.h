// The `correlation:` section (README "Correlation"); read by
// correlation_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

// Correlation state (README "Correlation"). Sizes of what one correlation
// keeps are bounded here; every bound hit is counted in a metric.
struct CorrelationConfig {
  std::chrono::milliseconds lateness{60'000};     // out-of-order tolerance in event time
  std::chrono::milliseconds idle_advance{5'000};  // quiet stream: wall clock moves time on
  size_t max_keys_per_rule = 1'000'000;           // live group keys per correlation rule
  size_t max_entries_per_key = 4096;              // values/samples one key keeps
  size_t max_alert_events = 10;                   // contributing events carried by an alert
  size_t shards = 16;                             // state shards (locks), by key hash
  size_t raw_cache_bytes = 64ull << 20;           // raw lines kept for contributing events
  size_t max_sources = 65536;                     // (agency, host) event clocks tracked
  size_t max_value_bytes = 256;                   // group-by value kept (longer: truncated, hashed)
  size_t max_bytes_per_rule = 256ull << 20;       // key state of one correlation rule
  size_t max_raw_line_bytes = 4096;               // raw line kept for an alert (longer: truncated)
  std::chrono::milliseconds checkpoint_interval{10'000};
};

}  // namespace gsoc
