// Sigma rule loading: YAML files -> rules::Rule values, or refusals.
//
// Steps (each testable alone): read YAML documents (single and multi-document
// files; `action: global` documents merged into the following ones;
// `action: reset`/`repeat` as the Sigma collection spec defines), build one
// Rule per detection document, parse each `condition` (ConditionParser) and
// resolve selection names and `1 of x*` patterns.
//
// Refusal, never silent: anything gsoc does not support (an unknown
// modifier, an aggregation `| count()` condition of old Sigma, a missing
// selection, a placeholder bound to no list, a logsource with no mapping...)
// refuses that rule with file, line, column, rule id and reason; other rules
// of the file still load. Correlation documents (`correlation:`) are returned
// separately (the parsed YAML node, with location) for the correlation
// loader.
// Exceptions are used only inside loading; every error is caught and
// becomes a RuleError.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/rule.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace gsoc::rules {

// A correlation document, read by the Sigma front end and handed to the
// correlation loader (engine/correlate/correlation_loader.cc).
struct CorrelationDocument {
  SourceLocation location;  // where the document starts
  // The parsed document, whose marks are lines and columns of the file: what
  // LoadSigma gives. Errors then name the exact line and column.
  std::shared_ptr<const YAML::Node> node;
  // Otherwise the document as text, parsed by the correlation loader; its
  // lines count from location.line.
  std::string yaml;
};

// A Sigma filter (sigma-filters-specification): its selections and
// condition are ANDed, negated, into each rule it names (by id or name), so
// that it suppresses exactly the events it describes for exactly those rules.
struct SigmaFilter {
  std::string id;
  std::string title;
  LogSource logsource;
  std::vector<std::string> rules;  // ids or names
  std::vector<Selection> selections;
  Condition condition;
  SourceLocation location;
  bool operator==(const SigmaFilter&) const = default;
};

struct LoadResult {
  std::vector<Rule> rules;
  std::vector<SigmaFilter> filters;  // applied to `rules` after loading
  std::vector<std::string> skipped;  // ids of rules not selected (status / min_level)
  std::vector<RuleError> refused;
  std::vector<CorrelationDocument> correlations;
  size_t files = 0;
  size_t files_cached = 0;  // of them, read back from the parse cache (sigma_cache.h)
};

struct LoadOptions {
  // Placeholder names (without %) that are bound to indicator lists; an
  // `|expand` placeholder not in this set refuses the rule.
  std::vector<std::string> indicator_lists;
  const LogSourceMap* logsources = nullptr;  // null: no logsource check
  // Rule selection: only these statuses (empty: all), only rules of at least
  // min_level (a level name; empty: all). Others are skipped, not refused.
  std::vector<std::string> statuses;
  std::string min_level;
  // Threads reading and parsing files in LoadSigma (the result is the same
  // whatever the count); 0: the machine's cores, at most 4.
  size_t load_threads = 0;
  // LoadSigma keeps each file's result here and reads it back while the
  // file is unchanged (sigma_cache.h); empty: every file is parsed.
  std::filesystem::path cache_dir;
};

// Loads files, and folders recursively (*.yml, *.yaml), in sorted order.
LoadResult LoadSigma(const std::vector<std::filesystem::path>& paths, const LoadOptions& options);
// Loads YAML text as if it were the file `file_name` (tests, fuzzing).
LoadResult LoadSigmaText(const std::string& yaml, const std::string& file_name,
                         const LoadOptions& options);

// Applies every filter of `result` to the rules it names; a filter naming a
// rule that is not loaded, or whose logsource differs, is refused (reason).
void ApplyFilters(LoadResult& result);

// Condition parsing: `sel1 and not 1 of filter*`, `all of them`, parentheses.
// Precedence: not > and > or. Returns false with `error` set on a syntax
// error or a name that matches no selection.
bool ParseCondition(const std::string& text, const std::vector<Selection>& selections,
                    Condition* out, std::string* error);

}  // namespace gsoc::rules
