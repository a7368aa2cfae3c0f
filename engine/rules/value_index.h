// A read-only map from short strings to selector lists, for the per-event
// dispatch of LogSourceMap::Classify: open addressing on a hash of
// fixed-size loads (the length, the first and the last eight bytes), built
// once. It replaced a std::unordered_map whose std::hash (a byte loop) and
// bucket walk ran for every event that has a dispatch key (e.g. `action`).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/util/hash.h"

namespace gsoc::rules {

class ValueIndex {
 public:
  using Entries = std::vector<std::pair<std::string, std::vector<uint16_t>>>;
  // `entries` have distinct keys.
  void Build(Entries entries) {
    entries_ = std::move(entries);
    size_t capacity = 16;
    while (capacity < entries_.size() * 2) capacity *= 2;  // at most half full
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (uint32_t e = 0; e < entries_.size(); ++e) {
      const uint64_t hash = Hash(entries_[e].first);
      uint64_t i = hash & mask_;
      while (slots_[i].entry != kEmpty) i = (i + 1) & mask_;
      slots_[i] = {hash, e};
    }
  }

  // The list filed under `key`, or null.
  const std::vector<uint16_t>* Find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const uint64_t hash = Hash(key);
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.entry == kEmpty) return nullptr;
      if (slot.hash == hash && entries_[slot.entry].first == key)
        return &entries_[slot.entry].second;
    }
  }

  static uint64_t Hash(std::string_view text) { return ShortStringHash(text); }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t entry = kEmpty;
  };
  Entries entries_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

}  // namespace gsoc::rules
