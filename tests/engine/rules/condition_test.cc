// Condition expressions: operators, precedence, quantifiers, limits.
#include <gmock/gmock.h>

#include "tests/engine/rules/rule_test_util.h"

namespace gsoc::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = Condition::Kind;

std::vector<Selection> Named(std::initializer_list<const char*> names) {
  std::vector<Selection> selections;
  for (const char* name : names) selections.push_back({name, {}});
  return selections;
}

// Compact rendering of a condition tree for assertions.
std::string Show(const Condition& c, const std::vector<Selection>& s) {
  auto join = [&](const char* op) {
    std::string out = std::string(op) + "(";
    for (size_t i = 0; i < c.children.size(); ++i) out += (i ? "," : "") + Show(c.children[i], s);
    return out + ")";
  };
  auto list = [&](const char* op) {
    std::string out = std::string(op) + "[";
    for (size_t i = 0; i < c.selections.size(); ++i)
      out += (i ? "," : "") + s[c.selections[i]].name;
    return out + "]";
  };
  switch (c.kind) {
    case Kind::kSelection:
      return s[c.selection].name;
    case Kind::kAnd:
      return join("and");
    case Kind::kOr:
      return join("or");
    case Kind::kNot:
      return join("not");
    case Kind::kOneOf:
      return list("one");
    case Kind::kAllOf:
      return list("all");
  }
  return "?";
}

std::string Parse(const std::string& text, const std::vector<Selection>& selections) {
  Condition condition;
  std::string error;
  if (!ParseCondition(text, selections, &condition, &error)) return "error: " + error;
  return Show(condition, selections);
}

const std::vector<Selection> kSel =
    Named({"a", "b", "c", "sel_x", "sel_y", "_filter", "filter_main"});

TEST(Condition, SingleAndBooleanOperators) {
  EXPECT_EQ(Parse("a", kSel), "a");
  EXPECT_EQ(Parse("a and b", kSel), "and(a,b)");
  EXPECT_EQ(Parse("a or b", kSel), "or(a,b)");
  EXPECT_EQ(Parse("not a", kSel), "not(a)");
  EXPECT_EQ(Parse("not not a", kSel), "not(not(a))");
  EXPECT_EQ(Parse("a and b and c", kSel), "and(a,b,c)");
  EXPECT_EQ(Parse("a AND NOT b", kSel), "and(a,not(b))");
}

TEST(Condition, PrecedenceNotAndOr) {
  EXPECT_EQ(Parse("a or b and not c", kSel), "or(a,and(b,not(c)))");
  EXPECT_EQ(Parse("not a and b or c", kSel), "or(and(not(a),b),c)");
  EXPECT_EQ(Parse("a and b or b and c", kSel), "or(and(a,b),and(b,c))");
}

TEST(Condition, Parentheses) {
  EXPECT_EQ(Parse("(a or b) and c", kSel), "and(or(a,b),c)");
  EXPECT_EQ(Parse("not (a or b)", kSel), "not(or(a,b))");
  EXPECT_EQ(Parse("((a))", kSel), "a");
  EXPECT_EQ(Parse("a and (b and c)", kSel), "and(a,b,c)");
}

TEST(Condition, Quantifiers) {
  EXPECT_EQ(Parse("1 of sel_*", kSel), "one[sel_x,sel_y]");
  EXPECT_EQ(Parse("any of sel_*", kSel), "one[sel_x,sel_y]");
  EXPECT_EQ(Parse("all of sel_*", kSel), "all[sel_x,sel_y]");
  EXPECT_EQ(Parse("1 of sel_?", kSel), "one[sel_x,sel_y]");
  EXPECT_EQ(Parse("1 of a", kSel), "one[a]");
  EXPECT_EQ(Parse("all of sel_* and not 1 of filter*", kSel),
            "and(all[sel_x,sel_y],not(one[filter_main]))");
}

