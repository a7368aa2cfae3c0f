// The `alerts.aggregate:` section; read by aggregate_config.cc (the alerts
// section hands it the node).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace gsoc {

// Aggregation of detection alerts (engine/aggregate/README.md).
struct AggregateConfig {
  bool enabled = true;
  std::chrono::milliseconds period{600'000};          // an aggregate takes hits this long
  std::chrono::milliseconds update_interval{30'000};  // a grown aggregate is republished this often
  std::vector<std::string> group_by{"src_ip", "dst_ip", "user", "target_user", "rhost", "host"};
  size_t max_open = 100'000;             // open aggregates at most
  size_t max_bytes = size_t{256} << 20;  // their memory at most
  size_t max_events = 10;                // contributing events kept per aggregate
  size_t max_event_bytes = 2048;         // raw bytes kept per contributing event
};

class ConfigReader;
void ReadAggregateConfig(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                         AggregateConfig& aggregate);

}  // namespace gsoc
