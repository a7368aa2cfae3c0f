// Correlator::Checkpoint and Restore: the state as bytes (format below).
#include <chrono>
#include <thread>

#include "engine/correlate/correlator_internal.h"

namespace gsoc::correlate {

// ---------------------------------------------------------------------------
// Checkpoints
//
// Version 3: "GSOCCORR", u32 version, i64 stream time, u64 next chain id,
// u64 offset of the sources section (from the blob's start); u32 shards;
// per shard: u32 tables; per table: str table key, u32 keys; per key: str
// key, i64 suppress_until, u32 suppressed, u16 agency, u64 owner source key
// (0: the orphan clock), i64 advanced watermark, str window
// (KeyWindow::Serialize); then u32 raw entries (only the lines a live window
// of the shard refers to); per entry: u64 id, i64 time, str line. Then the
// sources section: u32 sources; per source (the orphan clock first, key 0,
// then least recently active first): u64 key, u16 agency, i64 time. Then u64
// HashBytes(everything before). str = u32 length + bytes. Little-endian (the
// host order of every supported target).
//
// The state is written a piece at a time (kCheckpointPiece slots of a table,
// or lines of a raw cache), each under the state lock, and batches waiting
// for the lock go first between two pieces: a checkpoint of 100,000 keys
// held every batch for ~60 ms when it took the lock once, and one shard of
// a million keys ~13 ms. So the cut is not one instant: a piece may show a
// batch that an earlier piece did not, which is no worse than losing that
// batch in a crash; a key erased and added again meanwhile may appear
// twice (the first one is kept). The sources, the stream time and
// the next chain id are written last, so every source and chain id a shard
// refers to is known; a key's owner is its source's key, not an index that
// an eviction could have given to another source meanwhile (unknown owners
// restore to the orphan clock). Callers that never run Process or Tick
// concurrently (a cluster partition) get one consistent cut.
//
// Version 2 (restored, no longer written): the sources first, each with its
// u32 index, and keys naming their owner by that index. Version 1 (one
// global stream time) is refused: state starts empty.

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

// The raw lines that the shard's live windows still refer to (`ids`: the
// event ids of its windows, collected as they were written), from the
// correlator's cache, a piece at a time under the state lock (a line that
// windows of several shards refer to is written with each). The cache holds the lines of every
// recent correlated event (up to raw_cache bytes, 64 MiB by default), most
// of whose windows have fired or expired; writing them all made a
// checkpoint of tens of MiB every interval, whose serialization, store
// write, flush and compaction cost more CPU than the detection itself.
void Correlator::AppendReferencedRaw(std::vector<uint64_t>& ids, std::string& out) const {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const size_t count_at = out.size();
  AppendPod<uint32_t>(out, 0);
  uint32_t count = 0;
  std::string line;
  for (size_t begin = 0; begin < ids.size(); begin += kCheckpointPiece) {
    {
      std::lock_guard lock(mutex_);
      const size_t end = std::min(ids.size(), begin + kCheckpointPiece);
      for (size_t i = begin; i < end; ++i) {
        int64_t time_ns = 0;
        if (!raw_->Lookup(ids[i], &line, &time_ns)) continue;  // dropped by the budget
        AppendPod<uint64_t>(out, ids[i]);
        AppendPod<int64_t>(out, time_ns);
        AppendString(out, line);
        ++count;
      }
    }
    LetWaitingBatchesIn();
  }
  std::memcpy(out.data() + count_at, &count, sizeof(count));
}

void Correlator::AppendKey(const Slot& slot, std::string& out, std::vector<uint64_t>& ids) const {
  AppendString(out, slot.key.view());
  AppendPod<int64_t>(out, slot.suppress_until_ns);
  AppendPod<uint32_t>(out, slot.suppressed);
  AppendPod<uint16_t>(out, slot.agency);
  AppendPod<uint64_t>(out, slot.source == kOrphans ? 0 : sources_->sources[slot.source].key);
  AppendPod<int64_t>(out, slot.advanced_ns);
  const size_t length_at = out.size();
  AppendPod<uint32_t>(out, 0);
  slot.window.Serialize(out);
  const uint32_t length = static_cast<uint32_t>(out.size() - length_at - sizeof(uint32_t));
  std::memcpy(out.data() + length_at, &length, sizeof(length));
  slot.window.AppendEventIds(ids);  // while the window is in the cache
}

// One table of a shard, kCheckpointPiece slots per hold of the state lock.
// The table is found again by id and key at each hold: one dropped or
// replaced meanwhile (a rule reload) ends with what was written of it.
uint32_t Correlator::AppendTableKeys(const Shard& shard, uint32_t id, const std::string& key,
                                     std::string& out, std::vector<uint64_t>& ids) const {
  uint32_t count = 0;
  for (uint32_t begin = 0;; begin += kCheckpointPiece) {
    bool more = false;
    {
      std::lock_guard lock(mutex_);
      const KeyTable* table = id < shard.tables.size() ? shard.tables[id].get() : nullptr;
      if (table == nullptr || table->table_key() != key) break;
      table->ForEachLiveIn(begin, begin + kCheckpointPiece, [&](uint32_t, const Slot& slot) {
        AppendKey(slot, out, ids);
        ++count;
      });
      more = begin + kCheckpointPiece < table->slot_count();
    }
    LetWaitingBatchesIn();
    if (!more) break;
  }
  return count;
}

void Correlator::AppendShard(const Shard& shard, std::string& out) const {
  thread_local std::vector<uint64_t> ids;  // of the events the windows refer to
  ids.clear();
  std::vector<std::pair<uint32_t, std::string>> tables;  // id and key, as they are now
  {
    std::lock_guard lock(mutex_);
    for (const auto& table : shard.tables) {
      if (table) tables.emplace_back(table->id(), table->table_key());
    }
  }
  AppendPod<uint32_t>(out, static_cast<uint32_t>(tables.size()));
  for (const auto& [id, key] : tables) {
    AppendString(out, key);
    const size_t count_at = out.size();
    AppendPod<uint32_t>(out, 0);
    const uint32_t count = AppendTableKeys(shard, id, key, out, ids);
    std::memcpy(out.data() + count_at, &count, sizeof(count));
  }
  AppendReferencedRaw(ids, out);
}

// A thread that unlocks and locks again at once usually gets the lock back
// before a woken waiter runs: without this, a batch waiting for the state
// would wait for the whole checkpoint, shard after shard, as before.
void Correlator::LetWaitingBatchesIn() const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
  while (waiting_.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

void Correlator::Checkpoint(std::string& out) const {
  out.clear();
  out.append(kMagic, sizeof(kMagic));
  AppendPod<uint32_t>(out, kCheckpointVersion);
  const size_t header_at = out.size();
  AppendPod<int64_t>(out, 0);   // stream time, known at the end
  AppendPod<uint64_t>(out, 0);  // next chain id, known at the end
  AppendPod<uint64_t>(out, 0);  // where the sources begin
  AppendPod<uint32_t>(out, static_cast<uint32_t>(shards_.size()));  // fixed at construction
  for (const auto& shard : shards_) AppendShard(*shard, out);
  std::lock_guard lock(mutex_);
  const uint64_t sources_at = out.size();
  const SourceTable& sources = *sources_;
  AppendPod<uint32_t>(out, static_cast<uint32_t>(sources.live() + 1));
  const auto append_source = [&](uint32_t index) {
    const Source& source = sources.sources[index];
    AppendPod<uint64_t>(out, index == kOrphans ? 0 : source.key);
    AppendPod<uint16_t>(out, source.agency);
    AppendPod<int64_t>(out, source.time_ns);
  };
  append_source(kOrphans);
  for (uint32_t i = sources.oldest; i != kNone; i = sources.sources[i].newer) append_source(i);
  const int64_t stream = stream_time_ns_.load(std::memory_order_relaxed);
  const uint64_t next_chain_id = next_chain_id_.load(std::memory_order_relaxed);
  std::memcpy(out.data() + header_at, &stream, sizeof(stream));
  std::memcpy(out.data() + header_at + 8, &next_chain_id, sizeof(next_chain_id));
  std::memcpy(out.data() + header_at + 16, &sources_at, sizeof(sources_at));
  AppendPod<uint64_t>(out, HashBytes(out, kChecksumSeed));
}

namespace {

// Magic, version and checksum; empty when the envelope is sound.
std::string CheckEnvelope(std::string_view blob, uint32_t* version_out) {
  constexpr size_t kFixed = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);
  if (blob.size() < kFixed) {
    return "checkpoint too short (" + std::to_string(blob.size()) + " bytes)";
  }
  if (std::memcmp(blob.data(), kMagic, sizeof(kMagic)) != 0) {
    return "not a correlator checkpoint (bad magic)";
  }
  uint32_t version = 0;
  std::memcpy(&version, blob.data() + sizeof(kMagic), sizeof(version));
  if (version != kCheckpointVersion && version != kCheckpointVersionSourcesFirst) {
    return "unsupported checkpoint version " + std::to_string(version);
  }
  *version_out = version;
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
    uint32_t version = 0;
    why = CheckEnvelope(blob, &version);
    if (why.empty()) {
      const size_t begin = sizeof(kMagic) + sizeof(uint32_t);
      ok = RestoreBody(set, version, blob.substr(begin, blob.size() - begin - sizeof(uint64_t)),
                       &why);
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

bool Correlator::RestoreBody(const CorrelationSet& set, uint32_t version, std::string_view in,
                             std::string* error) {
  const bool sources_first = version == kCheckpointVersionSourcesFirst;
  const std::string_view body = in;
  int64_t stream = 0;
  uint64_t next_chain_id = 0, sources_at = 0;
  uint32_t source_count = 0, shard_count = 0;
  const auto fail = [&](const char* what) {
    *error = std::string("malformed checkpoint: ") + what;
    return false;
  };
  if (!ReadPod(in, &stream) || !ReadPod(in, &next_chain_id) ||
      (!sources_first && !ReadPod(in, &sources_at))) {
    return fail("header");
  }
  // The sources section: here (version 2) or at its offset, after the shards.
  constexpr size_t kVersionBytes = sizeof(kMagic) + sizeof(uint32_t);
  std::string_view sources_in = in;
  if (!sources_first) {
    const size_t read = body.size() - in.size();
    if (sources_at < kVersionBytes + read || sources_at - kVersionBytes > body.size()) {
      return fail("sources offset");
    }
    sources_in = body.substr(sources_at - kVersionBytes);
    in = body.substr(read, sources_at - kVersionBytes - read);
  }
  const size_t source_bytes = sources_first ? 22 : 18;
  if (!ReadCount(sources_in, source_bytes, &source_count)) return fail("source count");
  const std::shared_ptr<const SetBinding> binding = Bind(set);
  std::unordered_map<std::string_view, uint32_t> rule_of_table;
  for (uint32_t i = 0; i < binding->table_keys.size(); ++i) {
    rule_of_table.emplace(binding->table_keys[i], i);
  }
  std::vector<Alert> unused;
  Round round(*this, set, *binding, nullptr, 0, unused);
  std::lock_guard lock(mutex_);
  round.BindShards();
  // Version 2: the saved index of each source, mapped to its index here.
  std::unordered_map<uint32_t, uint32_t> source_of;
  for (uint32_t n = 0; n < source_count; ++n) {
    uint32_t saved = 0;
    uint64_t key = 0;
    uint16_t agency = 0;
    int64_t time_ns = 0;
    if ((sources_first && !ReadPod(sources_in, &saved)) || !ReadPod(sources_in, &key) ||
        !ReadPod(sources_in, &agency) || !ReadPod(sources_in, &time_ns)) {
      return fail("source");
    }
    if (n == 0) {  // the orphan clock
      sources_->sources[kOrphans].time_ns = time_ns;
      source_of[saved] = kOrphans;
      continue;
    }
    if (key == 0 || sources_->index.count(key) ||
        (sources_first && !source_of.emplace(saved, 0).second)) {
      return fail("duplicate source");
    }
    const uint32_t index = round.RestoreSource(key, agency, time_ns);
    source_of[saved] = index;
  }
  if (sources_first) {
    in = sources_in;
  } else if (!sources_in.empty()) {
    return fail("trailing bytes");
  }
  // A key's owner: by saved index (version 2) or by source key (version 3,
  // where a source evicted while the shards were written is the orphan clock).
  const auto owner_of = [&](std::string_view& record, uint32_t* owner) {
    if (sources_first) {
      uint32_t saved = 0;
      if (!ReadPod(record, &saved)) return false;
      const auto found = source_of.find(saved);
      if (found == source_of.end()) return false;
      *owner = found->second;
      return true;
    }
    uint64_t key = 0;
    if (!ReadPod(record, &key)) return false;
    const auto found = key == 0 ? sources_->index.end() : sources_->index.find(key);
    *owner = found == sources_->index.end() ? kOrphans : found->second;
    return true;
  };
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
        uint32_t suppressed = 0, owner = kOrphans;
        uint16_t agency = 0;
        if (!ReadString(in, &key) || !ReadPod(in, &suppress_until) || !ReadPod(in, &suppressed) ||
            !ReadPod(in, &agency)) {
          return fail("key record");
        }
        if (!owner_of(in, &owner)) return fail("key owner");
        if (!ReadPod(in, &advanced) || !ReadString(in, &window_bytes)) return fail("key record");
        if (rule == rule_of_table.end()) continue;  // correlation changed or gone
        const uint32_t i = rule->second;
        const uint64_t hash = HashBytes(key, binding->table_seeds[i]);
        Shard& shard = *shards_[((hash >> 32) * shards_.size()) >> 32];
        KeyTable& table = *shard.by_rule[i];
        if (table.Find(key, hash) != kNoSlot) {
          if (sources_first) return fail("duplicate key");
          continue;  // erased and added again while the checkpoint was written
        }
        const uint32_t index = round.InsertKey(shard, table, key, hash);
        Slot& slot = table.slot(index);
        if (!slot.window.Deserialize(window_bytes) || !window_bytes.empty()) {
          return fail("window state");
        }
        table.window_bytes += WindowFootprint(slot.window);
        slot.suppress_until_ns = suppress_until;
        slot.suppressed = suppressed;
        slot.agency = agency;
        slot.source = owner;
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
      raw_->Insert(id, time_ns, line);  // once, if several shards wrote it
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
