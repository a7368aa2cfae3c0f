#include "engine/api/overview.h"

#include <gtest/gtest.h>

#include <numeric>

#include "tests/engine/api/api_test_util.h"
#include "tests/engine/triage/triage_test_util.h"

namespace gsoc::api {
namespace {

using testing::FakeReader;

constexpr int64_t kHour = 3'600'000'000'000LL;
// 2026-11-25T12:30:00Z: 12 hours and a half into a UTC day.
constexpr int64_t kNowNs = 1'795'609'800'000'000'000LL;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::nanoseconds(kNowNs));

store::StoredAlert Alert(uint64_t id, int64_t time_ns, rules::Level level, std::string agency,
                         std::string rule = "rule-1", std::string source = "198.51.100.1") {
  store::StoredAlert alert;
  alert.id = id;
  alert.time_ns = time_ns;
  alert.commit_ns = kNowNs;
  alert.level = level;
  alert.rule_id = rule;
  alert.agency = agency;
  alert.json = "{\"id\":\"" + std::to_string(id) + "\",\"rule\":{\"id\":\"" + rule +
               "\",\"name\":\"\",\"title\":\"Title of " + rule + "\",\"level\":\"low\"}," +
               "\"agency\":\"" + agency + "\",\"group\":{},\"fields\":{\"user\":\"root\"" +
               (source.empty() ? "" : ",\"src_ip\":\"" + source + "\"") +
               "},\"events\":[{\"raw\":\"src_ip\\\":\\\"evil\"}]}";
  return alert;
}

uint64_t Total(const std::vector<OverviewCounts::Bucket>& buckets) {
  uint64_t total = 0;
  for (const auto& bucket : buckets) {
    total += std::accumulate(bucket.counts.begin(), bucket.counts.end(), uint64_t{0});
  }
  return total;
}

TEST(OverviewRollup, CountsByHourDayAndLevelInTheirBuckets) {
  OverviewRollup rollup;
  const std::vector<store::StoredAlert> alerts = {
      Alert(1, kNowNs - 1 * kHour, rules::Level::kHigh, "a"),           // today, 1 h ago
      Alert(2, kNowNs - 30 * kHour, rules::Level::kLow, "a"),           // yesterday
      Alert(3, kNowNs - 72 * kHour, rules::Level::kMedium, "b"),        // 3 days ago
      Alert(4, kNowNs - 9 * 24 * kHour, rules::Level::kCritical, "b"),  // out of the window
  };
  rollup.OnCommitted(alerts);
  const OverviewCounts all = rollup.Counts({}, kNow);
  ASSERT_EQ(all.hours.size(), 24u);
  ASSERT_EQ(all.days.size(), 7u);
  EXPECT_EQ(all.hours[23].start_ns, kNowNs - kHour / 2);  // the hour holding now
  EXPECT_EQ(all.hours[22].counts[static_cast<size_t>(rules::Level::kHigh)], 1u);
  EXPECT_EQ(Total(all.hours), 1u);
  EXPECT_EQ(all.days[6].start_ns, kNowNs - 12 * kHour - kHour / 2);  // today 00:00Z
  EXPECT_EQ(all.days[6].counts[static_cast<size_t>(rules::Level::kHigh)], 1u);
  EXPECT_EQ(all.days[5].counts[static_cast<size_t>(rules::Level::kLow)], 1u);
  EXPECT_EQ(all.days[3].counts[static_cast<size_t>(rules::Level::kMedium)], 1u);
  EXPECT_EQ(Total(all.days), 3u);
  EXPECT_EQ(all.open, 3u);
  EXPECT_EQ(all.closed, 0u);
}

TEST(OverviewRollup, ScopedToTheAgenciesAsked) {
  OverviewRollup rollup;
  rollup.OnCommitted(std::vector<store::StoredAlert>{
      Alert(1, kNowNs, rules::Level::kHigh, "a", "rule-a", "10.0.0.1"),
      Alert(2, kNowNs, rules::Level::kLow, "b", "rule-b", "10.0.0.2"),
      Alert(3, kNowNs, rules::Level::kLow, "b", "rule-b", "10.0.0.2")});
  const OverviewCounts a = rollup.Counts({"a"}, kNow);
  EXPECT_EQ(Total(a.days), 1u);
  ASSERT_EQ(a.top_rules.size(), 1u);
  EXPECT_EQ(a.top_rules[0].key, "rule-a");
  ASSERT_EQ(a.top_sources.size(), 1u);
  EXPECT_EQ(a.top_sources[0].key, "10.0.0.1");
  EXPECT_EQ(Total(rollup.Counts({"a", "b"}, kNow).days), 3u);
  const OverviewCounts none = rollup.Counts({"nobody"}, kNow);
  EXPECT_EQ(Total(none.days), 0u);
  EXPECT_TRUE(none.top_rules.empty());
  EXPECT_TRUE(none.top_sources.empty());
}

TEST(OverviewRollup, TopRulesCarryTitlesAndSourcesComeFromFieldsNotRawText) {
  OverviewRollup rollup;
  std::vector<store::StoredAlert> alerts;
  uint64_t id = 0;
  for (int rule = 0; rule < 12; ++rule) {
    for (int n = 0; n <= rule; ++n) {
      alerts.push_back(Alert(++id, kNowNs, rules::Level::kLow, "a", "rule-" + std::to_string(rule),
                             "10.0.0." + std::to_string(rule)));
    }
  }
  alerts.push_back(Alert(++id, kNowNs, rules::Level::kLow, "a", "rule-0", ""));  // no source
  rollup.OnCommitted(alerts);
  const OverviewCounts counts = rollup.Counts({}, kNow);
  ASSERT_EQ(counts.top_rules.size(), 10u);
  EXPECT_EQ(counts.top_rules[0].key, "rule-11");
  EXPECT_EQ(counts.top_rules[0].title, "Title of rule-11");
  EXPECT_EQ(counts.top_rules[0].count, 12u);
  EXPECT_EQ(counts.top_rules[9].key, "rule-2");
  ASSERT_EQ(counts.top_sources.size(), 10u);
  EXPECT_EQ(counts.top_sources[0].key, "10.0.0.11");
  for (const auto& source : counts.top_sources) EXPECT_NE(source.key, "evil");
}

TEST(OverviewRollup, NewerAggregateVersionsAreNotCountedAgain) {
  OverviewRollup rollup;
  store::StoredAlert first = Alert(1, kNowNs, rules::Level::kMedium, "a");
  store::StoredAlert second = Alert(2, kNowNs, rules::Level::kMedium, "a");
  second.replaces = 1;
  rollup.OnCommitted(std::vector<store::StoredAlert>{first});
  rollup.OnCommitted(std::vector<store::StoredAlert>{second});
  EXPECT_EQ(Total(rollup.Counts({}, kNow).days), 1u);
}

TEST(OverviewRollup, BoundedAgenciesAndClockAheadAreDroppedAndCounted) {
  OverviewOptions options;
  options.max_agencies = 2;
  OverviewRollup rollup(options);
  rollup.OnCommitted(std::vector<store::StoredAlert>{
      Alert(1, kNowNs, rules::Level::kLow, "a"), Alert(2, kNowNs, rules::Level::kLow, "b"),
      Alert(3, kNowNs, rules::Level::kLow, "c"),
      Alert(4, kNowNs + 48 * kHour, rules::Level::kLow, "a")});  // a sender's clock two days ahead
  EXPECT_EQ(Total(rollup.Counts({}, kNow).days), 2u);
  EXPECT_EQ(Total(rollup.Counts({"c"}, kNow).days), 0u);
  EXPECT_EQ(rollup.dropped(), 2u);
}

TEST(OverviewRollup, TopMapsStayBoundedAndKeepHeavyHitters) {
  OverviewOptions options;
  options.top_entries = 8;
  OverviewRollup rollup(options);
  std::vector<store::StoredAlert> alerts;
  uint64_t id = 0;
  for (int i = 0; i < 2000; ++i) {
    // One heavy rule every other alert; the rest are all distinct.
    const std::string rule = i % 2 ? "heavy" : "rare-" + std::to_string(i);
    alerts.push_back(Alert(++id, kNowNs, rules::Level::kLow, "a", rule, "10.1.0.1"));
  }
  rollup.OnCommitted(alerts);
  const OverviewCounts counts = rollup.Counts({}, kNow);
  ASSERT_FALSE(counts.top_rules.empty());
  EXPECT_EQ(counts.top_rules[0].key, "heavy");
  EXPECT_EQ(counts.top_rules[0].count, 1000u);
  EXPECT_LE(counts.top_rules.size(), 8u);  // at most top_entries survive the pruning
}

TEST(OverviewRollup, OldHoursLeaveTheRingAsTimeMovesOn) {
  OverviewRollup rollup;
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(1, kNowNs, rules::Level::kLow, "a")});
  // Exactly a week later the same ring slot takes the new hour.
  const int64_t later = kNowNs + 168 * kHour;
  store::StoredAlert next = Alert(2, later, rules::Level::kHigh, "a");
  next.commit_ns = later;
  rollup.OnCommitted(std::vector<store::StoredAlert>{next});
  const auto then = std::chrono::system_clock::time_point(std::chrono::nanoseconds(later));
  const OverviewCounts counts = rollup.Counts({}, then);
  EXPECT_EQ(Total(counts.days), 1u);
  EXPECT_EQ(counts.hours[23].counts[static_cast<size_t>(rules::Level::kHigh)], 1u);
  // An alert for the hour that left the ring is not counted any more.
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(3, kNowNs, rules::Level::kLow, "a")});
  EXPECT_EQ(Total(rollup.Counts({}, then).days), 1u);
}

