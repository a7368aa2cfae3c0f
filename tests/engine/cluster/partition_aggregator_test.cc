// The correlate role's partition aggregator (no server): versions made at
// stream positions only (hits and flush markers), the same versions and
// identities from a checkpoint taken anywhere, periods in event time,
// bounds, and a checkpoint that refuses what is not one.
#include "engine/cluster/partition_aggregator.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "engine/cluster/partition_state.h"

namespace gsoc {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = int64_t{1'764'064'800} * kSecond;  // 2025-11-25T10:00:00Z

AggregationHit Hit(std::string_view src_ip, int64_t time_ns, uint64_t sequence, uint32_t index,
                   std::string_view rule = "ssh_failed") {
  AggregationHit hit;
  hit.rule_id = rule;
  hit.rule_name = rule;
  hit.rule_title = "SSH failed password";
  hit.level = 2;
  hit.tags = {"attack.t1110"};
  hit.agency = "mof";
  hit.group = {{"src_ip", std::string(src_ip)}, {"user", "root"}};
  hit.fields = {{"host", "bastion"}, {"src_ip", std::string(src_ip)}, {"user", "root"}};
  hit.event_time_ns = time_ns;
  hit.event_id = sequence * 100 + index;
  hit.stream_sequence = sequence;
  hit.event_index = index;
  hit.raw = "Failed password for root from " + std::string(src_ip);
  return hit;
}

// A partition's stream: messages of hits, or a flush marker (empty).
std::vector<std::vector<AggregationHit>> Stream() {
  std::vector<std::vector<AggregationHit>> stream;
  const char* attackers[] = {"198.18.0.7", "198.18.0.8", "203.0.113.9"};
  uint64_t sequence = 1;
  for (int round = 0; round < 12; ++round) {
    std::vector<AggregationHit> message;
    for (uint32_t i = 0; i < 5; ++i) {
      message.push_back(
          Hit(attackers[(round + i) % 3], kStart + (round * 5 + i) * kSecond, sequence, i));
    }
    stream.push_back(std::move(message));
    ++sequence;
    if (round % 3 == 2) stream.emplace_back();  // a flush marker
  }
  stream.emplace_back();
  return stream;
}

PartitionAggregatorOptions Options() {
  PartitionAggregatorOptions options;
  options.period_ns = 600 * kSecond;
  options.max_events = 4;
  return options;
}

void Apply(PartitionAggregator& aggregator, const std::vector<AggregationHit>& message,
           std::vector<ClusterAlert>& out) {
  if (message.empty()) {
    aggregator.Flush(out);
  } else {
    aggregator.Feed(message, out);
  }
}

struct Version {
  std::string identity;
  uint64_t key = 0;
  uint32_t version = 0;
  uint64_t count = 0;
  int64_t start = 0, end = 0;
  size_t events = 0;
  bool operator==(const Version&) const = default;
};

std::vector<Version> Versions(const std::vector<ClusterAlert>& alerts) {
  std::vector<Version> out;
  for (const ClusterAlert& a : alerts) {
    out.push_back({a.identity.Text(), a.alert.aggregate_key, a.alert.aggregate_version,
                   a.alert.count, a.alert.window_start_ns, a.alert.window_end_ns,
                   a.alert.events.size()});
  }
  return out;
}

TEST(PartitionAggregatorTest, VersionsAreMadeByHitsAndFlushMarkersOnly) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart, 1, 0),
                                              Hit("198.18.0.7", kStart + kSecond, 1, 1),
                                              Hit("198.18.0.8", kStart + 2 * kSecond, 1, 2)},
                  out);
  ASSERT_EQ(out.size(), 2u);  // version 0 of each attacker's aggregate, nothing for the join
  EXPECT_EQ(out[0].alert.aggregate_version, 0u);
  EXPECT_EQ(out[0].alert.count, 1u);
  EXPECT_EQ(out[0].alert.replaces, 0u);  // the store replicas resolve it
  EXPECT_EQ(out[0].alert.group[0].second, "198.18.0.7");
  EXPECT_EQ(out[0].alert.aggregate_closes_ns, kStart + 600 * kSecond);  // event time
  EXPECT_NE(out[0].alert.aggregate_key, out[1].alert.aggregate_key);
  EXPECT_TRUE(aggregator.grown());
  out.clear();
  aggregator.Flush(out);
  ASSERT_EQ(out.size(), 1u);  // only the one that grew
  EXPECT_EQ(out[0].alert.aggregate_version, 1u);
  EXPECT_EQ(out[0].alert.count, 2u);
  EXPECT_EQ(out[0].alert.window_start_ns, kStart);
  EXPECT_EQ(out[0].alert.window_end_ns, kStart + kSecond);
  EXPECT_EQ(out[0].alert.events.size(), 2u);
  EXPECT_FALSE(aggregator.grown());
  out.clear();
  aggregator.Flush(out);  // nothing grew: nothing
  EXPECT_TRUE(out.empty());
  const PartitionAggregatorStats stats = aggregator.stats();
  EXPECT_EQ(stats.hits, 3u);
  EXPECT_EQ(stats.aggregated, 1u);
  EXPECT_EQ(stats.opened, 2u);
  EXPECT_EQ(stats.updated, 1u);
  EXPECT_EQ(stats.open, 2u);
  EXPECT_GT(stats.bytes, 0u);
}

