// StoreRole: the store role of a cluster node (engine/cluster/README.md).
//
// One thread fetches from this node's own durable consumer on GSOC_ALERTS
// (durable name = the node name, '.' written '_'; so every store node gets
// every alert), decodes each alerts message, drops the alerts whose
// identity it stored recently (IdentityWindow: JetStream's duplicate window
// is 2 minutes, this one is dedup_count alerts), gives each of the others
// the id sequence * kMaxAlertsPerMessage + index (sequence: the message's
// GSOC_ALERTS stream sequence) and writes them into the local AlertStore
// (StoreOptions::ids_given), which serves API and stream as on a single
// node. The message is acknowledged only after the store committed (and
// synced, per store.sync) its alerts.
//
// Replicas agree: every store node reads the same messages in stream order
// (max_ack_pending 1: nothing is delivered past an unacknowledged message,
// so a redelivery comes before anything newer), and an alert's id depends
// only on its message's sequence and place. An alert whose id is not above
// the store's last id is already stored (a redelivery after a crash) and
// is skipped. At start the window is rebuilt from the messages before the
// store's last id (read back from GSOC_ALERTS).
//
// Aggregate versions (made by the correlate partitions, `replaces` 0): the
// role resolves `replaces` to the id this store gave the aggregate's
// previous version (AggregateIndex: by aggregate key, checked against the
// rule, agency, group and opening), so the store deletes it in the same
// write, as on a single node; a version not newer than the one stored is
// dropped (superseded). The index is a function of the stream, so replicas
// keep the same records under the same ids; at start it is rebuilt from the
// store's own newest alerts.
//
// When the store is slow, the thread waits in AlertStore::Flush and fetches
// nothing: alerts wait in GSOC_ALERTS. A failed store (sticky write error)
// stops the role: nothing more is acknowledged until a restart.
//
// Threading: Create, Start, Stop on the daemon's thread; one consumer thread.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/jetstream.h"
#include "engine/store/alert_store.h"

namespace gsoc {

struct StoreRoleOptions {
  std::string node;                    // this node's name: its durable consumer
  std::chrono::seconds ack_wait{5};    // redelivery after this without an ack
  size_t dedup_count = 262144;         // identities kept (x IdentityWindow::kBytesPerEntry)
  size_t rebuild_max_messages = 4096;  // read back at start, at most
  size_t aggregate_count = 262144;     // aggregates whose newest version's id is kept
};

// The newest stored version of each aggregate (by its key), first in first
// out beyond max_count. The consumer thread's only.
class AggregateIndex {
 public:
  explicit AggregateIndex(size_t max_count) : max_count_(max_count) {}
  // For `alert` (an aggregate version about to get `id`): false when a
  // version of the same aggregate at least as new is stored (drop it);
  // otherwise sets alert.replaces (0: nothing to replace) and records it.
  bool Resolve(Alert& alert, uint64_t id);
  // At start, newest first: the first version seen of each aggregate wins.
  void Recall(const Alert& alert, uint64_t id);
  size_t size() const { return records_.size(); }

 private:
  struct Record {
    uint64_t id = 0;
    uint32_t version = 0;
    int64_t opened_ns = 0;
    uint64_t check = 0;  // rule, agency and group: another aggregate under the same key hash
    uint64_t serial = 0;
  };
  void Put(uint64_t key, const Record& record);
  size_t max_count_;
  uint64_t serial_ = 0;
  std::unordered_map<uint64_t, Record> records_;
  std::deque<std::pair<uint64_t, uint64_t>> order_;  // (key, serial), oldest first
};

class StoreRole {
 public:
  // `client` and `store` must outlive the role.
  static std::unique_ptr<StoreRole> Create(JetStreamClient& client, store::AlertStore& store,
                                           StoreRoleOptions options);
  ~StoreRole();  // Stop()
  StoreRole(const StoreRole&) = delete;
  StoreRole& operator=(const StoreRole&) = delete;

  void Start();
  void Stop();

  // The store id of alert `index` of GSOC_ALERTS message `sequence`.
  static uint64_t AlertId(uint64_t sequence, size_t index) {
    return sequence * kMaxAlertsPerMessage + index;
  }
  // The durable consumer name of store node `node`.
  static std::string DurableName(std::string_view node);

  uint64_t stored() const { return stored_.load(std::memory_order_relaxed); }
  // False once the role stopped for good: the store failed, or GSOC_ALERTS
  // is behind the store (recreated: its ids would start over below ours).
  bool healthy() const { return !stopped_for_good_.load(std::memory_order_relaxed); }
  uint64_t deduplicated() const { return deduplicated_.load(std::memory_order_relaxed); }

  // gsoc_cluster_store_*; the role must outlive the metrics server.
  std::vector<std::shared_ptr<prometheus::Collectable>> MakeCollectables();

 private:
  StoreRole(JetStreamClient& client, store::AlertStore& store, StoreRoleOptions options)
      : client_(client),
        store_(store),
        options_(std::move(options)),
        window_(options_.dedup_count),
        aggregates_(options_.aggregate_count) {}
  void Run();
  void RebuildWindow();
  void RebuildAggregates();
  // False (logged, role stopped) when GSOC_ALERTS ends before the store's
  // last alert: the stream was recreated under this store.
  bool CheckStreamNotBehind();
  Consumed Handle(const ConsumedMessage& message);
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  JetStreamClient& client_;
  store::AlertStore& store_;
  const StoreRoleOptions options_;
  IdentityWindow window_;  // the consumer thread's only
  AggregateIndex aggregates_;
  std::vector<ClusterAlert> decoded_;
  std::vector<Alert> batch_;
  bool failed_ = false;  // the store failed: stop consuming (the consumer thread's)
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_for_good_{false};
  std::thread thread_;
  std::atomic<uint64_t> messages_{0}, stored_{0}, deduplicated_{0}, already_stored_{0};
  std::atomic<uint64_t> redeliveries_{0}, refused_{0}, fetch_errors_{0};
  std::atomic<uint64_t> pending_{0}, unacked_{0}, window_size_{0}, rebuilt_{0}, behind_{0};
  std::atomic<uint64_t> superseded_{0}, replaced_{0}, aggregates_known_{0};
};

}  // namespace gsoc
