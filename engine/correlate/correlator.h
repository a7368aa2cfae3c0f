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
// Gathering a batch's inputs (reading fields, building keys) runs in
// parallel; applying them takes the correlator's one mutex, once per batch
// (never per event). Tick, Checkpoint and stats take it too. In gsocd
// (ExpectSequence) batches are applied in input order (their event ids, as
// the pipeline queue numbered them), whichever worker finishes matching
// first: so gsocd with any number of workers applies exactly what
// `gsocctl replay` applies, and produces the same alerts.
//
// Time: event time advances per source (agency, host): a source's time is
// the newest event time it sent, its watermark that minus `lateness`. A key
// is advanced (windows closed, entries trimmed, absences fired, the key
// expired) by the watermark of its owner: the slowest source that fed it.
// So a delayed batch from one agency is not late relative to the others,
// and a line stamped far ahead moves its own source's time only.
// Inputs are never moved to another time. An input later than `lateness`
// for its source is placed at its own time while its key still keeps that
// time (not before the key's advanced watermark minus the timespan);
// otherwise it is counted as late and left out. Windows a key has decided
// are never reopened: for rules whose closes fire (upper bounds, absence)
// an input before that point is left out too, whatever its source.
// When a source sends nothing for `idle_advance` (wall clock), Tick moves
// its time on with the wall clock, so its windows close and absences fire;
// while inputs flow only event time counts, so a replay gives the alerts a
// live run gives.
//
// When the next stage is full: alerts are appended to the caller's vector;
// the caller (DetectionStage) publishes them with its detections, and a slow
// sink blocks the worker like any other alert.
//
// Bounds: at most `max_keys_per_rule` live keys and `max_bytes_per_rule`
// bytes per correlation; a new key beyond that evicts the least advanced
// key near a clock hand (fewest entries, then oldest; counted), never a
// random one. Group-by values are bounded by `max_value_bytes`. Keys whose windows
// have passed are expired when their owner's time passes them. At most
// `max_sources` sources are tracked (a source costs ~100 bytes: the host
// is kept as a 64-bit hash); beyond, the least recently active one is
// evicted (counted) and the keys it owned are advanced by the orphan clock
// (the evicted sources' newest time, then the wall clock).
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
#include "engine/correlate/window.h"
#include "engine/event/event_batch.h"
#include "engine/rules/correlation_rule.h"

namespace gsoc::correlate {

namespace internal {
struct Slot;
class RawCache;
}  // namespace internal

struct CorrelatorOptions {
  int64_t lateness_ns = 60'000'000'000;     // out-of-order tolerance
  int64_t idle_advance_ns = 5'000'000'000;  // quiet stream: wall clock moves time on
  size_t max_keys_per_rule = 1'000'000;     // live keys per correlation rule
  size_t shards = 16;                       // power of two not required
  size_t max_alert_events = 10;             // contributing events carried by an alert
  WindowLimits window;                      // per-key entry bound
  size_t raw_cache_bytes = 64ull << 20;     // raw lines of recent correlated events, all shards
  size_t max_sources = 65536;               // (agency, host) event clocks tracked
  // Bytes: a group-by value longer than max_value_bytes is kept as its
  // first bytes, "...#" and a 64-bit hash of the whole (still distinct,
  // marked as truncated); a rule's keys hold at most max_bytes_per_rule
  // (beyond, keys are evicted like at max_keys_per_rule); a raw line kept
  // for an alert (and a checkpoint) at most max_raw_line_bytes. (The
  // per-rule bound counts live keys; the key index and slot blocks add up
  // to half again at their high-water mark.)
  size_t max_value_bytes = 256;
  size_t max_bytes_per_rule = 256ull << 20;
  size_t max_raw_line_bytes = 4096;
  // gsocd (ExpectSequence): how long a batch waits for the one before it
  // before going ahead anyway (counted as a sequence gap).
  int64_t sequence_wait_ns = 10'000'000'000;
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
  uint64_t late = 0;             // inputs left out: their time was decided (see Time above)
  uint64_t late_placed = 0;      // inputs later than lateness for their source, placed all the same
  uint64_t missing_group = 0;    // inputs without a group-by field: skipped
  uint64_t missing_value = 0;    // value_* inputs without `field` (or not a number): skipped
  uint64_t evicted = 0;          // keys evicted by max_keys_per_rule (or a changed rule)
  uint64_t expired = 0;          // keys whose windows passed
  uint64_t entries_dropped = 0;  // entries dropped by WindowLimits
  uint64_t raw_missing = 0;      // alert contributors shown without raw (raw_cache too small)
  uint64_t live_keys = 0;        // gauge
  uint64_t state_bytes = 0;      // gauge: estimated heap bytes of all key state
  uint64_t checkpoints = 0;      // checkpoints written (counted by the caller of Checkpoint)
  uint64_t sources = 0;          // gauge: sources whose event time is tracked
  uint64_t source_evictions = 0;  // sources evicted by max_sources
  uint64_t sequence_gaps = 0;     // batches applied without their predecessor (sequence_wait)
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