TEST(OverviewRollup, SeedCountsTheStoreOnceAndCommitsAfterIt) {
  FakeReader reader;
  for (uint64_t id = 1; id <= 50; ++id) {
    reader.Add(Alert(id, kNowNs - static_cast<int64_t>(id % 5) * kHour, rules::Level::kLow, "a"));
  }
  reader.Add(Alert(51, kNowNs - 10 * 24 * kHour, rules::Level::kLow, "a"));  // too old
  OverviewRollup rollup;
  EXPECT_EQ(rollup.Seed(reader, kNow), 50u);
  EXPECT_TRUE(rollup.seeded_complete());
  // A listener call repeating stored ids (the seed saw them) counts nothing.
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(50, kNowNs, rules::Level::kLow, "a")});
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(52, kNowNs, rules::Level::kLow, "a")});
  EXPECT_EQ(Total(rollup.Counts({}, kNow).days), 51u);
}

TEST(OverviewRollup, SeedStopsAtItsLimitWithTheNewest) {
  FakeReader reader;
  for (uint64_t id = 1; id <= 3000; ++id) {
    reader.Add(Alert(id, kNowNs - (id <= 1000 ? 2 * kHour : 0), rules::Level::kLow, "a"));
  }
  OverviewOptions options;
  options.seed_alerts = 2000;
  OverviewRollup rollup(options);
  EXPECT_EQ(rollup.Seed(reader, kNow), 2000u);
  EXPECT_FALSE(rollup.seeded_complete());
  const OverviewCounts counts = rollup.Counts({}, kNow);
  EXPECT_EQ(Total(counts.hours), 2000u);
  EXPECT_EQ(Total({counts.hours[23]}), 2000u);  // the newest hour, not the older one
}

