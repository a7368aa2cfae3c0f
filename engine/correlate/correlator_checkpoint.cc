// Correlator::Checkpoint and Restore: the state as bytes (format below).
#include "engine/correlate/correlator_internal.h"

namespace gsoc::correlate {

// ---------------------------------------------------------------------------
// Checkpoints
//
// "GSOCCORR", u32 version (2), i64 stream time, u64 next chain id;
// u32 sources, then per source (the orphan clock first, then least
// recently active first): u32 index, u64 key, u16 agency, i64 time;
// u32 shards; per shard: u32 tables; per table: str table key, u32 keys;
// per key: str key, i64 suppress_until, u32 suppressed, u16 agency, u32
// owner source index, i64 advanced watermark, str window
// (KeyWindow::Serialize); then u32 raw entries (only the lines a live window
// of the shard refers to); per entry: u64 id, i64 time, str line. Then u64
// HashBytes(everything before). str = u32 length + bytes. Little-endian (the
// host order of every supported target). A version 1 checkpoint (one global
// stream time) is refused: state starts empty.

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

// The shard's raw lines that a live window still refers to. The cache holds
// the lines of every recent correlated event (up to raw_cache bytes, 64 MiB
// by default), most of whose windows have fired or expired; writing them all
// made a checkpoint of tens of MiB every interval, whose serialization,
// store write, flush and compaction cost more CPU than the detection itself.
void Correlator::AppendReferencedRaw(const Shard& shard, std::string& out) {
  thread_local std::vector<uint64_t> ids;
  ids.clear();
  for (const auto& table : shard.tables) {
    if (table)
      table->ForEachLive([&](uint32_t, const Slot& slot) { slot.window.AppendEventIds(ids); });
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const size_t count_at = out.size();
  AppendPod<uint32_t>(out, 0);
  uint32_t count = 0;
  shard.raw.ForEach([&](uint64_t id, int64_t time_ns, std::string_view line) {
    if (!std::binary_search(ids.begin(), ids.end(), id)) return;
    AppendPod<uint64_t>(out, id);
    AppendPod<int64_t>(out, time_ns);
    AppendString(out, line);
    ++count;
  });
  std::memcpy(out.data() + count_at, &count, sizeof(count));
}

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
    AppendReferencedRaw(*shard, out);
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
