// Helpers for the Sigma loader tests: a one-selection rule around a snippet.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"

namespace gsoc::rules::testing {

// The rule folders of the corpus's SigmaHQ and Sigma repositories.
inline std::vector<std::filesystem::path> CorpusRuleFolders() {
  const std::filesystem::path corpus = GSOC_CORPUS_DIR;
  return {corpus / "sigmahq" / "rules", corpus / "sigmahq" / "rules-emerging-threats",
          corpus / "sigmahq" / "rules-threat-hunting", corpus / "sigma" / "rules"};
}

// The shipped logsource map (rules/logsources.yaml and its pipelines).
inline LogSourceMap ShippedLogSources() {
  return LogSourceMap::Load(std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml");
}

// A rule with `detection:` given as lines indented by two spaces.
inline std::string RuleWithDetection(const std::string& detection_lines) {
  return "title: Test rule\n"
         "id: test-rule\n"
         "logsource:\n"
         "  product: linux\n"
         "detection:\n" +
         detection_lines;
}

// A rule whose only selection `sel` has the given lines (indented by four).
inline std::string RuleWithSelection(const std::string& selection_lines) {
  return RuleWithDetection("  sel:\n" + selection_lines + "  condition: sel\n");
}

inline LoadResult Load(const std::string& yaml, const LoadOptions& options = {}) {
  return LoadSigmaText(yaml, "test.yml", options);
}

// The single loaded rule; fails the test if it was refused.
inline Rule LoadOne(const std::string& yaml, const LoadOptions& options = {}) {
  const LoadResult result = Load(yaml, options);
  for (const RuleError& error : result.refused) ADD_FAILURE() << error.ToString();
  if (result.rules.size() != 1) {
    ADD_FAILURE() << "expected one rule, got " << result.rules.size();
    return Rule{};
  }
  return result.rules[0];
}

// The reason the single document was refused ("" if it loaded).
inline std::string RefusalOf(const std::string& yaml, const LoadOptions& options = {}) {
  const LoadResult result = Load(yaml, options);
  if (result.refused.size() != 1) return "";
  return result.refused[0].message;
}

inline RuleError ErrorOf(const std::string& yaml, const LoadOptions& options = {}) {
  const LoadResult result = Load(yaml, options);
  EXPECT_EQ(result.refused.size(), 1u);
  return result.refused.empty() ? RuleError{} : result.refused[0];
}

// Values of the first predicate of the first alternative of the first selection.
inline std::vector<ValueMatcher> FirstValues(const Rule& rule) {
  if (rule.selections.empty() || rule.selections[0].alternatives.empty() ||
      rule.selections[0].alternatives[0].empty())
    return {};
  return rule.selections[0].alternatives[0][0].values;
}

inline std::vector<std::string> Texts(const std::vector<ValueMatcher>& values) {
  std::vector<std::string> texts;
  for (const ValueMatcher& value : values) texts.push_back(value.text);
  return texts;
}

}  // namespace gsoc::rules::testing
