// Partition checkpoints on a real 3-server nats-server cluster: inline and
// chunked round trips, the size bound, and fencing: a node whose lease was
// taken over cannot overwrite the new owner's checkpoint.
#include "engine/cluster/partition_checkpoint.h"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include <map>
#include <string>

#include "tests/engine/cluster/lease_test_util.h"

namespace gsoc::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Bytes(size_t size, char seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(seed + i * 131 + (i >> 9));
  return out;
}

std::unique_ptr<PartitionCheckpointStore> OpenStore(JetStreamClient& client) {
  CheckpointOptions options;
  options.max_checkpoint_bytes = 1 << 20;
  options.chunk_bytes = 64 << 10;  // 1 MiB: 16 chunks
  options.bucket_max_bytes = int64_t{256} << 20;
  std::string error;
  auto store = PartitionCheckpointStore::Open(client, options, seconds(30), &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

TEST(PartitionCheckpointTest, RoundTripsInlineAndChunkedAndRefusesAboveTheBound) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string error;
  auto client = JetStreamClient::Connect(LeaseConfig(cluster, 0), seconds(15), &error);
  ASSERT_NE(client, nullptr) << error;
  auto store = OpenStore(*client);
  ASSERT_NE(store, nullptr);

  // First owner (epoch 10): nothing yet.
  PartitionCheckpoint restored;
  CheckpointFence fence;
  ASSERT_EQ(store->Restore(7, 10, seconds(10), &restored, &fence, &error), CheckpointStatus::kOk)
      << error;
  EXPECT_FALSE(restored.found);
  const std::string small = Bytes(1000, 'a');
  ASSERT_EQ(store->Save(fence, small, 4242, &error), CheckpointStatus::kOk) << error;

  // The next owner (epoch 20) gets it back.
  CheckpointFence next;
  ASSERT_EQ(store->Restore(7, 20, seconds(10), &restored, &next, &error), CheckpointStatus::kOk)
      << error;
  EXPECT_TRUE(restored.found);
  EXPECT_EQ(restored.data, small);
  EXPECT_EQ(restored.hits_sequence, 4242u);
  EXPECT_EQ(restored.epoch, 10u);

  // 1 MiB - 1: sixteen chunks, twice (the first chunks are replaced).
  for (char seed : {'x', 'y'}) {
    const std::string large = Bytes((1 << 20) - 1, seed);
    ASSERT_EQ(store->Save(next, large, 5000 + seed, &error), CheckpointStatus::kOk) << error;
    CheckpointFence after;
    ASSERT_EQ(store->Restore(7, next.epoch + 1, seconds(10), &restored, &after, &error),
              CheckpointStatus::kOk)
        << error;
    EXPECT_EQ(restored.data.size(), large.size());
    EXPECT_TRUE(restored.data == large);
    EXPECT_EQ(restored.hits_sequence, 5000u + seed);
    next = after;
  }
  // Above the bound: refused, nothing written, the last checkpoint stays.
  EXPECT_EQ(store->Save(next, Bytes((1 << 20) + 1, 'z'), 9999, &error),
            CheckpointStatus::kTooLarge);
  CheckpointFence last;
  ASSERT_EQ(store->Restore(7, next.epoch + 1, seconds(10), &restored, &last, &error),
            CheckpointStatus::kOk)
      << error;
  EXPECT_EQ(restored.hits_sequence, 5000u + 'y');
  // Other partitions are apart.
  CheckpointFence other;
  ASSERT_EQ(store->Restore(8, 1, seconds(10), &restored, &other, &error), CheckpointStatus::kOk);
  EXPECT_FALSE(restored.found);
  // An owner that claimed partition 8 and never saved: the next one finds
  // no checkpoint (its claim's empty data is not corrupt) and claims it.
  ASSERT_EQ(store->Restore(8, 2, seconds(10), &restored, &other, &error), CheckpointStatus::kOk)
      << error;
  EXPECT_FALSE(restored.found);

  const PartitionCheckpointStore::Counters counters = store->counters();
  EXPECT_EQ(counters.saved, 3u);
  EXPECT_EQ(counters.saved_bytes, 1000u + 2 * ((1u << 20) - 1));
  EXPECT_EQ(counters.restored, 4u);  // the empty claims do not count
  EXPECT_EQ(counters.too_large, 1u);
  EXPECT_EQ(counters.fenced, 0u);
  std::map<std::string, double> metrics;
  for (const auto& family : store->MakeCollectable()->Collect()) {
    metrics[family.name] = family.metric[0].counter.value;
  }
  EXPECT_EQ(metrics["gsoc_cluster_checkpoints_saved_total"], 3.0);
  EXPECT_EQ(metrics["gsoc_cluster_checkpoint_saved_bytes_total"],
            static_cast<double>(counters.saved_bytes));
  EXPECT_EQ(metrics["gsoc_cluster_checkpoints_restored_total"], 4.0);
  EXPECT_EQ(metrics["gsoc_cluster_checkpoint_restored_bytes_total"],
            static_cast<double>(counters.restored_bytes));
  EXPECT_EQ(metrics["gsoc_cluster_checkpoints_fenced_total"], 0.0);
  EXPECT_EQ(metrics["gsoc_cluster_checkpoints_too_large_total"], 1.0);
}

// The real sequence: node A owns partition p by lease and checkpoints it; A
// is cut off (killed, its lease thread gone, but its checkpoint store
// still able to write); B takes p when A's lease lapses and restores. A's
// late save is refused, and so is a restore at A's old epoch; B's
// checkpoint is the one that stays.
TEST(PartitionCheckpointTest, AStaleOwnersCheckpointWriteIsRefused) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  PartitionLeaseOptions options;
  options.partitions = 4;
  options.lease_ttl = seconds(2);
  options.takeover = seconds(4);
  OwnershipLedger ledger(options.partitions);
  auto a = StartLeaseNode(cluster, 0, "correlate-a", options, ledger.For(0), 0);
  ASSERT_TRUE(a);
  std::string why;
  ASSERT_GE(WaitBalanced({a.get()}, options.partitions, seconds(15), &why).count(), 0) << why;
  uint64_t epoch_a = 0;
  ASSERT_TRUE(a->leases->Owns(3, &epoch_a));

  auto store_a = OpenStore(*a->client);
  ASSERT_NE(store_a, nullptr);
  std::string error;
  PartitionCheckpoint restored;
  CheckpointFence fence_a;
  ASSERT_EQ(store_a->Restore(3, epoch_a, seconds(10), &restored, &fence_a, &error),
            CheckpointStatus::kOk)
      << error;
  ASSERT_EQ(store_a->Save(fence_a, "state of A, 1", 100, &error), CheckpointStatus::kOk) << error;

  // B joins; A stops renewing (kill -9 of its lease thread) and B takes all
  // four partitions once A's leases lapse.
  auto b = StartLeaseNode(cluster, 1, "correlate-b", options, ledger.For(1), 1);
  ASSERT_TRUE(b);
  a->leases->AbandonForTest();
  ledger.Forget(0);
  ASSERT_GE(WaitBalanced({b.get()}, options.partitions, seconds(15), &why).count(), 0) << why;
  uint64_t epoch_b = 0;
  ASSERT_TRUE(b->leases->Owns(3, &epoch_b));
  EXPECT_GT(epoch_b, epoch_a);

  auto store_b = OpenStore(*b->client);
  ASSERT_NE(store_b, nullptr);
  CheckpointFence fence_b;
  ASSERT_EQ(store_b->Restore(3, epoch_b, seconds(10), &restored, &fence_b, &error),
            CheckpointStatus::kOk)
      << error;
  EXPECT_EQ(restored.data, "state of A, 1");
  EXPECT_EQ(restored.hits_sequence, 100u);

  // A, unaware, saves again: refused, before and after B's own first save.
  EXPECT_EQ(store_a->Save(fence_a, "state of A, 2", 200, &error), CheckpointStatus::kFenced);
  ASSERT_EQ(store_b->Save(fence_b, "state of B, 1", 300, &error), CheckpointStatus::kOk) << error;
  EXPECT_EQ(store_a->Save(fence_a, std::string(200 << 10, 'A'), 400, &error),
            CheckpointStatus::kFenced);  // chunked: its chunks are purged
  CheckpointFence again;
  EXPECT_EQ(store_a->Restore(3, epoch_a, seconds(10), &restored, &again, &error),
            CheckpointStatus::kFenced);
  EXPECT_EQ(store_a->counters().fenced, 3u);

  // What a later owner restores is B's.
  CheckpointFence later;
  ASSERT_EQ(store_b->Restore(3, epoch_b + 1000, seconds(10), &restored, &later, &error),
            CheckpointStatus::kOk)
      << error;
  EXPECT_EQ(restored.data, "state of B, 1");
  EXPECT_EQ(restored.hits_sequence, 300u);
  EXPECT_EQ(restored.epoch, epoch_b);
  EXPECT_EQ(ledger.violations(), 0) << ledger.report();
}

}  // namespace
}  // namespace gsoc::e2e
