// PartitionCorrelator without a server: hits fed as the correlate role feeds
// them fire what the Correlator fires; a partition restored from a
// checkpoint and fed the rest makes the same alerts with the same
// identities as one that ran through (a replay after a takeover), also
// with temporal_ordered repeats at one (time, ref); a firing that feeds a
// chained correlation becomes a hit for that correlation's partition, which
// fires the chain there; silenced correlations feed their chains without
// alerting; unknown correlations are counted.
#include "engine/cluster/partition_correlator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/engine/correlate/correlator_test_util.h"

namespace gsoc {
namespace {

using correlate::CorrelationSet;
using correlate::CorrelationType;
using correlate::Route;
using correlate::RuleRef;
using correlate::correlator_test::kSecond;
using correlate::correlator_test::MakeRule;

constexpr uint32_t kPartitions = 64;
constexpr int64_t kBase = 1'788'220'800 * kSecond;

// "brute": >= 3 hits of ref0 per src_ip in 5 min, feeding "chain":
// brute then ref1 (a login) per src_ip within 30 min.
std::shared_ptr<const CorrelationSet> Set(bool brute_silenced = false) {
  auto set = std::make_shared<CorrelationSet>();
  correlate::CorrelationRule brute =
      MakeRule("brute", CorrelationType::kEventCount, {"src_ip"}, 1, 300);
  brute.condition.gte = 3;
  correlate::CorrelationRule chain =
      MakeRule("chain", CorrelationType::kTemporalOrdered, {"src_ip"}, 2, 1800);
  chain.refs[0].kind = RuleRef::Kind::kCorrelation;
  chain.refs[0].index = 0;
  set->rules = {brute, chain};
  set->detection_routes = {{Route{0, 0}}, {Route{1, 1}}};
  set->correlation_routes = {{Route{1, 0}}, {}};
  set->detection_silenced = {false, false};
  set->correlation_silenced = {brute_silenced, false};
  return set;
}

ClusterHit Hit(const std::string& correlation, uint32_t ref, const std::string& ip, int seconds,
               uint64_t sequence) {
  ClusterHit hit;
  hit.correlation = correlation;
  hit.ref = ref;
  hit.rule = "ref" + std::to_string(ref);
  hit.group = {ip};
  hit.agency = "local";
  hit.host = "bastion";
  hit.event_time_ns = kBase + seconds * kSecond;
  hit.event_id = sequence;
  hit.stream_sequence = sequence;
  hit.event_index = 0;
  hit.raw = "line " + std::to_string(sequence);
  return hit;
}

correlate::CorrelatorOptions Options() {
  correlate::CorrelatorOptions options;
  options.shards = 1;
  options.raw_cache_bytes = 1 << 20;
  return options;
}

std::string Describe(const ClusterAlert& alert) {
  return alert.identity.Text() + " " + alert.alert.rule.id + " " +
         std::to_string(alert.alert.window_start_ns) + "-" +
         std::to_string(alert.alert.window_end_ns) + " " + std::to_string(alert.alert.count);
}

std::vector<std::string> Feed(PartitionCorrelator& partition, const HitRouting& routing,
                              const std::vector<ClusterHit>& hits, size_t first, size_t end) {
  std::vector<std::string> fired;
  for (size_t i = first; i < end; ++i) {
    PartitionOutput out;
    partition.Feed(routing, std::span<const ClusterHit>(&hits[i], 1), out);
    for (const ClusterAlert& alert : out.alerts) fired.push_back(Describe(alert));
  }
  return fired;
}

TEST(PartitionCorrelatorTest, AReplayFromACheckpointMakesTheSameAlertsWithTheSameIdentities) {
  const HitRouting routing(Set());
  std::vector<ClusterHit> hits;
  for (int i = 0; i < 9; ++i) hits.push_back(Hit("id-brute", 0, "198.18.0.1", i * 10, 100 + i));
  PartitionCorrelator through(kPartitions, Options(), {"local"});
  const std::vector<std::string> all = Feed(through, routing, hits, 0, hits.size());
  ASSERT_EQ(all.size(), 3u);  // at the 3rd, 6th and 9th hit

  for (size_t cut = 0; cut <= hits.size(); ++cut) {
    PartitionCorrelator first(kPartitions, Options(), {"local"});
    std::vector<std::string> fired = Feed(first, routing, hits, 0, cut);
    std::string blob;
    first.Checkpoint(blob);
    PartitionCorrelator next(kPartitions, Options(), {"local"});
    std::string error;
    ASSERT_TRUE(next.Restore(routing, blob, &error)) << error;
    for (std::string& alert : Feed(next, routing, hits, cut, hits.size())) {
      fired.push_back(std::move(alert));
    }
    EXPECT_EQ(fired, all) << "checkpoint after hit " << cut;
    // Replaying hits the checkpoint already covers would fire again: the
    // same identities, which JetStream and the store drop.
    PartitionCorrelator replay(kPartitions, Options(), {"local"});
    const std::vector<std::string> again = Feed(replay, routing, hits, 0, hits.size());
    EXPECT_EQ(again, all);
  }
}

// temporal_ordered keeps one entry per (time, ref) (window.h): a repeat
// fed into a window restored from a checkpoint, or replayed, is left out as
// it is in a partition that ran through. Checkpointed after every hit (so a
// repeat of a (time, ref) the restored window holds also comes right after
// a restore): the same alerts, with the same windows, counts, contributors
// and identities; and the same as without the repeats at all.
std::shared_ptr<const CorrelationSet> OrderedSet() {
  auto set = std::make_shared<CorrelationSet>();
  set->rules = {correlate::correlator_test::OrderedRule()};
  set->detection_routes = {{Route{0, 0}}, {Route{0, 1}}};
  set->correlation_routes = {{}};
  set->detection_silenced = {true, true};
  set->correlation_silenced = {false};
  return set;
}

constexpr uint64_t kFirstOrderedSequence = 1000;  // hit n is sequence 999 + n

std::vector<ClusterHit> OrderedHits(bool with_repeats) {
  std::vector<ClusterHit> hits;
  uint64_t sequence = kFirstOrderedSequence;
  for (const correlate::correlator_test::OrderedHit& in :
       correlate::correlator_test::OrderedRepeats()) {
    const uint64_t this_sequence = sequence++;
    if (in.repeat && !with_repeats) continue;
    hits.push_back(
        Hit("id-ordered", in.ref, "198.18.1." + std::to_string(in.key), in.seconds, this_sequence));
  }
  return hits;
}

// The alert with its contributors as hit numbers (OrderedRepeatsAlerts),
// then its identity and the contributors' raw lines.
std::string DescribeOrdered(const ClusterAlert& alert) {
  std::string text = correlate::correlator_test::GroupOf(alert.alert) + " " +
                     std::to_string((alert.alert.window_start_ns - kBase) / kSecond) + "-" +
                     std::to_string((alert.alert.window_end_ns - kBase) / kSecond) + " count " +
                     std::to_string(alert.alert.count) + ":";
  std::string lines;
  for (const AlertEvent& event : alert.alert.events) {
    text +=
        " " + std::to_string(PositionOf(event.id).stream_sequence - (kFirstOrderedSequence - 1));
    lines += " [" + event.raw + "]";
  }
  return text + " | " + alert.alert.rule.id + " " + alert.identity.Text() + lines;
}

std::vector<std::string> FeedOrdered(PartitionCorrelator& partition, const HitRouting& routing,
                                     const std::vector<ClusterHit>& hits, size_t first,
                                     size_t end) {
  std::vector<std::string> fired;
  for (size_t i = first; i < end; ++i) {
    PartitionOutput out;
    partition.Feed(routing, std::span<const ClusterHit>(&hits[i], 1), out);
    for (const ClusterAlert& alert : out.alerts) fired.push_back(DescribeOrdered(alert));
  }
  return fired;
}

TEST(PartitionCorrelatorTest, OrderedRepeatsAtOneTimeReplayFromEveryCheckpointToTheSameAlerts) {
  const HitRouting routing(OrderedSet());
  const std::vector<ClusterHit> hits = OrderedHits(true);
  PartitionCorrelator through(kPartitions, Options(), {"local"});
  std::vector<std::string> all;
  std::vector<bool> fires(hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    const std::vector<std::string> fired = FeedOrdered(through, routing, hits, i, i + 1);
    fires[i] = !fired.empty();
    all.insert(all.end(), fired.begin(), fired.end());
  }
  const std::vector<std::string> expected = correlate::correlator_test::OrderedRepeatsAlerts();
  ASSERT_EQ(all.size(), expected.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].substr(0, all[i].find(" | ")), expected[i]) << all[i];
  }

