// Private to the store: the index posting lists (by_rule, by_agency,
// by_level) and the writer's per-batch builder of them. Pure functions and
// containers, no RocksDB types (the whole picture: README.md "Key layout").
//
// A posting is one index entry for one (index, value, commit batch): its key
// is the value's prefix (name '\0', or the level byte) followed by the BE
// first (smallest) id of the batch's alerts with that value; its value holds
// the batch's other ids as varint gaps, each the difference to the id before
// it (>= 1, so ids strictly increase). An empty value is the key's id alone,
// which is also what an entry of the per-alert layout (format 3) is: those
// read as one-id postings. Batches take disjoint, increasing id ranges, so
// the postings of one prefix in key order hold their ids in id order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/store_format.h"
#include "engine/util/wire_format.h"

namespace gsoc::store::format {

// The ids of a posting (key id `first`, value `gaps`) into `ids` (replaced),
// ascending; false (ids empty) when the value is malformed: a truncated
// varint, a gap of 0, or an id past UINT64_MAX. At most gaps.size() + 1 ids.
inline bool DecodePosting(uint64_t first, std::string_view gaps, std::vector<uint64_t>& ids) {
  ids.clear();
  ids.push_back(first);
  uint64_t id = first;
  while (!gaps.empty()) {
    uint64_t gap = 0;
    if (!wire::ReadVarint(gaps, &gap) || gap == 0 || gap > UINT64_MAX - id) {
      ids.clear();
      return false;
    }
    id += gap;
    ids.push_back(id);
  }
  return true;
}

// The value of a posting of `ids` (ascending, not empty; the key holds ids[0]).
inline void EncodePostingGaps(std::string& out, const std::vector<uint64_t>& ids) {
  out.clear();
  for (size_t i = 1; i < ids.size(); ++i) wire::PutVarint(out, ids[i] - ids[i - 1]);
}

// The three posting indexes, in the order of their column families.
enum class PostingIndex : uint8_t { kRule = 0, kAgency = 1, kLevel = 2 };
inline constexpr size_t kPostingIndexes = 3;

// The writer's postings of one batch: Add(index, prefix, id) for each index
// entry of each alert, ids increasing; then ForEach emits one (index, key,
// value) per (index, prefix). Reused across batches (Clear keeps buffers):
// no allocation per alert once the buffers have grown. Bounds: one entry
// per distinct (index, prefix) of the batch (at most 4 an alert), a value
// at most 10 bytes an id; between batches at most kKeptEntries entries keep
// their buffers.
class PostingBatch {
 public:
  void Clear() {
    for (size_t i = 0; i < used_; ++i) {
      entries_[i].key.clear();
      entries_[i].gaps.clear();
    }
    if (entries_.size() > kKeptEntries) entries_.resize(kKeptEntries);
    used_ = 0;
    std::fill(table_.begin(), table_.end(), kEmpty);
  }

  // `prefix`: name '\0' or the level byte (NamePrefix, LevelPrefix bytes).
  void Add(PostingIndex index, std::string_view prefix, uint64_t id) {
    if (table_.size() < 2 * (used_ + 1)) Grow();
    const uint64_t hash = Hash(index, prefix);
    const size_t mask = table_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const uint32_t at = table_[slot];
      if (at == kEmpty) {
        table_[slot] = static_cast<uint32_t>(used_);
        Entry& entry = NewEntry();
        entry.hash = hash;
        entry.index = index;
        entry.prefix_size = prefix.size();
        entry.key.assign(prefix);
        wire::PutBigEndian64(entry.key, id);
        entry.last = id;
        return;
      }
      Entry& entry = entries_[at];
      if (entry.hash == hash && entry.index == index &&
          std::string_view(entry.key).substr(0, entry.prefix_size) == prefix) {
        if (id > entry.last) {  // the same alert twice (rule id and name alike): once
          wire::PutVarint(entry.gaps, id - entry.last);
          entry.last = id;
        }
        return;
      }
    }
  }

  size_t size() const { return used_; }

  // fn(PostingIndex, std::string_view key, std::string_view value) per posting.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < used_; ++i) fn(entries_[i].index, entries_[i].key, entries_[i].gaps);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr size_t kKeptEntries = 64;
  struct Entry {
    uint64_t hash = 0;
    PostingIndex index = PostingIndex::kRule;
    size_t prefix_size = 0;
    std::string key;   // prefix + BE first id
    std::string gaps;  // the value
    uint64_t last = 0;
  };

  static uint64_t Hash(PostingIndex index, std::string_view prefix) {
    return std::hash<std::string_view>{}(prefix)*3 + static_cast<uint64_t>(index);
  }
  Entry& NewEntry() {
    if (used_ == entries_.size()) entries_.emplace_back();
    return entries_[used_++];
  }
  void Grow() {
    table_.assign(std::max<size_t>(64, table_.size() * 2), kEmpty);
    const size_t mask = table_.size() - 1;
    for (size_t i = 0; i < used_; ++i) {
      size_t slot = entries_[i].hash & mask;
      while (table_[slot] != kEmpty) slot = (slot + 1) & mask;
      table_[slot] = static_cast<uint32_t>(i);
    }
  }

  std::vector<Entry> entries_;
  size_t used_ = 0;
  std::vector<uint32_t> table_;  // open addressing: entry index or kEmpty; a power of 2
};

}  // namespace gsoc::store::format
