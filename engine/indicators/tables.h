// Internal to gsoc_indicators: the memory-lean lookup tables behind
// IndicatorList. Not a public API.
//
//  - StringSet: lower-cased strings in one contiguous arena, an offsets array
//    and an open-addressing table of 64-bit slots (32-bit hash tag + 32-bit
//    entry index). Lookups lower-case ASCII on the fly (8 bytes at a time),
//    so a query of any length is hashed and compared without a copy or an
//    allocation. Candidates are verified byte for byte: no false positives.
//  - IpSet: an open-addressing table of 128-bit keys (IPv4 as IPv4-mapped
//    IPv6), one per prefix length present in a list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc::indicators::detail {

inline uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t LoadTail(const char* p, size_t n) {  // n < 8
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

// ASCII A-Z -> a-z in all 8 bytes at once; other bytes (incl. >= 0x80) unchanged.
inline uint64_t LowerAscii8(uint64_t x) {
  const uint64_t heptets = x & 0x7F7F7F7F7F7F7F7FULL;
  const uint64_t above_z = heptets + 0x2525252525252525ULL;  // bit 7 set if > 'Z'
  const uint64_t from_a = heptets + 0x3F3F3F3F3F3F3F3FULL;   // bit 7 set if >= 'A'
  const uint64_t ascii = ~x & 0x8080808080808080ULL;
  const uint64_t upper = ascii & (from_a ^ above_z);
  return x | (upper >> 2);
}

inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline uint64_t Mum(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kK0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kK1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kK2 = 0x8ebc6af09c88c6e3ULL;
constexpr uint64_t kK3 = 0x589965cc75374cc3ULL;

// Hash of the ASCII-lower-cased bytes (wyhash-style multiply-fold).
inline uint64_t HashLower(const char* p, size_t n) {
  uint64_t h = kK0 ^ Mum(n ^ kK1, kK2);
  while (n >= 16) {
    h = Mum(LowerAscii8(Load8(p)) ^ kK1, LowerAscii8(Load8(p + 8)) ^ h);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0;
  uint64_t b = 0;
  if (n >= 8) {
    a = LowerAscii8(Load8(p));
    b = LowerAscii8(LoadTail(p + 8, n - 8));
  } else {
    a = LowerAscii8(LoadTail(p, n));
  }
  return Mum(a ^ kK3 ^ h, b ^ kK2);
}

// `query` lower-cased equals `lowered` (already lower-case), same length n.
inline bool EqualsLower(const char* query, const char* lowered, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (LowerAscii8(Load8(query + i)) != Load8(lowered + i)) return false;
  }
  if (i < n) return LowerAscii8(LoadTail(query + i, n - i)) == LoadTail(lowered + i, n - i);
  return true;
}

class StringSet {
 public:
  StringSet() : offsets_{0} {}

  size_t size() const { return offsets_.size() - 1; }
  std::string_view at(uint32_t index) const {
    return {arena_.data() + offsets_[index], offsets_[index + 1] - offsets_[index]};
  }

  // Inserts `lowered` (must be lower-case) unless present. Returns its index
  // and whether it was new.
  std::pair<uint32_t, bool> Insert(std::string_view lowered) {
    if ((size() + 1) * 4 > slots_.size() * 3) Grow();
    const uint64_t h = HashLower(lowered.data(), lowered.size());
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) break;
      if (static_cast<uint32_t>(s >> 32) == tag) {
        const uint32_t idx = static_cast<uint32_t>(s) - 1;
        if (at(idx) == lowered) return {idx, false};
      }
    }
    if (arena_.size() + lowered.size() > UINT32_MAX || size() + 2 > UINT32_MAX) {
      throw std::length_error("indicator list too large (> 4 GiB of strings)");
    }
    const uint32_t idx = static_cast<uint32_t>(size());
    arena_.append(lowered);
    offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    slots_[i] = (static_cast<uint64_t>(tag) << 32) | (idx + 1);
    return {idx, true};
  }

  // Case-insensitive (ASCII) lookup of any length, no allocation.
  bool Contains(std::string_view query) const {
    if (slots_.empty()) return false;
    const uint64_t h = HashLower(query.data(), query.size());
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) return false;
      if (static_cast<uint32_t>(s >> 32) == tag) {
        const uint32_t idx = static_cast<uint32_t>(s) - 1;
        const uint32_t begin = offsets_[idx];
        if (offsets_[idx + 1] - begin == query.size() &&
            EqualsLower(query.data(), arena_.data() + begin, query.size())) {
          return true;
        }
      }
    }
  }

  void ShrinkToFit() {
    arena_.shrink_to_fit();
    offsets_.shrink_to_fit();
  }
  size_t memory_bytes() const {
    return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
           slots_.capacity() * sizeof(uint64_t);
  }

 private:
  void Grow() {
    const size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
    std::vector<uint64_t> slots(cap, 0);
    const size_t mask = cap - 1;
    for (uint64_t s : slots_) {
      if (s == 0) continue;
      const std::string_view v = at(static_cast<uint32_t>(s) - 1);
      const uint64_t h = HashLower(v.data(), v.size());
      size_t i = h & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = s;
    }
    slots_.swap(slots);
    mask_ = mask;
  }

  std::string arena_;              // all entries, lower-case, back to back
  std::vector<uint32_t> offsets_;  // entry i = arena_[offsets_[i], offsets_[i+1])
  std::vector<uint64_t> slots_;    // (hash >> 32) << 32 | (index + 1); 0 = empty
  size_t mask_ = 0;
};