TEST(Condition, ThemExcludesUnderscoreNames) {
  EXPECT_EQ(Parse("all of them", kSel), "all[a,b,c,sel_x,sel_y,filter_main]");
  EXPECT_EQ(Parse("1 of them", kSel), "one[a,b,c,sel_x,sel_y,filter_main]");
  EXPECT_EQ(Parse("1 of them and not _filter", kSel),
            "and(one[a,b,c,sel_x,sel_y,filter_main],not(_filter))");
  EXPECT_EQ(Parse("1 of _*", kSel), "one[_filter]");
  EXPECT_THAT(Parse("all of them", Named({"_only"})), HasSubstr("'them' matches no selection"));
}

TEST(Condition, Errors) {
  EXPECT_EQ(Parse("a and missing", kSel), "error: unknown selection 'missing'");
  EXPECT_EQ(Parse("1 of nothing*", kSel), "error: pattern 'nothing*' matches no selection");
  EXPECT_THAT(Parse("2 of sel_*", kSel), HasSubstr("only '1 of', 'any of', 'all of'"));
  EXPECT_EQ(Parse("", kSel), "error: empty condition");
  EXPECT_EQ(Parse("(a or b", kSel), "error: missing ')'");
  EXPECT_EQ(Parse("a b", kSel), "error: unexpected 'b' at position 3");
  EXPECT_EQ(Parse("a and", kSel), "error: condition ends unexpectedly");
  EXPECT_EQ(Parse("a )", kSel), "error: unexpected ')' at position 3");
  EXPECT_EQ(Parse("and a", kSel), "error: unexpected 'and' at position 1");
  EXPECT_EQ(Parse("1 of", kSel), "error: condition ends unexpectedly");
  EXPECT_EQ(Parse("1 of (a)", kSel), "error: unexpected '(' at position 6");
}

TEST(Condition, OldAggregationIsRefused) {
  const std::string reason =
      "error: aggregation expressions are replaced by correlation rules; use a Sigma correlation "
      "rule";
  EXPECT_EQ(Parse("a | count() by host > 5", kSel), reason);
  EXPECT_EQ(Parse("a | near b", kSel), reason);
}

TEST(Condition, DepthAndLengthLimits) {
  EXPECT_EQ(Parse(std::string(30, '(') + "a" + std::string(30, ')'), kSel), "a");
  EXPECT_THAT(Parse(std::string(100000, '(') + "a", kSel), HasSubstr("longer than"));
  EXPECT_THAT(Parse(std::string(200, '(') + "a" + std::string(200, ')'), kSel),
              HasSubstr("nested deeper"));
  std::string nots;
  for (int i = 0; i < 200; ++i) nots += "not ";
  EXPECT_THAT(Parse(nots + "a", kSel), HasSubstr("nested deeper"));
}

TEST(Condition, ListOfConditionsIsOrAndErrorsCarryTheLine) {
  const Rule rule = testing::LoadOne(testing::RuleWithDetection(
      "  a: {x: 1}\n  b: {y: 2}\n  condition:\n    - a\n    - b and not a\n"));
  ASSERT_EQ(rule.condition.kind, Kind::kOr);
  EXPECT_EQ(Show(rule.condition, rule.selections), "or(a,and(b,not(a)))");
  const RuleError error =
      testing::ErrorOf(testing::RuleWithDetection("  a: {x: 1}\n  condition: a or zz\n"));
  EXPECT_EQ(error.location.line, 7);
  EXPECT_EQ(error.message, "condition 'a or zz': unknown selection 'zz'");
}

TEST(Condition, AggregationRuleAndTimeframeAreRefused) {
  EXPECT_EQ(
      testing::RefusalOf(testing::RuleWithDetection("  a: {x: 1}\n  condition: a | count() > 3\n")),
      "aggregation expressions are replaced by correlation rules; use a Sigma correlation rule");
  EXPECT_THAT(testing::RefusalOf(
                  testing::RuleWithDetection("  a: {x: 1}\n  timeframe: 5m\n  condition: a\n")),
              HasSubstr("use a Sigma correlation rule"));
}

}  // namespace
}  // namespace gsoc::rules
