#include "tools/gsocctl/engine_options.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/config/config.h"
#include "engine/util/private_dir.h"

namespace gsoc::ctl {

namespace fs = std::filesystem;

void EngineOptions::AddTo(CLI::App& command) {
  command.add_option("--rules", rules, "Sigma rule file or folder (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--decoders", decoders, "decoder file or folder (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--logsources", logsources, "logsource mapping file");
  command.add_option("--list", lists, "indicator list NAME=FILE[:COLUMN] (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--config", config, "take rules, decoders, lists from a gsocd config");
  command.add_flag("--no-cache", no_cache,
                   "do not read or write compiled rule databases or parsed rule files");
  command.add_option("--status", statuses, "load only rules of this Sigma status (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--min-level", min_level, "load only rules of at least this level");
}

namespace {

bool FromConfig(const std::string& file, RuleSources* sources, int* utc_offset) {
  ConfigResult result = LoadConfig(file);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& error : *errors) std::fprintf(stderr, "%s\n", error.ToString().c_str());
    return false;
  }
  const Config& config = std::get<Config>(result);
  sources->rule_paths = config.rules.sigma;
  sources->decoder_paths = config.rules.decoders;
  sources->logsources = config.rules.logsources;
  sources->statuses = config.rules.status;
  sources->min_level = config.rules.min_level;
  for (const auto& list : config.rules.lists) {
    sources->lists.push_back({list.name, list.file, list.column});
  }
  sources->cache_dir = config.rules.cache_dir;
  sources->limits = RuleLimitsFrom(config.rules);
  sources->strict = config.rules.strict;
  for (const auto& listener : config.listeners) sources->listener_names.push_back(listener.name);
  sources->agency_names.push_back("unknown");
  for (const auto& agency : config.agencies) sources->agency_names.push_back(agency.name);
  *utc_offset = config.utc_offset_seconds;
  return true;
}

bool AddList(const std::string& text, RuleSources* sources) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    std::fprintf(stderr, "--list %s: expected NAME=FILE[:COLUMN]\n", text.c_str());
    return false;
  }
  indicators::ListSource list;
  list.name = text.substr(0, equals);
  std::string file = text.substr(equals + 1);
  const size_t colon = file.rfind(':');
  if (colon != std::string::npos && !fs::exists(file)) {
    list.csv_column = file.substr(colon + 1);
    file = file.substr(0, colon);
  }
  list.file = file;
  for (auto& existing : sources->lists) {
    if (existing.name == list.name) {
      existing = list;  // --list overrides a config list of the same name
      return true;
    }
  }
  sources->lists.push_back(list);
  return true;
}

}  // namespace

bool EngineOptions::Resolve(RuleSources* sources) {
  *sources = RuleSources{};
  if (!config.empty() && !FromConfig(config, sources, &utc_offset_seconds)) return false;
  const fs::path pack = GSOC_RULES_DIR;
  if (config.empty()) {
    sources->decoder_paths = {pack / "decoders"};
    sources->logsources = pack / "logsources.yaml";
    if (rules.empty()) sources->rule_paths = {pack / "sigma"};
    sources->agency_names = {"unknown"};
    sources->cache_dir = UserRuleCacheDir();
    // The shipped example lists, each bound to its file name (bad_ips.txt
    // -> %bad_ips%); --list NAME=FILE replaces one.
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(pack / "lists", error)) {
      if (entry.path().extension() == ".txt") {
        sources->lists.push_back({entry.path().stem().string(), entry.path(), ""});
      }
    }
  }
  if (!rules.empty()) sources->rule_paths.assign(rules.begin(), rules.end());
  if (!decoders.empty()) sources->decoder_paths.assign(decoders.begin(), decoders.end());
  if (!logsources.empty()) sources->logsources = logsources;
  for (const auto& list : lists) {
    if (!AddList(list, sources)) return false;
  }
  if (no_cache) sources->cache_dir.clear();
  if (!statuses.empty()) sources->statuses = statuses;
  if (!min_level.empty()) sources->min_level = min_level;
  static const char* const kLevels[] = {"informational", "low", "medium", "high", "critical"};
  if (!sources->min_level.empty() &&
      std::find(std::begin(kLevels), std::end(kLevels), sources->min_level) == std::end(kLevels)) {
    std::fprintf(stderr, "--min-level %s: expected informational, low, medium, high or critical\n",
                 sources->min_level.c_str());
    return false;
  }
  for (const auto& path : sources->rule_paths) {
    if (!fs::exists(path)) {
      std::fprintf(stderr, "%s: no such file or folder\n", path.c_str());
      return false;
    }
  }
  return true;
}

int EngineOptions::ResolveAndBuild(RuleSources* sources, RuleEngineBuild* build) {
  if (!Resolve(sources)) return 2;
  *build = BuildRuleEngine(*sources);
  for (const auto& error : build->refused) std::fprintf(stderr, "%s\n", error.ToString().c_str());
  for (const auto& fatal : build->fatal) {
    std::fprintf(stderr, "error: %s\n", fatal.ToString().c_str());
  }
  // A rule PCRE2 runs or cut metadata is rules check's business; that the
  // caches are not used is every command's (each load then compiles).
  for (const auto& warning : build->warnings) {
    if (warning.code == kCacheDirWarning) std::fprintf(stderr, "%s\n", warning.ToString().c_str());
  }
  return build->engine ? 0 : 1;
}

}  // namespace gsoc::ctl
