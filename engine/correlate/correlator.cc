// Correlator runtime (contract in correlator.h).
//
// Layout
//  - Shards: `options.shards` of them. An input for (correlation c, group
//    key k) goes to shard hash(table_key(c), k), where table_key is c's
//    fingerprint (plus "#n" for the n-th duplicate in a set), so a key keeps
//    its shard across reloads and restarts. A shard holds fingerprint ->
//    KeyTable (key_table.h) and counters; one RawCache (raw_cache.h) of
//    recent raw lines serves all shards (one copy an event). Everything is
//    guarded by the correlator's one mutex.
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

#include "engine/correlate/correlator_internal.h"

namespace gsoc::correlate {

// ---------------------------------------------------------------------------
// Correlator

Correlator::Correlator(CorrelatorOptions options, std::vector<std::string> agency_names)
    : options_(options),
      agency_names_(std::move(agency_names)),
      sources_(std::make_unique<SourceTable>()),
      raw_(std::make_unique<RawCache>()) {
  const size_t shards = std::max<size_t>(1, options_.shards);
  keys_per_shard_ =
      options_.max_keys_per_rule == 0 ? 0 : (options_.max_keys_per_rule + shards - 1) / shards;
  bytes_per_shard_ = options_.max_bytes_per_rule / shards;
  for (size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index = static_cast<uint32_t>(i);
  }
  raw_->Configure(options_.raw_cache_bytes, options_.max_raw_line_bytes);
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

bool Correlator::WouldWait(const EventBatch& batch) const {
  uint64_t first = 0, count = 0;
  return sequencer_ && SequenceOf(batch, &first, &count) && !sequencer_->Ready(first);
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
      waiting_.fetch_add(1, std::memory_order_relaxed);  // a checkpoint lets it in between shards
      std::lock_guard lock(mutex_);
      waiting_.fetch_sub(1, std::memory_order_relaxed);
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
  raw_->Clear();
}

}  // namespace gsoc::correlate
