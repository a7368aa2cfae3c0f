// Rule groups (CompileOptions::group_by_logsource): rules are grouped by
// their logsource's EventFilter and an event scans only the groups whose
// filter it passes. Every check holds the grouped matcher to the one-group
// layout and to the reference evaluator.
#include <gtest/gtest.h>

#include "engine/match/matcher.h"
#include "engine/rules/logsource_map.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;
using Ids = std::vector<std::string>;

constexpr const char* kLogsources = R"(
logsources:
  - logsource: {product: windows, category: process_creation}
    events:
      - when: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1}
      - when: {Channel: Security, EventID: 4688}
        fields: {Image: NewProcessName}
  - logsource: {product: windows, category: file_event}
    events:
      - when: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 11}
  - logsource: {product: windows, service: sysmon}
    events:
      - when: {Channel: Microsoft-Windows-Sysmon/Operational}
  - logsource: {product: windows, service: security}
    events:
      - when: {Channel: Security}
  - logsource: {product: linux, service: sshd}
    programs: [sshd]
  - logsource: {product: opencanary, category: application}
    formats: [json]
  - logsource: {product: linux}
)";

rules::Rule Rule(std::string id, std::string product, std::string category, std::string service,
                 std::vector<rules::Selection> selections, rules::Condition condition) {
  rules::Rule rule = MakeRule(std::move(id), std::move(selections), std::move(condition));
  rule.logsource.product = std::move(product);
  rule.logsource.category = std::move(category);
  rule.logsource.service = std::move(service);
  return rule;
}

rules::Selection ImageEndsWith(const std::string& text) {
  return Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, text)})});
}

class MatcherGroupsTest : public ::testing::Test {
 protected:
  MatcherGroupsTest() : logsources_(rules::LogSourceMap::Parse(kLogsources, "logsources.yaml")) {}

  void Compile(const std::vector<rules::Rule>& rules, size_t max_patterns = 50'000) {
    for (int grouped = 0; grouped < 2; ++grouped) {
      CompileOptions options;
      options.logsources = &logsources_;
      options.group_by_logsource = grouped == 1;
      options.group_min_rules = 0;
      options.limits.max_patterns = max_patterns;
      results_[grouped] = Matcher::Compile(rules, options);
      ASSERT_NE(results_[grouped].matcher, nullptr);
      scratch_[grouped] = results_[grouped].matcher->MakeScratch();
    }
    ASSERT_EQ(results_[0].refused.size(), results_[1].refused.size());
  }

  // Rule ids the grouped matcher reports; the one-group layout and the
  // reference must agree.
  Ids Run(EventSpec spec) {
    spec.format = spec.format == EventFormat::kRfc3164 ? EventFormat::kJson : spec.format;
    EventBatch batch;
    Event& event = AddTestEvent(batch, spec);
    // A JSON event here has a `message` member (its line is other text):
    // keywords search that message, not the event's values.
    if (event.format == EventFormat::kJson) event.raw = batch.arena().Copy("{...}");
    logsources_.Classify(batch, event);
    Ids ids = MatchIds(*results_[1].matcher, *scratch_[1], batch, event);
    EXPECT_EQ(ids, MatchIds(*results_[0].matcher, *scratch_[0], batch, event));
    EXPECT_EQ(ids, ReferenceIds(*results_[1].matcher, batch, event, nullptr, &logsources_));
    return ids;
  }

  static EventSpec Windows(std::string channel, std::string event_id,
                           std::vector<std::pair<std::string, std::string>> fields) {
    EventSpec spec;
    spec.message = "a windows event";
    spec.fields = {{"Channel", std::move(channel)}, {"EventID", std::move(event_id)}};
    for (auto& field : fields) spec.fields.push_back(std::move(field));
    return spec;
  }

  rules::LogSourceMap logsources_;
  Matcher::CompileResult results_[2];
  std::unique_ptr<Matcher::Scratch> scratch_[2];
};

constexpr const char* kSysmon = "Microsoft-Windows-Sysmon/Operational";

