// Correlator runtime (contract in correlator.h).
//
// Layout
//  - Shards: `options.shards` of them. An input for (correlation c, group
//    key k) goes to shard hash(table_key(c), k), where table_key is c's
//    fingerprint (plus "#n" for the n-th duplicate in a set), so a key keeps
//    its shard across reloads and restarts. A shard holds fingerprint ->
//    KeyTable (key_table.h), a RawCache (raw_cache.h) of recent raw lines
//    and counters. Everything is guarded by the correlator's one mutex.
//  - Sources: one event clock per (agency, host hash) with a min-heap of
//    {deadline, shard, table, slot} of the keys it owns (pushed only when a
//    key's deadline moves earlier or its owner changes; stale entries are
//    skipped when popped), in an LRU list bounded by max_sources. Index 0 is
//    the orphan clock (keys whose owner was evicted).
//  - A KeyTable keeps 72-byte Slots (KeyWindow 16, CompactKey 16 with keys up
//    to 15 bytes inline, suppression 12, heap bookkeeping 8, advanced 8,
//    owner 4, agency 2, live 1) in chunks of 32, and an open-addressing index
//    of 8-byte entries at load <= 0.8 (no std::unordered_map: ~100 bytes per
//    key before any state).
//  Memory per live event_count key: slot 72 + index 10-20 + heap entry 24-48
//  (vector growth) + the window's block (16 bytes an entry, + malloc header)
//  + key bytes beyond 15 (exact copy + malloc header): about 140 bytes with
//  one entry, 190 in a steady stream (3-4 entries a key; 16 bytes more than
//  the per-shard-heap layout measured in bench/correlate_bench.cc).
//  state_bytes includes estimated malloc headers.
//
// Deadlines: for rules whose window closes can fire (an upper bound such as
// lt/lte/eq/neq, or an absence), a key is advanced exactly at its window's
// NextDeadline, by its owner's watermark. For the others (gt/gte, temporal
// without absence) advancing only trims entries that can no longer count:
// that is done when the key is touched (in cache anyway), and the key's
// heap deadline is when its newest entry leaves the window, when it expires
// unless touched again.
//
// Order: a batch's inputs are applied one by one in batch order; before an
// input, its source's clock moves and the keys it owns whose deadline
// passed are advanced; after it, the chained correlations its firings feed
// are applied (depth first). Nothing depends on how inputs were cut into
// batches, so with batches applied in input order (ExpectSequence) gsocd
// gives what a replay gives.
//
// Cache misses dominate (a million keys are ~100 MB): the index entry (8
// updates ahead) and then the slot (4 ahead) of coming updates are
// prefetched.
//
// Keys: the group-by values in order; with several values each but the last
// is prefixed by its length (LEB128), so no two value lists share a key and
// the values can be recovered for the alert.
//
// Decisions (README "Correlation"):
//  - Suppression: after an emitted (or silenced) firing at event time t (the
//    window end), firings of that key before t + suppress are counted and
//    dropped: no alert, no chain input, no allocation. The next emitted alert
//    carries the count. A key whose window is empty is kept while its
//    suppression runs, and for one more suppression period while it has a
//    pending count (so the count reaches the next alert); after that the key
//    expires and the pending count is dropped (stats.suppressed has it).
//  - Chains: only firings that were not suppressed feed chains; silenced
//    correlations (generate: false) still feed them. A chained input carries
//    a synthetic id (top bit set); the shard that receives it caches the
//    contributing events (ids, times, raw lines) under that id, so the
//    chained alert lists the original events. It is advanced by the owner of
//    the key that fired and is never late for its source.
//  - Agency of an alert: the agency of the inputs that reached the key since
//    its previous firing; "multiple" when they came from several agencies.
//  - Time: see correlator.h. An input's time is never changed.
//  - Raw lines survive a restore when the shard count is unchanged.
#include "engine/correlate/correlator.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "engine/correlate/key_table.h"
#include "engine/correlate/raw_cache.h"
#include "engine/event/field_access.h"

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

namespace {

constexpr uint64_t kChainIdBit = uint64_t{1} << 63;
constexpr uint32_t kNone = UINT32_MAX;
constexpr uint64_t kTableSeed = 0x67736f63636f7272ULL;
constexpr uint64_t kValueSeed = 0x76616c7565686173ULL;
constexpr uint64_t kChecksumSeed = 0x636b7074636b7375ULL;
constexpr size_t kMaxBindings = 4;
constexpr size_t kPrefetchIndex = 8;  // updates ahead: index entry and raw cache index
constexpr size_t kPrefetchSlot = 4;   // updates ahead: the slot
constexpr char kMagic[8] = {'G', 'S', 'O', 'C', 'C', 'O', 'R', 'R'};
constexpr uint32_t kCheckpointVersion = 2;

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
thread_local Scratch tls_scratch;

constexpr uint64_t kSourceSeed = 0x736f757263656b79ULL;
constexpr uint32_t kOrphans = 0;  // the source index of keys whose owner was evicted

// A source's identity: its agency and a hash of its host name (the host is
// never stored, so a source costs the same whatever its name).
uint64_t SourceKey(uint16_t agency, std::string_view host) {
  return HashBytes(host, kSourceSeed + agency) | 1;  // never 0 (free slots)
}

void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

bool ReadVarint(std::string_view& in, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const uint8_t byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// A group-by value beyond the limit: its first bytes, "...#" and 16 hex
// digits of a hash of the whole value, `limit` bytes in all.
constexpr size_t kTruncatedValueTail = 20;
constexpr uint64_t kTruncatedSeed = 0x7472756e63617465ULL;
void AppendTruncated(std::string& out, std::string_view value, size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append(value.substr(0, limit - kTruncatedValueTail));
  out.append("...#");
  const uint64_t hash = HashBytes(value, kTruncatedSeed);
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(hash >> shift) & 0xF]);
}

// Splits a key into its `count` group-by values; false when malformed.
bool SplitKey(std::string_view key, size_t count, std::vector<std::string_view>& values) {
  values.clear();
  if (count == 0) return key.empty();
  for (size_t g = 0; g + 1 < count; ++g) {
    uint64_t length;
    if (!ReadVarint(key, &length) || length > key.size()) return false;
    values.push_back(key.substr(0, length));
    key.remove_prefix(length);
  }
  values.push_back(key);
  return true;
}

// The field holding group_by[g] for inputs from refs[ref].
const std::string& GroupFieldName(const CorrelationRule& rule, size_t g, uint32_t ref) {
  if (g < rule.group_fields.size() && ref < rule.group_fields[g].size()) {
    return rule.group_fields[g][ref];
  }
  return rule.group_by[g];
}

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '+')) text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(number)) {
    return std::nullopt;
  }
  return number;
}

