#include "engine/correlate/correlator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/correlate/key_table.h"
#include "tests/engine/correlate/correlator_test_util.h"

namespace gsoc::correlate {
namespace {

using namespace correlator_test;

TEST(CorrelatorTest, EventCountPerKeyAcrossTwoKeys) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  Correlator correlator(SmallOptions(), {"mof", "moh"});
  Batch first;
  first.Hit(0, 1, 0, {{"src_ip", "10.0.0.1"}});
  first.Hit(0, 2, 1, {{"src_ip", "10.0.0.2"}}, 1);
  first.Hit(0, 3, 2, {{"src_ip", "10.0.0.1"}});
  first.Hit(0, 4, 3, {{"src_ip", "10.0.0.2"}}, 1);
  EXPECT_TRUE(Feed(correlator, set, first).empty());

  Batch second;
  second.Hit(0, 5, 4, {{"src_ip", "10.0.0.1"}});
  std::vector<Alert> alerts = Feed(correlator, set, second);
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& alert = alerts[0];
  EXPECT_EQ(alert.kind, AlertKind::kCorrelation);
  EXPECT_EQ(alert.rule.id, "id-brute");
  EXPECT_EQ(alert.rule.name, "brute");
  EXPECT_EQ(alert.rule.title, "Title of brute");
  EXPECT_EQ(alert.rule.level, rules::Level::kHigh);
  EXPECT_EQ(alert.rule.tags, std::vector<std::string>{"attack.t1110"});
  EXPECT_EQ(alert.agency, "mof");
  EXPECT_EQ(GroupOf(alert), "src_ip=10.0.0.1;");
  EXPECT_EQ(alert.fields, alert.group);
  EXPECT_EQ(alert.count, 3u);
  EXPECT_EQ(alert.value, 3.0);
  EXPECT_EQ(alert.correlation_type, "event_count");
  EXPECT_EQ(alert.condition, "gte 3");
  EXPECT_EQ(alert.window_start_ns, kBase);
  EXPECT_EQ(alert.window_end_ns, kBase + 4 * kSecond);
  EXPECT_EQ(alert.time_ns, alert.window_end_ns);
  EXPECT_EQ(alert.suppressed, 0u);
  ASSERT_EQ(alert.events.size(), 3u);
  EXPECT_EQ(alert.events[0].id, 1u);
  EXPECT_EQ(alert.events[1].id, 3u);
  EXPECT_EQ(alert.events[2].id, 5u);
  EXPECT_EQ(alert.events[0].raw, "<38>raw line of event 1 src_ip=10.0.0.1");
  EXPECT_EQ(alert.events[2].time_ns, kBase + 4 * kSecond);

  Batch third;
  third.Hit(0, 6, 5, {{"src_ip", "10.0.0.2"}}, 1);
  alerts = Feed(correlator, set, third);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "src_ip=10.0.0.2;");
  EXPECT_EQ(alerts[0].agency, "moh");

  const CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.updates, 6u);
  EXPECT_EQ(stats.firings, 2u);
  EXPECT_EQ(stats.live_keys, 0u);  // both windows consumed, no suppression
  EXPECT_EQ(correlator.stream_time_ns(), kBase + 5 * kSecond);
}

TEST(CorrelatorTest, AgencyIsMultipleWhenInputsCameFromSeveralAgencies) {
  const CorrelationSet set = OneToOne({EventCount("scan", {"src_ip"}, 2)});
  Correlator correlator(SmallOptions(), {"mof", "moh"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "10.0.0.9"}}, 0);
  batch.Hit(0, 2, 1, {{"src_ip", "10.0.0.9"}}, 1);
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].agency, "multiple");
}

