// Private to the correlator (correlator.cc, correlator_round.cc,
// correlator_checkpoint.cc): the state types behind Correlator and the
// helpers they share. The layout and the decisions are described at the top
// of correlator.cc.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "engine/correlate/correlator.h"
#include "engine/correlate/key_table.h"
#include "engine/correlate/raw_cache.h"
#include "engine/event/field_access.h"
#include "engine/util/wire_format.h"

namespace gsoc::correlate {

using internal::CompactKey;
using internal::HashBytes;
using internal::KeyTable;
using internal::kMultipleAgencies;
using internal::kNoAgency;
using internal::kNoSlot;
using internal::kNoSuppression;
using internal::RawCache;
using internal::SaturatingAdd;
using internal::Slot;

namespace detail {

inline constexpr uint64_t kChainIdBit = uint64_t{1} << 63;
inline constexpr uint32_t kNone = UINT32_MAX;
inline constexpr uint64_t kTableSeed = 0x67736f63636f7272ULL;
inline constexpr uint64_t kValueSeed = 0x76616c7565686173ULL;
inline constexpr uint64_t kChecksumSeed = 0x636b7074636b7375ULL;
inline constexpr size_t kMaxBindings = 4;
inline constexpr size_t kPrefetchIndex = 8;  // updates ahead: index entry
inline constexpr size_t kPrefetchSlot = 4;   // updates ahead: the slot
inline constexpr char kMagic[8] = {'G', 'S', 'O', 'C', 'C', 'O', 'R', 'R'};
inline constexpr uint32_t kCheckpointVersion = 3;
inline constexpr uint32_t kCheckpointVersionSourcesFirst = 2;  // still restored
// Slots of a key table (or lines of a raw cache) a checkpoint writes per
// hold of the state lock: ~1 ms at ~200 ns a key.
inline constexpr uint32_t kCheckpointPiece = 4096;

// A key's deadline, in the heap of the source that owns it.
struct HeapEntry {
  int64_t deadline_ns;
  uint32_t shard;
  uint32_t table;
  uint32_t slot;
};
struct LaterDeadline {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    return a.deadline_ns > b.deadline_ns;
  }
};

struct ShardCounters {
  uint64_t updates = 0, firings = 0, suppressed = 0, evicted = 0, expired = 0;
  uint64_t entries_dropped = 0;
  uint64_t raw_missing = 0;  // contributors whose raw line the raw cache had dropped
};

// One input for one key, gathered before the correlator is locked.
struct Update {
  uint64_t hash;
  uint64_t source_key;  // SourceKey(agency, host) of the event; unused when chained
  uint32_t rule;
  uint32_t shard;
  uint32_t key_begin;
  uint32_t key_length;
  int32_t event_index;  // the batch event the input came from, -1 for none
  uint32_t seed;        // chained: index of the feeding Seed, kNone otherwise
  uint16_t agency;
  WindowInput input;
};

// A firing that feeds chained correlations (applied right after the input
// that caused it).
struct Seed {
  uint32_t rule;
  int32_t event_index;  // the batch event that triggered it, -1 for none
  uint16_t agency;
  uint32_t source;  // the owner of the firing key: chained inputs advance by it
  int64_t time_ns;
  uint64_t chain_id;
  uint32_t key_begin, key_length;          // in seed_bytes
  uint32_t payload_begin, payload_length;  // in seed_bytes: the encoded contributors
};

struct Scratch {
  std::vector<Update> updates, chained;
  std::string keys;
  std::vector<Seed> seeds, next_seeds;
  std::string seed_bytes, next_seed_bytes;
  std::vector<std::string_view> source_values;
  WindowFiring firing;

  void Reset() {
    updates.clear();
    chained.clear();
    keys.clear();
    seeds.clear();
    next_seeds.clear();
    seed_bytes.clear();
    next_seed_bytes.clear();
  }
};
inline thread_local Scratch tls_scratch;

inline constexpr uint64_t kSourceSeed = 0x736f757263656b79ULL;
inline constexpr uint32_t kOrphans = 0;  // the source index of keys whose owner was evicted

// A source's identity: its agency and a hash of its host name (the host is
// never stored, so a source costs the same whatever its name).
inline uint64_t SourceKey(uint16_t agency, std::string_view host) {
  return HashBytes(host, kSourceSeed + agency) | 1;  // never 0 (free slots)
}

// A group-by value beyond the limit: its first bytes, "...#" and 16 hex
// digits of a hash of the whole value, `limit` bytes in all.
inline constexpr size_t kTruncatedValueTail = 20;
inline constexpr uint64_t kTruncatedSeed = 0x7472756e63617465ULL;
inline void AppendTruncated(std::string& out, std::string_view value, size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append(value.substr(0, limit - kTruncatedValueTail));
  out.append("...#");
  const uint64_t hash = HashBytes(value, kTruncatedSeed);
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(hash >> shift) & 0xF]);
}

