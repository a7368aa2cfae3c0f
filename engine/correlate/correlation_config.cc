#include "engine/correlate/correlation_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadCorrelation(ConfigReader& reader, const YAML::Node& node, Config& config) {
  CorrelationConfig& c = config.correlation;
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(
          node, "correlation",
          {"lateness", "idle_advance", "max_keys_per_rule", "max_entries_per_key",
           "max_alert_events", "shards", "raw_cache", "checkpoint_interval", "max_sources",
           "max_value_bytes", "max_bytes_per_rule", "max_raw_line_bytes"})) {
    return;
  }
  reader.Millis(node, "lateness", "correlation", c.lateness, 0);
  reader.Millis(node, "idle_advance", "correlation", c.idle_advance, 100);
  reader.Millis(node, "checkpoint_interval", "correlation", c.checkpoint_interval, 100);
  reader.Size(node, "max_keys_per_rule", "correlation", c.max_keys_per_rule, 1, 1ull << 32);
  reader.Size(node, "max_entries_per_key", "correlation", c.max_entries_per_key, 2, 1 << 20);
  reader.Size(node, "max_alert_events", "correlation", c.max_alert_events, 0, 10000);
  reader.Size(node, "shards", "correlation", c.shards, 1, 4096);
  reader.Size(node, "raw_cache", "correlation", c.raw_cache_bytes, 0, 1ull << 40);
  reader.Size(node, "max_sources", "correlation", c.max_sources, 1, 1 << 24);
  reader.Size(node, "max_value_bytes", "correlation", c.max_value_bytes, 32, 1 << 20);
  reader.Size(node, "max_bytes_per_rule", "correlation", c.max_bytes_per_rule, 1 << 16, 1ull << 40);
  reader.Size(node, "max_raw_line_bytes", "correlation", c.max_raw_line_bytes, 64, 1 << 20);
}

const ConfigRegistration kSection{ConfigSection{"correlation", 50, ReadCorrelation}};

}  // namespace

}  // namespace gsoc
