// The `rules:` section (Sigma rules, decoders, lists, limits); read by
// rules_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

struct IndicatorListConfig {
  std::string name;  // the %placeholder% rules use
  std::filesystem::path file;
  std::string column;  // CSV value column; empty = one value a line
};

// rules.limits: bounds on what third-party rules and lists may cost.
struct RuleLimitsConfig {
  uint32_t regex_match_limit = 20'000;  // PCRE2 on event data (rules and decoders)
  uint32_t regex_depth_limit = 10'000;
  uint32_t regex_heap_limit_kib = 4096;
  size_t max_values_per_rule = 5'000;
  size_t max_patterns = 50'000;  // Hyperscan patterns in the rule set
  size_t max_list_bytes = 128ull << 20;
  size_t max_list_entries = 2'000'000;
  size_t max_list_entry_bytes = 8192;
  std::chrono::milliseconds reload_timeout{120'000};  // a build (start or reload) past it fails
};

struct RulesConfig {
  bool enabled = false;                         // a `rules:` section is present
  std::vector<std::filesystem::path> sigma;     // files or folders
  std::vector<std::filesystem::path> decoders;  // files or folders
  std::filesystem::path logsources;             // mapping file; empty = none
  std::vector<IndicatorListConfig> lists;
  std::filesystem::path cache_dir;  // Hyperscan databases, parsed Sigma files; <data_dir>/hs-cache
  bool strict = false;              // any refused rule makes start/reload fail
  RuleLimitsConfig limits;
  // Rule selection: load only rules whose `status` is listed (empty: all)
  // and whose `level` is at least min_level (empty: all).
  std::vector<std::string> status;
  std::string min_level;
};

}  // namespace gsoc