  // gsocd: from now on batches are applied in the order of their event ids,
  // the first one starting at `first_event_id` (every batch's ids are
  // contiguous, numbered by the pipeline queue). Every batch must then reach
  // Process or Pass, once.
  void ExpectSequence(uint64_t first_event_id);
  // A batch with nothing to correlate: lets the batches after it go ahead.
  void Pass(const EventBatch& batch);
  // True when Process of `batch` would now wait for batches before it.
  bool WouldWait(const EventBatch& batch) const;

  // Maintenance (e.g. once a second from one thread): idle advance, window
  // closes and absence deadlines (alerts appended), expiry of passed keys.
  // `wall_now_ns` is std::chrono::system_clock time, the clock Process notes
  // input arrival with; a value far in the future (after the last input)
  // carries the stream time past every window (end of a replay).
  void Tick(const CorrelationSet& set, int64_t wall_now_ns, std::vector<Alert>& alerts);

  // Serializes the state into `out` (a versioned binary blob with a
  // checksum) a piece at a time, each under the state lock, so batches go
  // on in between: the whole is one consistent cut only when no Process or
  // Tick runs meanwhile (format and details in correlator_checkpoint.cc). Restore replaces all
  // state from such a blob, keeping only correlations of `set` whose fingerprint matches; returns
  // false with `error` on a malformed or foreign blob (state is then empty).
  void Checkpoint(std::string& out) const;
  bool Restore(const CorrelationSet& set, std::string_view blob, std::string* error);

  CorrelatorStats stats() const;
  // The newest event time of any source (a gauge; nothing is judged by it).
  int64_t stream_time_ns() const { return stream_time_ns_.load(std::memory_order_relaxed); }
  // The event time of source (agency, host); INT64_MIN when not tracked.
  int64_t source_time_ns(uint16_t agency, std::string_view host) const;

 private:
  struct Shard;
  struct Source;
  struct SourceTable;
  class Sequencer;
  struct SetBinding;
  class Round;  // the work of one Process or Tick call (correlator.cc)

  std::shared_ptr<const SetBinding> Bind(const CorrelationSet& set);
  void RaiseStreamTime(int64_t time_ns);
  bool RestoreBody(const CorrelationSet& set, uint32_t version, std::string_view body,
                   std::string* error);
  void AppendShard(const Shard& shard, std::string& out) const;
  uint32_t AppendTableKeys(const Shard& shard, uint32_t id, const std::string& key,
                           std::string& out, std::vector<uint64_t>& ids) const;
  void AppendKey(const internal::Slot& slot, std::string& out, std::vector<uint64_t>& ids) const;
  void LetWaitingBatchesIn() const;
  void AppendReferencedRaw(std::vector<uint64_t>& ids, std::string& out) const;
  void ClearState();
  void ClearStateLocked();

  CorrelatorOptions options_;
  std::vector<std::string> agency_names_;
  // Guards shards_ and sources_: held while one batch (or a Tick, a
  // checkpoint, stats) is applied.
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<SourceTable> sources_;
  // Raw lines of recent correlated events, one copy an event whatever the
  // number of correlations (shards) it feeds: a cache per shard copied an
  // sshd failure that feeds four correlations four times.
  std::unique_ptr<internal::RawCache> raw_;
  std::unique_ptr<Sequencer> sequencer_;
  size_t keys_per_shard_ = 0;   // ceil(max_keys_per_rule / shards); 0 = unbounded
  size_t bytes_per_shard_ = 0;  // max_bytes_per_rule / shards; 0 = unbounded
  std::atomic<int64_t> stream_time_ns_{INT64_MIN};
  std::atomic<uint32_t> waiting_{0};        // Process calls waiting for mutex_
  std::atomic<uint64_t> next_chain_id_{1};  // ids of chained firings (top bit set)
  std::atomic<uint64_t> late_{0}, late_placed_{0}, missing_group_{0}, missing_value_{0};

  // Bindings of the rule sets seen recently (newest first): table keys and
  // hash seeds per correlation. A shard remaps when its epoch differs.
  std::mutex bind_mutex_;
  std::vector<std::shared_ptr<const SetBinding>> bindings_;
  uint64_t next_epoch_ = 1;
  std::atomic<uint64_t> latest_epoch_{0};
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
