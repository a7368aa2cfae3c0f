// Private to the Correlator: the key table of one correlation in one shard.
//
// Layout (memory per live key, see correlator.cc for the totals):
//  - chunks_: 72-byte Slots (KeyWindow, the key inline up to 15 bytes,
//    suppression state, deadline bookkeeping) in chunks of 32, allocated as
//    needed: slots never move, access by index is a shift and a mask, and the
//    overhead is ~1%; freed slots are chained into a free list.
//  - index_: open addressing with linear probing over 8-byte entries
//    {low 32 bits of the key hash, slot index}; load factor <= 0.8, deletion
//    by backward shift (no tombstones), so 10-20 bytes per live key.
// Not thread-safe: used under the shard's mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/correlate/window.h"
#include "engine/rules/correlation_rule.h"
#include "engine/util/hash.h"
#include "engine/util/saturating.h"

namespace gsoc::correlate::internal {

inline constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();
inline constexpr uint16_t kNoAgency = 0xFFFF;
inline constexpr uint16_t kMultipleAgencies = 0xFFFE;
inline constexpr int64_t kNoSuppression = std::numeric_limits<int64_t>::min();

// Deterministic across runs and builds (used for shard placement of
// checkpointed keys and for checkpoint checksums).
using gsoc::HashBytes;
using gsoc::Mix64;

// A prefetch the compiler keeps (GCC 12 drops __builtin_prefetch whose
// address comes from a load it deems unused).
inline void PrefetchLine(const void* address) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

using gsoc::SaturatingAdd;

// A key in 16 bytes: up to 15 bytes inline (byte 15 holds 15 - length), else
// a pointer to an exact-size heap copy and its length (byte 15 = 0xFF).
class CompactKey {
 public:
  static constexpr size_t kInline = 15;

  CompactKey() { SetInline({}); }
  ~CompactKey() { Release(); }
  CompactKey(const CompactKey&) = delete;
  CompactKey& operator=(const CompactKey&) = delete;
  CompactKey(CompactKey&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.SetInline({});
  }
  CompactKey& operator=(CompactKey&& other) noexcept {
    if (this != &other) {
      Release();
      std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
      other.SetInline({});
    }
    return *this;
  }

  void Assign(std::string_view key) {
    Release();
    if (key.size() <= kInline) {
      SetInline(key);
      return;
    }
    char* heap = new char[key.size()];
    std::memcpy(heap, key.data(), key.size());
    const uint32_t size = static_cast<uint32_t>(key.size());
    std::memcpy(bytes_, &heap, sizeof(heap));
    std::memcpy(bytes_ + 8, &size, sizeof(size));
    bytes_[15] = static_cast<char>(kHeapMark);
  }
  void Clear() {
    Release();
    SetInline({});
  }

  std::string_view view() const {
    if (!IsHeap()) return {bytes_, kInline - static_cast<uint8_t>(bytes_[15])};
    const char* heap;
    uint32_t size;
    std::memcpy(&heap, bytes_, sizeof(heap));
    std::memcpy(&size, bytes_ + 8, sizeof(size));
    return {heap, size};
  }
  // Heap bytes including the allocator's per-chunk overhead (glibc: 16-byte
  // granules, 8 bytes of header).
  size_t HeapBytes() const { return IsHeap() ? ((view().size() + 8 + 15) & ~size_t{15}) : 0; }

 private:
  static constexpr uint8_t kHeapMark = 0xFF;
  bool IsHeap() const { return static_cast<uint8_t>(bytes_[15]) == kHeapMark; }
  void SetInline(std::string_view key) {
    if (!key.empty()) std::memcpy(bytes_, key.data(), key.size());
    bytes_[15] = static_cast<char>(kInline - key.size());
  }
  void Release() {
    if (!IsHeap()) return;
    char* heap;
    std::memcpy(&heap, bytes_, sizeof(heap));
    delete[] heap;
    SetInline({});
  }