TEST(CorrelatorTest, MultiFieldGroupByKeepsValueBoundaries) {
  const CorrelationSet set = OneToOne({EventCount("pair", {"src_ip", "user"}, 2)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "ab"}, {"user", "c"}});
  batch.Hit(0, 2, 1, {{"src_ip", "a"}, {"user", "bc"}});  // same bytes joined: a different key
  batch.Hit(0, 3, 2, {{"src_ip", "10.0.0.1"}, {"user", "root"}});
  batch.Hit(0, 4, 3, {{"src_ip", "10.0.0.1"}, {"user", "admin"}});
  EXPECT_TRUE(Feed(correlator, set, batch).empty());
  EXPECT_EQ(correlator.stats().live_keys, 4u);

  Batch more;
  more.Hit(0, 5, 4, {{"user", "root"}, {"src_ip", "10.0.0.1"}});  // field order irrelevant
  const std::vector<Alert> alerts = Feed(correlator, set, more);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "src_ip=10.0.0.1;user=root;");
}

TEST(CorrelatorTest, HeaderFieldsAndAgencyCanBeGroupedBy) {
  const CorrelationSet set = OneToOne({EventCount("per-host", {"agency", "host"}, 2)});
  Correlator correlator(SmallOptions(), {"mof", "moh"});
  Batch batch;
  batch.Hit(0, 1, 0, {}, 1);
  batch.Hit(0, 2, 1, {}, 1);
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "agency=moh;host=host1;");
}

TEST(CorrelatorTest, AliasesReadADifferentFieldPerReferencedRule) {
  CorrelationRule rule = MakeRule("alias", CorrelationType::kEventCount, {"ip"}, 2, 60);
  rule.group_fields = {{"src_ip", "source.address"}};
  rule.condition.gte = 2;
  CorrelationSet set;
  set.rules = {rule};
  set.detection_routes = {{{0, 0}}, {{0, 1}}};
  set.correlation_routes.resize(1);
  set.correlation_silenced = {false};
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "198.51.100.7"}, {"source.address", "wrong"}});
  batch.Hit(1, 2, 1, {{"src_ip", "wrong"}, {"source.address", "198.51.100.7"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "ip=198.51.100.7;");
  EXPECT_EQ(alerts[0].count, 2u);
}

TEST(CorrelatorTest, MissingGroupFieldIsCountedAndSkipped) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 1)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"user", "root"}});
  EXPECT_TRUE(Feed(correlator, set, batch).empty());
  const CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.missing_group, 1u);
  EXPECT_EQ(stats.updates, 0u);
  EXPECT_EQ(stats.live_keys, 0u);
}

TEST(CorrelatorTest, ValueCountCountsDistinctValuesAndSkipsMissingValues) {
  CorrelationRule rule = MakeRule("spray", CorrelationType::kValueCount, {"src_ip"}, 1, 60);
  rule.field = "user";
  rule.condition.gte = 3;
  const CorrelationSet set = OneToOne({rule});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "10.0.0.1"}, {"user", "a"}});
  batch.Hit(0, 2, 1, {{"src_ip", "10.0.0.1"}, {"user", "a"}});
  batch.Hit(0, 3, 2, {{"src_ip", "10.0.0.1"}});  // no user: skipped
  batch.Hit(0, 4, 3, {{"src_ip", "10.0.0.1"}, {"user", "b"}});
  EXPECT_TRUE(Feed(correlator, set, batch).empty());
  EXPECT_EQ(correlator.stats().missing_value, 1u);
  Batch more;
  more.Hit(0, 5, 4, {{"src_ip", "10.0.0.1"}, {"user", "c"}});
  const std::vector<Alert> alerts = Feed(correlator, set, more);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].correlation_type, "value_count");
}

