// Verify scans (MatcherData::verify_scans): the patterns no rule's trigger
// holds are not scanned with every event but checked for the candidate
// rules that read them: a literal on its own (LiteralCheck) up to
// kDirectChecks times a scan and event, then the verify database, and a
// wildcard value through the database. Same answers as the reference
// evaluator, and the counts show which path ran.
#include <gtest/gtest.h>

#include "engine/match/matcher.h"
#include "engine/rules/logsource_map.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;
using Ids = std::vector<std::string>;

class VerifyScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // `trigger and not filter`: the filters are no trigger.
    auto contains = [](std::string text) { return Value(MatchOp::kContains, std::move(text)); };
    std::vector<rules::ValueMatcher> many;
    for (const char* text : {"one", "two", "three", "four", "five", "six"})
      many.push_back(contains(text));
    std::vector<rules::Rule> rules = {
        MakeRule("literal_filter",
                 {Sel("s", {Pred("CommandLine", {contains("rare-trigger")})}),
                  Sel("f", {Pred("CommandLine", {contains(" -p")})})},
                 And(C(0), Not(C(1)))),
        MakeRule("wildcard_filter",
                 {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\x.exe")})}),
                  Sel("f", {Pred("CommandLine", {contains("a*b")})})},
                 And(C(0), Not(C(1)))),
        MakeRule("many_filters",
                 {Sel("s", {Pred("User", {Value(MatchOp::kEquals, "alice")})}),
                  Sel("f", {Pred("CommandLine", std::move(many))})},
                 And(C(0), Not(C(1))))};
    result_ = Matcher::Compile(std::move(rules), {});
    ASSERT_NE(result_.matcher, nullptr);
    ASSERT_TRUE(result_.refused.empty());
    scratch_ = result_.matcher->MakeScratch();
  }
  struct Run {
    Ids ids;
    uint64_t verifies = 0;
    uint64_t checks = 0;
  };
  Run Match(std::vector<std::pair<std::string, std::string>> fields) {
    EventBatch batch;
    Event& event = AddTestEvent(batch, {"msg", "", std::move(fields)});
    const Matcher::Scratch::Counts before = scratch_->counts();
    Run run;
    run.ids = MatchIds(*result_.matcher, *scratch_, batch, event);
    EXPECT_EQ(run.ids, ReferenceIds(*result_.matcher, batch, event));
    run.verifies = scratch_->counts().verifies - before.verifies;
    run.checks = scratch_->counts().literal_checks - before.literal_checks;
    return run;
  }

  Matcher::CompileResult result_;
  std::unique_ptr<Matcher::Scratch> scratch_;
};

TEST_F(VerifyScanTest, FiltersAreNotScannedWithTheEvent) {
  EXPECT_GT(result_.stats.verify_patterns, 0u);
  // ' -p' everywhere, no rule a candidate: nothing checks it.
  const Run quiet = Match({{"CommandLine", "x -p one a-b"}, {"Image", "c:\\y.exe"}});
  EXPECT_EQ(quiet.ids, Ids{});
  EXPECT_EQ(quiet.verifies, 0u);
  EXPECT_EQ(quiet.checks, 0u);
}

TEST_F(VerifyScanTest, ACandidateChecksALiteralFilterOnItsOwn) {
  const Run filtered = Match({{"CommandLine", "rare-trigger -P"}});
  EXPECT_EQ(filtered.ids, Ids{});
  EXPECT_EQ(filtered.checks, 1u);
  EXPECT_EQ(filtered.verifies, 0u);
  const Run kept = Match({{"CommandLine", "rare-trigger"}});
  EXPECT_EQ(kept.ids, Ids{"literal_filter"});
  EXPECT_EQ(kept.checks, 1u);
}