  alignas(8) char bytes_[16];
};

// The state of one (correlation, group key).
struct Slot {
  KeyWindow window;
  CompactKey key;
  // Suppression: firings before this event time are held back (kNoSuppression: none).
  int64_t suppress_until_ns = kNoSuppression;
  // The deadline a heap entry exists for (kNoDeadline: none scheduled), in
  // the deadline heap of `source`.
  int64_t scheduled_ns = kNoDeadline;
  // The highest watermark this key was advanced to (INT64_MIN: never): its
  // windows that ended before it are decided.
  int64_t advanced_ns = std::numeric_limits<int64_t>::min();
  // Firings suppressed since the last emitted one; the next free slot while !live.
  uint32_t suppressed = 0;
  // The source (Correlator's source table) whose event time advances this
  // key: the slowest of the sources that fed it.
  uint32_t source = 0;
  // Agency of the inputs since the last firing: an index, kNoAgency or kMultipleAgencies.
  uint16_t agency = kNoAgency;
  bool live = false;
};

class KeyTable {
 public:
  KeyTable(std::string table_key, uint64_t seed, uint32_t id)
      : table_key_(std::move(table_key)), seed_(seed), id_(id) {}
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  const std::string& table_key() const { return table_key_; }
  uint64_t seed() const { return seed_; }
  uint32_t id() const { return id_; }
  size_t live() const { return live_; }
  size_t slot_count() const { return slot_count_; }
  Slot& slot(uint32_t index) { return chunks_[index >> kChunkShift][index & kChunkMask]; }
  const Slot& slot(uint32_t index) const {
    return chunks_[index >> kChunkShift][index & kChunkMask];
  }

  // Prefetching, a few updates ahead: first the index entry, then (once it
  // is cached) the slot it points to.
  void PrefetchIndex(uint64_t hash) const {
    if (!index_.empty()) PrefetchLine(&index_[static_cast<uint32_t>(hash) & (index_.size() - 1)]);
  }
  void PrefetchSlot(uint64_t hash) const {
    if (index_.empty()) return;
    const IndexEntry& entry = index_[static_cast<uint32_t>(hash) & (index_.size() - 1)];
    if (entry.slot != kNoSlot) PrefetchLine(&slot(entry.slot));
  }

  // Bound by the shard for the set it currently runs (null: not in that set).
  const CorrelationRule* rule = nullptr;
  uint32_t rule_index = 0;
  // Sum of KeyWindow::HeapBytes over live slots, kept by the Correlator.
  int64_t window_bytes = 0;

  uint32_t Find(std::string_view key, uint64_t hash) const {
    if (index_.empty()) return kNoSlot;
    const uint32_t tag = static_cast<uint32_t>(hash);
    const size_t mask = index_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      const IndexEntry& entry = index_[i];
      if (entry.slot == kNoSlot) return kNoSlot;
      if (entry.tag == tag && slot(entry.slot).key.view() == key) return entry.slot;
    }
  }

  // Inserts an absent key; returns its slot (fresh state).
  uint32_t Insert(std::string_view key, uint64_t hash) {
    if ((live_ + 1) * 5 > index_.size() * 4) GrowIndex();
    const uint32_t index = AllocateSlot();
    Slot& slot = this->slot(index);
    slot.key.Assign(key);
    slot.live = true;
    key_heap_bytes_ += slot.key.HeapBytes();
    PlaceInIndex(static_cast<uint32_t>(hash), index);
    ++live_;
    return index;
  }

  // Removes a live key; the caller has accounted for its window bytes.
  void Erase(uint32_t index) {
    Slot& slot = this->slot(index);
    RemoveFromIndex(static_cast<uint32_t>(HashBytes(slot.key.view(), seed_)), index);
    key_heap_bytes_ -= slot.key.HeapBytes();
    slot.key.Clear();
    slot.window = KeyWindow();
    slot.suppress_until_ns = kNoSuppression;
    slot.scheduled_ns = kNoDeadline;
    slot.advanced_ns = std::numeric_limits<int64_t>::min();
    slot.source = 0;
    slot.agency = kNoAgency;
    slot.live = false;
    slot.suppressed = free_head_;
    free_head_ = index;
    --live_;
  }