TEST(CorrelatorTest, ValueSumParsesNumbersAndSkipsOthers) {
  CorrelationRule rule = MakeRule("exfil", CorrelationType::kValueSum, {"src_ip"}, 1, 60);
  rule.field = "bytes";
  rule.condition.gt = 1000;
  const CorrelationSet set = OneToOne({rule});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "10.0.0.1"}, {"bytes", "600"}});
  batch.Hit(0, 2, 1, {{"src_ip", "10.0.0.1"}, {"bytes", "lots"}});
  batch.Hit(0, 3, 2, {{"src_ip", "10.0.0.1"}, {"bytes", "500.5"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_DOUBLE_EQ(alerts[0].value, 1100.5);
  EXPECT_EQ(correlator.stats().missing_value, 1u);
}

// An event later than `lateness` for its source is never moved to another
// time: placed at its own time while its key keeps that time (here it
// cannot meet the other input: no firing), left out (counted) otherwise.
TEST(CorrelatorTest, LateEventIsPlacedAtItsOwnTimeNeverMoved) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 2, 60)});
  Correlator correlator(SmallOptions(), {"mof"});  // lateness 5 s
  Batch first;
  first.Hit(0, 1, 1000, {{"src_ip", "10.0.0.1"}});
  EXPECT_TRUE(Feed(correlator, set, first).empty());
  Batch late;
  late.Hit(0, 2, 900, {{"src_ip", "10.0.0.1"}});  // 100 s old: outside the window by its own time
  late.Hit(0, 3, 901, {{"src_ip", "10.0.0.9"}});  // late, and no key keeps 901: left out
  EXPECT_TRUE(Feed(correlator, set, late).empty());  // moved to 1000 it would have fired
  EXPECT_EQ(correlator.stats().late_placed, 1u);
  EXPECT_EQ(correlator.stats().late, 1u);
  EXPECT_EQ(correlator.stats().live_keys, 1u);
  EXPECT_EQ(correlator.stream_time_ns(), kBase + 1000 * kSecond);
  Batch next;
  next.Hit(0, 4, 1001, {{"src_ip", "10.0.0.1"}});
  const std::vector<Alert> alerts = Feed(correlator, set, next);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].window_start_ns, kBase + 1000 * kSecond);  // not the late one
}

TEST(CorrelatorTest, OutOfOrderWithinLatenessIsNotLate) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 2, 60)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 100, {{"src_ip", "10.0.0.1"}});
  batch.Hit(0, 2, 97, {{"src_ip", "10.0.0.1"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  EXPECT_EQ(correlator.stats().late, 0u);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].window_start_ns, kBase + 97 * kSecond);
}

// One batch spanning much more than the lateness (a replayed file): its
// inputs are judged in batch order, not against the batch's newest time.
TEST(CorrelatorTest, LatenessIsJudgedInBatchOrderWithinABatch) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 3, 60)});
  Correlator correlator(SmallOptions(), {"mof"});  // lateness 5 s
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 100, {{"src_ip", "A"}});
  batch.Hit(0, 3, 130, {{"src_ip", "A"}});
  batch.Hit(0, 4, 1000, {{"src_ip", "B"}});  // the source's time passes A's window: A expires
  batch.Hit(0, 5, 150, {{"src_ip", "A"}});   // late, and A no longer keeps 150: left out
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  EXPECT_EQ(correlator.stats().late, 1u);
  EXPECT_EQ(correlator.stats().expired, 2u);          // A at 0 (by 100), A at 100..130 (by 1000)
  EXPECT_TRUE(alerts.empty()) << GroupOf(alerts[0]);  // 0, 100, 130 are never 3 within 60 s
  Batch more;
  more.Hit(0, 6, 1001, {{"src_ip", "A"}});
  more.Hit(0, 7, 1002, {{"src_ip", "A"}});
  EXPECT_TRUE(Feed(correlator, set, more).empty());  // the late one was not moved to 1000
  Batch third;
  third.Hit(0, 8, 1003, {{"src_ip", "A"}});
  const std::vector<Alert> fired = Feed(correlator, set, third);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].window_start_ns, kBase + 1001 * kSecond);
}

TEST(CorrelatorTest, UpperBoundConditionFiresWhenTheWindowCloses) {
  CorrelationRule rule = EventCount("quiet", {"src_ip"}, 0, 10);
  rule.condition = {};
  rule.condition.lt = 3;
  const CorrelationSet set = OneToOne({rule});
  CorrelatorOptions options = SmallOptions();
  options.shards = 1;
  Correlator correlator(options, {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 1, {{"src_ip", "A"}});
  EXPECT_TRUE(Feed(correlator, set, batch).empty());  // undecided until the window closes
  Batch later;
  later.Hit(0, 3, 100, {{"src_ip", "B"}});  // moves the watermark past A's window
  const std::vector<Alert> alerts = Feed(correlator, set, later);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "src_ip=A;");
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].condition, "lt 3");
  EXPECT_EQ(alerts[0].events.size(), 2u);
}