TEST(PartitionAggregatorTest, AnyCheckpointReplaysToTheSameVersionsAndIdentities) {
  const auto stream = Stream();
  PartitionAggregator straight(Options());
  std::vector<std::vector<ClusterAlert>> outputs(stream.size());
  std::vector<std::string> checkpoints(stream.size());
  for (size_t i = 0; i < stream.size(); ++i) {
    Apply(straight, stream[i], outputs[i]);
    straight.Checkpoint(checkpoints[i]);
  }
  uint64_t versions = 0, total = 0;
  for (const auto& out : outputs) {
    for (const ClusterAlert& a : out) versions += a.alert.aggregate_version > 0 ? 1 : 0;
    total += out.size();
  }
  ASSERT_EQ(total - versions, 3u);  // three aggregates opened
  ASSERT_GE(versions, 8u);          // and grew at every marker
  for (size_t cut = 0; cut < stream.size(); ++cut) {
    PartitionAggregator resumed(Options());
    std::string error;
    ASSERT_TRUE(resumed.Restore(checkpoints[cut], &error)) << cut << ": " << error;
    // A replay of messages the checkpoint covered would be skipped by the
    // role (sequence <= applied); the rest must come out identical.
    for (size_t i = cut + 1; i < stream.size(); ++i) {
      std::vector<ClusterAlert> out;
      Apply(resumed, stream[i], out);
      EXPECT_EQ(Versions(out), Versions(outputs[i])) << "cut after " << cut << ", message " << i;
    }
    std::string again, original;
    resumed.Checkpoint(again);
    straight.Checkpoint(original);
    EXPECT_EQ(again, original) << cut;
  }
  // Identities: every version distinct (the store's window drops repeats only).
  std::set<std::string> identities;
  for (const auto& out : outputs) {
    for (const ClusterAlert& a : out) EXPECT_TRUE(identities.insert(a.identity.Text()).second);
  }
}

TEST(PartitionAggregatorTest, PeriodsRunInEventTime) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart, 1, 0),
                                              Hit("198.18.0.7", kStart + 10 * kSecond, 1, 1),
                                              Hit("198.18.0.9", kStart + 20 * kSecond, 1, 2)},
                  out);
  out.clear();
  // A hit of the key past its period: the last version, then a new aggregate.
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart + 700 * kSecond, 2, 0)},
                  out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].alert.aggregate_version, 1u);
  EXPECT_EQ(out[0].alert.count, 2u);
  EXPECT_EQ(out[1].alert.aggregate_version, 0u);
  EXPECT_EQ(out[1].alert.aggregate_opened_ns, kStart + 700 * kSecond);
  EXPECT_EQ(out[1].alert.aggregate_key, out[0].alert.aggregate_key);  // the same key
  EXPECT_NE(out[1].identity, out[0].identity);
  EXPECT_EQ(aggregator.stats().open, 2u);
  // The partition's event time (700 s) is past 198.18.0.9's period: a
  // marker closes it (nothing grew: no version).
  out.clear();
  aggregator.Flush(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(aggregator.stats().open, 1u);
  EXPECT_EQ(aggregator.stats().closed, 2u);
}

// A sender chooses its lines' times: one stamped at the end of time opens
// an aggregate whose period ends there (no overflow: UBSan checks), and
// it takes later hits of its key instead of wrapping to the past.
TEST(PartitionAggregatorTest, AnEventTimeAtTheLimitDoesNotOverflowThePeriod) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  const int64_t end_of_time = std::numeric_limits<int64_t>::max() - kSecond;
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.66", end_of_time, 1, 0),
                                              Hit("198.18.0.66", end_of_time + 1, 1, 1)},
                  out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alert.aggregate_closes_ns, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(aggregator.stats().open, 1u);
  EXPECT_EQ(aggregator.stats().hits, 2u);
}

