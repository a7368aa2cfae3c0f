// CorrelateRole: the correlate role of a cluster node (engine/cluster/README.md
// "The correlate role").
//
// The node joins the partition lease manager (partition_leases.h). For each
// partition it gains, the role's thread restores the partition's last
// checkpoint (partition_checkpoint.h, fenced by the lease epoch) into a new
// PartitionCorrelator, then reads gsoc.hits.<p> from the checkpoint's
// sequence + 1 through its own ordered consumer (hits_consumer.h) and feeds
// the hits in stream order (and the aggregation hits to the partition's
// PartitionAggregator; every `update_interval` while an aggregate grew the
// role publishes a flush marker into the partition's subject, and the
// versions are made where the marker lies in the stream, so a replay makes
// them again). The correlation alerts they fire, and the versions, go to
// gsoc.alerts.<agency> on GSOC_ALERTS with their deterministic identity
// (Nats-Msg-Id: a digest of the identities), chained inputs to the chained
// correlation's partition on GSOC_HITS. Every `checkpoint_interval` (and at
// a clean stop, and when a partition is given up) each owned partition is
// checkpointed with the sequence it covers, only when everything it
// published up to there is acknowledged. A node killed at any point: the new
// owner replays from the last checkpoint and makes the same alerts with the
// same identities, which JetStream (its duplicate window) and the store
// (its identity window) drop.
//
// When the next stage is full (GSOC_ALERTS slow or refusing): after each hits
// message the thread waits until JetStream acknowledged what it published,
// and reads nothing more meanwhile; hits wait in this process (bounded per
// partition, HitsConsumer) and in GSOC_HITS (stream_max_bytes, where detect
// nodes then wait).
//
// Threading: Create, Start, Stop on one thread (the daemon's). One role
// thread owns the partitions, their correlators and consumers, the publisher
// and the checkpoint writes. The lease thread only queues gains and losses;
// a loss waits until the role thread is not feeding the partition (and, up
// to kLossHandoff, for its last checkpoint) before the lease is released.
// Counters are atomics read by the metrics scrape.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/jetstream.h"
#include "engine/cluster/partition_checkpoint.h"
#include "engine/cluster/partition_correlator.h"
#include "engine/cluster/partition_leases.h"
#include "engine/cluster/partition_state.h"
#include "engine/util/thread_annotations.h"

namespace gsoc {

struct CorrelateRoleOptions {
  std::vector<std::string> agency_names;  // the node's agency table
  // The node's correlation bounds (the correlation: section); each
  // partition gets 1/partitions of the key, byte and raw-line budgets.
  correlate::CorrelatorOptions correlator;
  std::chrono::milliseconds checkpoint_interval{10000};  // cluster.checkpoint_interval
  int max_pending_messages = 8192;                       // per partition, in this process
  int max_pending_bytes = 2 << 20;                       // per partition, in this process
  // alerts.aggregate: the node's bounds (each partition gets
  // 1/partitions of max_open and max_bytes, at least 1024 and 1 MiB), the
  // period (in event time) and how often grown aggregates are republished.
  PartitionAggregatorOptions aggregator;
  std::chrono::milliseconds update_interval{30000};
};

class CorrelateRole {
 public:
  // The rule set now (correlations); reloads are picked up between messages.
  using RuleSet = std::function<std::shared_ptr<const correlate::CorrelationSet>()>;

  static std::unique_ptr<CorrelateRole> Create(JetStreamClient& client,
                                               CorrelateRoleOptions options, RuleSet rules);
  ~CorrelateRole();  // Stop()
  CorrelateRole(const CorrelateRole&) = delete;
  CorrelateRole& operator=(const CorrelateRole&) = delete;

  // Opens GSOC_CHECKPOINTS, starts the role thread and joins the lease
  // manager; false with `error` when a bucket cannot be opened.
  bool Start(std::string* error);
  // Checkpoints every owned partition, leaves the lease manager (the
  // others take over at once) and joins the thread. Idempotent.
  void Stop();

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t alerts_published() const { return alerts_.load(std::memory_order_relaxed); }

  // gsoc_cluster_correlate_*, the lease and checkpoint families; the role
  // must outlive the metrics server.
  std::vector<std::shared_ptr<prometheus::Collectable>> MakeCollectables();

 private:
  struct Partition;
  struct Command {
    bool gain = true;
    uint32_t partition = 0;
    uint64_t epoch = 0;
  };
  using Clock = std::chrono::steady_clock;