// value_percentile (the specification's example, scaled down): an image
// that is at most 20% of one computer's process starts in the window; read
// from the events' `image` field, judged when the window closes.
TEST(CorrelatorTest, ValuePercentileFindsTheRareImageWhenTheWindowCloses) {
  CorrelationRule rule =
      MakeRule("rare", CorrelationType::kValuePercentile, {"ComputerName"}, 1, 10);
  rule.field = "image";
  rule.condition.lte = 20;
  const CorrelationSet set = OneToOne({rule});
  CorrelatorOptions options = SmallOptions();
  options.shards = 1;
  Correlator correlator(options, {"mof"});
  Batch batch;
  for (int i = 0; i < 4; ++i)
    batch.Hit(0, 1 + i, i, {{"ComputerName", "ws1"}, {"image", "/usr/bin/bash"}});
  batch.Hit(0, 5, 4, {{"ComputerName", "ws1"}, {"image", "/tmp/.x/miner"}});
  batch.Hit(0, 6, 5, {{"ComputerName", "ws1"}});      // no image: skipped
  EXPECT_TRUE(Feed(correlator, set, batch).empty());  // a share needs the whole window
  EXPECT_EQ(correlator.stats().missing_value, 1u);
  Batch later;
  later.Hit(0, 7, 100, {{"ComputerName", "ws2"}, {"image", "/usr/bin/bash"}});
  const std::vector<Alert> alerts = Feed(correlator, set, later);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "ComputerName=ws1;");
  EXPECT_EQ(alerts[0].correlation_type, "value_percentile");
  EXPECT_DOUBLE_EQ(alerts[0].value, 20.0);
  EXPECT_EQ(alerts[0].condition, "lte 20");
  ASSERT_EQ(alerts[0].events.size(), 1u);  // only the rare image's event
  EXPECT_EQ(alerts[0].events[0].id, 5u);
}

TEST(CorrelatorTest, ContributorWhoseRawLineWasEvictedHasEmptyRaw) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 2, 600)});
  CorrelatorOptions options = SmallOptions();
  options.shards = 1;
  options.raw_cache_bytes = 4096;  // a handful of lines
  Correlator correlator(options, {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  for (uint64_t i = 0; i < 100; ++i) {
    batch.Hit(0, 100 + i, 1, {{"src_ip", "K" + std::to_string(i)}});
  }
  batch.Hit(0, 2, 2, {{"src_ip", "A"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  ASSERT_EQ(alerts[0].events.size(), 2u);
  EXPECT_EQ(alerts[0].events[0].id, 1u);
  EXPECT_TRUE(alerts[0].events[0].raw.empty());  // pushed out by 100 newer lines
  EXPECT_EQ(alerts[0].events[1].raw, "<38>raw line of event 2 src_ip=A");
  EXPECT_EQ(correlator.stats().raw_missing, 1u);  // the raw_cache limit shows in a metric
}

TEST(CorrelatorTest, SuppressionHoldsBackFiringsOfOneKeyAndReportsTheCount) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 2, 60);
  rule.suppress_ns = 100 * kSecond;
  const CorrelationSet set = OneToOne({rule});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch first;
  first.Hit(0, 1, 0, {{"src_ip", "A"}});
  first.Hit(0, 2, 1, {{"src_ip", "A"}});  // fires at t=1: suppressed until 101
  first.Hit(0, 3, 2, {{"src_ip", "A"}});
  first.Hit(0, 4, 3, {{"src_ip", "A"}});  // fires at t=3: suppressed
  first.Hit(0, 5, 3, {{"src_ip", "B"}});
  first.Hit(0, 6, 4, {{"src_ip", "B"}});  // other key: emitted
  std::vector<Alert> alerts = Feed(correlator, set, first);
  Batch second;  // (a batch of its own: t=50 would make the others late)
  second.Hit(0, 7, 50, {{"src_ip", "A"}});
  second.Hit(0, 8, 51, {{"src_ip", "A"}});  // suppressed
  EXPECT_TRUE(Feed(correlator, set, second).empty());
  ASSERT_EQ(alerts.size(), 2u);
  std::sort(alerts.begin(), alerts.end(),
            [](const Alert& a, const Alert& b) { return GroupOf(a) < GroupOf(b); });
  EXPECT_EQ(GroupOf(alerts[0]), "src_ip=A;");
  EXPECT_EQ(alerts[0].suppressed, 0u);
  EXPECT_EQ(GroupOf(alerts[1]), "src_ip=B;");
  EXPECT_EQ(correlator.stats().suppressed, 2u);
  EXPECT_EQ(correlator.stats().firings, 2u);

  Batch later;
  later.Hit(0, 9, 120, {{"src_ip", "A"}});
  later.Hit(0, 10, 121, {{"src_ip", "A"}});  // 121 >= 101: emitted, carries the count
  alerts = Feed(correlator, set, later);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].suppressed, 2u);
  EXPECT_EQ(alerts[0].count, 2u);

  Batch again;
  again.Hit(0, 11, 300, {{"src_ip", "A"}});
  again.Hit(0, 12, 301, {{"src_ip", "A"}});
  alerts = Feed(correlator, set, again);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].suppressed, 0u);  // reset after being reported
}

