#include <gtest/gtest.h>

#include "engine/triage/triage_store.h"
#include "tests/engine/triage/triage_test_util.h"

// Designated initializers leave the other members at their defaults on
// purpose; GCC 12 warns about that under -Wextra.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

namespace gsoc::triage {
namespace {

constexpr int64_t kMinute = 60'000'000'000;

store::StoredAlert Alert(uint64_t id, std::string agency, std::string src_ip, int64_t time_ns,
                         rules::Level level = rules::Level::kHigh) {
  store::StoredAlert alert;
  alert.id = id;
  alert.agency = std::move(agency);
  alert.time_ns = time_ns;
  alert.level = level;
  alert.json = R"({"id":")" + std::to_string(id) + R"(","group":{"src_ip":")" + src_ip + R"("}})";
  return alert;
}

TEST(CasesTest, CreatedByHandWithSeverityOfItsHighestAlert) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  std::vector<CaseAlert> alerts{{1, "a", rules::Level::kLow}, {2, "a", rules::Level::kHigh}};
  auto created = store->CreateCase({"brute force", "a"}, "alice", alerts);
  ASSERT_TRUE(std::holds_alternative<Case>(created));
  const Case value = std::get<Case>(created);
  EXPECT_EQ(value.severity, rules::Level::kHigh);
  EXPECT_EQ(value.alerts.size(), 2u);
  EXPECT_EQ(value.timeline.at(0).action, "created");
  EXPECT_EQ(value.timeline.at(0).author, "alice");
  const auto read = store->GetCase(value.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->title, "brute force");
  EXPECT_EQ(read->version, 1u);
}

TEST(CasesTest, RefusesAlertsOfAnotherAgencyAndBadTitles) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  std::vector<CaseAlert> alerts{{1, "b", rules::Level::kLow}};
  EXPECT_TRUE(std::holds_alternative<std::string>(store->CreateCase({"t", "a"}, "x", alerts)));
  EXPECT_TRUE(std::holds_alternative<std::string>(store->CreateCase({"", "a"}, "x", {})));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      store->CreateCase({std::string(300, 't'), "a"}, "x", {})));
}

TEST(CasesTest, ChangesBumpVersionAppendTimelineAndDetectConflicts) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  const Case value = std::get<Case>(store->CreateCase({"c", "a"}, "alice", {}));
  CaseChange add{.action = "add_alerts"};
  std::vector<CaseAlert> alerts{{5, "a", rules::Level::kCritical}};
  auto added = store->ChangeCase(value.id, add, "bob", alerts);
  ASSERT_EQ(added.outcome, CaseChangeResult::Outcome::kOk) << added.error;
  EXPECT_EQ(added.value.severity, rules::Level::kCritical);
  EXPECT_EQ(added.value.version, 2u);
  CaseChange note{.action = "note", .note = "escalated"};
  note.expected_version = 1;  // stale
  EXPECT_EQ(store->ChangeCase(value.id, note, "bob", {}).outcome,
            CaseChangeResult::Outcome::kConflict);
  note.expected_version = 2;
  const auto noted = store->ChangeCase(value.id, note, "bob", {});
  ASSERT_EQ(noted.outcome, CaseChangeResult::Outcome::kOk);
  EXPECT_EQ(noted.value.notes.at(0).text, "escalated");
  CaseChange remove{.action = "remove_alerts", .alert_ids = {5}};
  const auto removed = store->ChangeCase(value.id, remove, "bob", {});
  EXPECT_EQ(removed.value.severity, rules::Level::kInformational);
  CaseChange close{.action = "close"};
  const auto closed = store->ChangeCase(value.id, close, "carol", {});
  EXPECT_EQ(closed.value.status, CaseStatus::kClosed);
  EXPECT_EQ(closed.value.timeline.size(), 5u);
  EXPECT_EQ(closed.value.timeline.back().author, "carol");
  EXPECT_EQ(store->ChangeCase(999, close, "x", {}).outcome, CaseChangeResult::Outcome::kNotFound);
}

TEST(CasesTest, AutoRuleGroupsSameAgencyAndEntityWithinTheWindow) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.auto_cases.push_back({"by-src", "src_ip", 60 * kMinute, rules::Level::kMedium});
  auto store = TriageStore::Open(options);
  std::vector<store::StoredAlert> alerts{
      Alert(1, "a", "10.0.0.1", 0),
      Alert(2, "a", "10.0.0.1", 10 * kMinute),
      Alert(3, "b", "10.0.0.1", 10 * kMinute),                      // another agency
      Alert(4, "a", "10.0.0.2", 10 * kMinute),                      // another value
      Alert(5, "a", "10.0.0.1", 11 * kMinute, rules::Level::kLow),  // below min_level
      Alert(6, "a", "10.0.0.1", 200 * kMinute),                     // after the window
  };
  store->OnCommitted(std::span(alerts.data(), 3));
  store->OnCommitted(std::span(alerts.data() + 3, 3));
  const auto cases = store->ListCases([](const Case&) { return true; }, UINT64_MAX, 100);
  ASSERT_EQ(cases.size(), 4u);  // newest first
  std::map<std::string, std::vector<uint64_t>> by_title;
  for (const Case& value : cases) {
    std::vector<uint64_t> ids;
    for (const auto& alert : value.alerts) ids.push_back(alert.first);
    by_title[value.agency + " " + value.title] = ids;
    EXPECT_EQ(value.auto_rule, "by-src");
  }
  EXPECT_EQ(cases.back().alerts.size(), 2u);  // the first case: alerts 1 and 2
  EXPECT_EQ(cases.back().alerts[1].first, 2u);
  EXPECT_EQ(cases.front().alerts.at(0).first, 6u);
  EXPECT_EQ(store->stats().auto_case_alerts, 5u);
}

TEST(CasesTest, AutoCasesSurviveReopenAndFollowReplacedAlerts) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.auto_cases.push_back({"by-src", "src_ip", 60 * kMinute, rules::Level::kInformational});
  {
    auto store = TriageStore::Open(options);
    auto first = Alert(1, "a", "10.0.0.9", 0);
    store->OnCommitted(std::span(&first, 1));
  }
  auto store = TriageStore::Open(options);
  auto second = Alert(2, "a", "10.0.0.9", kMinute);
  second.replaces = 1;  // an aggregate's next version
  store->OnCommitted(std::span(&second, 1));
  const auto cases = store->ListCases([](const Case&) { return true; }, UINT64_MAX, 10);
  ASSERT_EQ(cases.size(), 1u);
  ASSERT_EQ(cases[0].alerts.size(), 1u);
  EXPECT_EQ(cases[0].alerts[0].first, 2u);
}

TEST(CasesTest, ListFiltersAndPagesNewestFirst) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  for (int i = 0; i < 5; ++i)
    store->CreateCase({"c" + std::to_string(i), i % 2 ? "b" : "a"}, "x", {});
  auto only_a = [](const Case& value) { return value.agency == "a"; };
  const auto page = store->ListCases(only_a, UINT64_MAX, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 5u);
  EXPECT_EQ(page[1].id, 3u);
  const auto rest = store->ListCases(only_a, page.back().id, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].id, 1u);
}

}  // namespace
}  // namespace gsoc::triage