TEST(OverviewRollup, ClosedAlertsAreCountedApart) {
  OverviewRollup rollup;
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(1, kNowNs, rules::Level::kLow, "a"),
                                                     Alert(2, kNowNs, rules::Level::kLow, "a")});
  rollup.CountStatusChange("a", kNowNs, +1);
  OverviewCounts counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.open, 1u);
  EXPECT_EQ(counts.closed, 1u);
  rollup.CountStatusChange("a", kNowNs, -1);
  rollup.CountStatusChange("a", kNowNs, -1);  // never below zero
  counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.open, 2u);
  EXPECT_EQ(counts.closed, 0u);
}

// The triage store's change events, wired as gsocd wires them: closing an
// alert moves it from open to closed in its hour; reopening moves it back;
// an ack or a second change of a closed alert moves nothing.
TEST(OverviewRollup, TriageChangesMoveOpenAndClosed) {
  triage::TempTriageDir dir;
  auto triage = triage::TriageStore::Open(dir.Options());
  OverviewRollup rollup;
  triage->SetChangeListener(
      [&](const triage::ChangeEvent& change) { rollup.OnTriageChange(change); });
  rollup.OnCommitted(
      std::vector<store::StoredAlert>{Alert(1, kNowNs - 2 * kHour, rules::Level::kLow, "a"),
                                      Alert(2, kNowNs - 30 * kHour, rules::Level::kLow, "a"),
                                      Alert(3, kNowNs, rules::Level::kLow, "b")});
  const std::vector<triage::ChangeTarget> targets{{1, "a", kNowNs - 2 * kHour},
                                                  {2, "a", kNowNs - 30 * kHour}};
  triage::Change close = triage::MakeChange(triage::Action::kClose);
  close.reason = triage::Reason::kBenign;
  triage->Apply(triage::MakeChange(triage::Action::kAck), targets);
  EXPECT_EQ(rollup.Counts({}, kNow).open, 3u);
  triage->Apply(close, targets);
  OverviewCounts counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.open, 1u);
  EXPECT_EQ(counts.closed, 2u);
  EXPECT_EQ(rollup.Counts({"b"}, kNow).closed, 0u);
  triage->Apply(close, targets);  // refused (already closed): no event, no count
  EXPECT_EQ(rollup.Counts({}, kNow).closed, 2u);
  triage->Apply(triage::MakeChange(triage::Action::kReopen),
                std::vector<triage::ChangeTarget>{targets[0]});
  counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.open, 2u);
  EXPECT_EQ(counts.closed, 1u);
  triage->Apply(triage::MakeChange(triage::Action::kReopen), targets);
  counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.open, 3u);
  EXPECT_EQ(counts.closed, 0u);
}

