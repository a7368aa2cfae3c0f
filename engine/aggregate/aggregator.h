// Aggregator: repeated detection hits become one alert that grows.
//
// Hits of one rule, in one agency, with the same values of the rule's group
// fields (the rule's `aggregate_by`, else the configured default: those of
// src_ip, dst_ip, user, target_user, rhost, host the event has) within
// `period` of the first one are ONE aggregate. Its first hit is published at
// once (version 0, count 1); later hits only count, widen the window and add
// contributing events (capped in number and bytes). At most every
// `update_interval`, and when the period ends, an aggregate that grew is
// published again as a new version: a new alert with a new (higher) id that
// `replaces` the previous version's id (the store deletes that record in the
// same WriteBatch). So the store holds one record per aggregate and a stream
// client resuming "after id N" sees the newest version of every aggregate
// that changed after N. An aggregate that did not grow closes silently (its
// last version says until when it could grow: "closes").
//
// Bounds: max_open aggregates and max_bytes of their memory; a hit that would
// open one beyond them is published as an alert of its own (counted in
// `overflow`), never dropped.
//
// Threading: Add on worker threads (one lock per shard touched per batch),
// OnCommitted on the store's writer thread (it learns each version's id),
// Tick on the aggregator's own thread (Start/Stop), which publishes updates
// and closings to the sink (blocking there like any producer when the store
// is slow). Resume (before Start) continues the aggregates that were open
// when gsocd last stopped or died, from their stored versions.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/aggregate/aggregate_table.h"
#include "engine/detect/detection_stage.h"
#include "engine/store/alert_store.h"
#include "engine/util/thread_annotations.h"

namespace gsoc::aggregate {

struct AggregateOptions {
  bool enabled = true;
  std::chrono::milliseconds period{std::chrono::minutes(10)};
  std::chrono::milliseconds update_interval{std::chrono::seconds(30)};
  std::vector<std::string> group_by{"src_ip", "dst_ip", "user", "target_user", "rhost", "host"};
  size_t max_open = 100'000;
  uint64_t max_bytes = uint64_t{256} << 20;
  size_t max_events = 10;         // contributing events kept per aggregate
  size_t max_event_bytes = 2048;  // raw bytes kept per contributing event (then truncated)
  // Tests: the wall clock (periods and update intervals).
  std::function<std::chrono::system_clock::time_point()> clock_for_test;
  // Tests: the hash of an aggregate key's bytes (to make collisions).
  std::function<uint64_t(std::string_view)> key_hash_for_test;
};

struct AggregatorStats {
  uint64_t hits = 0;        // detection hits handed to the aggregator
  uint64_t aggregated = 0;  // hits that joined an open aggregate (no alert of their own)
  uint64_t opened = 0;      // aggregates opened (version 0 published)
  uint64_t updated = 0;     // later versions published (updates and closings)
  uint64_t closed = 0;      // aggregates closed
  uint64_t overflow = 0;    // hits published alone: max_open or max_bytes reached
  uint64_t collisions = 0;  // hits published alone: another aggregate had their key's hash
  uint64_t resumed = 0;     // aggregates continued from the store at start
  uint64_t open = 0;        // gauge
  uint64_t bytes = 0;       // gauge: memory of the open aggregates (estimate)
};

class Aggregator : public DetectionAggregator, public store::CommitListener {
 public:
  // `sink`: where updates and closings go (the store); not owned.
  Aggregator(AggregateOptions options, AlertSink* sink);
  ~Aggregator() override;

  void Add(const EventBatch& batch, std::span<const DetectionHit> hits,
           const std::vector<std::string>& agency_names, std::vector<Alert>& alerts) override;
  void OnCommitted(std::span<const store::StoredAlert> alerts) override;

  // Continues the aggregates whose stored newest version is still open;
  // returns how many. Before Start.
  size_t Resume(const store::AlertReader& reader);
  void Start();
  // Stops the tick thread, then publishes the final version of every
  // aggregate that grew since its last one, and flushes the sink.
  void Stop();
  // One tick at `now` (the thread calls it every second; tests directly).
  void Tick(std::chrono::system_clock::time_point now);

  AggregatorStats stats() const;

