// Partition leases on a real 3-server nats-server cluster (replicas 3): nodes
// share the partitions evenly, a killed node's partitions move within
// takeover_seconds, a stopped node's at once, and no partition ever has two
// owners (the callbacks' ledger and a continuous sampler), through churn and
// the loss of a server.
#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/jetstream_kv.h"
#include "tests/engine/cluster/lease_test_util.h"

namespace gsoc::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint32_t kPartitions = 64;

// Short leases so the tests stay short: heartbeats every 750 ms, a dead
// node's leases lapse 3 s after its last renewal.
PartitionLeaseOptions FastOptions() {
  PartitionLeaseOptions options;
  options.partitions = kPartitions;
  options.lease_ttl = seconds(3);
  options.takeover = seconds(5);
  options.replicas = 3;
  return options;
}

std::vector<LeaseNode*> Pointers(const std::vector<std::unique_ptr<LeaseNode>>& nodes) {
  std::vector<LeaseNode*> out;
  for (const auto& node : nodes) {
    if (node) out.push_back(node.get());
  }
  return out;
}

TEST(PartitionLeasesTest, TwoThenThreeNodesShareThePartitionsEvenly) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  OwnershipLedger ledger(kPartitions);
  OwnershipSampler sampler;
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  std::string why;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(StartLeaseNode(cluster, i, "correlate-" + std::to_string(i), FastOptions(),
                                   ledger.For(i), i));
    ASSERT_TRUE(nodes.back());
    sampler.Add(nodes.back()->leases.get());
  }
  milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why);
  ASSERT_GE(took.count(), 0) << why;
  std::printf("2 nodes: 32 + 32 partitions after %lld ms\n", static_cast<long long>(took.count()));
  for (const auto& node : nodes) EXPECT_EQ(node->leases->owned().partitions.size(), 32u);

  const uint64_t gains_before = ledger.gains();
  nodes.push_back(StartLeaseNode(cluster, 2, "correlate-2", FastOptions(), ledger.For(2), 2));
  ASSERT_TRUE(nodes.back());
  sampler.Add(nodes.back()->leases.get());
  took = WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why);
  ASSERT_GE(took.count(), 0) << why;
  const uint64_t moved = ledger.gains() - gains_before;
  std::printf("3 nodes: balanced %lld ms after the third joined, %llu partitions moved\n",
              static_cast<long long>(took.count()), static_cast<unsigned long long>(moved));
  // The joiner's share must move (21 or 22); rendezvous moves a few more.
  EXPECT_GE(moved, 21u);
  EXPECT_LE(moved, 21u + kPartitions / 8);
  // Every node computes the same assignment: the one owned is the one assigned.
  const std::vector<std::string> members = nodes[0]->leases->members();
  for (const auto& node : nodes) {
    EXPECT_EQ(node->leases->owned().partitions,
              AssignedTo(kPartitions, members, "correlate-" + std::to_string(node->id)));
  }
  // A node configured with another lease TTL is refused: the bucket's TTL
  // is what makes a dead node's leases lapse, all must agree on it.
  PartitionLeaseOptions other = FastOptions();
  other.node = "correlate-9";
  other.lease_ttl = seconds(4);
  std::string error;
  EXPECT_EQ(PartitionLeaseManager::Start(*nodes[0]->client, other, {}, &error), nullptr);
  EXPECT_NE(error.find("cluster.lease_ttl_seconds"), std::string::npos) << error;

  for (auto& node : nodes) sampler.Remove(node->leases.get());
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  EXPECT_EQ(sampler.violations(), 0) << sampler.report();
  EXPECT_GT(sampler.conclusive(), 100u);
}

