// Rule selection by status and level (LoadOptions), and Sigma filters as
// the loader applies them (the condition they leave on the rule).
#include <gtest/gtest.h>

#include "engine/rules/sigma_loader.h"

namespace gsoc::rules {
namespace {

const char* kRules = R"(title: a
id: a
status: stable
level: low
logsource: {product: x}
detection: {s: {f: 1}, condition: s}
---
title: b
id: b
status: experimental
level: high
logsource: {product: x}
detection: {s: {f: 1}, condition: s}
---
title: c
id: c
status: test
level: critical
logsource: {product: x}
detection: {s: {f: 1}, condition: s}
)";

std::vector<std::string> Ids(const LoadResult& result) {
  std::vector<std::string> ids;
  for (const Rule& rule : result.rules) ids.push_back(rule.id);
  return ids;
}

TEST(RuleSelection, ByStatusAndLevel) {
  LoadOptions options;
  EXPECT_EQ(Ids(LoadSigmaText(kRules, "r.yml", options)),
            (std::vector<std::string>{"a", "b", "c"}));
  options.statuses = {"stable", "test"};
  LoadResult result = LoadSigmaText(kRules, "r.yml", options);
  EXPECT_EQ(Ids(result), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(result.skipped, (std::vector<std::string>{"b"}));
  EXPECT_TRUE(result.refused.empty());
  options.statuses.clear();
  options.min_level = "high";
  EXPECT_EQ(Ids(LoadSigmaText(kRules, "r.yml", options)), (std::vector<std::string>{"b", "c"}));
  options.statuses = {"stable", "test"};
  EXPECT_EQ(Ids(LoadSigmaText(kRules, "r.yml", options)), (std::vector<std::string>{"c"}));
}

TEST(SigmaFilters, BecomeAndNotOnTheNamedRulesOnly) {
  const std::string filter = R"(
---
title: f
id: f1
logsource: {product: x}
filter:
  rules: [a, c]
  selection: {user|startswith: adm_}
  condition: selection
)";
  const LoadResult result = LoadSigmaText(kRules + filter, "r.yml", {});
  ASSERT_TRUE(result.refused.empty()) << result.refused[0].ToString();
  ASSERT_EQ(result.rules.size(), 3u);
  ASSERT_EQ(result.filters.size(), 1u);
  for (const Rule& rule : result.rules) {
    if (rule.id == "b") {
      EXPECT_EQ(rule.selections.size(), 1u);
      EXPECT_EQ(rule.condition.kind, Condition::Kind::kSelection);
      continue;
    }
    ASSERT_EQ(rule.selections.size(), 2u) << rule.id;
    EXPECT_EQ(rule.selections[1].alternatives[0][0].field, "user");
    ASSERT_EQ(rule.condition.kind, Condition::Kind::kAnd);
    EXPECT_EQ(rule.condition.children[0].selection, 0);
    ASSERT_EQ(rule.condition.children[1].kind, Condition::Kind::kNot);
    EXPECT_EQ(rule.condition.children[1].children[0].selection, 1);
  }
}

TEST(RuleMetadata, AuthorReferencesFalsePositivesAndAttackTags) {
  const LoadResult result = LoadSigmaText(R"(title: t
id: m
author: Jane Doe
references: [https://example.org/a, https://example.org/b]
falsepositives: Administrative scripts
tags: [attack.execution, attack.t1059.001]
logsource: {product: x}
detection: {s: {f: 1}, condition: s}
)",
                                          "m.yml", {});
  ASSERT_EQ(result.rules.size(), 1u);
  const Rule& rule = result.rules[0];
  EXPECT_EQ(rule.author, "Jane Doe");
  EXPECT_EQ(rule.references,
            (std::vector<std::string>{"https://example.org/a", "https://example.org/b"}));
  EXPECT_EQ(rule.falsepositives, (std::vector<std::string>{"Administrative scripts"}));
  EXPECT_EQ(rule.tags, (std::vector<std::string>{"attack.execution", "attack.t1059.001"}));
  EXPECT_EQ(LoadSigmaText("title: t\nreferences: {a: b}\nlogsource: {product: x}\n"
                          "detection: {s: {f: 1}, condition: s}\n",
                          "m.yml", {})
                .refused.at(0)
                .message,
            "'references' must be a list of strings");
}

TEST(SigmaFilters, RefusedWithReason) {
  const LoadResult result = LoadSigmaText(
      "title: f\nid: f1\nlogsource: {product: x}\nfilter:\n  selection: {a: 1}\n"
      "  condition: selection\n",
      "f.yml", {});
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].message, "filter has no 'rules'");
  EXPECT_EQ(result.refused[0].location.line, 5);  // the filter map
}

}  // namespace
}  // namespace gsoc::rules
