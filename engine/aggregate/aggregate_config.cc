#include "engine/aggregate/aggregate_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config_reader.h"

namespace gsoc {

void ReadAggregateConfig(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                         AggregateConfig& a) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, path,
                       {"enabled", "period", "update_interval", "group_by", "max_open", "max_size",
                        "max_events", "max_event_size"})) {
    return;
  }
  reader.Scalar(node, "enabled", path, a.enabled);
  reader.Millis(node, "period", path, a.period, 1000);
  reader.Millis(node, "update_interval", path, a.update_interval, 100);
  const YAML::Node group_by = node["group_by"];
  if (group_by.IsDefined() && !group_by.IsNull()) {
    if (!group_by.IsSequence()) {
      reader.Error(group_by, path + ".group_by", "expected a list of field names");
    } else {
      a.group_by.clear();
      for (const YAML::Node& field : group_by) {
        if (!field.IsScalar() || field.Scalar().empty()) {
          reader.Error(field, path + ".group_by", "expected a list of field names");
          continue;
        }
        a.group_by.push_back(field.Scalar());
      }
    }
  }
  reader.Size(node, "max_open", path, a.max_open, 1, 100'000'000);
  reader.Size(node, "max_size", path, a.max_bytes, 1 << 20, 1ull << 40);
  reader.Size(node, "max_events", path, a.max_events, 1, 1000);
  reader.Size(node, "max_event_size", path, a.max_event_bytes, 64, 1 << 20);
}

}  // namespace gsoc