TEST(CorrelatorTest, SuppressedKeyOutlivesItsWindowUntilTheCountIsReported) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 2, 10);
  rule.suppress_ns = 100 * kSecond;
  const CorrelationSet set = OneToOne({rule});
  CorrelatorOptions options = SmallOptions();
  options.shards = 1;
  Correlator correlator(options, {"mof"});
  Batch first;
  for (uint64_t id = 1; id <= 4; ++id) first.Hit(0, id, static_cast<double>(id), {{"src_ip", "A"}});
  ASSERT_EQ(Feed(correlator, set, first).size(), 1u);  // t=2 emitted, t=4 suppressed
  // Another key moves the watermark past A's window (but not its suppression).
  Batch other;
  other.Hit(0, 5, 90, {{"src_ip", "B"}});
  EXPECT_TRUE(Feed(correlator, set, other).empty());
  EXPECT_EQ(correlator.stats().live_keys, 2u);
  Batch later;
  later.Hit(0, 6, 150, {{"src_ip", "A"}});
  later.Hit(0, 7, 151, {{"src_ip", "A"}});
  const std::vector<Alert> alerts = Feed(correlator, set, later);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].suppressed, 1u);
}

// brute (event_count of detection 0 per src_ip) -> success (temporal_ordered
// of brute then detection 1, per src_ip).
CorrelationSet ChainSet(bool silence_brute) {
  CorrelationRule brute = EventCount("brute", {"src_ip"}, 3, 60);
  CorrelationRule success =
      MakeRule("success", CorrelationType::kTemporalOrdered, {"src_ip"}, 2, 120);
  success.refs[0].kind = RuleRef::Kind::kCorrelation;
  success.refs[0].index = 0;
  success.refs[1].index = 1;
  CorrelationSet set;
  set.rules = {brute, success};
  set.detection_routes = {{{0, 0}}, {{1, 1}}};
  set.correlation_routes = {{{1, 0}}, {}};
  set.correlation_silenced = {silence_brute, false};
  set.detection_silenced = {true, true};
  return set;
}

