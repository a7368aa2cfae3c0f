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
// refuses that rule with file, line, rule id and reason; other rules of the
// file still load. Correlation documents (`correlation:`) are returned
// separately (raw YAML text with location) for the correlation engine.
// Exceptions are used only inside loading; every error is caught and
// becomes a RuleError.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/rule.h"

namespace gsoc::rules {

struct CorrelationDocument {
  SourceLocation location;
  std::string yaml;  // the document as text, to be parsed by the correlation loader
};

struct LoadResult {
  std::vector<Rule> rules;
  std::vector<RuleError> refused;
  std::vector<CorrelationDocument> correlations;
  size_t files = 0;
};

struct LoadOptions {
  // Placeholder names (without %) that are bound to indicator lists; an
  // `|expand` placeholder not in this set refuses the rule.
  std::vector<std::string> indicator_lists;
  const LogSourceMap* logsources = nullptr;  // null: no logsource check
};

// Loads files, and folders recursively (*.yml, *.yaml), in sorted order.
LoadResult LoadSigma(const std::vector<std::filesystem::path>& paths, const LoadOptions& options);
// Loads YAML text as if it were the file `file_name` (tests, fuzzing).
LoadResult LoadSigmaText(const std::string& yaml, const std::string& file_name,
                         const LoadOptions& options);

// Condition parsing: `sel1 and not 1 of filter*`, `all of them`, parentheses.
// Precedence: not > and > or. Returns false with `error` set on a syntax
// error or a name that matches no selection.
bool ParseCondition(const std::string& text, const std::vector<Selection>& selections,
                    Condition* out, std::string* error);

}  // namespace gsoc::rules
