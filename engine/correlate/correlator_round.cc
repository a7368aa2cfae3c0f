// Correlator::Round: one batch (or tick) applied to the state, under the
// correlator's mutex. Contract in correlator.h, layout in correlator.cc.
#include "engine/correlate/correlator_internal.h"

namespace gsoc::correlate {

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
    if (g + 1 < count) wire::PutVarint(s_.keys, truncate ? limit : value.value.size());
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
    case CorrelationType::kValueCount:
    case CorrelationType::kValuePercentile: {
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

// Keys are spread over megabytes: each update would wait for two cache
// misses (index entry, slot). Fetch them ahead. (The raw cache's index is
// walked in id order: raw_cache.h.)
void Correlator::Round::Prefetch(const Update& update, bool slot) const {
  const Shard& shard = ShardOf(update);
  const KeyTable* table = update.rule < shard.by_rule.size() ? shard.by_rule[update.rule] : nullptr;
  if (table == nullptr) return;
  if (!slot) {
    table->PrefetchIndex(update.hash);
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
  CacheInput(update);
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

void Correlator::Round::CacheInput(const Update& update) {
  if (update.seed != kNone) {
    const Seed& seed = s_.seeds[update.seed];
    self_.raw_->Insert(
        seed.chain_id, seed.time_ns,
        std::string_view(s_.seed_bytes.data() + seed.payload_begin, seed.payload_length));
  } else if (batch_ != nullptr && update.event_index >= 0) {
    const Event& event = batch_->events()[update.event_index];
    self_.raw_->Insert(event.id, update.input.time_ns, event.raw);
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
      if (self_.raw_->Lookup(contributor.event_id, &bytes)) {
        DecodeEvents(bytes, events);
      } else {
        ++shard.counters.raw_missing;
      }
      continue;
    }
    AlertEvent event{contributor.event_id, contributor.time_ns, {}};
    // Evicted by the raw_cache budget: the event keeps its id, its raw is empty.
    if (!self_.raw_->Lookup(contributor.event_id, &event.raw)) ++shard.counters.raw_missing;
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
  alert.rule = {rule.id, rule.name, rule.title, rule.level, rule.tags, rule.revision};
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

}  // namespace gsoc::correlate
