// Hostile rules and hostile events against the matcher (issue 11, findings
// 15, 18, 19): a regex crafted for catastrophic backtracking is bounded per
// event and its limit hits are counted per rule; user regexes that PCRE2
// must run are a warning, or refused with strict; rule sets beyond their
// limits are refused with the reason; a refused value names its own line.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "engine/match/matcher.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;

// The regex of the review: minimum width 0 (the `^$` branch), so PCRE2 runs
// it on every event; `zz` followed by word characters and no end makes
// `(\w*\s?)*` backtrack exponentially.
const char* kRedos = "zz(\\w*\\s?)*$|^$";

std::string CraftedLine(size_t i) { return "zz" + std::string(40 + i % 20, 'a') + "!"; }

rules::Rule RedosRule() {
  return MakeRule("redos", {Sel("s", {Pred("message", {Regex(kRedos)})})}, C(0));
}

// Average microseconds per event over `n` crafted events.
double CraftedMicros(const Matcher& matcher, Matcher::Scratch& scratch, size_t n, size_t* matches) {
  EventBatch batch;
  for (size_t i = 0; i < n; ++i) {
    AddTestEvent(batch, {CraftedLine(i), "app", {{"message", CraftedLine(i)}}});
  }
  const auto start = std::chrono::steady_clock::now();
  for (const Event& event : batch.events()) {
    matcher.Match(batch, event, scratch, [&](size_t) { ++*matches; });
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::micro>(elapsed).count() / static_cast<double>(n);
}

TEST(MatchLimitsTest, CraftedEventsCostMicrosecondsAndAreCountedPerRule) {
  auto result = Matcher::Compile({RedosRule()}, {});
  ASSERT_NE(result.matcher, nullptr);
  ASSERT_TRUE(result.refused.empty());
  auto scratch = result.matcher->MakeScratch();
  size_t matches = 0;
  constexpr size_t kEvents = 200;
  const double micros = CraftedMicros(*result.matcher, *scratch, kEvents, &matches);
  std::printf("crafted events: %.1f us each with the default limits\n", micros);
  // PCRE2 without a match context: ~10,000 us (JIT) to ~50,000 us each.
  EXPECT_LT(micros, 2000.0);
  EXPECT_EQ(matches, 0u);
  const auto hits = result.matcher->regex_limit_hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(result.matcher->rules()[hits[0].rule].id, "redos");
  EXPECT_EQ(hits[0].hits, kEvents);

  // Ordinary events still match the rule where it applies and hit nothing.
  EventBatch batch;
  AddTestEvent(batch, {"", "app", {{"message", ""}}});
  AddTestEvent(batch, {"zz word", "app", {{"message", "zz word"}}});
  for (const Event& event : batch.events()) {
    EXPECT_EQ(MatchIds(*result.matcher, *scratch, batch, event),
              (std::vector<std::string>{"redos"}));
  }
  EXPECT_EQ(result.matcher->regex_limit_hits()[0].hits, kEvents);
}

TEST(MatchLimitsTest, TighterLimitIsCheaper) {
  CompileOptions options;
  options.regex.match_limit = 1000;
  auto result = Matcher::Compile({RedosRule()}, options);
  auto scratch = result.matcher->MakeScratch();
  size_t matches = 0;
  const double micros = CraftedMicros(*result.matcher, *scratch, 100, &matches);
  std::printf("crafted events: %.1f us each with match_limit 1000\n", micros);
  EXPECT_LT(micros, 500.0);
  EXPECT_EQ(result.matcher->regex_limit_hits().at(0).hits, 100u);
}

TEST(MatchLimitsTest, LimitHitsGoToEveryRuleSharingTheProgram) {
  // Two rules, same prefilter-confirmed regex: one PCRE2 program, both rules charged.
  const char* backref = "(zz)(\\w*\\s?)*\\1";
  auto result =
      Matcher::Compile({MakeRule("a", {Sel("s", {Pred("message", {Regex(backref)})})}, C(0)),
                        MakeRule("b", {Sel("s", {Pred("message", {Regex(backref)})})}, C(0))},
                       {});
  ASSERT_TRUE(result.refused.empty());
  auto scratch = result.matcher->MakeScratch();
  EventBatch batch;
  const std::string line = "zz" + std::string(60, 'a') + "! zz";
  Event& event = AddTestEvent(batch, {line, "app", {{"message", line}}});
  MatchIds(*result.matcher, *scratch, batch, event);
  const auto hits = result.matcher->regex_limit_hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].hits, 1u);
  EXPECT_EQ(hits[1].hits, 1u);
}