TEST(CorrelatorTest, ChainingFeedsAFiringIntoATemporalOrderedCorrelation) {
  const CorrelationSet set = ChainSet(false);
  Correlator correlator(SmallOptions(), {"mof"});
  Batch failures;
  failures.Hit(0, 1, 0, {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  failures.Hit(0, 2, 1, {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  failures.Hit(0, 3, 2, {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  std::vector<Alert> alerts = Feed(correlator, set, failures);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "brute");

  Batch success;
  success.Hit(1, 4, 10, {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  alerts = Feed(correlator, set, success);
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& chained = alerts[0];
  EXPECT_EQ(chained.rule.name, "success");
  EXPECT_EQ(chained.correlation_type, "temporal_ordered");
  EXPECT_EQ(GroupOf(chained), "src_ip=203.0.113.7;");
  EXPECT_EQ(chained.count, 2u);
  EXPECT_EQ(chained.window_start_ns, kBase + 2 * kSecond);  // the brute firing's window end
  EXPECT_EQ(chained.window_end_ns, kBase + 10 * kSecond);
  // Contributors: the events behind the brute firing, then the success.
  ASSERT_EQ(chained.events.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(chained.events[i].id, i + 1);
    EXPECT_FALSE(chained.events[i].raw.empty()) << i;
  }
  EXPECT_EQ(chained.events[3].raw, "<38>raw line of event 4 src_ip=203.0.113.7 user=root");
}

// A chained window refers to the firing that fed it by its chain id; the
// checkpoint keeps that firing's events (kept under the chain id) with it.
TEST(CorrelatorTest, ChainedFiringSurvivesACheckpointWithItsEvents) {
  const CorrelationSet set = ChainSet(false);
  Correlator before(SmallOptions(), {"mof"});
  Batch failures;
  for (uint64_t id = 1; id <= 3; ++id) {
    failures.Hit(0, id, static_cast<double>(id), {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  }
  ASSERT_EQ(Feed(before, set, failures).size(), 1u);  // brute fired and fed "success"
  std::string blob;
  before.Checkpoint(blob);
  Correlator after(SmallOptions(), {"mof"});
  std::string error;
  ASSERT_TRUE(after.Restore(set, blob, &error)) << error;
  Batch success;
  success.Hit(1, 4, 10, {{"src_ip", "203.0.113.7"}, {"user", "root"}});
  const std::vector<Alert> alerts = Feed(after, set, success);
  ASSERT_EQ(alerts.size(), 1u);
  ASSERT_EQ(alerts[0].events.size(), 4u);
  for (const AlertEvent& event : alerts[0].events) EXPECT_FALSE(event.raw.empty()) << event.id;
  EXPECT_EQ(after.stats().raw_missing, 0u);
}

TEST(CorrelatorTest, ChainingWithinOneBatch) {
  const CorrelationSet set = ChainSet(false);
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(1, 1, 0, {{"src_ip", "X"}});  // success before the brute force: not in order
  batch.Hit(0, 2, 1, {{"src_ip", "X"}});
  batch.Hit(0, 3, 2, {{"src_ip", "X"}});
  batch.Hit(0, 4, 3, {{"src_ip", "X"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "brute");
}

// A chained input takes the time of the firing that fed it, even when the
// rest of its batch is much newer.
TEST(CorrelatorTest, ChainedInputKeepsItsTimeWithinALongBatch) {
  const CorrelationSet set = ChainSet(false);  // brute: 3 in 60 s; then success within 120 s
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "X"}});
  batch.Hit(0, 2, 1, {{"src_ip", "X"}});
  batch.Hit(0, 3, 2, {{"src_ip", "X"}});
  batch.Hit(1, 4, 500, {{"src_ip", "X"}});  // a success long after: not correlated
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "brute");
}

TEST(CorrelatorTest, SilencedCorrelationDoesNotAlertButStillFeedsChains) {
  const CorrelationSet set = ChainSet(true);
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "203.0.113.7"}});
  batch.Hit(0, 2, 1, {{"src_ip", "203.0.113.7"}});
  batch.Hit(0, 3, 2, {{"src_ip", "203.0.113.7"}});
  batch.Hit(1, 4, 3, {{"src_ip", "203.0.113.7"}});
  const std::vector<Alert> alerts = Feed(correlator, set, batch);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "success");
  EXPECT_EQ(alerts[0].events.size(), 4u);
  EXPECT_EQ(correlator.stats().firings, 1u);
}

TEST(CorrelatorTest, MaxKeysEvictsAndCounts) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 5)});
  CorrelatorOptions options = SmallOptions();
  options.shards = 1;
  options.max_keys_per_rule = 2;
  Correlator correlator(options, {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 1, {{"src_ip", "B"}});
  batch.Hit(0, 3, 2, {{"src_ip", "C"}});
  Feed(correlator, set, batch);
  CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.evicted, 1u);
  EXPECT_EQ(stats.live_keys, 2u);
  Batch more;
  for (uint64_t i = 0; i < 20; ++i) {
    more.Hit(0, 10 + i, 3, {{"src_ip", "K" + std::to_string(i)}});
  }
  Feed(correlator, set, more);
  stats = correlator.stats();
  EXPECT_EQ(stats.evicted, 21u);
  EXPECT_EQ(stats.live_keys, 2u);
}