// kill -9 of a node: nothing released, its leases lapse after lease_ttl and
// the others take its partitions within takeover_seconds (the defaults:
// lease_ttl 6 s, takeover 10 s).
TEST(PartitionLeasesTest, AKilledNodesPartitionsMoveWithinTakeoverSeconds) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  PartitionLeaseOptions options;  // the defaults
  options.partitions = kPartitions;
  const ClusterConfig defaults;
  ASSERT_EQ(options.lease_ttl, defaults.lease_ttl);
  ASSERT_EQ(options.takeover, defaults.takeover);
  OwnershipLedger ledger(kPartitions);
  OwnershipSampler sampler;
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(
        StartLeaseNode(cluster, i, "correlate-" + std::to_string(i), options, ledger.For(i), i));
    ASSERT_TRUE(nodes.back());
    sampler.Add(nodes.back()->leases.get());
  }
  std::string why;
  ASSERT_GE(WaitBalanced(Pointers(nodes), kPartitions, seconds(20), &why).count(), 0) << why;

  const std::vector<uint32_t> orphaned = nodes[2]->leases->owned().partitions;
  const auto killed_at = Clock::now();
  sampler.Remove(nodes[2]->leases.get());
  nodes[2]->leases->AbandonForTest();
  ledger.Forget(2);
  nodes[2].reset();  // its connection closes too
  // Nobody may take them before the lease can have lapsed.
  std::this_thread::sleep_for(seconds(2));
  for (const auto& node : Pointers(nodes)) {
    for (uint32_t partition : orphaned) EXPECT_FALSE(node->leases->Owns(partition));
  }
  const milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(30), &why);
  ASSERT_GE(took.count(), 0) << why;
  const auto moved_after =
      std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at).count();
  std::printf("%zu partitions of the killed node moved %lld ms after the kill (takeover %lld s)\n",
              orphaned.size(), static_cast<long long>(moved_after),
              static_cast<long long>(options.takeover.count() / 1000));
  EXPECT_LE(moved_after, milliseconds(options.takeover).count());
  EXPECT_GE(moved_after, 2000);
  for (const auto& node : Pointers(nodes)) EXPECT_EQ(node->leases->counters().takeovers_late, 0u);
  for (const auto& node : Pointers(nodes)) sampler.Remove(node->leases.get());
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  EXPECT_EQ(sampler.violations(), 0) << sampler.report();
}

// A clean stop releases everything: the others own it all well before any
// lease could have lapsed.
TEST(PartitionLeasesTest, ACleanStopMovesThePartitionsAtOnce) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  OwnershipLedger ledger(kPartitions);
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartLeaseNode(cluster, i, "correlate-" + std::to_string(i), FastOptions(),
                                   ledger.For(i), i));
    ASSERT_TRUE(nodes.back());
  }
  std::string why;
  ASSERT_GE(WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why).count(), 0) << why;
  const uint64_t lost_before = nodes[1]->leases->counters().lost;
  const size_t owned = nodes[1]->leases->owned().partitions.size();
  const auto stop_at = Clock::now();
  nodes[1]->leases->Stop();
  EXPECT_EQ(nodes[1]->leases->counters().lost - lost_before, owned);
  EXPECT_TRUE(nodes[1]->leases->owned().partitions.empty());
  nodes[1].reset();
  const milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why);
  ASSERT_GE(took.count(), 0) << why;
  const auto moved_after = std::chrono::duration_cast<milliseconds>(Clock::now() - stop_at).count();
  std::printf("%zu partitions of the stopped node moved %lld ms after Stop was called\n", owned,
              static_cast<long long>(moved_after));
  EXPECT_LT(moved_after, 1500);  // the lease TTL is 3 s: they were released, not lapsed
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  // The metrics say the same as the counters.
  const PartitionLeaseManager::Counters counters = nodes[0]->leases->counters();
  std::map<std::string, double> metrics;
  for (const auto& family : nodes[0]->leases->MakeCollectable()->Collect()) {
    metrics[family.name] = family.type == prometheus::MetricType::Counter
                               ? family.metric[0].counter.value
                               : family.metric[0].gauge.value;
  }
  EXPECT_EQ(metrics["gsoc_cluster_partitions_gained_total"], static_cast<double>(counters.gained));
  EXPECT_EQ(metrics["gsoc_cluster_partitions_lost_total"], static_cast<double>(counters.lost));
  EXPECT_EQ(metrics["gsoc_cluster_lease_renew_failures_total"], 0.0);
  EXPECT_EQ(metrics["gsoc_cluster_partition_takeovers_late_total"], 0.0);
  EXPECT_EQ(metrics["gsoc_cluster_partitions_owned"],
            static_cast<double>(nodes[0]->leases->owned().partitions.size()));
  EXPECT_EQ(metrics["gsoc_cluster_correlate_members"], 2.0);
  EXPECT_GE(counters.gained, 32u);  // 21 or 22 at first, then half of the stopped node's
}