  // A live key to evict, never at random: among the next 16 live keys from
  // a clock hand, the least advanced one (fewest entries, then the oldest
  // newest entry). A flood of unique keys (one entry each) evicts its own
  // keys before a brute force in progress.
  uint32_t PickVictim() {
    uint32_t best = kNoSlot;
    size_t best_entries = 0;
    int64_t best_newest = 0;
    const size_t count = slot_count_;
    for (size_t step = 0, seen = 0; step < count && seen < 16; ++step) {
      const uint32_t index = hand_;
      hand_ = hand_ + 1 < count ? hand_ + 1 : 0;
      const Slot& candidate = slot(index);
      if (!candidate.live) continue;
      ++seen;
      const size_t entries = candidate.window.entries();
      const int64_t newest = candidate.window.newest_ns();
      if (best == kNoSlot || entries < best_entries ||
          (entries == best_entries && newest < best_newest)) {
        best = index, best_entries = entries, best_newest = newest;
      }
    }
    return best;
  }

  // Bytes held by live keys only (slots, index entries, long keys,
  // windows): what max_bytes_per_rule bounds; unlike StateBytes it falls as
  // keys go.
  size_t LiveBytes() const {
    return live_ * (sizeof(Slot) + 2 * sizeof(IndexEntry)) + key_heap_bytes_ +
           static_cast<size_t>(window_bytes > 0 ? window_bytes : 0);
  }

  template <typename F>
  void ForEachLive(F&& f) const {
    ForEachLiveIn(0, slot_count_, f);
  }
  // The live slots among [begin, end). Slots never move (freed ones are
  // reused in place), so a walk can go on from `end` later.
  template <typename F>
  void ForEachLiveIn(uint32_t begin, uint32_t end, F&& f) const {
    end = std::min(end, slot_count_);
    for (uint32_t i = begin; i < end; ++i) {
      if (slot(i).live) f(i, slot(i));
    }
  }

  // Estimated heap bytes: index, slot blocks, long keys, windows.
  size_t StateBytes() const {
    const size_t slot_bytes = chunks_.size() * (kChunk * sizeof(Slot) + 16);
    return index_.capacity() * sizeof(IndexEntry) + chunks_.capacity() * sizeof(chunks_[0]) +
           slot_bytes + key_heap_bytes_ + static_cast<size_t>(window_bytes > 0 ? window_bytes : 0);
  }

 private:
  static constexpr uint32_t kChunkShift = 5;
  static constexpr uint32_t kChunk = 1u << kChunkShift;
  static constexpr uint32_t kChunkMask = kChunk - 1;

  struct IndexEntry {
    uint32_t tag = 0;
    uint32_t slot = kNoSlot;
  };

  uint32_t AllocateSlot() {
    if (free_head_ != kNoSlot) {
      const uint32_t index = free_head_;
      free_head_ = slot(index).suppressed;
      slot(index).suppressed = 0;
      return index;
    }
    if (slot_count_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<Slot[]>(kChunk));
    return slot_count_++;
  }

  void PlaceInIndex(uint32_t tag, uint32_t slot) {
    const size_t mask = index_.size() - 1;
    size_t i = tag & mask;
    while (index_[i].slot != kNoSlot) i = (i + 1) & mask;
    index_[i] = {tag, slot};
  }

  void RemoveFromIndex(uint32_t tag, uint32_t slot) {
    const size_t mask = index_.size() - 1;
    size_t hole = tag & mask;
    while (index_[hole].slot != slot) hole = (hole + 1) & mask;
    for (size_t next = (hole + 1) & mask; index_[next].slot != kNoSlot; next = (next + 1) & mask) {
      const size_t home = index_[next].tag & mask;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        index_[hole] = index_[next];
        hole = next;
      }
    }
    index_[hole] = IndexEntry{};
  }

  void GrowIndex() {
    std::vector<IndexEntry> old;
    old.swap(index_);
    index_.assign(old.empty() ? 16 : old.size() * 2, IndexEntry{});
    for (const IndexEntry& entry : old) {
      if (entry.slot != kNoSlot) PlaceInIndex(entry.tag, entry.slot);
    }
  }

  std::string table_key_;
  uint64_t seed_;
  uint32_t id_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  uint32_t slot_count_ = 0;
  std::vector<IndexEntry> index_;
  uint32_t free_head_ = kNoSlot;
  uint32_t hand_ = 0;  // PickVictim's clock hand
  size_t live_ = 0;
  size_t key_heap_bytes_ = 0;
};

}  // namespace gsoc::correlate::internal