TEST(CorrelatorTest, TickExpiresKeysWhoseWindowsPassed) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 5, 60)});
  CorrelatorOptions options = SmallOptions();
  options.idle_advance_ns = 5 * kSecond;
  Correlator correlator(options, {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 0, {{"src_ip", "B"}});
  Feed(correlator, set, batch);
  EXPECT_EQ(correlator.stats().live_keys, 2u);
  std::vector<Alert> alerts;
  const int64_t wall = WallNow();
  correlator.Tick(set, wall, alerts);  // just after the input: not idle
  correlator.Tick(set, wall + 30 * kSecond, alerts);
  EXPECT_EQ(correlator.stats().live_keys, 2u);  // stream +30 s: windows still open
  correlator.Tick(set, wall + 60 * kSecond, alerts);
  EXPECT_EQ(correlator.stats().live_keys, 2u);        // watermark 55 s: not past 60 s yet
  correlator.Tick(set, wall + 70 * kSecond, alerts);  // watermark 65 s
  const CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.live_keys, 0u);
  EXPECT_EQ(stats.expired, 2u);
  EXPECT_TRUE(alerts.empty());
  // 70 s plus the moments between the input and `wall`.
  EXPECT_GE(correlator.stream_time_ns(), kBase + 70 * kSecond);
  EXPECT_LT(correlator.stream_time_ns(), kBase + 71 * kSecond);
}

TEST(CorrelatorTest, IdleAdvanceFiresAnAbsenceFromTick) {
  CorrelationRule rule = MakeRule("no-mfa", CorrelationType::kTemporalOrdered, {"user"}, 2, 30);
  rule.absent_last = true;
  CorrelationSet set;
  set.rules = {rule};
  set.detection_routes = {{{0, 0}}, {{0, 1}}};
  set.correlation_routes.resize(1);
  set.correlation_silenced = {false};
  CorrelatorOptions options = SmallOptions();
  options.lateness_ns = 1 * kSecond;
  options.idle_advance_ns = 5 * kSecond;
  Correlator correlator(options, {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"user", "alice"}});  // login, then no MFA for alice
  batch.Hit(0, 2, 0, {{"user", "bob"}});
  batch.Hit(1, 3, 5, {{"user", "bob"}});  // bob did MFA
  EXPECT_TRUE(Feed(correlator, set, batch).empty());

  std::vector<Alert> alerts;
  const int64_t wall = WallNow();
  correlator.Tick(set, wall, alerts);
  correlator.Tick(set, wall + 3 * kSecond, alerts);  // not idle long enough
  EXPECT_EQ(correlator.stream_time_ns(), kBase + 5 * kSecond);
  correlator.Tick(set, wall + 20 * kSecond, alerts);
  EXPECT_TRUE(alerts.empty());
  correlator.Tick(set, wall + 40 * kSecond, alerts);  // stream ~45 s, watermark ~44 s > 0 + 30
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(GroupOf(alerts[0]), "user=alice;");
  EXPECT_EQ(alerts[0].correlation_type, "temporal_ordered");
  ASSERT_EQ(alerts[0].events.size(), 1u);
  EXPECT_EQ(alerts[0].events[0].id, 1u);
  EXPECT_FALSE(alerts[0].events[0].raw.empty());
}

TEST(CorrelatorTest, OneTickFarInTheFutureEndsTheStream) {
  CorrelationRule rule = MakeRule("no-mfa", CorrelationType::kTemporalOrdered, {"user"}, 2, 30);
  rule.absent_last = true;
  CorrelationSet set;
  set.rules = {rule, EventCount("brute", {"user"}, 5)};
  set.detection_routes = {{{0, 0}, {1, 0}}, {{0, 1}}};
  set.correlation_routes.resize(2);
  set.correlation_silenced = {false, false};
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"user", "alice"}});
  EXPECT_TRUE(Feed(correlator, set, batch).empty());
  std::vector<Alert> alerts;
  constexpr int64_t kCentury = 100LL * 365 * 24 * 3600 * kSecond;
  correlator.Tick(set, WallNow() + kCentury, alerts);  // like EndCorrelationStream
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "no-mfa");
  EXPECT_EQ(correlator.stats().live_keys, 0u);
}