// Ten times: a node stops and comes back while the others run; losses take
// 20 ms (a correlator stopping). No partition has two owners at any moment.
TEST(PartitionLeasesTest, MovesUnderChurnNeverShowTwoOwners) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  OwnershipLedger ledger(kPartitions);
  OwnershipSampler sampler;
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartLeaseNode(cluster, i, "correlate-" + std::to_string(i), FastOptions(),
                                   ledger.For(i, milliseconds(20)), i));
    ASSERT_TRUE(nodes.back());
    sampler.Add(nodes.back()->leases.get());
  }
  std::string why;
  ASSERT_GE(WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why).count(), 0) << why;
  const auto start = Clock::now();
  milliseconds worst{0};
  for (int round = 0; round < 10; ++round) {
    const size_t leaving = static_cast<size_t>(round % 3);
    const int id = nodes[leaving]->id;
    sampler.Remove(nodes[leaving]->leases.get());
    nodes[leaving]->leases->Stop();
    nodes[leaving].reset();
    milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(10), &why);
    ASSERT_GE(took.count(), 0) << "round " << round << " after the stop: " << why;
    worst = std::max(worst, took);
    const int new_id = id + 3;
    nodes[leaving] = StartLeaseNode(cluster, leaving, "correlate-" + std::to_string(leaving),
                                    FastOptions(), ledger.For(new_id, milliseconds(20)), new_id);
    ASSERT_TRUE(nodes[leaving]);
    sampler.Add(nodes[leaving]->leases.get());
    took = WaitBalanced(Pointers(nodes), kPartitions, seconds(10), &why);
    ASSERT_GE(took.count(), 0) << "round " << round << " after the join: " << why;
    worst = std::max(worst, took);
  }
  std::printf(
      "10 rounds of stop + join in %.1f s (slowest rebalance %lld ms), %llu gains, %llu "
      "conclusive samples\n",
      std::chrono::duration<double>(Clock::now() - start).count(),
      static_cast<long long>(worst.count()), static_cast<unsigned long long>(ledger.gains()),
      static_cast<unsigned long long>(sampler.conclusive()));
  for (const auto& node : Pointers(nodes)) sampler.Remove(node->leases.get());
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  EXPECT_EQ(sampler.violations(), 0) << sampler.report();
  EXPECT_GT(sampler.conclusive(), 1000u);
}

// A node gives up half of its partitions while each loss takes 150 ms (a
// correlator checkpointing what it stops): 32 losses in a row are 4.8 s,
// longer than the lease TTL (3 s). The partitions it keeps are renewed
// between them, so none lapses, and nobody ever sees two owners.
TEST(PartitionLeasesTest, SlowLossesWhileGivingUpNeverLetAKeptLeaseLapse) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  OwnershipLedger ledger(kPartitions);
  OwnershipSampler sampler;
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  std::string why;
  nodes.push_back(StartLeaseNode(cluster, 0, "correlate-0", FastOptions(),
                                 ledger.For(0, milliseconds(150)), 0));
  ASSERT_TRUE(nodes.back());
  sampler.Add(nodes.back()->leases.get());
  ASSERT_GE(WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why).count(), 0) << why;
  nodes.push_back(StartLeaseNode(cluster, 1, "correlate-1", FastOptions(), ledger.For(1), 1));
  ASSERT_TRUE(nodes.back());
  sampler.Add(nodes.back()->leases.get());
  const milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(20), &why);
  ASSERT_GE(took.count(), 0) << why;
  std::printf("32 slow losses: balanced %lld ms after the second node joined\n",
              static_cast<long long>(took.count()));
  EXPECT_GE(took.count(), 32 * 150);
  EXPECT_EQ(nodes[0]->leases->counters().renew_failures, 0u);
  EXPECT_EQ(nodes[0]->leases->counters().lost, 32u);
  for (const auto& node : Pointers(nodes)) sampler.Remove(node->leases.get());
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  EXPECT_EQ(sampler.violations(), 0) << sampler.report();
}

