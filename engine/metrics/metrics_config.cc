#include "engine/metrics/metrics_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadMetrics(ConfigReader& reader, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "metrics",
                       {"enabled", "address", "port", "max_connections", "request_timeout"})) {
    return;
  }
  reader.Scalar(node, "enabled", "metrics", config.metrics.enabled);
  reader.Address(node, "metrics", config.metrics.address);
  if (node["port"].IsDefined()) reader.Port(node, "metrics", config.metrics.port);
  reader.Size(node, "max_connections", "metrics", config.metrics.max_connections, 2, 100000);
  reader.Millis(node, "request_timeout", "metrics", config.metrics.request_timeout, 100);
}

const ConfigRegistration kSection{ConfigSection{"metrics", 10, ReadMetrics}};

}  // namespace

}  // namespace gsoc
