// Private to the Correlator: one shard's FIFO of recent raw lines, so that a
// correlation alert can show the lines of its contributing events (which
// belong to batches long gone).
//
// Fixed memory once first used (nothing allocated per insert): a byte ring
// for the lines, a ring of entry headers and an open-addressing index from
// event id to entry. The oldest entries are dropped to make room. Lines
// longer than `max_line` (or a quarter of the ring) are truncated and end
// with kTruncatedMark. Id 0 is never cached.
// Not thread-safe: used under the shard's mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gsoc::correlate::internal {

inline constexpr std::string_view kTruncatedMark = " [truncated]";

class RawCache {
 public:
  // `budget` bytes in all (lines, headers, index); 0 disables the cache.
  void Configure(size_t budget, size_t max_line = 4096) {
    Clear();
    budget_ = budget;
    max_line_ = std::max(max_line, kTruncatedMark.size() + 1);
  }

  void Clear() {
    ring_ = {};
    headers_ = {};
    index_ = {};
    head_ = tail_ = 0;
    live_bytes_ = tail_offset_ = 0;
  }

  size_t size() const { return static_cast<size_t>(tail_ - head_); }
  size_t HeapBytes() const {
    return ring_.capacity() + headers_.capacity() * sizeof(Header) +
           index_.capacity() * sizeof(IndexEntry);
  }

  bool Contains(uint64_t id) const { return FindPosition(id) != kAbsent; }

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
    const size_t position = FindPosition(id);
    if (position == kAbsent) return false;
    const Header& header = HeaderOf(index_[position].seq);
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
  static constexpr size_t kAbsent = SIZE_MAX;

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
    // power of two, rounded down), an index at load <= 0.5, the rest for
    // the lines.
    size_t entries = 4;
    while (entries * 2 <= budget_ / 256) entries *= 2;
    size_t index_size = 8;
    while (index_size < entries * 2) index_size *= 2;
    const size_t overhead = entries * sizeof(Header) + index_size * sizeof(IndexEntry);
    headers_.resize(entries);
    index_.assign(index_size, IndexEntry{});
    ring_.resize(budget_ > overhead + 512 ? budget_ - overhead : 512);
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

  // The index: Robin Hood linear probing from slot id & mask. Ids are
  // gsocd's own (events numbered in input order, chain ids by a counter),
  // so the entries come in nearly ascending: each sits at its home slot,
  // an insert and the drop of the oldest touch the two ends of a sliding
  // run, and the hardware prefetcher follows both. (A mixing hash made
  // each of them a random miss in an 8 MiB table: 6% of gsocd's CPU.)
  // Robin Hood order keeps the worst case short when ids are not dense:
  // a lookup stops at an entry nearer its home than the probe, a removal
  // shifts back only displaced entries.
  size_t Home(uint64_t id) const { return static_cast<size_t>(id) & (index_.size() - 1); }
  size_t Displacement(size_t position) const {
    return (position - Home(index_[position].id)) & (index_.size() - 1);
  }

  size_t FindPosition(uint64_t id) const {
    if (index_.empty() || id == 0) return kAbsent;
    const size_t mask = index_.size() - 1;
    for (size_t i = Home(id), distance = 0;; i = (i + 1) & mask, ++distance) {
      if (index_[i].id == id) return i;
      if (index_[i].id == 0 || Displacement(i) < distance) return kAbsent;
    }
  }

  void PlaceInIndex(uint64_t id, uint64_t seq) {
    const size_t mask = index_.size() - 1;
    IndexEntry entry{id, seq};
    for (size_t i = Home(id), distance = 0;; i = (i + 1) & mask, ++distance) {
      if (index_[i].id == 0) {
        index_[i] = entry;
        return;
      }
      const size_t resident = Displacement(i);
      if (resident < distance) {  // the richer entry moves on
        std::swap(entry, index_[i]);
        distance = resident;
      }
    }
  }

  void RemoveFromIndex(uint64_t id) {
    size_t hole = FindPosition(id);
    if (hole == kAbsent) return;
    const size_t mask = index_.size() - 1;
    for (size_t next = (hole + 1) & mask; index_[next].id != 0 && Displacement(next) > 0;
         next = (next + 1) & mask) {
      index_[hole] = index_[next];
      hole = next;
    }
    index_[hole] = IndexEntry{};
  }

  size_t budget_ = 0;
  size_t max_line_ = 4096;
  std::vector<char> ring_;
  std::vector<Header> headers_;
  std::vector<IndexEntry> index_;
  uint64_t head_ = 0, tail_ = 0;  // entry sequence numbers [head_, tail_)
  uint64_t live_bytes_ = 0;       // bytes of the live lines in the ring
  uint64_t tail_offset_ = 0;      // where the next line goes in the ring
};

}  // namespace gsoc::correlate::internal
