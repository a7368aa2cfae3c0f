// What a run of a KeyWindow's entries adds up to, as entries are added at
// the new end and removed at the old end (window.cc's per-type logic):
// inputs, a sum, an average, a median, distinct values or distinct refs;
// and the per-thread scratch that makes that allocation-free in steady
// state. Internal to window.cc (one thread's work at a time).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/rules/correlation_rule.h"

namespace gsoc::correlate::window_detail {

// One window entry as stored (u64 time, u64 event id[, u64 aux]).
struct Entry {
  int64_t time_ns = 0;
  uint64_t event_id = 0;
  uint64_t aux = 0;  // ref, value hash, or the bits of the number
};

inline bool IsTemporal(CorrelationType type) {
  return type == CorrelationType::kTemporal || type == CorrelationType::kTemporalOrdered;
}

// Per-thread scratch for aggregates: it grows to the largest window seen and
// is then reused, so Add does not allocate in steady state.
struct Scratch {
  struct Slot {
    uint64_t key = 0;
    uint32_t count = 0;
    bool used = false;
    bool hit = false;  // value_percentile: this value's share satisfies the condition
  };
  std::vector<Slot> slots;
  std::vector<uint32_t> ref_counts;
  std::vector<double> sorted;  // value_median: the window's numbers in order
  std::vector<int64_t> best;
  std::vector<uint32_t> chain;
};

inline Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// An open-addressing table of at least 2 * items slots in the thread's scratch.
inline Scratch::Slot* ResetSlots(size_t items, size_t* mask) {
  Scratch& scratch = ThreadScratch();
  const size_t slots = std::bit_ceil(std::max<size_t>(16, 2 * items));
  scratch.slots.assign(slots, {});
  *mask = slots - 1;
  return scratch.slots.data();
}

// The slot of `key` (claimed when new).
inline Scratch::Slot* FindSlot(Scratch::Slot* slots, size_t mask, uint64_t key) {
  uint64_t mixed = key * 0x9E3779B97F4A7C15ull;
  size_t index = (mixed ^ (mixed >> 29)) & mask;
  while (slots[index].used && slots[index].key != key) index = (index + 1) & mask;
  slots[index].used = true;
  slots[index].key = key;
  return &slots[index];
}

// What a window's entries add up to, with entries added at the new end and
// removed at the old end: inputs, sum, distinct values or distinct refs.
class Aggregate {
 public:
  Aggregate(const CorrelationRule& rule, size_t max_items) : type_(rule.type) {
    Scratch& scratch = ThreadScratch();
    if (type_ == CorrelationType::kValueCount) {
      slots_ = ResetSlots(max_items, &mask_);
    } else if (type_ == CorrelationType::kValueMedian) {
      scratch.sorted.clear();
      sorted_ = &scratch.sorted;
    } else if (IsTemporal(type_)) {
      scratch.ref_counts.assign(rule.refs.size(), 0);
      ref_counts_ = scratch.ref_counts.data();
      refs_ = rule.refs.size();
    }
  }

  void Add(const Entry& entry) { Update(entry, +1); }
  void Remove(const Entry& entry) { Update(entry, -1); }

  // What the condition compares.
  double Value() const {
    switch (type_) {
      case CorrelationType::kValueSum:
        return sum_;
      case CorrelationType::kValueAvg:
        return items_ == 0 ? 0 : sum_ / static_cast<double>(items_);
      case CorrelationType::kValueMedian:
        return Median();
      case CorrelationType::kValueCount:
      case CorrelationType::kTemporal:
      case CorrelationType::kTemporalOrdered:
        return static_cast<double>(distinct_);
      case CorrelationType::kValuePercentile:  // decided by ClosePercentile
        break;
      case CorrelationType::kEventCount:
        break;
    }
    return static_cast<double>(items_);
  }

  // True when a subset never compares higher (counts), so only maximal
  // windows matter; a sum or an average can.
  bool Monotone() const {
    return type_ != CorrelationType::kValueSum && type_ != CorrelationType::kValueAvg &&
           type_ != CorrelationType::kValueMedian;
  }

  // WindowFiring::count: inputs, or distinct values / refs.
  uint64_t Count() const {
    if (type_ == CorrelationType::kValueCount || IsTemporal(type_)) return distinct_;
    return items_;
  }

 private:
  void Update(const Entry& entry, int delta) {
    items_ += delta;
    switch (type_) {
      case CorrelationType::kValueSum:
      case CorrelationType::kValueAvg:
        sum_ += delta * std::bit_cast<double>(entry.aux);
        break;
      case CorrelationType::kValueMedian: {
        // Kept sorted: a window holds at most max_entries numbers.
        const double number = std::bit_cast<double>(entry.aux);
        const auto at = std::lower_bound(sorted_->begin(), sorted_->end(), number);
        if (delta > 0) {
          sorted_->insert(at, number);
        } else if (at != sorted_->end() && *at == number) {
          sorted_->erase(at);
        }
        break;
      }
      case CorrelationType::kValueCount:
        CountKey(Find(entry.aux)->count, delta);
        break;
      case CorrelationType::kTemporal:
      case CorrelationType::kTemporalOrdered:
        if (entry.aux < refs_) CountKey(ref_counts_[entry.aux], delta);
        break;
      case CorrelationType::kEventCount:
      case CorrelationType::kValuePercentile:
        break;
    }
  }

  // The middle number; with an even count, the mean of the two middle ones.
  double Median() const {
    const size_t n = sorted_->size();
    if (n == 0) return 0;
    const std::vector<double>& v = *sorted_;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  void CountKey(uint32_t& count, int delta) {
    if (delta > 0 && count++ == 0) ++distinct_;
    if (delta < 0 && --count == 0) --distinct_;
  }

  Scratch::Slot* Find(uint64_t key) { return FindSlot(slots_, mask_, key); }

  CorrelationType type_;
  uint64_t items_ = 0;
  uint64_t distinct_ = 0;
  double sum_ = 0;
  Scratch::Slot* slots_ = nullptr;
  size_t mask_ = 0;
  uint32_t* ref_counts_ = nullptr;
  size_t refs_ = 0;
  std::vector<double>* sorted_ = nullptr;
};

}  // namespace gsoc::correlate::window_detail