  CorrelateRole(JetStreamClient& client, CorrelateRoleOptions options, RuleSet rules);
  // Lease thread.
  void OnGain(uint32_t partition, uint64_t epoch) GSOC_EXCLUDES(mutex_);
  void OnLoss(uint32_t partition, uint64_t epoch, bool lapsed) GSOC_EXCLUDES(mutex_);
  // Role thread.
  void Run();
  void RunCommands() GSOC_EXCLUDES(mutex_);
  void Gain(uint32_t partition, uint64_t epoch);
  bool OpenConsumer(Partition& partition);
  void Drop(uint32_t partition, bool checkpoint);
  bool ReadSome(Partition& partition);
  void Handle(Partition& partition, const ConsumedMessage& message, uint64_t server_pending);
  bool Feeding(const Partition& partition) GSOC_EXCLUDES(mutex_);
  void DoneFeeding() GSOC_EXCLUDES(mutex_);
  void TickAll();
  // Adds what the partition's counters moved since `before` to the role's.
  void CountChains(const Partition& partition, const PartitionCorrelatorCounters& before);
  bool Publish(Partition& partition);
  void SaveCheckpoint(Partition& partition);
  // A flush marker into the partition's subject when its aggregates grew
  // and update_interval passed since the last one.
  void RequestFlush(Partition& partition);
  bool FeedAggregation(Partition& partition, const ConsumedMessage& message, HitBatchKind kind);
  template <typename Hit>
  void ReleaseDecodeBuffer(std::vector<Hit>& buffer);
  std::shared_ptr<const HitRouting> Routing();
  bool Lost(const Partition& partition) GSOC_EXCLUDES(mutex_);
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  JetStreamClient& client_;
  const CorrelateRoleOptions options_;
  const RuleSet rules_;
  correlate::CorrelatorOptions partition_options_;
  PartitionAggregatorOptions aggregator_options_;
  std::unique_ptr<PartitionCheckpointStore> checkpoints_;
  std::unique_ptr<PartitionLeaseManager> leases_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* ack_seconds_ = nullptr;

  // Role thread only.
  std::map<uint32_t, std::unique_ptr<Partition>> partitions_;
  std::vector<std::pair<Command, Clock::time_point>> retry_;  // gains to try again, and when
  std::unique_ptr<BatchPublisher> publisher_;
  std::shared_ptr<const HitRouting> routing_;
  PartitionOutput output_;
  // Decoded into in place; bounded by ReleaseDecodeBuffer.
  static constexpr size_t kMaxDecodeBufferBytes = size_t{16} << 20;
  std::vector<ClusterHit> hits_buffer_;
  std::vector<AggregationHit> aggregation_buffer_;
  std::vector<AlertIdentity> identities_;
  std::string buffer_;
  Clock::time_point next_tick_{};
  uint64_t duplicates_seen_ = 0;

  mutable Mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Command> commands_ GSOC_GUARDED_BY(mutex_);
  std::map<uint32_t, uint64_t> lost_ GSOC_GUARDED_BY(mutex_);    // partition -> lost epoch
  std::map<uint32_t, uint64_t> handed_ GSOC_GUARDED_BY(mutex_);  // losses fully handled
  int64_t feeding_ GSOC_GUARDED_BY(mutex_) = -1;                 // the partition being fed, or -1

  std::atomic<bool> stop_{false};
  // Set when Stop begins: the held partitions are handed over (checkpointed
  // as their losses come), but no hits consumer is made any more (one can
  // take seconds while JetStream elects leaders, and nothing would read it).
  std::atomic<bool> draining_{false};
  std::atomic<bool> started_{false};
  std::atomic<uint64_t> hits_{0}, hit_messages_{0}, refused_{0}, replayed_{0}, unknown_{0};
  std::atomic<uint64_t> chain_missing_{0}, decode_buffer_releases_{0};
  std::atomic<uint64_t> alerts_{0}, alert_messages_{0}, chained_{0}, retries_{0}, duplicates_{0};
  std::atomic<uint64_t> checkpoint_saves_{0}, checkpoint_bytes_{0}, checkpoint_failures_{0};
  std::atomic<uint64_t> restores_{0}, restore_failures_{0}, consumer_errors_{0};
  std::atomic<uint64_t> lag_{0}, owned_{0}, live_keys_{0}, late_{0};
  std::atomic<uint64_t> aggregation_hits_{0}, flush_markers_{0}, flushes_{0};
  std::atomic<uint64_t> aggregates_opened_{0}, aggregates_updated_{0}, aggregates_closed_{0};
  std::atomic<uint64_t> aggregates_overflow_{0}, aggregates_open_{0}, aggregates_bytes_{0};
  std::atomic<uint64_t> aggregate_sources_{0};
  std::thread thread_;
};

}  // namespace gsoc
