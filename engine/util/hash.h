// A fast byte hash that is deterministic across runs and builds, for keys
// that are stored or checkpointed (correlation shard placement and
// checkpoint checksums, alert aggregate keys): 8 bytes per step. Not keyed
// and not collision-resistant against a chosen input: a table keyed by it
// must compare the key itself (the correlator's key table, the aggregator).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace gsoc {

// FNV-1a 64 over `bytes`, one byte at a time, continuing from `hash`
// (kFnv1aOffset to start). The same in every build and version: for
// digests that are stored or name shared state (compiled-rule cache files,
// rule revisions, correlation partitions, lease members, checkpoint
// checksums), where HashBytes' speed is not needed.
inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;
inline uint64_t Fnv1a(std::string_view bytes, uint64_t hash = kFnv1aOffset) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t HashBytes(std::string_view bytes, uint64_t seed) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(n) * kMul);
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ Mix64(v)) * kMul;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ Mix64(v ^ (static_cast<uint64_t>(n) << 56))) * kMul;
  }
  return Mix64(h);
}

// A hash of a short string (a field name, a field value) for in-memory
// indexes: the length and the first and last eight bytes, mixed, read in
// fixed-size loads (two overlapping four-byte ones, or three bytes, below
// eight): no byte loop and no memcpy of n bytes, whose call and byte stores
// stalled the eight-byte load after them. Strings that differ only in their
// middle collide, so callers compare the bytes. Not stable across versions:
// never persist it.
inline uint64_t ShortStringHash(std::string_view text) {
  uint64_t head = 0, tail = 0;
  const size_t n = text.size();
  const char* data = text.data();
  if (n >= 8) {
    std::memcpy(&head, data, 8);
    std::memcpy(&tail, data + n - 8, 8);
  } else if (n >= 4) {
    uint32_t first = 0, last = 0;
    std::memcpy(&first, data, 4);
    std::memcpy(&last, data + n - 4, 4);
    head = first | uint64_t{last} << 32;
  } else if (n > 0) {
    head = uint64_t{static_cast<uint8_t>(data[0])} |
           uint64_t{static_cast<uint8_t>(data[n / 2])} << 8 |
           uint64_t{static_cast<uint8_t>(data[n - 1])} << 16;
  }
  uint64_t hash = (head ^ (tail * 0x9e3779b97f4a7c15ull) ^ n) * 0xff51afd7ed558ccdull;
  return hash ^ (hash >> 29);
}

}  // namespace gsoc
