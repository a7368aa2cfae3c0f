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
#include "engine/util/wire_format.h"

namespace gsoc {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = int64_t{1'764'064'800} * kSecond;  // 2025-11-25T10:00:00Z

AggregationHit Hit(std::string_view src_ip, int64_t time_ns, uint64_t sequence, uint32_t index,
                   std::string_view rule = "ssh_failed", std::string_view agency = "mof") {
  AggregationHit hit;
  hit.rule_id = rule;
  hit.rule_name = rule;
  hit.rule_title = "SSH failed password";
  hit.level = 2;
  hit.tags = {"attack.t1110"};
  hit.agency = agency;
  hit.group = {{"src_ip", std::string(src_ip)}, {"user", "root"}};
  hit.fields = {{"host", "bastion"}, {"src_ip", std::string(src_ip)}, {"user", "root"}};
  hit.event_time_ns = time_ns;
  hit.event_id = sequence * 100 + index;
  hit.stream_sequence = sequence;
  hit.event_index = index;
  hit.raw = "Failed password for root from " + std::string(src_ip);
  return hit;
}

constexpr int64_t kYear = int64_t{365} * 24 * 3600 * kSecond;

// A partition's stream: messages of hits, or a flush marker (empty). With
// `far_future`, another agency's sender stamps its lines a year ahead (and
// later ones past its own aggregates' periods) in the same messages.
std::vector<std::vector<AggregationHit>> Stream(bool far_future = false) {
  std::vector<std::vector<AggregationHit>> stream;
  const char* attackers[] = {"198.18.0.7", "198.18.0.8", "203.0.113.9"};
  uint64_t sequence = 1;
  for (int round = 0; round < 12; ++round) {
    std::vector<AggregationHit> message;
    for (uint32_t i = 0; i < 5; ++i) {
      message.push_back(
          Hit(attackers[(round + i) % 3], kStart + (round * 5 + i) * kSecond, sequence, i));
    }
    if (far_future && round % 2 == 1) {
      message.push_back(Hit(attackers[round % 3], kStart + kYear + round * 200 * kSecond, sequence,
                            5, "ssh_failed", "moh"));
    }
    if (far_future && round % 3 == 1) {  // a host of mof a little behind: it takes aggregates over
      AggregationHit late =
          Hit(attackers[round % 3], kStart + (round * 5 - 2) * kSecond, sequence, 6);
      late.fields[0].second = "relay";
      message.push_back(std::move(late));
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

void ExpectAnyCheckpointReplaysTheSame(const std::vector<std::vector<AggregationHit>>& stream,
                                       uint64_t opened) {
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
  ASSERT_EQ(total - versions, opened);
  ASSERT_GE(versions, 8u);  // and grew at every marker
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

TEST(PartitionAggregatorTest, AnyCheckpointReplaysToTheSameVersionsAndIdentities) {
  ExpectAnyCheckpointReplaysTheSame(Stream(), 3);  // three aggregates opened
}

// The sources' event times and the aggregates' owners are in the
// checkpoint: a new owner resuming anywhere closes each aggregate where the
// first owner did. (The far-future agency's 6 lines: 3 keys, each key's
// second line past the first one's period, so 6 aggregates; mof's second
// host joins mof's aggregates.)
TEST(PartitionAggregatorTest, AnyCheckpointReplaysTheSameWithAFarFutureAgency) {
  ExpectAnyCheckpointReplaysTheSame(Stream(true), 3 + 6);
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
  // The agency's event time (700 s) is past 198.18.0.9's period: a
  // marker closes it (nothing grew: no version).
  out.clear();
  aggregator.Flush(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(aggregator.stats().open, 1u);
  EXPECT_EQ(aggregator.stats().closed, 2u);
}

// "A time from a message never moves anyone else's time": agency moh's
// line stamped a year ahead moves moh's time only. mof's aggregate stays
// open through the markers, takes mof's later hits, and closes by mof's
// own time. (With one event time for the partition, the first marker after
// moh's line closed it, and mof's next hit opened a new aggregate.)
TEST(PartitionAggregatorTest, AFarFutureAgencyClosesNoOtherAgencysAggregates) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart, 1, 0),
                                              Hit("198.18.0.7", kStart + kSecond, 1, 1)},
                  out);
  ASSERT_EQ(out.size(), 1u);
  const uint64_t mof_key = out[0].alert.aggregate_key;
  out.clear();
  aggregator.Feed(
      std::vector<AggregationHit>{Hit("198.18.0.7", kStart + kYear, 2, 0, "ssh_failed", "moh")},
      out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].alert.aggregate_key, mof_key);  // the agency is part of the key
  EXPECT_EQ(aggregator.source_time_ns("mof", "bastion"), kStart + kSecond);
  EXPECT_EQ(aggregator.source_time_ns("moh", "bastion"), kStart + kYear);
  EXPECT_EQ(aggregator.stats().sources, 2u);
  out.clear();
  aggregator.Flush(out);
  ASSERT_EQ(out.size(), 1u);  // mof's grew: version 1, and it stays open
  EXPECT_EQ(out[0].alert.aggregate_key, mof_key);
  EXPECT_EQ(out[0].alert.aggregate_version, 1u);
  EXPECT_EQ(aggregator.stats().closed, 0u);
  EXPECT_EQ(aggregator.stats().open, 2u);
  // mof's next hits join the same aggregate; the next marker makes version 2.
  out.clear();
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart + 100 * kSecond, 3, 0)},
                  out);
  EXPECT_TRUE(out.empty());
  aggregator.Flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alert.aggregate_key, mof_key);
  EXPECT_EQ(out[0].alert.aggregate_version, 2u);
  EXPECT_EQ(out[0].alert.count, 3u);
  EXPECT_EQ(out[0].alert.aggregate_opened_ns, kStart);
  EXPECT_EQ(aggregator.stats().opened, 2u);
  EXPECT_EQ(aggregator.stats().closed, 0u);
  // mof's own time past the period (another key's hit) closes it at the
  // next marker; moh's aggregate stays (its time is its own line's).
  out.clear();
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.8", kStart + 601 * kSecond, 4, 0)},
                  out);
  ASSERT_EQ(out.size(), 1u);  // version 0 of 198.18.0.8's
  out.clear();
  aggregator.Flush(out);
  EXPECT_TRUE(out.empty());  // nothing grew
  EXPECT_EQ(aggregator.stats().closed, 1u);
  EXPECT_EQ(aggregator.stats().open, 2u);  // mof's 198.18.0.8, moh's
  EXPECT_EQ(aggregator.source_time_ns("mof", "bastion"), kStart + 601 * kSecond);
  EXPECT_EQ(aggregator.source_time_ns("moh", "bastion"), kStart + kYear);
  // moh's own later line (another key) closes moh's first aggregate at a marker.
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.9", kStart + kYear + 600 * kSecond, 5,
                                                  0, "ssh_failed", "moh")},
                  out);
  out.clear();
  aggregator.Flush(out);
  EXPECT_EQ(aggregator.stats().closed, 2u);
  EXPECT_EQ(aggregator.stats().open, 2u);
  EXPECT_EQ(aggregator.source_time_ns("moh", "bastion"), kStart + kYear + 600 * kSecond);
}