// Splits a key into its `count` group-by values; false when malformed.
inline bool SplitKey(std::string_view key, size_t count, std::vector<std::string_view>& values) {
  values.clear();
  if (count == 0) return key.empty();
  for (size_t g = 0; g + 1 < count; ++g) {
    uint64_t length;
    if (!wire::ReadVarint(key, &length) || length > key.size()) return false;
    values.push_back(key.substr(0, length));
    key.remove_prefix(length);
  }
  values.push_back(key);
  return true;
}

// The field holding group_by[g] for inputs from refs[ref].
inline const std::string& GroupFieldName(const CorrelationRule& rule, size_t g, uint32_t ref) {
  if (g < rule.group_fields.size() && ref < rule.group_fields[g].size()) {
    return rule.group_fields[g][ref];
  }
  return rule.group_by[g];
}

inline std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '+')) text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(number)) {
    return std::nullopt;
  }
  return number;
}

inline uint16_t MergeAgency(uint16_t current, uint16_t input) {
  if (input == kNoAgency || current == input) return current;
  return current == kNoAgency ? input : kMultipleAgencies;
}

// Contributors of a chained firing, cached under its synthetic id:
// u32 count, then per event u64 id, i64 time, u32 length, bytes.
template <typename T>
inline void AppendPod(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}
template <typename T>
inline bool ReadPod(std::string_view& in, T* value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

inline void EncodeEvents(const std::vector<AlertEvent>& events, std::string& out) {
  AppendPod<uint32_t>(out, static_cast<uint32_t>(events.size()));
  for (const AlertEvent& event : events) {
    AppendPod<uint64_t>(out, event.id);
    AppendPod<int64_t>(out, event.time_ns);
    AppendPod<uint32_t>(out, static_cast<uint32_t>(event.raw.size()));
    out.append(event.raw);
  }
}

inline void AppendUnique(std::vector<AlertEvent>& events, AlertEvent event) {
  for (const AlertEvent& seen : events) {
    if (seen.id == event.id) return;
  }
  events.push_back(std::move(event));
}

// Tolerates truncation (the cache truncates very long entries): decodes what is whole.
inline void DecodeEvents(std::string_view in, std::vector<AlertEvent>& events) {
  uint32_t count = 0;
  if (!ReadPod(in, &count)) return;
  for (uint32_t i = 0; i < count; ++i) {
    AlertEvent event;
    uint32_t length = 0;
    if (!ReadPod(in, &event.id) || !ReadPod(in, &event.time_ns) || !ReadPod(in, &length) ||
        length > in.size()) {
      return;
    }
    event.raw.assign(in.substr(0, length));
    in.remove_prefix(length);
    AppendUnique(events, std::move(event));
  }
}

inline int64_t SuppressionEnd(const Slot& slot, const CorrelationRule& rule) {
  return slot.suppressed > 0 ? SaturatingAdd(slot.suppress_until_ns, rule.suppress_ns)
                             : slot.suppress_until_ns;
}

// Clears suppression state that can no longer matter at `watermark_ns`.
inline void ExpireSuppression(Slot& slot, const CorrelationRule& rule, int64_t watermark_ns) {
  if (slot.suppress_until_ns != kNoSuppression && watermark_ns >= SuppressionEnd(slot, rule)) {
    slot.suppress_until_ns = kNoSuppression;
    slot.suppressed = 0;
  }
}

// Heap bytes of a window including the allocator's chunk header and
// rounding (glibc: 8 bytes, 16-byte granules), as RSS sees them.
inline int64_t WindowFootprint(const KeyWindow& window) {
  const size_t bytes = window.HeapBytes();
  return bytes == 0 ? 0
                    : static_cast<int64_t>(std::max<size_t>(32, (bytes + 8 + 15) & ~size_t{15}));
}

// Whether closing a window can fire (upper-bound conditions, absences): then
// a key must be advanced exactly at its NextDeadline. Otherwise advancing
// only trims entries that can no longer count, which the Correlator does
// while the key is touched anyway (TrimOnTouch), and the key's deadline is
// when its newest entry leaves the window: it expires then unless touched.
inline bool ClosesFire(const CorrelationRule& rule) {
  return (rule.absent_last && rule.type == CorrelationType::kTemporalOrdered) ||
         rule.condition.HasUpperBound() || rule.type == CorrelationType::kValuePercentile;
}

inline int64_t WakeTime(const Slot& slot, const CorrelationRule& rule) {
  int64_t wake = slot.window.NextDeadline(rule);
  if (!ClosesFire(rule) && !slot.window.empty()) {
    wake = SaturatingAdd(SaturatingAdd(slot.window.newest_ns(), rule.timespan_ns), 1);
  }
  if (slot.suppress_until_ns != kNoSuppression) wake = std::min(wake, SuppressionEnd(slot, rule));
  return wake;
}

inline int64_t Timespan(const CorrelationRule& rule) {
  return std::max<int64_t>(rule.timespan_ns, 0);
}

inline int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t Watermark(int64_t stream_ns, int64_t lateness_ns) {
  return stream_ns == INT64_MIN ? INT64_MIN : SaturatingAdd(stream_ns, -lateness_ns);
}

}  // namespace detail

