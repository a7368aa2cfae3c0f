// RuleEngine: one consistent, immutable set of indicator lists, logsource
// mapping, decoders and compiled detection rules. Built off the hot path
// (at start, on SIGHUP, by gsocctl) and published atomically to workers.
//
// Building reports everything: rules refused (the set still runs without
// them, unless strict), and fatal problems (a decoder file, list or the
// logsource map that cannot be loaded), which leave no engine.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config.h"
#include "engine/decode/decoder.h"
#include "engine/indicators/indicator_list.h"
#include "engine/match/matcher.h"
#include "engine/rules/correlation_rule.h"
#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"

namespace gsoc {

// What a rule set may cost (rules.limits in the config).
struct RuleLimits {
  RegexLimits regex;                                 // every PCRE2 match on event data
  match::SetLimits set;                              // values per rule, patterns per set
  indicators::ListLimits lists;                      // each indicator list
  std::chrono::milliseconds build_timeout{120'000};  // RuleReloader: a build past it fails
};
RuleLimits RuleLimitsFrom(const RulesConfig& config);

// The code of the build warning that RuleSources::cache_dir is not this
// user's alone (engine/util/private_dir.h), so no rule cache was used.
inline constexpr std::string_view kCacheDirWarning = "rules.cache_dir";

struct RuleSources {
  std::vector<std::filesystem::path> rule_paths;     // Sigma files/folders
  std::vector<std::filesystem::path> decoder_paths;  // decoder files/folders
  std::filesystem::path logsources;                  // empty: every rule applies to every event
  std::vector<indicators::ListSource> lists;
  std::filesystem::path cache_dir;  // Hyperscan and Sigma parse caches; empty: none
  std::vector<std::string> listener_names;
  std::vector<std::string> agency_names;
  RuleLimits limits;
  bool strict = false;  // also refuse user regexes that PCRE2 must run (else a warning)
  std::vector<std::string> statuses;  // load only these rule statuses; empty = all
  std::string min_level;              // load only rules at least this level; empty = all
};

class RuleEngine {
 public:
  indicators::IndicatorRegistry lists;
  std::unique_ptr<rules::LogSourceMap> logsources;
  std::unique_ptr<decode::DecoderSet> decoders;
  std::unique_ptr<match::Matcher> matcher;
  // Correlation rules resolved against matcher->rules(); never null once built.
  std::shared_ptr<const correlate::CorrelationSet> correlations;
  uint64_t generation = 0;  // unique per build in this process
};

struct RuleEngineBuild {
  std::shared_ptr<const RuleEngine> engine;  // null when `fatal` is not empty
  std::vector<rules::RuleError> refused;     // rules (and decoders) not loaded
  // Loaded, with a caveat: PCRE2 fallback (code sigma.pcre2_fallback), metadata
  // cut to its limits (sigma.metadata_truncated), built without the rule
  // caches (kCacheDirWarning).
  std::vector<rules::RuleError> warnings;
  std::vector<Diagnostic> fatal;  // the build failed: a list, logsource or decoder file
  size_t rules_loaded = 0;
  size_t rules_skipped = 0;       // not selected by status / min_level
  size_t metadata_truncated = 0;  // loaded rules whose metadata was cut (also a warning each)
  size_t correlations_loaded = 0;
  size_t rule_files = 0;
  size_t rule_files_cached = 0;  // of them, read back from the Sigma parse cache
  match::CompileStats compile;
  double seconds = 0;
};

RuleEngineBuild BuildRuleEngine(const RuleSources& sources);

// The running rule set as JSON (GET /api/v1/rules): {"generation", "rules":
// [{"id", "name", "title", "level", "kind": "detection"|"correlation",
// "type" (correlations), "alerts_alone" (false: only feeds correlations)}],
// "counts": {"detection", "correlation", "refused"}}.
std::string RuleSetJson(const RuleEngine& engine, uint64_t refused);

// One rule of the running set by id (or, failing that, by name), as JSON
// (GET /api/v1/rules/{id}): {"id", "name", "title", "description", "level",
// "status", "tags", "references", "falsepositives", "author",
// "metadata_truncated" (only when the loader capped them), "kind"
// ("detection"|"correlation"), "type" (correlations)}; nullopt when none.
std::optional<std::string> RuleDetailJson(const RuleEngine& engine, std::string_view id);
// The same object for one rule.
std::string RuleDetailJson(const rules::Rule& rule);
std::string RuleDetailJson(const correlate::CorrelationRule& rule);

}  // namespace gsoc
