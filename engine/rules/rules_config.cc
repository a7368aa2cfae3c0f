#include "engine/rules/rules_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

bool IsIdentifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

void ReadLists(ConfigReader& reader, const YAML::Node& node, RulesConfig& rules) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, "rules.lists", "expected a list of {name, file, column}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "rules.lists[" + std::to_string(i) + "]";
    const YAML::Node item = node[i];
    if (!reader.CheckMap(item, path, {"name", "file", "column"})) continue;
    IndicatorListConfig list;
    reader.Scalar(item, "name", path, list.name);
    if (!IsIdentifier(list.name)) {
      reader.Error(item, path + ".name", "expected a name of letters, digits, _ - .");
    } else if (!names.insert(list.name).second) {
      reader.Error(item, path + ".name", "duplicate list '" + list.name + "'");
    }
    reader.ExistingPath(item["file"], path + ".file", list.file);
    reader.Scalar(item, "column", path, list.column);
    rules.lists.push_back(std::move(list));
  }
}

void ReadRuleLimits(ConfigReader& reader, const YAML::Node& node, RuleLimitsConfig& limits) {
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string path = "rules.limits";
  if (!reader.CheckMap(node, path,
                       {"regex_match_limit", "regex_depth_limit", "regex_heap_limit",
                        "max_values_per_rule", "max_patterns", "max_list_bytes", "max_list_entries",
                        "max_list_entry_bytes", "reload_timeout"})) {
    return;
  }
  auto u32 = [&](const char* key, uint32_t& out, uint64_t min, uint64_t max) {
    size_t value = out;
    reader.Size(node, key, path, value, min, max);
    out = static_cast<uint32_t>(value);
  };
  u32("regex_match_limit", limits.regex_match_limit, 1000, 100'000'000);
  u32("regex_depth_limit", limits.regex_depth_limit, 100, 100'000'000);
  size_t heap_bytes = size_t{limits.regex_heap_limit_kib} * 1024;
  reader.Size(node, "regex_heap_limit", path, heap_bytes, 64 * 1024, 1ull << 30);
  limits.regex_heap_limit_kib = static_cast<uint32_t>(heap_bytes / 1024);
  reader.Size(node, "max_values_per_rule", path, limits.max_values_per_rule, 1, 10'000'000);
  reader.Size(node, "max_patterns", path, limits.max_patterns, 1, 10'000'000);
  reader.Size(node, "max_list_bytes", path, limits.max_list_bytes, 1024, 1ull << 40);
  reader.Size(node, "max_list_entries", path, limits.max_list_entries, 1, 1'000'000'000);
  reader.Size(node, "max_list_entry_bytes", path, limits.max_list_entry_bytes, 64, 1ull << 20);
  reader.Millis(node, "reload_timeout", path, limits.reload_timeout, 1000);
}

// rules.status: [stable, test, ...]; rules.min_level: informational..critical.
void ReadRuleSelection(ConfigReader& reader, const YAML::Node& node, RulesConfig& rules) {
  static const std::vector<std::string> kStatuses = {"stable", "test", "experimental", "deprecated",
                                                     "unsupported"};
  static const std::vector<std::string> kLevels = {"informational", "low", "medium", "high",
                                                   "critical"};
  const YAML::Node status = node["status"];
  if (status.IsDefined() && !status.IsNull()) {
    if (!status.IsSequence()) reader.Error(status, "rules.status", "expected a list of statuses");
    for (const YAML::Node& item : status) {
      const std::string value = item.IsScalar() ? item.Scalar() : "";
      if (std::find(kStatuses.begin(), kStatuses.end(), value) == kStatuses.end()) {
        reader.Error(
            item, "rules.status",
            "unknown status '" + value + "' (stable, test, experimental, deprecated, unsupported)");
      } else {
        rules.status.push_back(value);
      }
    }
  }
  reader.Scalar(node, "min_level", "rules", rules.min_level);
  if (!rules.min_level.empty() &&
      std::find(kLevels.begin(), kLevels.end(), rules.min_level) == kLevels.end()) {
    reader.Error(
        node["min_level"], "rules.min_level",
        "unknown level '" + rules.min_level + "' (informational, low, medium, high, critical)");
  }
}

void ReadRules(ConfigReader& reader, const YAML::Node& node, Config& config) {
  RulesConfig& rules = config.rules;
  rules.cache_dir = config.data_dir / "hs-cache";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "rules",
                       {"sigma", "decoders", "logsources", "lists", "cache_dir", "strict", "limits",
                        "status", "min_level"})) {
    return;
  }
  rules.enabled = true;
  reader.PathList(node, "sigma", "rules", rules.sigma);
  reader.PathList(node, "decoders", "rules", rules.decoders);
  if (node["logsources"].IsDefined()) {
    reader.ExistingPath(node["logsources"], "rules.logsources", rules.logsources);
  }
  ReadLists(reader, node["lists"], rules);
  std::string cache_dir;
  reader.Scalar(node, "cache_dir", "rules", cache_dir);
  if (!cache_dir.empty()) rules.cache_dir = reader.Resolve(cache_dir);
  reader.Scalar(node, "strict", "rules", rules.strict);
  ReadRuleSelection(reader, node, rules);
  ReadRuleLimits(reader, node["limits"], rules.limits);
}

const ConfigRegistration kSection{ConfigSection{"rules", 30, ReadRules}};

}  // namespace

}  // namespace gsoc