struct Ip128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Ip128&) const = default;
};

inline Ip128 MaskIp(Ip128 a, unsigned prefix_len) {
  if (prefix_len == 0) return {};
  if (prefix_len <= 64) return {a.hi & (~0ULL << (64 - prefix_len)), 0};
  return {a.hi, a.lo & (~0ULL << (128 - prefix_len))};
}

class IpSet {
 public:
  explicit IpSet(unsigned prefix_len) : prefix_len_(prefix_len) {}

  unsigned prefix_len() const { return prefix_len_; }
  size_t size() const { return count_ + (has_zero_ ? 1 : 0); }

  void Insert(Ip128 key) {  // key already masked to prefix_len
    if (key == Ip128{}) {
      has_zero_ = true;
      return;
    }
    if ((count_ + 1) * 4 > slots_.size() * 3) Grow();
    if (Place(slots_, mask_, key)) ++count_;
  }

  // After the last Insert: builds the miss filter, a one-hash Bloom bitmap of
  // ~16 bits an entry (~6% false positives) that is 1/8 the table size, so
  // most misses are answered from cache without touching the slots.
  void Seal() {
    if (count_ == 0) return;
    size_t bits = 64;
    while (bits < count_ * 16) bits *= 2;
    filter_.assign(bits / 64, 0);
    filter_mask_ = bits - 1;
    for (const Ip128& s : slots_) {
      if (s == Ip128{}) continue;
      const size_t b = (Hash(s) >> 32) & filter_mask_;
      filter_[b / 64] |= 1ULL << (b % 64);
    }
  }

  bool Contains(Ip128 key) const {
    if (key == Ip128{}) return has_zero_;
    if (slots_.empty()) return false;
    const uint64_t h = Hash(key);
    if (!filter_.empty()) {
      const size_t b = (h >> 32) & filter_mask_;
      if ((filter_[b / 64] & (1ULL << (b % 64))) == 0) return false;
    }
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Ip128& s = slots_[i];
      if (s == key) return true;
      if (s == Ip128{}) return false;
    }
  }

  size_t memory_bytes() const {
    return slots_.capacity() * sizeof(Ip128) + filter_.capacity() * sizeof(uint64_t);
  }

 private:
  static uint64_t Hash(Ip128 k) { return Mum(k.hi ^ kK0, k.lo ^ kK1); }
  static bool Place(std::vector<Ip128>& slots, size_t mask, Ip128 key) {
    for (size_t i = Hash(key) & mask;; i = (i + 1) & mask) {
      if (slots[i] == key) return false;
      if (slots[i] == Ip128{}) {
        slots[i] = key;
        return true;
      }
    }
  }
  void Grow() {
    const size_t cap = slots_.empty() ? 16 : slots_.size() * 2;
    std::vector<Ip128> slots(cap);
    for (const Ip128& s : slots_) {
      if (!(s == Ip128{})) Place(slots, cap - 1, s);
    }
    slots_.swap(slots);
    mask_ = cap - 1;
  }

  unsigned prefix_len_;
  std::vector<Ip128> slots_;  // {0,0} = empty; the zero key is has_zero_
  size_t mask_ = 0;
  std::vector<uint64_t> filter_;  // Seal(): bit (hash >> 32) & filter_mask_ per key
  size_t filter_mask_ = 0;
  size_t count_ = 0;
  bool has_zero_ = false;
};

}  // namespace gsoc::indicators::detail