// After a restart: Seed reads each counted alert's triage state.
TEST(OverviewRollup, SeedCountsClosedAlertsFromTriage) {
  triage::TempTriageDir dir;
  auto triage = triage::TriageStore::Open(dir.Options());
  FakeReader reader;
  std::vector<triage::ChangeTarget> closed;
  for (uint64_t id = 1; id <= 2500; ++id) {  // three seed pages
    reader.Add(Alert(id, kNowNs - static_cast<int64_t>(id % 40) * kHour, rules::Level::kLow,
                     id % 2 ? "a" : "b"));
    if (id % 5 == 0) closed.push_back({id, id % 2 ? "a" : "b", 0});
  }
  triage::Change close = triage::MakeChange(triage::Action::kClose);
  close.reason = triage::Reason::kFalsePositive;
  triage->Apply(close, closed);
  triage->Apply(triage::MakeChange(triage::Action::kAck),
                std::vector<triage::ChangeTarget>{{1, "a", 0}});
  OverviewRollup rollup;
  EXPECT_EQ(rollup.Seed(reader, kNow, triage.get()), 2500u);
  OverviewCounts counts = rollup.Counts({}, kNow);
  EXPECT_EQ(counts.closed, 500u);
  EXPECT_EQ(counts.open, 2000u);
  EXPECT_EQ(rollup.Counts({"b"}, kNow).closed, 250u);  // ids 10, 20, ... are agency b
  OverviewRollup without;
  without.Seed(reader, kNow);
  EXPECT_EQ(without.Counts({}, kNow).closed, 0u);
}

TEST(OverviewJson, HasTheContractMembers) {
  OverviewRollup rollup;
  rollup.OnCommitted(std::vector<store::StoredAlert>{Alert(1, kNowNs, rules::Level::kHigh, "a")});
  const std::string json = OverviewJson(rollup.Counts({"a"}, kNow), std::string("a"));
  for (const char* member :
       {"{\"agency\":\"a\",\"levels_24h\":[{\"start\":\"2026-11-24T13:00:00.000Z\",\"counts\":{"
        "\"informational\":0,\"low\":0,\"medium\":0,\"high\":0,\"critical\":0}}",
        "\"levels_7d\":[{\"start\":\"2026-11-19T00:00:00.000Z\"",
        "\"top_rules\":[{\"rule_id\":\"rule-1\",\"title\":\"Title of rule-1\",\"count\":1}]",
        "\"top_sources\":[{\"source\":\"198.51.100.1\",\"count\":1}]",
        "\"open\":1,\"closed\":0}"}) {
    EXPECT_NE(json.find(member), std::string::npos) << member << "\nin " << json;
  }
  EXPECT_EQ(OverviewJson(OverviewCounts{}, std::nullopt).rfind("{\"agency\":null,", 0), 0u);
}

}  // namespace
}  // namespace gsoc::api