  // The repeats change nothing: the same alerts and identities without them.
  PartitionCorrelator unrepeated(kPartitions, Options(), {"local"});
  const std::vector<ClusterHit> once = OrderedHits(false);
  ASSERT_LT(once.size(), hits.size());
  EXPECT_EQ(FeedOrdered(unrepeated, routing, once, 0, once.size()), all);

  for (size_t cut = 0; cut <= hits.size(); ++cut) {
    PartitionCorrelator first(kPartitions, Options(), {"local"});
    const std::vector<std::string> before = FeedOrdered(first, routing, hits, 0, cut);
    std::string blob;
    first.Checkpoint(blob);
    PartitionCorrelator next(kPartitions, Options(), {"local"});
    std::string error;
    ASSERT_TRUE(next.Restore(routing, blob, &error)) << error;
    std::vector<std::string> fired = before;
    for (std::string& alert : FeedOrdered(next, routing, hits, cut, hits.size())) {
      fired.push_back(std::move(alert));
    }
    EXPECT_EQ(fired, all) << "checkpoint after hit " << cut;
    // The hit the checkpoint ended with, delivered again right after the
    // restore (its sequence is the checkpoint's): when it did not fire, the
    // restored window holds its (time, ref), so it is left out too. (An
    // alert lists an event id once anyway: this holds without the rule.)
    if (cut == 0 || fires[cut - 1]) continue;
    PartitionCorrelator again(kPartitions, Options(), {"local"});
    ASSERT_TRUE(again.Restore(routing, blob, &error)) << error;
    fired = before;
    for (std::string& alert : FeedOrdered(again, routing, hits, cut - 1, hits.size())) {
      fired.push_back(std::move(alert));
    }
    EXPECT_EQ(fired, all) << "checkpoint after hit " << cut << ", then that hit again";
  }
  // As the test above: a replay of every hit, those a checkpoint covers
  // too, makes the same alerts with the same identities.
  PartitionCorrelator replay(kPartitions, Options(), {"local"});
  EXPECT_EQ(FeedOrdered(replay, routing, hits, 0, hits.size()), all);
}

