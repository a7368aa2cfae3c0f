// Verify scans (MatcherData::verify_scans): the patterns no rule's trigger
// holds are not scanned with every event but checked for the candidate
// rules that read them: a literal on its own (LiteralCheck) up to
// kDirectChecks times a scan and event, then the verify database, and a
// wildcard value through the database. Same answers as the reference
// evaluator, and the counts show which path ran.
#include <gtest/gtest.h>

#include "engine/match/matcher.h"
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

}  // namespace
}  // namespace gsoc::match