using namespace detail;  // NOLINT: the correlator's own private helpers

// ---------------------------------------------------------------------------
// Rule-set binding: table keys and hash seeds per correlation of one set.

struct Correlator::SetBinding {
  const CorrelationSet* set = nullptr;
  const CorrelationRule* rules_data = nullptr;
  uint64_t epoch = 0;
  std::vector<std::string> fingerprints;
  std::vector<std::string> table_keys;
  std::vector<uint64_t> table_seeds;

  explicit SetBinding(const CorrelationSet& s) : set(&s), rules_data(s.rules.data()) {
    std::unordered_map<std::string_view, uint32_t> seen;
    for (const CorrelationRule& rule : s.rules) {
      fingerprints.push_back(rule.fingerprint);
      std::string key = rule.fingerprint;
      const uint32_t duplicates = seen[rule.fingerprint]++;
      if (duplicates > 0) key += "\x1f#" + std::to_string(duplicates);
      table_seeds.push_back(HashBytes(key, kTableSeed));
      table_keys.push_back(std::move(key));
    }
  }

  // Same object and same fingerprints: the address alone could be reused.
  bool Matches(const CorrelationSet& s) const {
    if (&s != set || s.rules.data() != rules_data || s.rules.size() != fingerprints.size()) {
      return false;
    }
    for (size_t i = 0; i < fingerprints.size(); ++i) {
      if (s.rules[i].fingerprint != fingerprints[i]) return false;
    }
    return true;
  }
};

// ---------------------------------------------------------------------------
// Shard: key tables, raw cache, counters (under the correlator's mutex).

struct Correlator::Shard {
  uint32_t index = 0;  // in Correlator::shards_
  uint64_t epoch = 0;  // binding the tables are mapped for
  std::vector<KeyTable*> by_rule;
  std::vector<std::unique_ptr<KeyTable>> tables;  // by table id; null when dropped
  std::unordered_map<std::string, uint32_t> table_ids;
  ShardCounters counters;

  void Bind(const CorrelationSet& set, const SetBinding& binding, bool drop_absent) {
    for (auto& table : tables) {
      if (table) table->rule = nullptr;
    }
    by_rule.assign(set.rules.size(), nullptr);
    for (uint32_t i = 0; i < set.rules.size(); ++i) {
      KeyTable& table = TableFor(binding.table_keys[i], binding.table_seeds[i]);
      table.rule = &set.rules[i];
      table.rule_index = i;
      by_rule[i] = &table;
    }
    if (drop_absent) {
      for (uint32_t id = 0; id < tables.size(); ++id) {
        if (tables[id] && tables[id]->rule == nullptr) DropTable(id);
      }
    }
    epoch = binding.epoch;
  }

  KeyTable& TableFor(const std::string& table_key, uint64_t seed) {
    const auto found = table_ids.find(table_key);
    if (found != table_ids.end()) return *tables[found->second];
    uint32_t id = 0;
    while (id < tables.size() && tables[id]) ++id;
    if (id == tables.size()) tables.emplace_back();
    tables[id] = std::make_unique<KeyTable>(table_key, seed, id);
    table_ids.emplace(table_key, id);
    return *tables[id];
  }

  void DropTable(uint32_t id) {
    counters.evicted += tables[id]->live();
    table_ids.erase(tables[id]->table_key());
    tables[id].reset();
  }

  void EraseKey(KeyTable& table, uint32_t index) {
    table.window_bytes -= WindowFootprint(table.slot(index).window);
    table.Erase(index);
  }

