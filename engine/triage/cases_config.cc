// The `cases:` config section (engine/triage/README.md), registered with
// the config loader (engine/config/config_registry.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadAutoCase(ConfigReader& reader, const YAML::Node& item, const std::string& path,
                  CasesConfig& cases) {
  if (!reader.CheckMap(item, path, {"name", "entity", "window", "min_level"})) return;
  AutoCaseConfig rule;
  reader.Scalar(item, "name", path, rule.name);
  reader.Scalar(item, "entity", path, rule.entity);
  reader.Millis(item, "window", path, rule.window, 1000);
  reader.Scalar(item, "min_level", path, rule.min_level);
  if (rule.name.empty()) reader.Error(item, path + ".name", "missing");
  if (rule.entity.empty()) reader.Error(item, path + ".entity", "missing (src_ip, user, host...)");
  static constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high",
                                                 "critical"};
  if (std::find(std::begin(kLevels), std::end(kLevels), rule.min_level) == std::end(kLevels)) {
    reader.Error(item["min_level"], path + ".min_level",
                 "expected informational, low, medium, high or critical");
  }
  for (const AutoCaseConfig& other : cases.auto_rules) {
    if (other.name == rule.name) reader.Error(item["name"], path + ".name", "given twice");
  }
  cases.auto_rules.push_back(std::move(rule));
}

void ReadCases(ConfigReader& reader, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "cases", {"auto"})) return;
  const YAML::Node rules = node["auto"];
  if (!rules.IsDefined() || rules.IsNull()) return;
  if (!rules.IsSequence()) {
    reader.Error(rules, "cases.auto", "expected a list of {name, entity, window, min_level}");
    return;
  }
  if (rules.size() > 64) reader.Error(rules, "cases.auto", "at most 64 rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    ReadAutoCase(reader, rules[i], "cases.auto[" + std::to_string(i) + "]", config.cases);
  }
}

const ConfigRegistration kSection{ConfigSection{"cases", 90, ReadCases}};

}  // namespace
}  // namespace gsoc