// A nats-server dies (kill -9) while nodes come and go: renewals may fail
// and leases be lost while JetStream elects new leaders, but no partition
// has two owners, and the nodes settle to an even split again.
TEST(PartitionLeasesTest, AServerKilledDuringChurnKeepsOwnershipConsistent) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  OwnershipLedger ledger(kPartitions);
  OwnershipSampler sampler;
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartLeaseNode(cluster, i, "correlate-" + std::to_string(i), FastOptions(),
                                   ledger.For(i, milliseconds(5)), i));
    ASSERT_TRUE(nodes.back());
    sampler.Add(nodes.back()->leases.get());
  }
  std::string why;
  ASSERT_GE(WaitBalanced(Pointers(nodes), kPartitions, seconds(15), &why).count(), 0) << why;
  // Node 2 leaves; while the others take its partitions, server 0 (node 0's) dies.
  sampler.Remove(nodes[2]->leases.get());
  nodes[2]->leases->Stop();
  nodes[2].reset();
  std::this_thread::sleep_for(milliseconds(100));
  cluster.Kill(0);
  // Node 2 comes back on server 2 while the cluster recovers.
  std::this_thread::sleep_for(milliseconds(500));
  nodes[2] =
      StartLeaseNode(cluster, 2, "correlate-2", FastOptions(), ledger.For(5, milliseconds(5)), 5);
  ASSERT_TRUE(nodes[2]);
  sampler.Add(nodes[2]->leases.get());
  const milliseconds took = WaitBalanced(Pointers(nodes), kPartitions, seconds(25), &why);
  ASSERT_GE(took.count(), 0) << why;
  uint64_t renew_failures = 0, lost = 0;
  for (const auto& node : Pointers(nodes)) {
    renew_failures += node->leases->counters().renew_failures;
    lost += node->leases->counters().lost;
  }
  std::printf(
      "server 0 killed: balanced again after %lld ms (%llu renewals failed, %llu "
      "partitions lost in all), %llu conclusive samples\n",
      static_cast<long long>(took.count()), static_cast<unsigned long long>(renew_failures),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(sampler.conclusive()));
  // And it stays balanced for two lease periods on the two servers left.
  std::this_thread::sleep_for(seconds(6));
  EXPECT_TRUE(Balanced(Pointers(nodes), kPartitions, &why)) << why;
  for (const auto& node : Pointers(nodes)) sampler.Remove(node->leases.get());
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  EXPECT_EQ(sampler.violations(), 0) << sampler.report();
}