TEST(PartitionAggregatorTest, BeyondItsBoundsAHitIsAnAlertOfItsOwn) {
  PartitionAggregatorOptions options = Options();
  options.max_open = 2;
  PartitionAggregator aggregator(options);
  std::vector<ClusterAlert> out;
  aggregator.Feed(
      std::vector<AggregationHit>{Hit("10.0.0.1", kStart, 1, 0), Hit("10.0.0.2", kStart, 1, 1),
                                  Hit("10.0.0.3", kStart, 1, 2), Hit("10.0.0.3", kStart, 1, 3)},
      out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_NE(out[1].alert.aggregate_key, 0u);
  EXPECT_EQ(out[2].alert.aggregate_key, 0u);  // plain alerts, nothing dropped
  EXPECT_EQ(out[3].alert.aggregate_key, 0u);
  EXPECT_NE(out[2].identity, out[3].identity);
  EXPECT_EQ(aggregator.stats().overflow, 2u);
  options.max_open = 100;
  options.max_bytes = 1;  // no room at all
  PartitionAggregator tiny(options);
  out.clear();
  tiny.Feed(std::vector<AggregationHit>{Hit("10.0.0.1", kStart, 1, 0)}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alert.aggregate_key, 0u);
  // Contributing events stop at max_events; the count goes on.
  PartitionAggregator capped(Options());
  out.clear();
  std::vector<AggregationHit> many;
  for (uint32_t i = 0; i < 9; ++i) many.push_back(Hit("10.0.0.1", kStart + i, 1, i));
  capped.Feed(many, out);
  out.clear();
  capped.Flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alert.count, 9u);
  EXPECT_EQ(out[0].alert.events.size(), 4u);
}

TEST(PartitionAggregatorTest, RestoreRefusesWhatIsNotACheckpoint) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  for (const auto& message : Stream()) Apply(aggregator, message, out);
  std::vector<AggregationHit> last{Hit("198.18.0.7", kStart + 100 * kSecond, 99, 0)};
  aggregator.Feed(last, out);
  std::string checkpoint;
  aggregator.Checkpoint(checkpoint);
  PartitionAggregator other(Options());
  std::string error;
  for (size_t size = 0; size < checkpoint.size(); ++size) {
    EXPECT_FALSE(other.Restore(std::string_view(checkpoint).substr(0, size), &error)) << size;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(other.stats().open, 0u);
  }
  EXPECT_FALSE(other.Restore(checkpoint + "x", &error));
  EXPECT_FALSE(other.Restore("GSPC garbage", &error));
  ASSERT_TRUE(other.Restore(checkpoint, &error)) << error;
  EXPECT_EQ(other.stats().open, aggregator.stats().open);
  EXPECT_EQ(other.stats().bytes, aggregator.stats().bytes);
  EXPECT_EQ(other.grown(), aggregator.grown());
}

// The partition checkpoint carries the correlator and the aggregator; a
// correlator's checkpoint alone (written before aggregation ran in a
// cluster) still restores, with no aggregates.
TEST(PartitionAggregatorTest, ThePartitionCheckpointCarriesBoth) {
  const HitRouting routing(std::make_shared<const correlate::CorrelationSet>());
  const correlate::CorrelatorOptions correlator_options;
  PartitionState state(64, correlator_options, {"mof"}, Options());
  std::vector<ClusterAlert> out;
  for (const auto& message : Stream()) Apply(state.aggregator, message, out);
  state.aggregator.Feed(std::vector<AggregationHit>{Hit("10.9.9.9", kStart, 99, 0)}, out);
  std::string blob;
  state.Checkpoint(blob);
  PartitionState restored(64, correlator_options, {"mof"}, Options());
  std::string error;
  ASSERT_TRUE(restored.Restore(routing, blob, &error)) << error;
  std::string again, original;
  restored.aggregator.Checkpoint(again);
  state.aggregator.Checkpoint(original);
  EXPECT_EQ(again, original);
  EXPECT_EQ(restored.aggregator.stats().open, 4u);
  std::string correlator_only;
  state.correlator.Checkpoint(correlator_only);
  PartitionState legacy(64, correlator_options, {"mof"}, Options());
  ASSERT_TRUE(legacy.Restore(routing, correlator_only, &error)) << error;
  EXPECT_EQ(legacy.aggregator.stats().open, 0u);
  for (size_t size = 5; size < blob.size(); ++size) {
    PartitionState cut(64, correlator_options, {"mof"}, Options());
    EXPECT_FALSE(cut.Restore(routing, std::string_view(blob).substr(0, size), &error)) << size;
  }
}

}  // namespace
}  // namespace gsoc
