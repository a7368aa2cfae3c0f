#include "engine/output/alerts_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadAlerts(ConfigReader& reader, const YAML::Node& node, Config& config) {
  AlertsConfig& alerts = config.alerts;
  alerts.file = config.data_dir / "alerts.jsonl";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "alerts",
                       {"file", "max_file_size", "keep_files", "webhook", "webhooks", "min_level",
                        "aggregate"})) {
    return;
  }
  reader.Scalar(node, "min_level", "alerts", alerts.min_level);
  static constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high",
                                                 "critical"};
  if (std::find(std::begin(kLevels), std::end(kLevels), alerts.min_level) == std::end(kLevels)) {
    reader.Error(node["min_level"], "alerts.min_level",
                 "expected informational, low, medium, high or critical");
  }
  ReadAggregateConfig(reader, node["aggregate"], "alerts.aggregate", alerts.aggregate);
  const YAML::Node file_node = node["file"];
  if (file_node.IsDefined() && file_node.IsScalar() &&
      (file_node.Scalar() == "false" || file_node.Scalar() == "off")) {
    alerts.file_enabled = false;
  } else {
    std::string file;
    reader.Scalar(node, "file", "alerts", file);
    if (!file.empty()) alerts.file = reader.Resolve(file);
  }
  ReadWebhookConfig(reader, node["webhook"], "alerts.webhook", alerts.webhook);
  ReadWebhookList(reader, node["webhooks"], alerts.webhooks);
  size_t max_bytes = alerts.max_file_bytes;
  reader.Size(node, "max_file_size", "alerts", max_bytes, 4096, 1ull << 40);
  alerts.max_file_bytes = max_bytes;
  size_t keep = static_cast<size_t>(alerts.keep_files);
  reader.Size(node, "keep_files", "alerts", keep, 0, 1000);
  alerts.keep_files = static_cast<int>(keep);
}

const ConfigRegistration kSection{ConfigSection{"alerts", 40, ReadAlerts}};

}  // namespace

}  // namespace gsoc