  void Clear() {
    epoch = 0;
    by_rule.clear();
    tables.clear();
    table_ids.clear();
  }

  void AddTo(CorrelatorStats& stats) const {
    stats.updates += counters.updates;
    stats.firings += counters.firings;
    stats.suppressed += counters.suppressed;
    stats.evicted += counters.evicted;
    stats.expired += counters.expired;
    stats.entries_dropped += counters.entries_dropped;
    stats.raw_missing += counters.raw_missing;
    for (const auto& table : tables) {
      if (!table) continue;
      stats.live_keys += table->live();
      stats.state_bytes += table->StateBytes() + sizeof(KeyTable);
    }
  }
};

// ---------------------------------------------------------------------------
// Sources: one event clock per (agency, host), with the deadline heap of
// the keys it owns. Index 0 is the orphan clock. Bounded by max_sources,
// least recently active evicted first (an intrusive LRU list).

struct Correlator::Source {
  uint64_t key = 0;  // SourceKey; 0 = free
  uint16_t agency = kNoAgency;
  int64_t time_ns = INT64_MIN;  // newest event time
  int64_t last_input_wall_ns = 0;
  int64_t last_advance_wall_ns = 0;
  uint32_t newer = kNone, older = kNone;  // LRU neighbours
  std::vector<HeapEntry> deadlines;       // min-heap of owned keys' deadlines
  size_t compact_at = 64;                 // heap size at which stale entries are dropped

  void Push(int64_t deadline, uint32_t shard, uint32_t table, uint32_t slot) {
    deadlines.push_back({deadline, shard, table, slot});
    std::push_heap(deadlines.begin(), deadlines.end(), LaterDeadline());
  }
};

struct Correlator::SourceTable {
  std::vector<Source> sources{1};  // [0] = orphans
  std::unordered_map<uint64_t, uint32_t> index;
  std::vector<uint32_t> free;
  uint32_t newest = kNone, oldest = kNone;
  uint64_t evictions = 0;

  size_t live() const { return index.size(); }

  void Unlink(uint32_t i) {
    Source& s = sources[i];
    (s.newer == kNone ? newest : sources[s.newer].older) = s.older;
    (s.older == kNone ? oldest : sources[s.older].newer) = s.newer;
    s.newer = s.older = kNone;
  }
  void LinkNewest(uint32_t i) {
    Source& s = sources[i];
    s.older = newest;
    s.newer = kNone;
    if (newest != kNone) sources[newest].newer = i;
    newest = i;
    if (oldest == kNone) oldest = i;
  }

  size_t Bytes() const {
    size_t bytes = sources.capacity() * sizeof(Source) + index.size() * 32;
    for (const Source& s : sources) bytes += s.deadlines.capacity() * sizeof(HeapEntry);
    return bytes;
  }

  void Clear() {
    sources.assign(1, Source{});
    index.clear();
    free.clear();
    newest = oldest = kNone;
  }
};

// ---------------------------------------------------------------------------
// Sequencer (gsocd): batches are applied in the order of their event ids.
// A batch waits for `next_` to reach its first id; a batch with nothing to
// correlate never waits (Pass records it as done, possibly ahead of turn).

class Correlator::Sequencer {
 public:
  Sequencer(uint64_t first, int64_t wait_ns) : next_(first), wait_ns_(wait_ns) {}

  // Blocks until the batch starting at `first` may be applied.
  void Wait(uint64_t first) {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(wait_ns_);
    if (!turn_.wait_until(lock, deadline, [&] { return next_ >= first; })) {
      ++gaps_;  // a batch before this one never came: go ahead without it
      next_ = first;
      while (!done_.empty() && done_.begin()->first < first) done_.erase(done_.begin());
    }
  }

  // True when the batch starting at `first` may be applied now.
  bool Ready(uint64_t first) const {
    std::lock_guard lock(mutex_);
    return next_ >= first;
  }

  // The batch [first, first + count) was applied (or had nothing to apply).
  void Done(uint64_t first, uint64_t count) {
    {
      std::lock_guard lock(mutex_);
      if (first < next_) return;  // it came after a gap was skipped
      if (first > next_) {
        done_.emplace(first, first + count);
        return;
      }
      next_ = first + count;
      for (auto it = done_.find(next_); it != done_.end(); it = done_.find(next_)) {
        next_ = it->second;
        done_.erase(it);
      }
    }
    turn_.notify_all();
  }