TEST_F(MatcherGroupsTest, AnEventScansOnlyTheGroupsOfItsSelectors) {
  Compile({
      Rule("proc", "windows", "process_creation", "", {ImageEndsWith("\\cmd.exe")}, C(0)),
      // The same pattern in another group: each group has its own copy.
      Rule("file", "windows", "file_event", "", {ImageEndsWith("\\cmd.exe")}, C(0)),
      // No pattern can trigger it: evaluated for every event of its group only.
      Rule("file_not", "windows", "file_event", "", {ImageEndsWith("\\explorer.exe")}, Not(C(0))),
      Rule("sysmon", "windows", "", "sysmon",
           {Sel("s", {Pred("Image", {Value(MatchOp::kContains, "cmd")})})}, C(0)),
      Rule("security", "windows", "", "security",
           {Sel("s", {Pred("", {Value(MatchOp::kContains, "windows event")})})}, C(0)),
      Rule("linux", "linux", "", "", {Sel("s", {Pred("", {Value(MatchOp::kContains, "event")})})},
           C(0)),
  });
  EXPECT_EQ(results_[0].stats.groups, 1u);
  EXPECT_EQ(results_[1].stats.groups, 5u);  // process_creation, file_event, sysmon, security, linux
  EXPECT_EQ(results_[0].stats.patterns, 5u);
  EXPECT_EQ(results_[1].stats.patterns, 6u);  // \cmd.exe twice

  const std::pair<std::string, std::string> cmd{"Image", "C:\\Windows\\System32\\cmd.exe"};
  EXPECT_EQ(Run(Windows(kSysmon, "1", {cmd})), (Ids{"proc", "sysmon", "linux"}));
  EXPECT_EQ(Run(Windows(kSysmon, "11", {cmd})), (Ids{"file", "file_not", "sysmon", "linux"}));
  EXPECT_EQ(Run(Windows(kSysmon, "11", {{"Image", "C:\\explorer.exe"}})), (Ids{"linux"}));
  EXPECT_EQ(Run(Windows(kSysmon, "3", {cmd})), (Ids{"sysmon", "linux"}));
  // Security 4688: Image mapped from NewProcessName by the selector.
  EXPECT_EQ(Run(Windows("Security", "4688", {{"NewProcessName", "C:\\x\\cmd.exe"}})),
            (Ids{"proc", "security", "linux"}));
  EXPECT_EQ(Run(Windows("Security", "4624", {cmd})), (Ids{"security", "linux"}));
  EXPECT_EQ(Run(Windows("Application", "1", {cmd})), (Ids{"linux"}));

  // Per event: the groups eligible, and fewer rules evaluated than with one
  // group (where every always-candidate runs for every event).
  const Matcher::Scratch::Counts& grouped = scratch_[1]->counts();
  const Matcher::Scratch::Counts& one = scratch_[0]->counts();
  EXPECT_EQ(grouped.events, 7u);
  EXPECT_EQ(one.groups, 7u);
  EXPECT_LT(grouped.rules_evaluated, one.rules_evaluated);
}

// Below group_min_rules the rules stay in one group (fewer scans a field);
// from it on they are grouped.
TEST_F(MatcherGroupsTest, RulesAreGroupedFromGroupMinRulesOn) {
  const std::vector<rules::Rule> rules = {
      Rule("proc", "windows", "process_creation", "", {ImageEndsWith("\\cmd.exe")}, C(0)),
      Rule("file", "windows", "file_event", "", {ImageEndsWith("\\cmd.exe")}, C(0))};
  CompileOptions options;
  options.logsources = &logsources_;
  options.group_min_rules = 3;
  EXPECT_EQ(Matcher::Compile(rules, options).stats.groups, 1u);
  options.group_min_rules = 2;
  EXPECT_EQ(Matcher::Compile(rules, options).stats.groups, 2u);
  EXPECT_EQ(CompileOptions().group_min_rules, 1000u);
}