TEST(MatchLimitsTest, PcreFallbackIsAWarningOrRefusedWhenStrict) {
  std::vector<rules::Rule> rules = {
      RedosRule(), MakeRule("backref", {Sel("s", {Pred("message", {Regex("(\\w+) \\1")})})}, C(0)),
      MakeRule("plain", {Sel("s", {Pred("message", {Regex("fail(ed|ure)")})})}, C(0)),
      MakeRule("wildcard", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "*")})})}, C(0))};
  auto lenient = Matcher::Compile(rules, {});
  EXPECT_TRUE(lenient.refused.empty());
  ASSERT_EQ(lenient.warnings.size(), 2u);
  EXPECT_EQ(lenient.warnings[0].rule_id, "redos");
  EXPECT_NE(lenient.warnings[0].message.find("minimum width 0"), std::string::npos)
      << lenient.warnings[0].message;
  EXPECT_EQ(lenient.warnings[1].rule_id, "backref");
  EXPECT_NE(lenient.warnings[1].message.find("prefilter"), std::string::npos)
      << lenient.warnings[1].message;

  CompileOptions strict;
  strict.refuse_pcre_fallback = true;
  auto refused = Matcher::Compile(rules, strict);
  ASSERT_EQ(refused.refused.size(), 2u);
  EXPECT_EQ(refused.refused[0].rule_id, "redos");
  EXPECT_NE(refused.refused[0].message.find("refused with rules.strict"), std::string::npos);
  EXPECT_EQ(refused.refused[1].rule_id, "backref");
  EXPECT_TRUE(refused.warnings.empty());
  EXPECT_EQ(refused.stats.rules, 2u);  // plain regexes and wildcards are not user fallbacks
}

rules::Rule ManyValues(const std::string& id, size_t n, const std::string& prefix) {
  std::vector<rules::ValueMatcher> values;
  for (size_t i = 0; i < n; ++i) {
    values.push_back(Value(MatchOp::kContains, prefix + std::to_string(i)));
  }
  return MakeRule(id, {Sel("s", {Pred("message", std::move(values))})}, C(0));
}

TEST(MatchLimitsTest, HundredThousandValuesAreRefusedFast) {
  const auto start = std::chrono::steady_clock::now();
  auto result =
      Matcher::Compile({ManyValues("huge", 100'000, "value-"), ManyValues("ok", 10, "x")}, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("100,000-value rule refused in %.3f s\n", seconds);
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].rule_id, "huge");
  EXPECT_EQ(result.refused[0].location.file, "test/huge.yml");
  EXPECT_NE(result.refused[0].message.find("100000 values"), std::string::npos)
      << result.refused[0].message;
  EXPECT_NE(result.refused[0].message.find("max_values_per_rule (5000)"), std::string::npos);
  EXPECT_EQ(result.stats.rules, 1u);
  EXPECT_EQ(result.stats.patterns, 10u);
  EXPECT_LT(seconds, 5.0);  // the review's reload took 11.4 s and 1.46 GB
}

TEST(MatchLimitsTest, PatternLimitCountsNewPatternsOfTheSet) {
  CompileOptions options;
  options.limits.max_patterns = 5;
  auto result =
      Matcher::Compile({ManyValues("a", 3, "a"), ManyValues("again", 3, "a"),
                        ManyValues("b", 3, "b"), ManyValues("c", 2, "c"), ManyValues("d", 1, "d")},
                       options);
  ASSERT_EQ(result.refused.size(), 2u);
  EXPECT_EQ(result.refused[0].rule_id, "b");  // 3 + 3 > 5; "again" adds nothing new
  EXPECT_NE(result.refused[0].message.find("max_patterns (5)"), std::string::npos)
      << result.refused[0].message;
  // The set is counted once a rule could pass the limit ("again"), and
  // the patterns registered after that ("c") count too.
  EXPECT_EQ(result.refused[1].rule_id, "d");
  EXPECT_EQ(result.stats.patterns, 5u);
  EXPECT_EQ(result.stats.rules, 3u);
}

TEST(MatchLimitsTest, RefusedRegexNamesTheLineOfItsValue) {
  TempDir dir("value_line");
  const auto file = dir.path() / "rule.yml";
  std::ofstream(file) << "title: too large\n"
                         "id: r\n"
                         "logsource: {product: linux}\n"
                         "detection:\n"
                         "  selection:\n"
                         "    message|contains: ok\n"
                         "    user|re: '(a{60000}){60000}'\n"
                         "  condition: selection\n";
  rules::Rule rule = MakeRule("r", {Sel("s", {Pred("user", {Regex("(a{60000}){60000}")})})}, C(0));
  rule.location = {file.string(), 1};
  auto result = Matcher::Compile({rule}, {});
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].location.file, file.string());
  EXPECT_EQ(result.refused[0].location.line, 7) << result.refused[0].message;
  EXPECT_NE(result.refused[0].message.find("regex '(a{60000}){60000}'"), std::string::npos);
}

}  // namespace
}  // namespace gsoc::match