  uint64_t gaps() const {
    std::lock_guard lock(mutex_);
    return gaps_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_;
  const int64_t wait_ns_;
  std::map<uint64_t, uint64_t> done_;  // batches passed ahead of turn: first -> end
  uint64_t gaps_ = 0;
};

// ---------------------------------------------------------------------------
// Round: the work of one Process or Tick call. Lives on the caller's stack;
// its buffers are the thread's Scratch. Everything but GatherHits runs under
// the correlator's mutex.

class Correlator::Round {
 public:
  Round(Correlator& self, const CorrelationSet& set, const SetBinding& binding,
        const EventBatch* batch, int64_t wall_ns, std::vector<Alert>& alerts)
      : self_(self),
        set_(set),
        binding_(binding),
        batch_(batch),
        wall_ns_(wall_ns),
        alerts_(alerts),
        s_(tls_scratch) {
    s_.Reset();
  }
  ~Round() {
    if (late_) self_.late_.fetch_add(late_, std::memory_order_relaxed);
    if (late_placed_) self_.late_placed_.fetch_add(late_placed_, std::memory_order_relaxed);
    if (missing_group_) self_.missing_group_.fetch_add(missing_group_, std::memory_order_relaxed);
    if (missing_value_) self_.missing_value_.fetch_add(missing_value_, std::memory_order_relaxed);
  }

  // Without the lock: the batch's inputs, keys built.
  void GatherHits(std::span<const RuleHit> hits);
  // Under the lock:
  void BindShards();
  // Applies the gathered inputs in batch order, each followed by the chained
  // inputs its firings cause.
  void ApplyAll();
  // Tick: moves quiet sources on with the wall clock and advances their due keys.
  void IdleAdvance(int64_t idle_ns);
  // Restore: a source as checkpointed (least recently active first); a key.
  uint32_t RestoreSource(uint64_t key, uint16_t agency, int64_t time_ns);
  uint32_t InsertKey(Shard& shard, KeyTable& table, std::string_view key, uint64_t hash);
  void Settle(Shard& shard, KeyTable& table, uint32_t index, int64_t watermark_ns);
  int64_t SourceWatermark(uint32_t index) const;

 private:
  FieldLookup ReadField(const Event& event, std::string_view name) const;
  template <typename Lookup>
  void AddUpdate(std::vector<Update>& out, uint32_t rule_index, uint32_t ref, Lookup& lookup,
                 WindowInput input, int32_t event_index, uint32_t seed, uint16_t agency,
                 uint64_t source_key);
  template <typename Lookup>
  bool AppendKey(const CorrelationRule& rule, uint32_t ref, Lookup& lookup);
  template <typename Lookup>
  bool ReadValueInput(const CorrelationRule& rule, Lookup& lookup, WindowInput& input);
  void GatherChained();
  void RunChains();

  uint32_t TouchSource(const Update& update);
  uint32_t InsertSource(uint64_t key, uint16_t agency);
  void EvictSource(uint32_t index);
  void AdvanceSource(uint32_t index);

  void Prefetch(const Update& update, bool slot) const;
  void ApplyUpdate(const Update& update, uint32_t source);
  void Adopt(Shard& shard, KeyTable& table, uint32_t index, uint32_t source);
  void Reschedule(Shard& shard, KeyTable& table, uint32_t index, int64_t wake);
  void CompactHeap(uint32_t index);
  void CacheInput(const Update& update);
  void TrimOnTouch(KeyTable& table, uint32_t index, int64_t watermark_ns);
  void AdvanceKey(Shard& shard, KeyTable& table, uint32_t index, int64_t watermark_ns);
  void HandleFiring(Shard& shard, KeyTable& table, uint32_t index, int32_t event_index);
  std::vector<AlertEvent> ExpandContributors(Shard& shard) const;
  void AddSeed(uint32_t rule_index, std::string_view key, int32_t event_index, uint16_t agency,
               uint32_t source, const std::vector<AlertEvent>& events);
  Alert BuildAlert(const CorrelationRule& rule, std::string_view key, uint16_t agency,
                   uint64_t suppressed, std::vector<AlertEvent> events) const;
  std::string AgencyLabel(uint16_t agency) const;

  Shard& ShardOf(const Update& update) const { return *self_.shards_[update.shard]; }
  SourceTable& sources() const { return *self_.sources_; }

  Correlator& self_;
  const CorrelationSet& set_;
  const SetBinding& binding_;
  const EventBatch* batch_;
  const int64_t wall_ns_;
  std::vector<Alert>& alerts_;
  Scratch& s_;
  uint64_t late_ = 0, late_placed_ = 0, missing_group_ = 0, missing_value_ = 0;
};

}  // namespace gsoc::correlate
