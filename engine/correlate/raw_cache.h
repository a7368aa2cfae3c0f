// Private to the Correlator: one shard's FIFO of recent raw lines, so that a
// correlation alert can show the lines of its contributing events (which
// belong to batches long gone).
//
// Fixed memory once first used (nothing allocated per insert): a byte ring
// for the lines, a ring of entry headers and an open-addressing index from
// event id to entry. They are allocated without being written (the index
// from calloc, the kernel's zero pages), so the budget becomes resident as
// lines come rather than all at the first one (a replay of a few lines
// with the shipped pack took ~70 MiB more when it was zero-filled).
// The oldest entries are dropped to make room. Lines longer than
// `max_line` (or a quarter of the ring) are truncated and end with
// kTruncatedMark. Id 0 is never cached.
// Not thread-safe: used under the shard's mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/util/hash.h"

namespace gsoc::correlate::internal {

inline constexpr std::string_view kTruncatedMark = " [truncated]";

// An array allocated once and not written by the allocation: zeroed (calloc:
// untouched pages stay the kernel's shared zero page) or not initialized.
template <typename T>
class LazyArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  void Allocate(size_t size, bool zeroed) {
    void* bytes = zeroed ? std::calloc(size, sizeof(T)) : std::malloc(size * sizeof(T));
    if (bytes == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<T*>(bytes));
    size_ = size;
  }
  void Reset() {
    data_.reset();
    size_ = 0;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

class RawCache {
 public:
  // `budget` bytes in all (lines, headers, index); 0 disables the cache.
  void Configure(size_t budget, size_t max_line = 4096) {
    Clear();
    budget_ = budget;
    max_line_ = std::max(max_line, kTruncatedMark.size() + 1);
  }

  void Clear() {
    ring_.Reset();
    headers_.Reset();
    direct_.Reset();
    overflow_.Reset();
    overflowed_.Reset();
    overflow_count_ = 0;
    head_ = tail_ = 0;
    live_bytes_ = tail_offset_ = 0;
  }

  size_t size() const { return static_cast<size_t>(tail_ - head_); }
  size_t HeapBytes() const {
    return ring_.size() + headers_.size() * sizeof(Header) +
           (direct_.size() + overflow_.size()) * sizeof(IndexEntry) + overflowed_.size();
  }

  bool Contains(uint64_t id) const { return Find(id) != nullptr; }

  void Insert(uint64_t id, int64_t time_ns, std::string_view raw) {
    if (id == 0 || budget_ < 1024 || Contains(id)) return;
    if (ring_.empty()) Allocate();
    const size_t limit = std::min(max_line_, ring_.size() / 4);
    std::string_view mark;
    if (raw.size() > limit) {
      mark = kTruncatedMark;
      raw = raw.substr(0, limit - mark.size());
    }
    const size_t length = raw.size() + mark.size();
    while (tail_ - head_ == headers_.size() || live_bytes_ + length > ring_.size()) {
      DropOldest();
    }
    CopyIn(tail_offset_, raw);
    CopyIn(Wrap(tail_offset_ + raw.size()), mark);
    HeaderOf(tail_) = {id, time_ns, tail_offset_, static_cast<uint32_t>(length)};
    PlaceInIndex(id, tail_);
    tail_offset_ = Wrap(tail_offset_ + length);
    live_bytes_ += length;
    ++tail_;
  }

  // Copies the line of `id` into `raw`; false when it is not cached.
  bool Lookup(uint64_t id, std::string* raw) const {
    int64_t unused = 0;
    return Lookup(id, raw, &unused);
  }
  // The same, with the time it was cached under.
  bool Lookup(uint64_t id, std::string* raw, int64_t* time_ns) const {
    const IndexEntry* entry = Find(id);
    if (entry == nullptr) return false;
    const Header& header = HeaderOf(entry->seq);
    CopyOut(header, raw);
    *time_ns = header.time_ns;
    return true;
  }

  // Oldest first: f(id, time_ns, line).
  template <typename F>
  void ForEach(F&& f) const {
    uint64_t position = 0;
    ForEachWanted(
        position, SIZE_MAX, [](uint64_t) { return true; }, f);
  }
  // The same for the lines whose id `wanted(id)` accepts (the others are not
  // copied out), at most `limit` lines looked at from `position` (a line's
  // sequence number; 0 = the oldest) on, which moves past them. False once
  // every line is done, so a walk can go on later from `position` (lines
  // dropped meanwhile are skipped, lines added meanwhile are walked too).
  template <typename W, typename F>
  bool ForEachWanted(uint64_t& position, size_t limit, W&& wanted, F&& f) const {
    std::string line;
    uint64_t seq = std::max(position, head_);
    for (; seq < tail_ && limit > 0; ++seq, --limit) {
      const Header& header = HeaderOf(seq);
      if (!wanted(header.id)) continue;
      CopyOut(header, &line);
      f(header.id, header.time_ns, std::string_view(line));
    }
    position = seq;
    return seq < tail_;
  }

 private:
  struct Header {
    uint64_t id;
    int64_t time_ns;
    uint64_t offset;  // where the line starts in the ring
    uint32_t length;
  };
  struct IndexEntry {
    uint64_t id = 0;  // 0: empty
    uint64_t seq = 0;
  };

  // Positions are masked and wrapped, never divided: a 64-bit division per
  // header and per ring copy was most of an insert's time.
  Header& HeaderOf(uint64_t seq) { return headers_[seq & (headers_.size() - 1)]; }
  const Header& HeaderOf(uint64_t seq) const { return headers_[seq & (headers_.size() - 1)]; }
  // `offset` < 2 x ring size (a line is at most a quarter of the ring).
  uint64_t Wrap(uint64_t offset) const {
    return offset >= ring_.size() ? offset - ring_.size() : offset;
  }

  void Allocate() {
    // One header per 256 bytes of budget (lines average 100-300 bytes; a
    // power of two, rounded down), the two index tables at load <= 0.5
    // each (with the headers, 38% of the budget), the rest for the lines.
    size_t entries = 4;
    while (entries * 2 <= budget_ / 256) entries *= 2;
    const size_t index_size = entries * 2;
    const size_t overhead =
        entries * sizeof(Header) + index_size * (2 * sizeof(IndexEntry) + sizeof(uint8_t));
    headers_.Allocate(entries, false);   // a header is read only once written
    direct_.Allocate(index_size, true);  // id 0: empty
    overflow_.Allocate(index_size, true);
    overflowed_.Allocate(index_size, true);
    ring_.Allocate(budget_ > overhead + 512 ? budget_ - overhead : 512, false);
  }

  void DropOldest() {
    const Header& header = HeaderOf(head_);
    RemoveFromIndex(header.id);
    live_bytes_ -= header.length;
    ++head_;
  }

  void CopyIn(uint64_t offset, std::string_view raw) {
    if (raw.empty()) return;  // an empty view may have no data: memcpy must not see it
    const size_t first = std::min(raw.size(), ring_.size() - offset);
    std::memcpy(ring_.data() + offset, raw.data(), first);
    std::memcpy(ring_.data(), raw.data() + first, raw.size() - first);
  }

  void CopyOut(const Header& header, std::string* out) const {
    const size_t first = std::min<size_t>(header.length, ring_.size() - header.offset);
    out->assign(ring_.data() + header.offset, first);
    out->append(ring_.data(), header.length - first);
  }

  // The index, in two tables of the same size. `direct_` holds an id at
  // slot id & mask when that slot is free. Ids are gsocd's own (events
  // numbered in input order, chain ids by a counter), so they come nearly
  // ascending: an insert and the drop of the oldest touch the two ends of
  // a sliding range, which the hardware prefetcher follows. (A mixing hash
  // made each of them a random miss in an 8 MiB table: 6% of gsocd's CPU.)
  // An id whose slot is taken (a chain id, a line restored from a
  // checkpoint, sparse ids wrapping around) goes to `overflow_`, linear
  // probing from a mixing hash, and `overflowed_` counts, per direct slot,
  // the overflow entries homed there (saturating), so that a lookup only
  // probes the overflow where one may be. Every operation is O(1)
  // expected, whatever the ids: no run of ids can make an insert move
  // others.
  size_t DirectSlot(uint64_t id) const { return static_cast<size_t>(id) & (direct_.size() - 1); }

  const IndexEntry* Find(uint64_t id) const {
    if (direct_.empty() || id == 0) return nullptr;
    const size_t slot = DirectSlot(id);
    if (direct_[slot].id == id) return &direct_[slot];
    if (overflowed_[slot] == 0) return nullptr;
    const size_t position = OverflowPosition(id);
    return position == kNotInOverflow ? nullptr : &overflow_[position];
  }

  void PlaceInIndex(uint64_t id, uint64_t seq) {
    const size_t slot = DirectSlot(id);
    if (direct_[slot].id == 0) {
      direct_[slot] = {id, seq};
      return;
    }
    const size_t mask = overflow_.size() - 1;
    size_t i = Mix64(id) & mask;
    while (overflow_[i].id != 0) i = (i + 1) & mask;
    overflow_[i] = {id, seq};
    ++overflow_count_;
    if (overflowed_[slot] != UINT8_MAX) ++overflowed_[slot];
  }

  void RemoveFromIndex(uint64_t id) {
    const size_t slot = DirectSlot(id);
    if (direct_[slot].id == id) {
      direct_[slot] = IndexEntry{};
      return;
    }
    size_t hole = OverflowPosition(id);
    if (hole == kNotInOverflow) return;
    const size_t mask = overflow_.size() - 1;
    for (size_t next = (hole + 1) & mask; overflow_[next].id != 0; next = (next + 1) & mask) {
      const size_t home = Mix64(overflow_[next].id) & mask;
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        overflow_[hole] = overflow_[next];
        hole = next;
      }
    }
    overflow_[hole] = IndexEntry{};
    --overflow_count_;
    if (overflowed_[slot] != UINT8_MAX) --overflowed_[slot];  // a saturated count stays
  }

  static constexpr size_t kNotInOverflow = SIZE_MAX;
  size_t OverflowPosition(uint64_t id) const {
    if (overflow_count_ == 0) return kNotInOverflow;
    const size_t mask = overflow_.size() - 1;
    for (size_t i = Mix64(id) & mask;; i = (i + 1) & mask) {
      if (overflow_[i].id == id) return i;
      if (overflow_[i].id == 0) return kNotInOverflow;
    }
  }

  size_t budget_ = 0;
  size_t max_line_ = 4096;
  LazyArray<char> ring_;
  LazyArray<Header> headers_;
  LazyArray<IndexEntry> direct_, overflow_;
  LazyArray<uint8_t> overflowed_;  // per direct slot: overflow entries homed there
  size_t overflow_count_ = 0;
  uint64_t head_ = 0, tail_ = 0;  // entry sequence numbers [head_, tail_)
  uint64_t live_bytes_ = 0;       // bytes of the live lines in the ring
  uint64_t tail_offset_ = 0;      // where the next line goes in the ring
};

}  // namespace gsoc::correlate::internal