TEST(CorrelatorTest, FirstTickAfterARestoreDoesNotJump) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 5)});
  Correlator source(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  Feed(source, set, batch);
  std::string blob;
  source.Checkpoint(blob);
  Correlator restored(SmallOptions(), {"mof"});
  ASSERT_TRUE(restored.Restore(set, blob, nullptr));
  std::vector<Alert> alerts;
  restored.Tick(set, WallNow(), alerts);
  EXPECT_EQ(restored.stream_time_ns(), kBase);
  EXPECT_EQ(restored.stats().live_keys, 1u);
}

TEST(CorrelatorTest, ConcurrentProcessFromTwoThreads) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 100, 3600)});
  CorrelatorOptions options = SmallOptions();
  options.lateness_ns = 3600 * kSecond;
  Correlator correlator(options, {"mof"});
  constexpr int kKeys = 50;
  constexpr int kBatches = 25;
  constexpr int kPerKeyPerBatch = 2;
  // 2 threads x 25 batches x 2 inputs: every key gets exactly 100 inputs
  // within the timespan and fires exactly once, whatever the interleaving.
  auto worker = [&](int thread, std::vector<Alert>* out) {
    for (int b = 0; b < kBatches; ++b) {
      Batch batch;
      for (int k = 0; k < kKeys; ++k) {
        for (int e = 0; e < kPerKeyPerBatch; ++e) {
          const uint64_t id = 1 + thread * 1'000'000 + b * 10'000 + k * 10 + e;
          batch.Hit(0, id, b, {{"src_ip", "10.1.0." + std::to_string(k)}});
        }
      }
      std::vector<Alert> alerts;
      correlator.Process(set, batch.batch(), batch.hits(), alerts);
      for (Alert& alert : alerts) out->push_back(std::move(alert));
      std::vector<Alert> ticked;
      if (thread == 1) correlator.Tick(set, b * kSecond, ticked);
      EXPECT_TRUE(ticked.empty());
    }
  };
  std::vector<Alert> a, b;
  std::thread t1(worker, 0, &a), t2(worker, 1, &b);
  std::string blob;
  for (int i = 0; i < 5; ++i) {  // concurrent with Process and Tick
    correlator.Checkpoint(blob);
    EXPECT_LE(correlator.stats().updates, static_cast<uint64_t>(kKeys) * 100);
  }
  t1.join();
  t2.join();
  const CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.updates, static_cast<uint64_t>(kKeys) * 100);
  EXPECT_EQ(a.size() + b.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(stats.firings, static_cast<uint64_t>(kKeys));
  EXPECT_EQ(stats.live_keys, 0u);
}

TEST(KeyTableTest, InsertFindEraseWithLongAndShortKeys) {
  internal::KeyTable table("fp", 7, 0);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    keys.push_back(i % 3 == 0 ? std::string(40, 'x') + std::to_string(i) : std::to_string(i));
  }
  for (const std::string& key : keys) {
    const uint64_t hash = internal::HashBytes(key, table.seed());
    ASSERT_EQ(table.Find(key, hash), internal::kNoSlot);
    table.Insert(key, hash);
  }
  EXPECT_EQ(table.live(), keys.size());
  for (size_t i = 0; i < keys.size(); i += 2) {
    const uint64_t hash = internal::HashBytes(keys[i], table.seed());
    const uint32_t slot = table.Find(keys[i], hash);
    ASSERT_NE(slot, internal::kNoSlot);
    EXPECT_EQ(table.slot(slot).key.view(), keys[i]);
    table.Erase(slot);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t hash = internal::HashBytes(keys[i], table.seed());
    EXPECT_EQ(table.Find(keys[i], hash) != internal::kNoSlot, i % 2 == 1) << i;
  }
  EXPECT_EQ(table.live(), keys.size() / 2);
}

}  // namespace
}  // namespace gsoc::correlate