TEST(PartitionCorrelatorTest, AFiringFeedsItsChainThroughTheChainsPartition) {
  for (const bool silenced : {false, true}) {
    const HitRouting routing(Set(silenced));
    PartitionCorrelator source(kPartitions, Options(), {"local"});
    PartitionOutput out;
    std::vector<ClusterHit> hits;
    for (int i = 0; i < 3; ++i) hits.push_back(Hit("id-brute", 0, "198.18.0.2", i * 10, 200 + i));
    source.Feed(routing, hits, out);
    ASSERT_EQ(out.alerts.size(), silenced ? 0u : 1u);
    ASSERT_EQ(out.chained.size(), 1u);
    const ChainedHit& chained = out.chained[0];
    const std::vector<std::string_view> group{"198.18.0.2"};
    EXPECT_EQ(chained.partition, HitPartition("id-chain", group, kPartitions));
    std::vector<ClusterHit> decoded;
    CodecError error;
    ASSERT_TRUE(DecodeHitBatch(chained.bytes, decoded, &error)) << error.reason;
    ASSERT_EQ(decoded.size(), 1u);
    EXPECT_EQ(decoded[0].correlation, "id-chain");
    EXPECT_EQ(decoded[0].ref, 0u);
    EXPECT_EQ(decoded[0].group, std::vector<std::string>{"198.18.0.2"});
    EXPECT_EQ(decoded[0].event_time_ns, kBase + 20 * kSecond);  // the window's end
    EXPECT_EQ(decoded[0].raw, "line 202");                      // the newest contributor
    if (!silenced) {
      EXPECT_EQ(chained.msg_id, "c-" + out.alerts[0].identity.Text() + "-0");
    }

    // In the chain's partition: the chained input, then a login, fire the chain.
    PartitionCorrelator target(kPartitions, Options(), {"local"});
    PartitionOutput fired;
    target.Feed(routing, decoded, fired);
    EXPECT_TRUE(fired.alerts.empty());
    const std::vector<ClusterHit> login{Hit("id-chain", 1, "198.18.0.2", 300, 300)};
    target.Feed(routing, login, fired);
    ASSERT_EQ(fired.alerts.size(), 1u);
    EXPECT_EQ(fired.alerts[0].alert.rule.id, "id-chain");
    EXPECT_EQ(fired.alerts[0].alert.window_start_ns, kBase + 20 * kSecond);
    EXPECT_EQ(fired.alerts[0].alert.window_end_ns, kBase + 300 * kSecond);
    EXPECT_TRUE(fired.chained.empty());
  }
}

TEST(PartitionCorrelatorTest, HitsOfUnknownCorrelationsAreCountedAndSkipped) {
  const HitRouting routing(Set());
  PartitionCorrelator partition(kPartitions, Options(), {"local"});
  PartitionOutput out;
  std::vector<ClusterHit> hits{Hit("id-gone", 0, "198.18.0.3", 0, 1),
                               Hit("id-brute", 7, "198.18.0.3", 0, 2),
                               Hit("id-brute", 0, "198.18.0.3", 0, 3)};
  hits[2].group.push_back("one too many");
  partition.Feed(routing, hits, out);
  EXPECT_EQ(partition.counters().unknown, 3u);
  EXPECT_TRUE(out.alerts.empty());
}

TEST(PartitionCorrelatorTest, PositionsRoundTripThroughEventIds) {
  for (const auto& [sequence, index] : std::vector<std::pair<uint64_t, uint32_t>>{
           {1, 0}, {12345, 65535}, {(uint64_t{1} << 47) - 1, 7}}) {
    const uint64_t id = PositionEventId(sequence, index);
    EXPECT_EQ(id >> 63, 0u);  // never a Correlator chain id
    EXPECT_EQ(PositionOf(id).stream_sequence, sequence);
    EXPECT_EQ(PositionOf(id).event_index, index);
  }
}

}  // namespace
}  // namespace gsoc