// The sources' times round-trip through the checkpoint, in a canonical
// encoding; a version 1 checkpoint (one event time for the partition)
// restores it as the time of every aggregate's source.
TEST(PartitionAggregatorTest, SourceTimesRoundTripThroughTheCheckpoint) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  aggregator.Feed(
      std::vector<AggregationHit>{Hit("198.18.0.7", kStart, 1, 0),
                                  Hit("198.18.0.7", kStart + kYear, 1, 1, "ssh_failed", "moh"),
                                  Hit("198.18.0.8", kStart + 5 * kSecond, 1, 2)},
      out);
  std::string checkpoint;
  aggregator.Checkpoint(checkpoint);
  // The layout: the sources (host hash, agency, time) in order, the
  // aggregates (by key: mof's two, then moh's), each one's owner.
  auto sources = [](std::initializer_list<std::pair<std::string_view, int64_t>> list) {
    std::string bytes;
    wire::PutVarint(bytes, list.size());
    for (const auto& [agency, time] : list) {
      wire::PutFixed(bytes, SourceHostHash("bastion"), 8);
      wire::PutText(bytes, agency);
      wire::PutZigzag(bytes, time);
    }
    return bytes;
  };
  const std::string clocks = sources({{"mof", kStart + 5 * kSecond}, {"moh", kStart + kYear}});
  const std::string owners("\x00\x00\x01", 3);
  ASSERT_EQ(checkpoint.substr(0, 5), std::string("GSPA\x02", 5));
  ASSERT_EQ(checkpoint.substr(5, clocks.size()), clocks);
  ASSERT_EQ(checkpoint.substr(checkpoint.size() - 3), owners);
  const std::string aggregates =
      checkpoint.substr(5 + clocks.size(), checkpoint.size() - 5 - clocks.size() - 3);
  PartitionAggregator restored(Options());
  std::string error;
  ASSERT_TRUE(restored.Restore(checkpoint, &error)) << error;
  EXPECT_EQ(restored.source_time_ns("mof", "bastion"), kStart + 5 * kSecond);
  EXPECT_EQ(restored.source_time_ns("moh", "bastion"), kStart + kYear);
  EXPECT_EQ(restored.source_time_ns("mof", "other"), INT64_MIN);
  EXPECT_EQ(restored.stats().sources, 2u);
  std::string again;
  restored.Checkpoint(again);
  EXPECT_EQ(again, checkpoint);
  // Both go on alike: moh's far time closes none of mof's aggregates.
  for (PartitionAggregator* a : {&aggregator, &restored}) {
    out.clear();
    a->Feed(std::vector<AggregationHit>{Hit("198.18.0.7", kStart + 10 * kSecond, 2, 0)}, out);
    a->Flush(out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].alert.aggregate_version, 1u);
    EXPECT_EQ(a->stats().closed, 0u);
  }

  // Version 1: the partition's time for every source; written back as 2.
  std::string v1("GSPA\x01", 5);
  wire::PutZigzag(v1, kStart + kYear);
  v1 += aggregates;
  PartitionAggregator legacy(Options());
  ASSERT_TRUE(legacy.Restore(v1, &error)) << error;
  EXPECT_EQ(legacy.stats().open, 3u);
  EXPECT_EQ(legacy.stats().sources, 2u);
  EXPECT_EQ(legacy.source_time_ns("mof", "bastion"), kStart + kYear);
  EXPECT_EQ(legacy.source_time_ns("moh", "bastion"), kStart + kYear);
  legacy.Checkpoint(again);
  EXPECT_EQ(again[4], 2);
  ASSERT_TRUE(aggregator.Restore(again, &error)) << error;

  // Refused: a source owning nothing, an owner out of range, sources out of
  // order or twice, an unknown version.
  auto blob = [&](const std::string& clocks_part, const std::string& owners_part) {
    return std::string("GSPA\x02", 5) + clocks_part + aggregates + owners_part;
  };
  ASSERT_TRUE(legacy.Restore(blob(sources({{"mof", kStart}, {"moh", kStart}}), owners), &error))
      << error;
  EXPECT_EQ(legacy.source_time_ns("mof", "bastion"), kStart);
  EXPECT_FALSE(legacy.Restore(
      blob(sources({{"mof", kStart}, {"moh", kStart}, {"mox", kStart}}), owners), &error));
  EXPECT_NE(error.find("without aggregates"), std::string::npos) << error;
  EXPECT_EQ(legacy.stats().open, 0u);
  EXPECT_EQ(legacy.stats().sources, 0u);
  EXPECT_FALSE(legacy.Restore(blob(sources({{"mof", kStart}}), owners), &error));
  EXPECT_NE(error.find("owner out of range"), std::string::npos) << error;
  EXPECT_FALSE(legacy.Restore(blob(sources({{"moh", kStart}, {"mof", kStart}}), owners), &error));
  EXPECT_NE(error.find("out of order"), std::string::npos) << error;
  EXPECT_FALSE(legacy.Restore(
      blob(sources({{"mof", kStart}, {"mof", kStart}, {"moh", kStart}}), owners), &error));
  EXPECT_FALSE(legacy.Restore(
      blob(sources({{"mof", kStart}, {"moh", kStart}}), std::string("\x00\x01", 2)), &error));
  std::string v3 = checkpoint;
  v3[4] = 3;
  EXPECT_FALSE(legacy.Restore(v3, &error));
  EXPECT_NE(error.find("unknown"), std::string::npos) << error;
  EXPECT_EQ(legacy.stats().sources, 0u);
}

