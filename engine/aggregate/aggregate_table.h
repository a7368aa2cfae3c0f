// AggregateTable: owned values by a 64-bit hash, open addressing with linear
// probing over one array of {hash, pointer} (16 bytes a slot, at most 3/4
// full), for the aggregator's shards. A lookup reads one or two slots of one
// cache line where std::unordered_map divided by its prime bucket count and
// then chased a node. Erase shifts the following slots back (no tombstones).
// Not thread-safe (the shard's lock guards it).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace gsoc::aggregate {

template <typename T, typename Deleter = std::default_delete<T>>
class AggregateTable {
  struct Slot;

 public:
  using Ptr = std::unique_ptr<T, Deleter>;
  struct Entry {
    uint64_t hash;
    T& value;
  };
  // Visits the values with their hashes, in no particular order; the table
  // must not change meanwhile.
  class Iterator {
   public:
    Iterator(const Slot* at, const Slot* end) : at_(at), end_(end) { Skip(); }
    Entry operator*() const { return {at_->hash, *at_->value}; }
    Iterator& operator++() {
      ++at_;
      Skip();
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    void Skip() {
      while (at_ != end_ && !at_->value) ++at_;
    }
    const Slot* at_;
    const Slot* end_;
  };

  T* Find(uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(hash);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (!slot.value || slot.hash == hash) return slot.value.get();
    }
  }
  // Starts loading the cache line Find(hash) reads first.
  void Prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(hash)]);
  }
  // Adds `value` under `hash` and returns it; when `hash` is taken, keeps
  // the value there (`value` is dropped) and returns that one (as emplace).
  T& Insert(uint64_t hash, Ptr value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    size_t i = Home(hash);
    for (; slots_[i].value; i = (i + 1) & mask_) {
      if (slots_[i].hash == hash) return *slots_[i].value;
    }
    slots_[i] = {hash, std::move(value)};
    ++size_;
    return *slots_[i].value;
  }
  // Destroys the value under `hash`; false when there is none.
  bool Erase(uint64_t hash);
  Iterator begin() const { return {slots_.data(), slots_.data() + slots_.size()}; }
  Iterator end() const { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    uint64_t hash = 0;
    Ptr value;  // null: empty
  };

  // The hash's high bits, multiplied in: the shard already used its low
  // bits, and a test's hash function may be anything.
  size_t Home(uint64_t hash) const {
    return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void Grow();

  std::vector<Slot> slots_;  // a power of two of them, or none
  size_t mask_ = 0;
  int shift_ = 64;  // 64 - log2(slots); Home is used only with slots
  size_t size_ = 0;
};

template <typename T, typename Deleter>
bool AggregateTable<T, Deleter>::Erase(uint64_t hash) {
  if (slots_.empty()) return false;
  size_t hole = Home(hash);
  for (; slots_[hole].hash != hash || !slots_[hole].value; hole = (hole + 1) & mask_) {
    if (!slots_[hole].value) return false;
  }
  slots_[hole].value.reset();
  --size_;
  // A later slot of the run moves into the hole when its home is not in
  // (hole, slot]: probing from its home would stop at the hole otherwise.
  for (size_t i = (hole + 1) & mask_; slots_[i].value; i = (i + 1) & mask_) {
    if (((i - Home(slots_[i].hash)) & mask_) >= ((i - hole) & mask_)) {
      slots_[hole] = std::move(slots_[i]);  // leaves slots_[i] empty: the new hole
      hole = i;
    }
  }
  return true;
}

template <typename T, typename Deleter>
void AggregateTable<T, Deleter>::Grow() {
  std::vector<Slot> old = std::move(slots_);
  const size_t capacity = old.empty() ? 64 : old.size() * 2;
  slots_ = std::vector<Slot>(capacity);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  for (Slot& slot : old) {
    if (!slot.value) continue;
    size_t i = Home(slot.hash);
    while (slots_[i].value) i = (i + 1) & mask_;
    slots_[i] = std::move(slot);
  }
}

}  // namespace gsoc::aggregate
