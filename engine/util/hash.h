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

}  // namespace gsoc