 private:
  // An open aggregate. What a joining hit reads and writes comes first, the
  // key's bytes right behind it in the same allocation (MakeAggregate): a
  // join touches two or three adjacent cache lines, not the alert's.
  struct Aggregate {
    uint64_t count = 0;            // hits so far; the alert's count, window: as last published
    uint64_t published_count = 0;  // count in the newest published version
    int64_t window_start_ns = 0, window_end_ns = 0;
    int64_t closes_ns = 0;     // the alert's aggregate_closes_ns
    int64_t published_ns = 0;  // when the newest version was published
    uint64_t last_id = 0;      // its id, once committed (0: not yet)
    int64_t due_ns = 0;        // when the tick next looks at it (its entry in Shard::due)
    size_t bytes = 0;
    uint32_t events = 0;           // alert->events.size()
    uint32_t key_size = 0;         // rule, agency and group values (AggregateKeyOf's bytes)
    std::unique_ptr<Alert> alert;  // version, events and the rest; count and window stale

    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
  };
  struct FreeAggregate {
    void operator()(Aggregate* aggregate) const;
  };
  using Table = AggregateTable<Aggregate, FreeAggregate>;
  struct Due {
    int64_t at_ns;
    uint64_t key;
    bool operator>(const Due& other) const { return at_ns > other.at_ns; }
  };
  struct Shard {
    Mutex mutex;
    Table open GSOC_GUARDED_BY(mutex);  // by aggregate key
    // Min-heap of when each aggregate next needs the tick (its next version
    // or its end); entries whose time is not the aggregate's due_ns are
    // stale. The tick visits what is due, not every open aggregate: walking
    // 100,000 of them every second under the shard locks was gsocd's
    // busiest function on a stream of distinct attackers, and the store's
    // writer waited on those locks (OnCommitted).
    std::vector<Due> due GSOC_GUARDED_BY(mutex);
  };
  static constexpr size_t kShards = 16;

  // A hit on its way to its shard (Add): its key's hash and bytes.
  struct PendingHit {
    uint32_t shard;
    uint32_t hit;  // index into Add's hits
    uint64_t key;
    uint32_t key_begin, key_size;  // its key's bytes in Add's `keys`
  };
  struct AddContext;

  int64_t NowNs() const;
  // Add's first step: the hits that aggregate, with their keys' bytes
  // appended to `keys` and hashed; the others' alerts to `alerts`.
  void Pend(const EventBatch& batch, std::span<const DetectionHit> hits,
            const std::vector<std::string>& agency_names, std::string& keys,
            std::vector<PendingHit>& pending, std::vector<Alert>& alerts) const;
  // The hits of one shard, in order, under its lock.
  void AddToShard(Shard& shard, std::span<const PendingHit> pending, AddContext& context)
      GSOC_EXCLUDES(shard.mutex);
  // One hit: joins, opens or (a collision) is an alert of its own.
  void AddHit(Shard& shard, const PendingHit& p, AddContext& context) GSOC_REQUIRES(shard.mutex);
  static void PrefetchAggregate(const Aggregate* aggregate);
  // An aggregate holding `alert` (count, window, end and events taken from
  // it) and a copy of `key_bytes`.
  static Table::Ptr MakeAggregate(std::string_view key_bytes, Alert alert);
  // Counts a hit into `aggregate`; `shard.mutex` held.
  void Join(Shard& shard, uint64_t key, Aggregate& aggregate, const Event& event, int64_t now_ns)
      GSOC_REQUIRES(shard.mutex);
  // When the tick must next look at `aggregate`: its next version (once the
  // interval since the last one passed and that one is committed) or its end.
  int64_t NextDue(const Aggregate& aggregate, int64_t now_ns) const;
  static void Schedule(Shard& shard, uint64_t key, Aggregate& aggregate, int64_t at_ns)
      GSOC_REQUIRES(shard.mutex);
  // One aggregate's turn in a tick: publishes its next version when due,
  // closes it when its period ended; false when it closed (erase it).
  bool Visit(Aggregate& aggregate, int64_t now_ns, bool final, std::vector<Alert>& out);
  // The alert to publish: version 0 of a new aggregate, or, beyond the
  // bounds, the hit's alert of its own.
  Alert Open(Shard& shard, uint64_t key, std::string_view key_bytes, Alert alert, int64_t now_ns)
      GSOC_REQUIRES(shard.mutex);
  // The next version of `aggregate` (replacing the committed previous one).
  Alert NextVersion(Aggregate& aggregate, int64_t now_ns);
  void TickShard(Shard& shard, int64_t now_ns, bool final, std::vector<Alert>& out)
      GSOC_EXCLUDES(shard.mutex);
  Alert TrimmedAlert(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                     const std::string& agency) const;

  const AggregateOptions options_;
  AlertSink* const sink_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> open_count_{0}, open_bytes_{0};
  std::atomic<uint64_t> hits_{0}, aggregated_{0}, opened_{0}, updated_{0}, closed_{0};
  std::atomic<uint64_t> overflow_{0}, resumed_{0}, collisions_{0};

  Mutex tick_mutex_;
  std::condition_variable_any tick_cv_;
  bool stop_ GSOC_GUARDED_BY(tick_mutex_) = false;
  std::thread thread_;
};

// Reads an aggregate alert back from its JSON (Resume); false when it is not
// one. Exposed for tests.
bool ParseAggregateAlert(std::string_view json, Alert* alert);

}  // namespace gsoc::aggregate
