// Correlator: runs a CorrelationSet over detection hits, in event time, with
// bounded, sharded, checkpointable state.
//
// Ownership: the Correlator owns all correlation state; it outlives rule
// reloads. State belongs to (correlation fingerprint, group key): when a
// reload (or a checkpoint restore) brings a correlation whose fingerprint is
// unchanged, its keys carry over; state of correlations that changed or went
// away is dropped (and counted as evicted).
//
// Threading: Process is called from every pipeline worker concurrently.
// State is split into shards by hash(correlation, key); each shard has its
// own mutex, taken once per batch per shard that batch touches (never per
// event, never a global lock). Tick and Checkpoint may run on another thread
// at the same time; they take shards one at a time.
//
// Time: the stream time is the newest event time seen by any shard (one
// atomic max per batch). The watermark is stream time minus `lateness`. An
// input older than the watermark is late: counted, and processed at the
// stream time (live, the time it was received). When no input arrives for
// `idle_advance`, Tick moves the stream time on with the wall clock, so
// absence deadlines and window closes still happen on a quiet stream; while
// inputs flow (replaying an old file), only event time counts, so a replay
// gives the alerts a live run gives.
//
// When the next stage is full: alerts are appended to the caller's vector;
// the caller (DetectionStage) publishes them with its detections, and a slow
// sink blocks the worker like any other alert.
//
// Bounds: at most `max_keys_per_rule` live keys per correlation; a new key
// beyond that evicts the key closest to expiry (counted). Keys whose windows
// have passed are expired by Tick and when their shard is touched.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/correlate/correlation_rule.h"
#include "engine/correlate/window.h"
#include "engine/event/event_batch.h"

namespace gsoc::correlate {

struct CorrelatorOptions {
  int64_t lateness_ns = 60'000'000'000;     // out-of-order tolerance
  int64_t idle_advance_ns = 5'000'000'000;  // quiet stream: wall clock moves time on
  size_t max_keys_per_rule = 1'000'000;     // live keys per correlation rule
  size_t shards = 16;                       // power of two not required
  size_t max_alert_events = 10;             // contributing events carried by an alert
  WindowLimits window;                      // per-key entry bound
  size_t raw_cache_bytes = 64ull << 20;     // raw lines of recent correlated events, all shards
};

// One detection hit relevant to correlation: event `event_index` of the
// batch matched detection rule `rule_index` (Matcher::rules()).
struct RuleHit {
  uint32_t event_index = 0;
  uint32_t rule_index = 0;
};

// Monotonic counters and gauges for metrics (gsoc_correlation_*).
struct CorrelatorStats {
  uint64_t updates = 0;          // inputs applied to a key (hits x routes, chained included)
  uint64_t firings = 0;          // alerts emitted
  uint64_t suppressed = 0;       // firings held back by suppression
  uint64_t late = 0;             // inputs older than the watermark
  uint64_t missing_group = 0;    // inputs without a group-by field: skipped
  uint64_t missing_value = 0;    // value_* inputs without `field` (or not a number): skipped
  uint64_t evicted = 0;          // keys evicted by max_keys_per_rule (or a changed rule)
  uint64_t expired = 0;          // keys whose windows passed
  uint64_t entries_dropped = 0;  // entries dropped by WindowLimits
  uint64_t raw_missing = 0;      // alert contributors shown without raw (raw_cache too small)
  uint64_t live_keys = 0;        // gauge
  uint64_t state_bytes = 0;      // gauge: estimated heap bytes of all key state
  uint64_t checkpoints = 0;      // checkpoints written (counted by the caller of Checkpoint)
};

class Correlator {
 public:
  Correlator(CorrelatorOptions options, std::vector<std::string> agency_names);
  ~Correlator();

  // Worker threads. Feeds `hits` (in batch order) to every route of their
  // rule in `set`, then chained correlations, and appends the correlation
  // alerts that fired to `alerts`. Allocation-free in steady state except
  // for new keys and alerts. Never throws.
  void Process(const CorrelationSet& set, const EventBatch& batch, std::span<const RuleHit> hits,
               std::vector<Alert>& alerts);

  // Maintenance (e.g. once a second from one thread): idle advance, window
  // closes and absence deadlines (alerts appended), expiry of passed keys.
  // `wall_now_ns` is std::chrono::system_clock time, the clock Process notes
  // input arrival with; a value far in the future (after the last input)
  // carries the stream time past every window (end of a replay).
  void Tick(const CorrelationSet& set, int64_t wall_now_ns, std::vector<Alert>& alerts);

  // Serializes every shard (one at a time) into `out`: a versioned binary
  // blob with a checksum. Restore replaces all state from such a blob,
  // keeping only correlations of `set` whose fingerprint matches; returns
  // false with `error` on a malformed or foreign blob (state is then empty).
  void Checkpoint(std::string& out) const;
  bool Restore(const CorrelationSet& set, std::string_view blob, std::string* error);

  CorrelatorStats stats() const;
  int64_t stream_time_ns() const { return stream_time_ns_.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  struct SetBinding;
  class Round;  // the work of one Process or Tick call (correlator.cc)

  std::shared_ptr<const SetBinding> Bind(const CorrelationSet& set);
  int64_t RaiseStreamTime(int64_t time_ns);
  int64_t IdleAdvance(int64_t wall_now_ns);
  bool RestoreBody(const CorrelationSet& set, std::string_view body, std::string* error);
  void ClearState();

  CorrelatorOptions options_;
  std::vector<std::string> agency_names_;
  std::vector<std::unique_ptr<Shard>> shards_;
  size_t keys_per_shard_ = 0;  // ceil(max_keys_per_rule / shards); 0 = unbounded
  std::atomic<int64_t> stream_time_ns_{INT64_MIN};
  std::atomic<uint64_t> next_chain_id_{1};  // ids of chained firings (top bit set)
  std::atomic<uint64_t> late_{0}, missing_group_{0}, missing_value_{0};

  // Bindings of the rule sets seen recently (newest first): table keys and
  // hash seeds per correlation. A shard remaps when its epoch differs.
  std::mutex bind_mutex_;
  std::vector<std::shared_ptr<const SetBinding>> bindings_;
  uint64_t next_epoch_ = 1;
  std::atomic<uint64_t> latest_epoch_{0};

  // Idle advance: wall time of the last input (Process) and of the last
  // advance (Tick, under tick_mutex_); 0 = none yet.
  std::mutex tick_mutex_;
  std::atomic<int64_t> last_input_wall_ns_{0};
  int64_t last_advance_wall_ns_ = 0;
};

// Where checkpoints live: a file now; the RocksDB store's checkpoint column
// family once it exists (issue 5). Save replaces the previous checkpoint
// atomically (a crash leaves the old one or the new one, never half).
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  virtual void Save(std::string_view blob) = 0;  // throws std::runtime_error on I/O failure
  virtual bool Load(std::string* blob) = 0;      // false when there is none
};

// <path>: written to <path>.tmp, fsynced, renamed, directory fsynced.
class FileCheckpointStore : public CheckpointStore {
 public:
  explicit FileCheckpointStore(std::string path) : path_(std::move(path)) {}
  void Save(std::string_view blob) override;
  bool Load(std::string* blob) override;

 private:
  std::string path_;
};

}  // namespace gsoc::correlate