// Within one agency too: a host stamping its lines a year ahead closes only
// the aggregates it alone fed. An aggregate is owned by the slowest source
// that fed it (as the correlator's keys), so one opened by the skewed host
// and joined by a host on time closes by the latter's time.
TEST(PartitionAggregatorTest, AHostAheadClosesNoOtherHostsAggregates) {
  PartitionAggregator aggregator(Options());
  std::vector<ClusterAlert> out;
  auto from = [](std::string_view host, AggregationHit hit) {
    hit.fields[0].second = host;
    return hit;
  };
  aggregator.Feed(
      std::vector<AggregationHit>{
          Hit("198.18.0.7", kStart, 1, 0), from("skewed", Hit("198.18.0.9", kStart + kYear, 1, 1)),
          // Joins (in the period), the owner stays: the skewed host is faster.
          from("skewed", Hit("198.18.0.7", kStart + 100 * kSecond, 1, 2)),
          // Joins, and owns it from now on: slower than the skewed host.
          Hit("198.18.0.9", kStart + 2 * kSecond, 1, 3)},
      out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(aggregator.source_time_ns("mof", "bastion"), kStart + 2 * kSecond);
  EXPECT_EQ(aggregator.source_time_ns("mof", "skewed"), INT64_MIN);  // owns nothing now
  EXPECT_EQ(aggregator.stats().sources, 1u);
  // The skewed host's line past both periods (another key) closes neither.
  aggregator.Feed(
      std::vector<AggregationHit>{from("skewed", Hit("198.18.0.10", kStart + 2 * kYear, 2, 0))},
      out);
  EXPECT_EQ(aggregator.source_time_ns("mof", "skewed"), kStart + 2 * kYear);
  out.clear();
  aggregator.Flush(out);
  EXPECT_EQ(out.size(), 2u);  // both grew: versions, both stay open
  EXPECT_EQ(aggregator.stats().closed, 0u);
  EXPECT_EQ(aggregator.stats().open, 3u);
  // The host on time closes them by its own time; the skewed host's own
  // aggregate stays (its period ends past its time).
  aggregator.Feed(std::vector<AggregationHit>{Hit("198.18.0.8", kStart + kYear + kYear, 3, 0)},
                  out);
  out.clear();
  aggregator.Flush(out);
  EXPECT_EQ(aggregator.stats().closed, 2u);
  EXPECT_EQ(aggregator.stats().open, 2u);
  EXPECT_EQ(aggregator.stats().sources, 2u);
  std::string checkpoint, again;
  aggregator.Checkpoint(checkpoint);
  PartitionAggregator restored(Options());
  std::string error;
  ASSERT_TRUE(restored.Restore(checkpoint, &error)) << error;
  restored.Checkpoint(again);
  EXPECT_EQ(again, checkpoint);
  EXPECT_EQ(restored.source_time_ns("mof", "skewed"), kStart + 2 * kYear);
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
  // An agency's time goes with its last open aggregate: an overflowing
  // hit moves it, and the marker that closes the last one drops it...
  options = Options();
  options.max_open = 1;
  PartitionAggregator one(options);
  out.clear();
  one.Feed(std::vector<AggregationHit>{Hit("10.0.0.1", kStart, 1, 0),
                                       Hit("10.0.0.2", kStart + 700 * kSecond, 1, 1)},
           out);
  EXPECT_EQ(one.source_time_ns("mof", "bastion"), kStart + 700 * kSecond);
  one.Flush(out);
  EXPECT_EQ(one.stats().open, 0u);
  EXPECT_EQ(one.stats().sources, 0u);
  EXPECT_EQ(one.source_time_ns("mof", "bastion"), INT64_MIN);
  // ... as does a hit past its aggregate's period that cannot open the next.
  PartitionAggregator measure(Options());
  measure.Feed(std::vector<AggregationHit>{Hit("10.0.0.1", kStart, 1, 0)}, out);
  options = Options();
  options.max_bytes = measure.stats().bytes;
  PartitionAggregator tight(options);
  AggregationHit longer = Hit("10.0.0.1", kStart + 700 * kSecond, 1, 1);
  longer.raw += " port 22 ssh2";
  tight.Feed(std::vector<AggregationHit>{Hit("10.0.0.1", kStart, 1, 0), longer}, out);
  EXPECT_EQ(tight.stats().closed, 1u);
  EXPECT_EQ(tight.stats().overflow, 1u);
  EXPECT_EQ(tight.stats().sources, 0u);
  std::string empty;
  tight.Checkpoint(empty);
  PartitionAggregator none(Options());
  std::string error;
  ASSERT_TRUE(none.Restore(empty, &error)) << error;
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