// A claim that another write follows before its confirmation (what the
// server's double acceptance, nats-server#4320, leaves behind) is yielded:
// no on_gain for it, counted, and the node's other partitions gained as usual.
TEST(PartitionLeasesTest, AClaimOverwrittenBeforeItsConfirmationIsYieldedNotGained) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  constexpr uint32_t kFew = 8;
  constexpr uint32_t kContested = 3;
  PartitionLeaseOptions options;
  options.partitions = kFew;
  options.lease_ttl = seconds(6);  // confirmation 750 ms after the claim
  options.takeover = seconds(10);
  std::string error;
  const std::unique_ptr<JetStreamClient> intruder =
      JetStreamClient::Connect(LeaseConfig(cluster, 1), seconds(15), &error);
  ASSERT_TRUE(intruder) << error;
  KvBucketSpec spec;
  spec.name = std::string(kLeaseBucket);
  spec.ttl = options.lease_ttl;
  spec.replicas = 3;
  spec.request_timeout = KvRequestTimeout(options.lease_ttl);
  const std::unique_ptr<KvBucket> bucket = KvBucket::Open(*intruder, spec, seconds(15), &error);
  ASSERT_TRUE(bucket) << error;
  // Overwrites the contested lease as soon as the node has claimed it.
  std::atomic<bool> overwritten{false};
  std::thread overwrite([&] {
    const auto deadline = Clock::now() + seconds(30);
    const std::string key = "partition." + std::to_string(kContested);
    while (Clock::now() < deadline) {
      KvEntry entry;
      std::string ignored;
      if (bucket->Get(key, &entry, &ignored) == KvStatus::kOk && entry.value != "-") {
        overwritten = bucket->Put(key, "intruder 0", nullptr, &ignored) == KvStatus::kOk;
        return;
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  OwnershipLedger ledger(kFew);
  std::unique_ptr<LeaseNode> node =
      StartLeaseNode(cluster, 0, "correlate-0", options, ledger.For(0), 0);
  overwrite.join();
  ASSERT_TRUE(node);
  ASSERT_TRUE(overwritten.load());
  const auto deadline = Clock::now() + seconds(10);
  while (node->leases->owned().partitions.size() < kFew - 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::this_thread::sleep_for(seconds(1));  // the contested claim's confirmation is long past
  const std::vector<uint32_t> owned = node->leases->owned().partitions;
  EXPECT_EQ(owned.size(), kFew - 1);
  EXPECT_EQ(std::count(owned.begin(), owned.end(), kContested), 0);
  EXPECT_EQ(ledger.gains(), kFew - 1);
  EXPECT_EQ(node->leases->counters().yielded, 1u);
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
  node->leases->Stop();
}

// Two writers race to take each of many released keys by compare-and-set
// on the released revision, as two nodes take a lease. Debian's nats-server
// (2.9.10) often accepts both (nats-server#4320: 129 of 200 keys here); the
// lease manager therefore asks the stream leader, a request timeout later,
// which write is the key's last. Exactly one writer of each key must find
// its own revision there: the one applied last, never an earlier one (a
// lagging answer would show one).
TEST(PartitionLeasesTest, RacingCompareAndSetsLeaveExactlyOneLastWriteAtTheLeader) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  constexpr int kKeys = 200;
  std::unique_ptr<JetStreamClient> clients[2];
  std::unique_ptr<KvBucket> buckets[2];
  KvBucketSpec spec;
  spec.name = "GSOC_CAS_RACE";
  spec.ttl = seconds(120);
  spec.replicas = 3;
  spec.request_timeout = seconds(2);
  for (int i = 0; i < 2; ++i) {
    std::string error;
    clients[i] = JetStreamClient::Connect(LeaseConfig(cluster, i), seconds(15), &error);
    ASSERT_TRUE(clients[i]) << error;
    buckets[i] = KvBucket::Open(*clients[i], spec, seconds(15), &error);
    ASSERT_TRUE(buckets[i]) << error;
  }
  struct Outcome {
    KvStatus status = KvStatus::kUnavailable;
    uint64_t revision = 0;
  };
  std::vector<Outcome> outcomes[2] = {std::vector<Outcome>(kKeys), std::vector<Outcome>(kKeys)};
  // Every key released ("-"), as a lease is before two nodes take it.
  std::vector<uint64_t> released(kKeys);
  for (int k = 0; k < kKeys; ++k) {
    std::string error;
    ASSERT_EQ(buckets[0]->Put("race." + std::to_string(k), "-", &released[k], &error),
              KvStatus::kOk)
        << error;
  }
  std::barrier start(2);
  auto writer = [&](int i) {
    for (int k = 0; k < kKeys; ++k) {
      start.arrive_and_wait();
      std::string error;
      Outcome& out = outcomes[i][k];
      out.status = buckets[i]->Update("race." + std::to_string(k), "writer-" + std::to_string(i),
                                      released[k], &out.revision, &error);
    }
  };
  std::thread first(writer, 0), second(writer, 1);
  first.join();
  second.join();
  std::this_thread::sleep_for(spec.request_timeout);
  int both_accepted = 0;
  for (int k = 0; k < kKeys; ++k) {
    const Outcome& a = outcomes[0][k];
    const Outcome& b = outcomes[1][k];
    ASSERT_NE(a.status, KvStatus::kUnavailable) << k;
    ASSERT_NE(b.status, KvStatus::kUnavailable) << k;
    ASSERT_TRUE(a.status == KvStatus::kOk || b.status == KvStatus::kOk) << k;
    both_accepted += a.status == KvStatus::kOk && b.status == KvStatus::kOk;
    uint64_t last = 0;
    std::string error;
    ASSERT_EQ(buckets[k % 2]->LeaderRevision("race." + std::to_string(k), &last, &error),
              KvStatus::kOk)
        << error;
    const bool a_last = a.status == KvStatus::kOk && a.revision == last;
    const bool b_last = b.status == KvStatus::kOk && b.revision == last;
    EXPECT_NE(a_last, b_last) << "key " << k << ": revisions " << a.revision << " and "
                              << b.revision << ", last " << last;
    EXPECT_EQ(last, std::max(a.status == KvStatus::kOk ? a.revision : 0,
                             b.status == KvStatus::kOk ? b.revision : 0))
        << k;
  }
  uint64_t none = 0;
  std::string error;
  EXPECT_EQ(buckets[0]->LeaderRevision("race.never-written", &none, &error), KvStatus::kNotFound)
      << error;
  std::printf("%d of %d keys: both racing updates were accepted (nats-server#4320)\n",
              both_accepted, kKeys);
}

}  // namespace
}  // namespace gsoc::e2e