TEST_F(MatcherGroupsTest, GroupsWithoutSelectorsAreCheckedForProgramAndFormat) {
  Compile({
      Rule("sshd", "linux", "", "sshd", {Sel("s", {Pred("", {Value(MatchOp::kContains, "fail")})})},
           C(0)),
      Rule("canary", "opencanary", "application", "",
           {Sel("s", {Pred("", {Value(MatchOp::kContains, "fail")})})}, C(0)),
      Rule("canary_not", "opencanary", "application", "",
           {Sel("s", {Pred("", {Value(MatchOp::kContains, "zzz")})})}, Not(C(0))),
      Rule("linux", "linux", "", "", {Sel("s", {Pred("", {Value(MatchOp::kContains, "fail")})})},
           C(0)),
  });
  EXPECT_EQ(results_[1].stats.groups, 3u);
  EventSpec sshd{"Failed password", "sshd", {}, -1, EventFormat::kRfc5424};
  EXPECT_EQ(Run(sshd), (Ids{"sshd", "linux"}));
  sshd.program = "SSHD";
  EXPECT_EQ(Run(sshd), (Ids{"sshd", "linux"}));
  EventSpec json{"fail", "", {}, -1, EventFormat::kJson};
  EXPECT_EQ(Run(json), (Ids{"canary", "canary_not", "linux"}));
  EventSpec cron{"fail", "cron", {}, -1, EventFormat::kRfc5424};
  EXPECT_EQ(Run(cron), (Ids{"linux"}));
  // No program: the program groups are not even checked (Match skips them).
  EventSpec nameless{"Failed password", "", {}, -1, EventFormat::kRfc5424};
  EXPECT_EQ(Run(nameless), (Ids{"linux"}));
  EventSpec pam{"Failed password", "sshd(pam_unix)", {}, -1, EventFormat::kRfc5424};
  EXPECT_EQ(Run(pam), (Ids{"sshd", "linux"}));
}

TEST_F(MatcherGroupsTest, PatternLimitCountsAPatternOnceWhateverItsGroups) {
  // Three rules with the same two patterns in three groups: 2 patterns for
  // rules.limits.max_patterns (as with one group), 6 compiled.
  std::vector<rules::Rule> rules;
  for (const char* category : {"process_creation", "file_event"}) {
    rules.push_back(Rule(std::string("r_") + category, "windows", category, "",
                         {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\a.exe"),
                                                   Value(MatchOp::kEndsWith, "\\b.exe")})})},
                         C(0)));
  }
  rules.push_back(Rule("r_sysmon", "windows", "", "sysmon",
                       {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\a.exe"),
                                                 Value(MatchOp::kEndsWith, "\\b.exe")})})},
                       C(0)));
  // A fourth rule whose one new pattern would make 3 > 2.
  rules.push_back(Rule("r_new", "windows", "", "sysmon",
                       {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\c.exe")})})}, C(0)));
  Compile(rules, 2);
  ASSERT_EQ(results_[1].refused.size(), 1u);
  EXPECT_EQ(results_[1].refused[0].rule_id, "r_new");
  EXPECT_EQ(results_[0].refused[0].rule_id, "r_new");
  EXPECT_EQ(results_[0].stats.patterns, 2u);
  EXPECT_EQ(results_[1].stats.patterns, 6u);
  EXPECT_EQ(Run(Windows(kSysmon, "1", {{"Image", "C:\\b.exe"}})),
            (Ids{"r_process_creation", "r_sysmon"}));
}

TEST_F(MatcherGroupsTest, UnclassifiedEventsSeeOnlyRulesWithoutSelectors) {
  Compile({
      Rule("proc", "windows", "process_creation", "", {ImageEndsWith("\\cmd.exe")}, Not(C(0))),
      Rule("linux", "linux", "", "", {ImageEndsWith("\\cmd.exe")}, Not(C(0))),
  });
  EventBatch batch;
  Event& event = AddTestEvent(batch, {"m", "", {{"Channel", kSysmon}, {"EventID", "1"}}});
  // Not classified: no selectors, so only the rule without any.
  EXPECT_EQ(MatchIds(*results_[1].matcher, *scratch_[1], batch, event), (Ids{"linux"}));
  EXPECT_EQ(MatchIds(*results_[0].matcher, *scratch_[0], batch, event), (Ids{"linux"}));
  // A selector id beyond the map (a stale event) is ignored.
  event.selectors[0] = 999;
  event.selector_count = 1;
  EXPECT_EQ(MatchIds(*results_[1].matcher, *scratch_[1], batch, event), (Ids{"linux"}));
}

}  // namespace
}  // namespace gsoc::match