uint16_t MergeAgency(uint16_t current, uint16_t input) {
  if (input == kNoAgency || current == input) return current;
  return current == kNoAgency ? input : kMultipleAgencies;
}

// Contributors of a chained firing, cached under its synthetic id:
// u32 count, then per event u64 id, i64 time, u32 length, bytes.
template <typename T>
void AppendPod(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}
template <typename T>
bool ReadPod(std::string_view& in, T* value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

void EncodeEvents(const std::vector<AlertEvent>& events, std::string& out) {
  AppendPod<uint32_t>(out, static_cast<uint32_t>(events.size()));
  for (const AlertEvent& event : events) {
    AppendPod<uint64_t>(out, event.id);
    AppendPod<int64_t>(out, event.time_ns);
    AppendPod<uint32_t>(out, static_cast<uint32_t>(event.raw.size()));
    out.append(event.raw);
  }
}

void AppendUnique(std::vector<AlertEvent>& events, AlertEvent event) {
  for (const AlertEvent& seen : events) {
    if (seen.id == event.id) return;
  }
  events.push_back(std::move(event));
}

// Tolerates truncation (the cache truncates very long entries): decodes what is whole.
void DecodeEvents(std::string_view in, std::vector<AlertEvent>& events) {
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

int64_t SuppressionEnd(const Slot& slot, const CorrelationRule& rule) {
  return slot.suppressed > 0 ? SaturatingAdd(slot.suppress_until_ns, rule.suppress_ns)
                             : slot.suppress_until_ns;
}

// Clears suppression state that can no longer matter at `watermark_ns`.
void ExpireSuppression(Slot& slot, const CorrelationRule& rule, int64_t watermark_ns) {
  if (slot.suppress_until_ns != kNoSuppression && watermark_ns >= SuppressionEnd(slot, rule)) {
    slot.suppress_until_ns = kNoSuppression;
    slot.suppressed = 0;
  }
}

// Heap bytes of a window including the allocator's chunk header and
// rounding (glibc: 8 bytes, 16-byte granules), as RSS sees them.
int64_t WindowFootprint(const KeyWindow& window) {
  const size_t bytes = window.HeapBytes();
  return bytes == 0 ? 0
                    : static_cast<int64_t>(std::max<size_t>(32, (bytes + 8 + 15) & ~size_t{15}));
}

// Whether closing a window can fire (upper-bound conditions, absences): then
// a key must be advanced exactly at its NextDeadline. Otherwise advancing
// only trims entries that can no longer count, which the Correlator does
// while the key is touched anyway (TrimOnTouch), and the key's deadline is
// when its newest entry leaves the window: it expires then unless touched.
bool ClosesFire(const CorrelationRule& rule) {
  return (rule.absent_last && rule.type == CorrelationType::kTemporalOrdered) ||
         rule.condition.HasUpperBound();
}

int64_t WakeTime(const Slot& slot, const CorrelationRule& rule) {
  int64_t wake = slot.window.NextDeadline(rule);
  if (!ClosesFire(rule) && !slot.window.empty()) {
    wake = SaturatingAdd(SaturatingAdd(slot.window.newest_ns(), rule.timespan_ns), 1);
  }
  if (slot.suppress_until_ns != kNoSuppression) wake = std::min(wake, SuppressionEnd(slot, rule));
  return wake;
}

int64_t Timespan(const CorrelationRule& rule) { return std::max<int64_t>(rule.timespan_ns, 0); }

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Watermark(int64_t stream_ns, int64_t lateness_ns) {
  return stream_ns == INT64_MIN ? INT64_MIN : SaturatingAdd(stream_ns, -lateness_ns);
}

}  // namespace

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
  RawCache raw;
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
    raw.Clear();
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
  void CacheInput(Shard& shard, const Update& update);
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

FieldLookup Correlator::Round::ReadField(const Event& event, std::string_view name) const {
  FieldLookup found = GetField(*batch_, event, name);
  if (!found.present && name == "agency" && event.agency < self_.agency_names_.size()) {
    found = {true, self_.agency_names_[event.agency]};
  }
  return found;
}

template <typename Lookup>
bool Correlator::Round::AppendKey(const CorrelationRule& rule, uint32_t ref, Lookup& lookup) {
  const size_t count = rule.group_by.size();
  const size_t limit = std::max<size_t>(self_.options_.max_value_bytes, kTruncatedValueTail + 1);
  for (size_t g = 0; g < count; ++g) {
    const FieldLookup value = lookup(GroupFieldName(rule, g, ref));
    if (!value.present) return false;
    const bool truncate = value.value.size() > limit;
    if (g + 1 < count) AppendVarint(s_.keys, truncate ? limit : value.value.size());
    if (truncate) {
      AppendTruncated(s_.keys, value.value, limit);
    } else {
      s_.keys.append(value.value);
    }
  }
  return true;
}

template <typename Lookup>
bool Correlator::Round::ReadValueInput(const CorrelationRule& rule, Lookup& lookup,
                                       WindowInput& input) {
  switch (rule.type) {
    case CorrelationType::kValueCount: {
      const FieldLookup value = lookup(rule.field);
      if (!value.present) return false;
      input.value_hash = HashBytes(value.value, kValueSeed);
      return true;
    }
    case CorrelationType::kValueSum:
    case CorrelationType::kValueAvg:
    case CorrelationType::kValueMedian: {
      const FieldLookup value = lookup(rule.field);
      const std::optional<double> number = value.present ? ParseNumber(value.value) : std::nullopt;
      if (!number) return false;
      input.number = *number;
      return true;
    }
    default:
      return true;
  }
}

template <typename Lookup>
void Correlator::Round::AddUpdate(std::vector<Update>& out, uint32_t rule_index, uint32_t ref,
                                  Lookup& lookup, WindowInput input, int32_t event_index,
                                  uint32_t seed, uint16_t agency, uint64_t source_key) {
  const CorrelationRule& rule = set_.rules[rule_index];
  const size_t key_begin = s_.keys.size();
  if (!AppendKey(rule, ref, lookup)) {
    s_.keys.resize(key_begin);
    ++missing_group_;
    return;
  }
  if (!ReadValueInput(rule, lookup, input)) {
    s_.keys.resize(key_begin);
    ++missing_value_;
    return;
  }
  const std::string_view key(s_.keys.data() + key_begin, s_.keys.size() - key_begin);
  Update update;
  update.hash = HashBytes(key, binding_.table_seeds[rule_index]);
  update.source_key = source_key;
  update.rule = rule_index;
  update.shard = static_cast<uint32_t>(((update.hash >> 32) * self_.shards_.size()) >> 32);
  update.key_begin = static_cast<uint32_t>(key_begin);
  update.key_length = static_cast<uint32_t>(key.size());
  update.event_index = event_index;
  update.seed = seed;
  update.agency = agency;
  update.input = input;
  out.push_back(update);
}

void Correlator::Round::GatherHits(std::span<const RuleHit> hits) {
  const std::span<const Event> events = batch_->events();
  for (const RuleHit& hit : hits) {
    if (hit.event_index >= events.size() || hit.rule_index >= set_.detection_routes.size()) {
      continue;
    }
    const Event& event = events[hit.event_index];
    if (event.id & kChainIdBit) continue;  // not an id we could tell from a chained one
    auto lookup = [&](std::string_view name) { return ReadField(event, name); };
    const uint64_t source_key = SourceKey(event.agency, event.host);
    for (const Route& route : set_.detection_routes[hit.rule_index]) {
      if (route.rule >= set_.rules.size()) continue;
      WindowInput input;
      input.time_ns = event.event_time_ns;
      input.event_id = event.id;
      input.ref = route.ref;
      AddUpdate(s_.updates, route.rule, route.ref, lookup, input,
                static_cast<int32_t>(hit.event_index), kNone, event.agency, source_key);
    }
  }
}

void Correlator::Round::GatherChained() {
  s_.chained.clear();
  for (uint32_t k = 0; k < s_.seeds.size(); ++k) {
    const Seed& seed = s_.seeds[k];
    if (seed.rule >= set_.correlation_routes.size()) continue;
    const CorrelationRule& source = set_.rules[seed.rule];
    const std::string_view key(s_.seed_bytes.data() + seed.key_begin, seed.key_length);
    if (!SplitKey(key, source.group_by.size(), s_.source_values)) continue;
    const Event* event =
        batch_ && seed.event_index >= 0 ? &batch_->events()[seed.event_index] : nullptr;
    // Group fields: the firing's group first (by name), then the triggering event.
    auto lookup = [&](std::string_view name) -> FieldLookup {
      for (size_t j = 0; j < source.group_by.size(); ++j) {
        if (source.group_by[j] == name) return {true, s_.source_values[j]};
      }
      return event ? ReadField(*event, name) : FieldLookup{};
    };
    for (const Route& route : set_.correlation_routes[seed.rule]) {
      if (route.rule >= set_.rules.size()) continue;
      WindowInput input;
      input.time_ns = seed.time_ns;
      input.event_id = seed.chain_id;
      input.ref = route.ref;
      AddUpdate(s_.chained, route.rule, route.ref, lookup, input, seed.event_index, k, seed.agency,
                0);
    }
  }
}

// The chains fed by the firings of the last input, level by level (the set
// is a DAG: each level moves at least one correlation further down; the
// bound only guards against a malformed set).
void Correlator::Round::RunChains() {
  for (size_t depth = 0; depth <= set_.rules.size() && !s_.next_seeds.empty(); ++depth) {
    std::swap(s_.seeds, s_.next_seeds);
    std::swap(s_.seed_bytes, s_.next_seed_bytes);
    s_.next_seeds.clear();
    s_.next_seed_bytes.clear();
    GatherChained();
    for (const Update& update : s_.chained) ApplyUpdate(update, s_.seeds[update.seed].source);
  }
  s_.next_seeds.clear();
  s_.next_seed_bytes.clear();
}

void Correlator::Round::BindShards() {
  // Only the newest set drops tables: a batch still running on the previous
  // set must not drop the state of correlations the new set added.
  const bool newest = binding_.epoch == self_.latest_epoch_.load(std::memory_order_acquire);
  for (const auto& shard : self_.shards_) {
    if (shard->epoch != binding_.epoch) shard->Bind(set_, binding_, newest);
  }
}

void Correlator::Round::ApplyAll() {
  for (size_t k = 0; k < s_.updates.size(); ++k) {
    if (k + kPrefetchIndex < s_.updates.size()) Prefetch(s_.updates[k + kPrefetchIndex], false);
    if (k + kPrefetchSlot < s_.updates.size()) Prefetch(s_.updates[k + kPrefetchSlot], true);
    const Update& update = s_.updates[k];
    ApplyUpdate(update, TouchSource(update));
    RunChains();
  }
}

// Keys are spread over megabytes: each update would wait for up to three
// cache misses (index entry, slot, raw cache index). Fetch them ahead.
void Correlator::Round::Prefetch(const Update& update, bool slot) const {
  const Shard& shard = ShardOf(update);
  const KeyTable* table = update.rule < shard.by_rule.size() ? shard.by_rule[update.rule] : nullptr;
  if (table == nullptr) return;
  if (!slot) {
    table->PrefetchIndex(update.hash);
    if (batch_ != nullptr && update.event_index >= 0 && update.seed == kNone) {
      shard.raw.Prefetch(batch_->events()[update.event_index].id);
    }
  } else {
    table->PrefetchSlot(update.hash);
  }
}

// ---- sources ------------------------------------------------------------------

// The source of a batch input: found or added, its time raised by the
// input, marked most recent, and its keys advanced to its new watermark.
uint32_t Correlator::Round::TouchSource(const Update& update) {
  SourceTable& table = sources();
  uint32_t index;
  const auto found = table.index.find(update.source_key);
  if (found != table.index.end()) {
    index = found->second;
    table.Unlink(index);
  } else {
    index = InsertSource(update.source_key, update.agency);
  }
  table.LinkNewest(index);
  Source& source = table.sources[index];
  source.last_input_wall_ns = wall_ns_;
  if (update.input.time_ns > source.time_ns) {
    source.time_ns = update.input.time_ns;
    self_.RaiseStreamTime(source.time_ns);
    AdvanceSource(index);
  }
  return index;
}

uint32_t Correlator::Round::InsertSource(uint64_t key, uint16_t agency) {
  SourceTable& table = sources();
  if (table.live() >= std::max<size_t>(1, self_.options_.max_sources)) EvictSource(table.oldest);
  uint32_t index;
  if (!table.free.empty()) {
    index = table.free.back();
    table.free.pop_back();
  } else {
    index = static_cast<uint32_t>(table.sources.size());
    table.sources.emplace_back();
  }
  Source& source = table.sources[index];
  source = Source{};
  source.key = key;
  source.agency = agency;
  table.index.emplace(key, index);
  return index;
}

uint32_t Correlator::Round::RestoreSource(uint64_t key, uint16_t agency, int64_t time_ns) {
  const uint32_t index = InsertSource(key, agency);
  sources().LinkNewest(index);
  sources().sources[index].time_ns = time_ns;
  return index;
}

// The least recently active source goes; the keys it owned move to the
// orphan clock, which takes the evicted source's time when that is newer.
void Correlator::Round::EvictSource(uint32_t index) {
  SourceTable& table = sources();
  Source& victim = table.sources[index];
  Source& orphans = table.sources[kOrphans];
  for (const HeapEntry& entry : victim.deadlines) {
    Shard& shard = *self_.shards_[entry.shard];
    KeyTable* keys = entry.table < shard.tables.size() ? shard.tables[entry.table].get() : nullptr;
    if (keys == nullptr || entry.slot >= keys->slot_count()) continue;
    Slot& slot = keys->slot(entry.slot);
    if (!slot.live || slot.source != index || slot.scheduled_ns != entry.deadline_ns) continue;
    slot.source = kOrphans;
    orphans.Push(entry.deadline_ns, entry.shard, entry.table, entry.slot);
  }
  orphans.time_ns = std::max(orphans.time_ns, victim.time_ns);
  orphans.last_input_wall_ns = std::max(orphans.last_input_wall_ns, victim.last_input_wall_ns);
  table.Unlink(index);
  table.index.erase(victim.key);
  victim = Source{};
  table.free.push_back(index);
  ++table.evictions;
}

int64_t Correlator::Round::SourceWatermark(uint32_t index) const {
  return Watermark(sources().sources[index].time_ns, self_.options_.lateness_ns);
}

// Advances the keys of source `index` whose deadline its watermark passed.
void Correlator::Round::AdvanceSource(uint32_t index) {
  const int64_t watermark = SourceWatermark(index);
  auto& heap = sources().sources[index].deadlines;
  while (!heap.empty() && heap.front().deadline_ns <= watermark) {
    std::pop_heap(heap.begin(), heap.end(), LaterDeadline());
    const HeapEntry entry = heap.back();
    heap.pop_back();
    Shard& shard = *self_.shards_[entry.shard];
    KeyTable* table = entry.table < shard.tables.size() ? shard.tables[entry.table].get() : nullptr;
    if (table == nullptr || table->rule == nullptr || entry.slot >= table->slot_count()) continue;
    Slot& slot = table->slot(entry.slot);
    // Stale: the key went, moved to another owner, or was rescheduled.
    if (!slot.live || slot.source != index || slot.scheduled_ns != entry.deadline_ns) continue;
    slot.scheduled_ns = kNoDeadline;
    AdvanceKey(shard, *table, entry.slot, watermark);
    // AdvanceKey may have fired a chain: apply it now, in order.
    RunChains();
  }
  if (heap.capacity() > 64 && heap.size() * 4 < heap.capacity()) heap.shrink_to_fit();
}

void Correlator::Round::IdleAdvance(int64_t idle_ns) {
  SourceTable& table = sources();
  for (uint32_t index = 0; index < table.sources.size(); ++index) {
    Source& source = table.sources[index];
    if (index != kOrphans && source.key == 0) continue;
    const int64_t since = std::max(source.last_input_wall_ns, source.last_advance_wall_ns);
    if (since == 0) {  // no input and no tick yet (e.g. just restored): start counting
      source.last_advance_wall_ns = wall_ns_;
      continue;
    }
    if (source.time_ns == INT64_MIN || wall_ns_ - source.last_input_wall_ns < idle_ns) continue;
    const int64_t elapsed = wall_ns_ - since;
    if (elapsed <= 0) continue;  // the wall clock went back: never move time back
    source.last_advance_wall_ns = wall_ns_;
    source.time_ns = SaturatingAdd(source.time_ns, elapsed);
    self_.RaiseStreamTime(source.time_ns);
    AdvanceSource(index);
  }
}

// ---- keys ---------------------------------------------------------------------

uint32_t Correlator::Round::InsertKey(Shard& shard, KeyTable& table, std::string_view key,
                                      uint64_t hash) {
  const size_t cap = self_.keys_per_shard_, bytes = self_.bytes_per_shard_;
  const size_t key_bytes = sizeof(Slot) + 16 + (key.size() > 15 ? key.size() + 24 : 0);
  while (table.live() > 0 && ((cap > 0 && table.live() >= cap) ||
                              (bytes > 0 && table.LiveBytes() + key_bytes > bytes))) {
    const uint32_t victim = table.PickVictim();
    if (victim == kNoSlot) break;
    shard.EraseKey(table, victim);
    ++shard.counters.evicted;
  }
  return table.Insert(key, hash);
}

// The key's owner is the slowest source that fed it: it advances the key.
void Correlator::Round::Adopt(Shard&, KeyTable& table, uint32_t index, uint32_t source) {
  Slot& slot = table.slot(index);
  if (slot.source == source) return;
  const bool owner_gone = slot.source != kOrphans && sources().sources[slot.source].key == 0;
  if (slot.scheduled_ns != kNoDeadline && !owner_gone &&
      SourceWatermark(slot.source) <= SourceWatermark(source)) {
    return;
  }
  slot.source = source;
  slot.scheduled_ns = kNoDeadline;  // the old owner's heap entry is stale now
}

// Makes sure the owner's heap has an entry no later than the key's wake time.
void Correlator::Round::Reschedule(Shard& shard, KeyTable& table, uint32_t index, int64_t wake) {
  Slot& slot = table.slot(index);
  if (wake == kNoDeadline || wake >= slot.scheduled_ns) return;
  slot.scheduled_ns = wake;
  Source& owner = sources().sources[slot.source];
  owner.Push(wake, shard.index, table.id(), index);
  if (owner.deadlines.size() >= owner.compact_at) CompactHeap(slot.source);
}

// Entries go stale when keys are evicted, erased or rescheduled earlier; a
// heap that doubled since it was last compacted keeps only live entries
// (amortized O(1) per push, so a flood of short-lived keys cannot grow it).
void Correlator::Round::CompactHeap(uint32_t index) {
  Source& source = sources().sources[index];
  auto& heap = source.deadlines;
  const auto stale = [&](const HeapEntry& entry) {
    const Shard& shard = *self_.shards_[entry.shard];
    const KeyTable* table =
        entry.table < shard.tables.size() ? shard.tables[entry.table].get() : nullptr;
    if (table == nullptr || entry.slot >= table->slot_count()) return true;
    const Slot& slot = table->slot(entry.slot);
    return !slot.live || slot.source != index || slot.scheduled_ns != entry.deadline_ns;
  };
  heap.erase(std::remove_if(heap.begin(), heap.end(), stale), heap.end());
  std::make_heap(heap.begin(), heap.end(), LaterDeadline());
  if (heap.capacity() > 2 * heap.size() + 64) heap.shrink_to_fit();
  source.compact_at = std::max<size_t>(64, 2 * heap.size());
}

void Correlator::Round::ApplyUpdate(const Update& update, uint32_t source) {
  Shard& shard = ShardOf(update);
  KeyTable* table = update.rule < shard.by_rule.size() ? shard.by_rule[update.rule] : nullptr;
  if (table == nullptr) return;
  const CorrelationRule& rule = *table->rule;
  const std::string_view key(s_.keys.data() + update.key_begin, update.key_length);
  const int64_t time = update.input.time_ns;
  // Late for its source (never for a chained input): only placed where the key still keeps it.
  const bool source_late = update.seed == kNone && time < SourceWatermark(source);
  uint32_t index = table->Find(key, update.hash);
  if (index != kNoSlot) {
    const Slot& slot = table->slot(index);
    const bool decided =
        slot.advanced_ns != INT64_MIN && time < SaturatingAdd(slot.advanced_ns, -Timespan(rule));
    if (decided && (source_late || ClosesFire(rule))) {
      ++late_;
      return;
    }
  } else if (source_late) {
    ++late_;
    return;
  } else {
    index = InsertKey(shard, *table, key, update.hash);
    table->slot(index).source = source;
  }
  if (source_late) ++late_placed_;
  Adopt(shard, *table, index, source);
  const int64_t watermark = SourceWatermark(table->slot(index).source);
  CacheInput(shard, update);
  TrimOnTouch(*table, index, watermark);  // first: frees room for the new entry
  Slot& slot = table->slot(index);
  slot.agency = MergeAgency(slot.agency, update.agency);
  const int64_t bytes_before = WindowFootprint(slot.window);
  uint64_t dropped = 0;
  s_.firing.contributors.clear();
  const bool fired = slot.window.Add(rule, update.input, self_.options_.window,
                                     self_.options_.max_alert_events, &s_.firing, &dropped);
  table->window_bytes += WindowFootprint(slot.window) - bytes_before;
  ++shard.counters.updates;
  shard.counters.entries_dropped += dropped;
  if (fired) HandleFiring(shard, *table, index, update.event_index);
  Settle(shard, *table, index, watermark);
}

// Drops the entries of a key no future window can hold while it is in cache
// (rules whose closes cannot fire; see ClosesFire).
void Correlator::Round::TrimOnTouch(KeyTable& table, uint32_t index, int64_t watermark_ns) {
  Slot& slot = table.slot(index);
  const CorrelationRule& rule = *table.rule;
  if (ClosesFire(rule) || slot.window.NextDeadline(rule) > watermark_ns) return;
  const int64_t bytes_before = WindowFootprint(slot.window);
  s_.firing.contributors.clear();
  slot.window.Advance(rule, watermark_ns, self_.options_.max_alert_events, &s_.firing);
  table.window_bytes += WindowFootprint(slot.window) - bytes_before;
  slot.advanced_ns = std::max(slot.advanced_ns, watermark_ns);
}

void Correlator::Round::CacheInput(Shard& shard, const Update& update) {
  if (update.seed != kNone) {
    const Seed& seed = s_.seeds[update.seed];
    shard.raw.Insert(
        seed.chain_id, seed.time_ns,
        std::string_view(s_.seed_bytes.data() + seed.payload_begin, seed.payload_length));
  } else if (batch_ != nullptr && update.event_index >= 0) {
    const Event& event = batch_->events()[update.event_index];
    shard.raw.Insert(event.id, update.input.time_ns, event.raw);
  }
}

// After an input: erase the key when nothing is left to keep, else make sure
// its deadline is scheduled.
void Correlator::Round::Settle(Shard& shard, KeyTable& table, uint32_t index,
                               int64_t watermark_ns) {
  Slot& slot = table.slot(index);
  ExpireSuppression(slot, *table.rule, watermark_ns);
  if (slot.window.empty() && slot.suppress_until_ns == kNoSuppression) {
    shard.EraseKey(table, index);
    return;
  }
  Reschedule(shard, table, index, WakeTime(slot, *table.rule));
}

void Correlator::Round::AdvanceKey(Shard& shard, KeyTable& table, uint32_t index,
                                   int64_t watermark_ns) {
  Slot& slot = table.slot(index);
  const CorrelationRule& rule = *table.rule;
  slot.advanced_ns = std::max(slot.advanced_ns, watermark_ns);
  // Advance reports one firing per call: several windows may have closed.
  while (slot.window.NextDeadline(rule) <= watermark_ns) {
    const int64_t bytes_before = WindowFootprint(slot.window);
    s_.firing.contributors.clear();
    const bool fired =
        slot.window.Advance(rule, watermark_ns, self_.options_.max_alert_events, &s_.firing);
    table.window_bytes += WindowFootprint(slot.window) - bytes_before;
    if (!fired) break;
    HandleFiring(shard, table, index, -1);
  }
  ExpireSuppression(slot, rule, watermark_ns);
  if (slot.window.empty() && slot.suppress_until_ns == kNoSuppression) {
    shard.EraseKey(table, index);
    ++shard.counters.expired;
    return;
  }
  // A wake time not past the watermark would spin: look again next time.
  const int64_t wake = WakeTime(slot, rule);
  Reschedule(shard, table, index, wake <= watermark_ns ? watermark_ns + 1 : wake);
}

void Correlator::Round::HandleFiring(Shard& shard, KeyTable& table, uint32_t index,
                                     int32_t event_index) {
  Slot& slot = table.slot(index);
  const CorrelationRule& rule = *table.rule;
  const WindowFiring& firing = s_.firing;
  const uint16_t agency = slot.agency;
  slot.agency = kNoAgency;  // the window's entries are consumed
  if (rule.suppress_ns > 0 && slot.suppress_until_ns != kNoSuppression &&
      firing.window_end_ns < slot.suppress_until_ns) {
    if (slot.suppressed != UINT32_MAX) ++slot.suppressed;
    ++shard.counters.suppressed;
    return;
  }
  const uint64_t suppressed = slot.suppressed;
  slot.suppressed = 0;
  slot.suppress_until_ns =
      rule.suppress_ns > 0 ? SaturatingAdd(firing.window_end_ns, rule.suppress_ns) : kNoSuppression;
  const uint32_t i = table.rule_index;
  const bool silenced = i < set_.correlation_silenced.size() && set_.correlation_silenced[i];
  const bool feeds = i < set_.correlation_routes.size() && !set_.correlation_routes[i].empty();
  if (silenced && !feeds) return;
  std::vector<AlertEvent> events = ExpandContributors(shard);
  if (feeds) AddSeed(i, slot.key.view(), event_index, agency, slot.source, events);
  if (!silenced) {
    alerts_.push_back(BuildAlert(rule, slot.key.view(), agency, suppressed, std::move(events)));
    ++shard.counters.firings;
  }
}

// The firing's contributors with their raw lines; a chained contributor
// expands to the events of the firing that fed it.
std::vector<AlertEvent> Correlator::Round::ExpandContributors(Shard& shard) const {
  std::vector<AlertEvent> events;
  std::string bytes;
  for (const Contributor& contributor : s_.firing.contributors) {
    if (contributor.event_id & kChainIdBit) {
      if (shard.raw.Lookup(contributor.event_id, &bytes)) {
        DecodeEvents(bytes, events);
      } else {
        ++shard.counters.raw_missing;
      }
      continue;
    }
    AlertEvent event{contributor.event_id, contributor.time_ns, {}};
    // Evicted by the raw_cache budget: the event keeps its id, its raw is empty.
    if (!shard.raw.Lookup(contributor.event_id, &event.raw)) ++shard.counters.raw_missing;
    AppendUnique(events, std::move(event));
  }
  const size_t cap = self_.options_.max_alert_events;
  if (events.size() > cap) events.erase(events.begin(), events.end() - cap);  // keep the newest
  return events;
}

void Correlator::Round::AddSeed(uint32_t rule_index, std::string_view key, int32_t event_index,
                                uint16_t agency, uint32_t source,
                                const std::vector<AlertEvent>& events) {
  Seed seed;
  seed.rule = rule_index;
  seed.event_index = event_index;
  seed.agency = agency;
  seed.source = source;
  seed.time_ns = s_.firing.window_end_ns;
  seed.chain_id = kChainIdBit | self_.next_chain_id_.fetch_add(1, std::memory_order_relaxed);
  seed.key_begin = static_cast<uint32_t>(s_.next_seed_bytes.size());
  seed.key_length = static_cast<uint32_t>(key.size());
  s_.next_seed_bytes.append(key);
  seed.payload_begin = static_cast<uint32_t>(s_.next_seed_bytes.size());
  EncodeEvents(events, s_.next_seed_bytes);
  seed.payload_length = static_cast<uint32_t>(s_.next_seed_bytes.size() - seed.payload_begin);
  s_.next_seeds.push_back(seed);
}

std::string Correlator::Round::AgencyLabel(uint16_t agency) const {
  if (agency == kNoAgency) return {};
  if (agency == kMultipleAgencies) return "multiple";
  return agency < self_.agency_names_.size() ? self_.agency_names_[agency] : "unknown";
}

Alert Correlator::Round::BuildAlert(const CorrelationRule& rule, std::string_view key,
                                    uint16_t agency, uint64_t suppressed,
                                    std::vector<AlertEvent> events) const {
  const WindowFiring& firing = s_.firing;
  Alert alert;
  alert.time_ns = firing.window_end_ns;
  alert.kind = AlertKind::kCorrelation;
  alert.rule = {rule.id, rule.name, rule.title, rule.level, rule.tags};
  alert.agency = AgencyLabel(agency);
  std::vector<std::string_view> values;
  if (SplitKey(key, rule.group_by.size(), values)) {
    for (size_t g = 0; g < values.size(); ++g) {
      alert.group.emplace_back(rule.group_by[g], std::string(values[g]));
    }
  }
  alert.window_start_ns = firing.window_start_ns;
  alert.window_end_ns = firing.window_end_ns;
  alert.count = firing.count;
  alert.value = firing.value;
  alert.correlation_type = CorrelationTypeName(rule.type);
  alert.condition = rule.condition.ToString();
  alert.suppressed = suppressed;
  alert.fields = alert.group;
  alert.events = std::move(events);
  return alert;
}

// ---------------------------------------------------------------------------
// Correlator

Correlator::Correlator(CorrelatorOptions options, std::vector<std::string> agency_names)
    : options_(options),
      agency_names_(std::move(agency_names)),
      sources_(std::make_unique<SourceTable>()) {
  const size_t shards = std::max<size_t>(1, options_.shards);
  keys_per_shard_ =
      options_.max_keys_per_rule == 0 ? 0 : (options_.max_keys_per_rule + shards - 1) / shards;
  bytes_per_shard_ = options_.max_bytes_per_rule / shards;
  for (size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index = static_cast<uint32_t>(i);
    shards_.back()->raw.Configure(options_.raw_cache_bytes / shards, options_.max_raw_line_bytes);
  }
}

Correlator::~Correlator() = default;

std::shared_ptr<const Correlator::SetBinding> Correlator::Bind(const CorrelationSet& set) {
  std::lock_guard lock(bind_mutex_);
  for (const auto& binding : bindings_) {
    if (binding->Matches(set)) return binding;
  }
  auto binding = std::make_shared<SetBinding>(set);
  binding->epoch = next_epoch_++;
  bindings_.insert(bindings_.begin(), binding);
  if (bindings_.size() > kMaxBindings) bindings_.pop_back();
  latest_epoch_.store(binding->epoch, std::memory_order_release);
  return binding;
}

void Correlator::RaiseStreamTime(int64_t time_ns) {
  int64_t current = stream_time_ns_.load(std::memory_order_relaxed);
  while (time_ns > current &&
         !stream_time_ns_.compare_exchange_weak(current, time_ns, std::memory_order_relaxed)) {
  }
}

void Correlator::ExpectSequence(uint64_t first_event_id) {
  sequencer_ = std::make_unique<Sequencer>(first_event_id, options_.sequence_wait_ns);
}

namespace {
// The batch's ids when they are contiguous (as the pipeline queue numbers
// them); otherwise it cannot be sequenced.
bool SequenceOf(const EventBatch& batch, uint64_t* first, uint64_t* count) {
  const std::span<const Event> events = batch.events();
  if (events.empty()) return false;
  *first = events.front().id;
  *count = events.size();
  return events.back().id == *first + *count - 1;
}
}  // namespace

void Correlator::Pass(const EventBatch& batch) {
  uint64_t first = 0, count = 0;
  if (sequencer_ && SequenceOf(batch, &first, &count)) sequencer_->Done(first, count);
}

void Correlator::Process(const CorrelationSet& set, const EventBatch& batch,
                         std::span<const RuleHit> hits, std::vector<Alert>& alerts) {
  uint64_t first = 0, count = 0;
  const bool sequenced = sequencer_ && SequenceOf(batch, &first, &count);
  if (set.empty() || hits.empty()) {
    if (sequenced) sequencer_->Done(first, count);
    return;
  }
  try {
    const std::shared_ptr<const SetBinding> binding = Bind(set);
    Round round(*this, set, *binding, &batch, WallNowNs(), alerts);
    round.GatherHits(hits);  // in parallel with other workers
    if (sequenced) sequencer_->Wait(first);
    {
      std::lock_guard lock(mutex_);
      round.BindShards();
      round.ApplyAll();
    }
  } catch (...) {
    // Only allocation can throw here; the batch's remaining updates are lost.
  }
  if (sequenced) sequencer_->Done(first, count);
}

void Correlator::Tick(const CorrelationSet& set, int64_t wall_now_ns, std::vector<Alert>& alerts) {
  try {
    const std::shared_ptr<const SetBinding> binding = Bind(set);
    Round round(*this, set, *binding, nullptr, wall_now_ns, alerts);
    std::lock_guard lock(mutex_);
    round.BindShards();
    round.IdleAdvance(options_.idle_advance_ns);
  } catch (...) {
    // Only allocation can throw here.
  }
}

int64_t Correlator::source_time_ns(uint16_t agency, std::string_view host) const {
  std::lock_guard lock(mutex_);
  const auto found = sources_->index.find(SourceKey(agency, host));
  return found == sources_->index.end() ? INT64_MIN : sources_->sources[found->second].time_ns;
}

CorrelatorStats Correlator::stats() const {
  CorrelatorStats stats;
  {
    std::lock_guard lock(mutex_);
    for (const auto& shard : shards_) shard->AddTo(stats);
    stats.sources = sources_->live();
    stats.source_evictions = sources_->evictions;
    stats.state_bytes += sources_->Bytes();
  }
  stats.late = late_.load(std::memory_order_relaxed);
  stats.late_placed = late_placed_.load(std::memory_order_relaxed);
  stats.missing_group = missing_group_.load(std::memory_order_relaxed);
  stats.missing_value = missing_value_.load(std::memory_order_relaxed);
  stats.sequence_gaps = sequencer_ ? sequencer_->gaps() : 0;
  return stats;
}

void Correlator::ClearState() {
  std::lock_guard lock(mutex_);
  ClearStateLocked();
}

void Correlator::ClearStateLocked() {
  for (const auto& shard : shards_) shard->Clear();
  sources_->Clear();
}

// ---------------------------------------------------------------------------
// Checkpoints
//
// "GSOCCORR", u32 version (2), i64 stream time, u64 next chain id;
// u32 sources, then per source (the orphan clock first, then least
// recently active first): u32 index, u64 key, u16 agency, i64 time;
// u32 shards; per shard: u32 tables; per table: str table key, u32 keys;
// per key: str key, i64 suppress_until, u32 suppressed, u16 agency, u32
// owner source index, i64 advanced watermark, str window
// (KeyWindow::Serialize); then u32 raw entries; per entry: u64 id, i64 time,
// str line. Then u64 HashBytes(everything before). str = u32 length + bytes.
// Little-endian (the host order of every supported target). A version 1
// checkpoint (one global stream time) is refused: state starts empty.

namespace {

void AppendString(std::string& out, std::string_view text) {
  AppendPod<uint32_t>(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

bool ReadString(std::string_view& in, std::string_view* text) {
  uint32_t length = 0;
  if (!ReadPod(in, &length) || length > in.size()) return false;
  *text = in.substr(0, length);
  in.remove_prefix(length);
  return true;
}

// A count that cannot exceed what the remaining bytes could hold.
bool ReadCount(std::string_view& in, size_t min_item_bytes, uint32_t* count) {
  return ReadPod(in, count) && *count <= in.size() / min_item_bytes;
}

}  // namespace

void Correlator::Checkpoint(std::string& out) const {
  out.clear();
  out.append(kMagic, sizeof(kMagic));
  AppendPod<uint32_t>(out, kCheckpointVersion);
  AppendPod<int64_t>(out, stream_time_ns_.load(std::memory_order_relaxed));
  AppendPod<uint64_t>(out, next_chain_id_.load(std::memory_order_relaxed));
  std::lock_guard lock(mutex_);
  const SourceTable& sources = *sources_;
  AppendPod<uint32_t>(out, static_cast<uint32_t>(sources.live() + 1));
  const auto append_source = [&](uint32_t index) {
    const Source& source = sources.sources[index];
    AppendPod<uint32_t>(out, index);
    AppendPod<uint64_t>(out, source.key);
    AppendPod<uint16_t>(out, source.agency);
    AppendPod<int64_t>(out, source.time_ns);
  };
  append_source(kOrphans);
  for (uint32_t i = sources.oldest; i != kNone; i = sources.sources[i].newer) append_source(i);
  AppendPod<uint32_t>(out, static_cast<uint32_t>(shards_.size()));
  for (const auto& shard : shards_) {
    uint32_t tables = 0;
    for (const auto& table : shard->tables) tables += table ? 1 : 0;
    AppendPod<uint32_t>(out, tables);
    for (const auto& table : shard->tables) {
      if (!table) continue;
      AppendString(out, table->table_key());
      AppendPod<uint32_t>(out, static_cast<uint32_t>(table->live()));
      table->ForEachLive([&](uint32_t, const Slot& slot) {
        AppendString(out, slot.key.view());
        AppendPod<int64_t>(out, slot.suppress_until_ns);
        AppendPod<uint32_t>(out, slot.suppressed);
        AppendPod<uint16_t>(out, slot.agency);
        AppendPod<uint32_t>(out, slot.source);
        AppendPod<int64_t>(out, slot.advanced_ns);
        const size_t length_at = out.size();
        AppendPod<uint32_t>(out, 0);
        slot.window.Serialize(out);
        const uint32_t length = static_cast<uint32_t>(out.size() - length_at - sizeof(uint32_t));
        std::memcpy(out.data() + length_at, &length, sizeof(length));
      });
    }
    AppendPod<uint32_t>(out, static_cast<uint32_t>(shard->raw.size()));
    shard->raw.ForEach([&](uint64_t id, int64_t time_ns, std::string_view line) {
      AppendPod<uint64_t>(out, id);
      AppendPod<int64_t>(out, time_ns);
      AppendString(out, line);
    });
  }
  AppendPod<uint64_t>(out, HashBytes(out, kChecksumSeed));
}

namespace {

// Magic, version and checksum; empty when the envelope is sound.
std::string CheckEnvelope(std::string_view blob) {
  constexpr size_t kFixed = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);
  if (blob.size() < kFixed) {
    return "checkpoint too short (" + std::to_string(blob.size()) + " bytes)";
  }
  if (std::memcmp(blob.data(), kMagic, sizeof(kMagic)) != 0) {
    return "not a correlator checkpoint (bad magic)";
  }
  uint32_t version = 0;
  std::memcpy(&version, blob.data() + sizeof(kMagic), sizeof(version));
  if (version != kCheckpointVersion) {
    return "unsupported checkpoint version " + std::to_string(version);
  }
  uint64_t checksum = 0;
  const std::string_view covered = blob.substr(0, blob.size() - sizeof(checksum));
  std::memcpy(&checksum, blob.data() + covered.size(), sizeof(checksum));
  if (checksum != HashBytes(covered, kChecksumSeed)) {
    return "checkpoint checksum mismatch (truncated or corrupted)";
  }
  return {};
}

}  // namespace

bool Correlator::Restore(const CorrelationSet& set, std::string_view blob, std::string* error) {
  std::string why;
  bool ok = false;
  try {
    ClearState();
    why = CheckEnvelope(blob);
    if (why.empty()) {
      const size_t begin = sizeof(kMagic) + sizeof(uint32_t);
      ok = RestoreBody(set, blob.substr(begin, blob.size() - begin - sizeof(uint64_t)), &why);
    }
  } catch (const std::exception& e) {
    why = std::string("checkpoint restore failed: ") + e.what();
    ok = false;
  }
  if (!ok) {
    ClearState();
    if (error) *error = why;
  }
  return ok;
}

bool Correlator::RestoreBody(const CorrelationSet& set, std::string_view in, std::string* error) {
  int64_t stream = 0;
  uint64_t next_chain_id = 0;
  uint32_t source_count = 0, shard_count = 0;
  const auto fail = [&](const char* what) {
    *error = std::string("malformed checkpoint: ") + what;
    return false;
  };
  if (!ReadPod(in, &stream) || !ReadPod(in, &next_chain_id) || !ReadCount(in, 22, &source_count)) {
    return fail("header");
  }
  const std::shared_ptr<const SetBinding> binding = Bind(set);
  std::unordered_map<std::string_view, uint32_t> rule_of_table;
  for (uint32_t i = 0; i < binding->table_keys.size(); ++i) {
    rule_of_table.emplace(binding->table_keys[i], i);
  }
  std::vector<Alert> unused;
  Round round(*this, set, *binding, nullptr, 0, unused);
  std::lock_guard lock(mutex_);
  round.BindShards();
  // Sources: the saved index of each, mapped to its index here.
  std::unordered_map<uint32_t, uint32_t> source_of;
  for (uint32_t n = 0; n < source_count; ++n) {
    uint32_t saved = 0;
    uint64_t key = 0;
    uint16_t agency = 0;
    int64_t time_ns = 0;
    if (!ReadPod(in, &saved) || !ReadPod(in, &key) || !ReadPod(in, &agency) ||
        !ReadPod(in, &time_ns)) {
      return fail("source");
    }
    if (n == 0) {  // the orphan clock
      sources_->sources[kOrphans].time_ns = time_ns;
      source_of[saved] = kOrphans;
      continue;
    }
    if (key == 0 || sources_->index.count(key) || !source_of.emplace(saved, 0).second) {
      return fail("duplicate source");
    }
    const uint32_t index = round.RestoreSource(key, agency, time_ns);
    source_of[saved] = index;
  }
  if (!ReadPod(in, &shard_count)) return fail("shard count");
  for (uint32_t s = 0; s < shard_count; ++s) {
    uint32_t tables = 0;
    if (!ReadCount(in, 8, &tables)) return fail("table count");
    for (uint32_t t = 0; t < tables; ++t) {
      std::string_view table_key;
      uint32_t keys = 0;
      if (!ReadString(in, &table_key) || !ReadCount(in, 34, &keys)) return fail("table header");
      const auto rule = rule_of_table.find(table_key);
      for (uint32_t k = 0; k < keys; ++k) {
        std::string_view key, window_bytes;
        int64_t suppress_until = 0, advanced = 0;
        uint32_t suppressed = 0, owner = 0;
        uint16_t agency = 0;
        if (!ReadString(in, &key) || !ReadPod(in, &suppress_until) || !ReadPod(in, &suppressed) ||
            !ReadPod(in, &agency) || !ReadPod(in, &owner) || !ReadPod(in, &advanced) ||
            !ReadString(in, &window_bytes)) {
          return fail("key record");
        }
        const auto source = source_of.find(owner);
        if (source == source_of.end()) return fail("key owner");
        if (rule == rule_of_table.end()) continue;  // correlation changed or gone
        const uint32_t i = rule->second;
        const uint64_t hash = HashBytes(key, binding->table_seeds[i]);
        Shard& shard = *shards_[((hash >> 32) * shards_.size()) >> 32];
        KeyTable& table = *shard.by_rule[i];
        if (table.Find(key, hash) != kNoSlot) return fail("duplicate key");
        const uint32_t index = round.InsertKey(shard, table, key, hash);
        Slot& slot = table.slot(index);
        if (!slot.window.Deserialize(window_bytes) || !window_bytes.empty()) {
          return fail("window state");
        }
        table.window_bytes += WindowFootprint(slot.window);
        slot.suppress_until_ns = suppress_until;
        slot.suppressed = suppressed;
        slot.agency = agency;
        slot.source = source->second;
        slot.advanced_ns = advanced;
        round.Settle(shard, table, index, round.SourceWatermark(slot.source));
      }
    }
    uint32_t lines = 0;
    if (!ReadCount(in, 20, &lines)) return fail("raw line count");
    for (uint32_t l = 0; l < lines; ++l) {
      uint64_t id = 0;
      int64_t time_ns = 0;
      std::string_view line;
      if (!ReadPod(in, &id) || !ReadPod(in, &time_ns) || !ReadString(in, &line)) {
        return fail("raw line");
      }
      shards_[s % shards_.size()]->raw.Insert(id, time_ns, line);
    }
  }
  if (!in.empty()) return fail("trailing bytes");
  stream_time_ns_.store(stream, std::memory_order_relaxed);
  uint64_t current = next_chain_id_.load(std::memory_order_relaxed);
  while (next_chain_id > current &&
         !next_chain_id_.compare_exchange_weak(current, next_chain_id, std::memory_order_relaxed)) {
  }
  return true;
}

}  // namespace gsoc::correlate