TEST_F(VerifyScanTest, AWildcardFilterRunsTheVerifyScan) {
  const Run filtered = Match({{"Image", "C:\\X.EXE"}, {"CommandLine", "aXXb"}});
  EXPECT_EQ(filtered.ids, Ids{});
  EXPECT_EQ(filtered.verifies, 1u);
  const Run kept = Match({{"Image", "C:\\X.EXE"}, {"CommandLine", "ba"}});
  EXPECT_EQ(kept.ids, Ids{"wildcard_filter"});
  EXPECT_EQ(kept.verifies, 1u);
  EXPECT_EQ(kept.checks, 0u);
}

// Six literal filters, none there: four checks, then one scan answers the
// rest (a field is read at most kDirectChecks + 1 more times an event).
TEST_F(VerifyScanTest, ChecksStopAtTheBudgetAndTheScanAnswersTheRest) {
  const Run kept = Match({{"User", "Alice"}, {"CommandLine", "seven eight"}});
  EXPECT_EQ(kept.ids, Ids{"many_filters"});
  EXPECT_EQ(kept.checks, 4u);
  EXPECT_EQ(kept.verifies, 1u);
  const Run filtered = Match({{"User", "alice"}, {"CommandLine", "zero six"}});
  EXPECT_EQ(filtered.ids, Ids{});
  EXPECT_EQ(filtered.checks, 4u);
  EXPECT_EQ(filtered.verifies, 1u);
}

// Without rule groups (fewer rules than group_min_rules: the shipped pack),
// a field's scan is skipped for an event no rule with a pattern there can
// match; a rule whose only pattern on the field is a verify one does not
// count (its verify scan answers it), so an apache line is not scanned for
// the sshd rule's `user` trigger.
TEST(VerifyScanFilters, AVerifyPatternDoesNotMakeItsFieldScannedWithTheEvent) {
  const rules::LogSourceMap logsources = rules::LogSourceMap::Parse(
      "logsources:\n"
      "  - logsource: {product: linux, service: sshd}\n"
      "    programs: [sshd]\n"
      "  - logsource: {product: linux, service: apache}\n"
      "    programs: [apache]\n",
      "logsources.yaml");
  auto contains = [](std::string text) { return Value(MatchOp::kContains, std::move(text)); };
  rules::Rule sshd = MakeRule("sshd", {Sel("s", {Pred("user", {contains("admin")})})}, C(0));
  sshd.logsource = {"linux", "sshd", ""};
  rules::Rule apache = MakeRule("apache",
                                {Sel("s", {Pred("url", {contains("/login")})}),
                                 Sel("f", {Pred("user", {contains("monitor")})})},
                                And(C(0), Not(C(1))));
  apache.logsource = {"linux", "apache", ""};
  CompileOptions options;
  options.logsources = &logsources;
  options.group_by_logsource = false;
  auto result = Matcher::Compile({sshd, apache}, options);
  ASSERT_NE(result.matcher, nullptr);
  ASSERT_TRUE(result.refused.empty());
  auto scratch = result.matcher->MakeScratch();
  auto run = [&](std::string program, std::string url, std::string user) {
    EventBatch batch;
    Event& event = AddTestEvent(batch, {"msg", program, {{"url", url}, {"user", user}}});
    logsources.Classify(batch, event);
    const uint64_t scans = scratch->counts().scans;
    const Ids ids = MatchIds(*result.matcher, *scratch, batch, event);
    EXPECT_EQ(ids, ReferenceIds(*result.matcher, batch, event, nullptr, &logsources));
    return std::make_pair(ids, scratch->counts().scans - scans);
  };
  // The url scan only: the user scan would serve the sshd rule alone.
  EXPECT_EQ(run("apache", "/home", "admin"), std::make_pair(Ids{}, uint64_t{1}));
  // A candidate reads its filter through a check, not the user scan.
  EXPECT_EQ(run("apache", "/login", "admin"), std::make_pair(Ids{"apache"}, uint64_t{1}));
  EXPECT_EQ(run("sshd", "/login", "admin"), std::make_pair(Ids{"sshd"}, uint64_t{1}));
}

}  // namespace
}  // namespace gsoc::match
