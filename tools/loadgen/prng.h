// Small deterministic PRNG (xoshiro256**, seeded through splitmix64) so that
// the same seed renders the same messages on every machine and libstdc++.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace gsoc::loadgen {

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [lo, hi] (the tiny modulo bias is irrelevant here).
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }

  // True with the given percentage (0-100).
  bool Percent(unsigned percent) { return Next() % 100 < percent; }

  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Next() % items.size()];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace gsoc::loadgen
