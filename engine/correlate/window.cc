// KeyWindow: per-(correlation, key) state in event time. See window.h for
// the semantics; this file holds the storage (one malloc'ed block of 16- or
// 24-byte entries) and the per-type window logic; window_aggregate.h holds
// what a run of entries adds up to (counts, sums, distinct values, median).
#include "engine/correlate/window.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "engine/correlate/window_aggregate.h"
#include "engine/util/saturating.h"

namespace gsoc::correlate {
namespace {

using window_detail::Aggregate;
using window_detail::Entry;
using window_detail::FindSlot;
using window_detail::IsTemporal;
using window_detail::ResetSlots;
using window_detail::Scratch;
using window_detail::ThreadScratch;

constexpr size_t kNarrowBytes = 16;  // time, event id
constexpr size_t kWideBytes = 24;    // time, event id, aux
constexpr uint32_t kMaxEntries = 1u << 30;
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 6;  // version, wide, count
constexpr int64_t kNoStart = std::numeric_limits<int64_t>::min();

// Entries [begin, end) of a window.
struct Range {
  size_t begin = 0;
  size_t end = 0;
};

// hi - lo <= span, for lo <= hi, without overflow.
bool WithinSpan(int64_t lo, int64_t hi, int64_t span) {
  return static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) <= static_cast<uint64_t>(span);
}

int64_t Timespan(const CorrelationRule& rule) { return std::max<int64_t>(rule.timespan_ns, 0); }

bool IsAbsent(const CorrelationRule& rule) {
  return rule.absent_last && rule.type == CorrelationType::kTemporalOrdered;
}

// value_percentile too: a value's share needs the window's whole population
// (the first input alone is 100% of what has been seen).
bool DecidedAtClose(const CorrelationRule& rule) {
  return !IsAbsent(rule) &&
         (rule.condition.HasUpperBound() || rule.type == CorrelationType::kValuePercentile);
}

bool FiresOnAdd(const CorrelationRule& rule) { return !IsAbsent(rule) && !DecidedAtClose(rule); }

// Only presence matters (value_count, temporal): repeats can be thinned.
bool PresenceOnly(const CorrelationRule& rule) {
  return FiresOnAdd(rule) &&
         (rule.type == CorrelationType::kValueCount || rule.type == CorrelationType::kTemporal);
}

// Temporal types without a condition need every ref.
CountCondition EffectiveCondition(const CorrelationRule& rule) {
  CountCondition condition = rule.condition;
  if (condition.empty() && IsTemporal(rule.type))
    condition.gte = static_cast<double>(rule.refs.size());
  return condition;
}

uint64_t AuxOf(const CorrelationRule& rule, const WindowInput& input) {
  switch (rule.type) {
    case CorrelationType::kValueCount:
    case CorrelationType::kValuePercentile:
      return input.value_hash;
    case CorrelationType::kValueSum:
    case CorrelationType::kValueAvg:
    case CorrelationType::kValueMedian:
      return std::bit_cast<uint64_t>(input.number);
    case CorrelationType::kTemporal:
    case CorrelationType::kTemporalOrdered:
      return input.ref;
    case CorrelationType::kEventCount:
      break;
  }
  return 0;
}

// Entries an event_count rule with only lower bounds keeps: the count N the
// condition needs, doubled less two (see window.h), at least 1.
uint32_t EventCountKeep(const CountCondition& condition) {
  double need = 1;
  if (condition.gte) need = std::max(need, std::ceil(*condition.gte));
  if (condition.gt) need = std::max(need, std::floor(*condition.gt) + 1);
  if (!(need < kMaxEntries)) return kMaxEntries;
  return static_cast<uint32_t>(std::max(1.0, 2 * need - 2));
}

uint32_t SoftLimit(const CorrelationRule& rule) {
  if (rule.type != CorrelationType::kEventCount || !FiresOnAdd(rule)) return kMaxEntries;
  return EventCountKeep(rule.condition);
}

uint64_t GetU64(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  return value;
}

}  // namespace

struct KeyWindow::Impl {
  // ---- storage -------------------------------------------------------------

  static size_t Stride(const KeyWindow& w) { return w.wide_ ? kWideBytes : kNarrowBytes; }

  static int64_t TimeAt(const KeyWindow& w, size_t i) {
    int64_t time;
    std::memcpy(&time, w.data_ + i * Stride(w), sizeof(time));
    return time;
  }

  static uint64_t AuxAt(const KeyWindow& w, size_t i) {
    if (!w.wide_) return 0;
    uint64_t aux;
    std::memcpy(&aux, w.data_ + i * kWideBytes + 16, sizeof(aux));
    return aux;
  }

  static Entry Get(const KeyWindow& w, size_t i) {
    Entry entry;
    const char* slot = w.data_ + i * Stride(w);
    std::memcpy(&entry.time_ns, slot, 8);
    std::memcpy(&entry.event_id, slot + 8, 8);
    if (w.wide_) std::memcpy(&entry.aux, slot + 16, 8);
    return entry;
  }

  static void Put(KeyWindow& w, size_t i, const Entry& entry) {
    char* slot = w.data_ + i * Stride(w);
    std::memcpy(slot, &entry.time_ns, 8);
    std::memcpy(slot + 8, &entry.event_id, 8);
    if (w.wide_) std::memcpy(slot + 16, &entry.aux, 8);
  }

  // First entry with time >= time_ns.
  static size_t LowerBound(const KeyWindow& w, int64_t time_ns) {
    size_t lo = 0, hi = w.size_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (TimeAt(w, mid) < time_ns)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  // First entry with time > time_ns.
  static size_t UpperBound(const KeyWindow& w, int64_t time_ns) {
    size_t lo = 0, hi = w.size_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (TimeAt(w, mid) <= time_ns)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  static void Release(KeyWindow& w) {
    std::free(w.data_);
    w.data_ = nullptr;
    w.size_ = 0;
    w.capacity_ = 0;
  }

  static bool Resize(KeyWindow& w, size_t capacity) {
    char* data = static_cast<char*>(std::realloc(w.data_, capacity * Stride(w)));
    if (data == nullptr) return false;
    w.data_ = data;
    w.capacity_ = static_cast<uint32_t>(capacity);
    return true;
  }

  // Room for one more entry; grows by half (1, 2, 3, 4, 6, 9...: small keys
  // stay tight), up to limit + 1 (an input
  // is placed before the oldest entry is trimmed).
  static bool Grow(KeyWindow& w, uint32_t limit) {
    if (w.size_ < w.capacity_) return true;
    size_t capacity = size_t{w.capacity_} + std::max<size_t>(1, w.capacity_ / 2);
    capacity = std::min<size_t>(capacity, std::max<size_t>(size_t{limit} + 1, w.size_ + 1));
    return Resize(w, capacity);
  }

  // Gives memory back after entries went: all of it when empty, half when a
  // quarter is used.
  static void Shrink(KeyWindow& w) {
    if (w.size_ == 0) return Release(w);
    if (w.capacity_ > 8 && size_t{w.size_} * 4 <= w.capacity_) Resize(w, size_t{w.size_} * 2);
  }

  // After a firing consumed the entries: the key is live and refills at
  // once, so a small block is kept (an emptied block freed here was
  // malloc'ed again through 1, 2, 3, 4, 6... entries by the next inputs:
  // 4% of gsocd's CPU, with arena-lock waits, on keys firing while
  // suppressed). Expiry (Advance) still gives everything back.
  static constexpr size_t kKeptAfterFireBytes = 256;
  static void ShrinkAfterFire(KeyWindow& w) {
    if (w.size_ == 0 && size_t{w.capacity_} * Stride(w) <= kKeptAfterFireBytes) return;
    Shrink(w);
  }

  static void EraseRange(KeyWindow& w, size_t begin, size_t end) {
    if (begin >= end) return;
    const size_t stride = Stride(w);
    std::memmove(w.data_ + begin * stride, w.data_ + end * stride, (w.size_ - end) * stride);
    w.size_ -= static_cast<uint32_t>(end - begin);
  }

  // Inserts after entries of the same time; returns its index, or nullopt
  // when memory ran out.
  static std::optional<size_t> Insert(KeyWindow& w, const Entry& entry, uint32_t limit) {
    if (!Grow(w, limit)) return std::nullopt;
    const size_t pos = UpperBound(w, entry.time_ns);
    const size_t stride = Stride(w);
    std::memmove(w.data_ + (pos + 1) * stride, w.data_ + pos * stride, (w.size_ - pos) * stride);
    ++w.size_;
    Put(w, pos, entry);
    return pos;
  }

  // Drops the oldest entries beyond `limit`; those beyond `hard` are counted.
  static void Trim(KeyWindow& w, uint32_t limit, uint32_t hard, uint64_t* dropped) {
    while (w.size_ > limit) {
      if (w.size_ > hard && dropped != nullptr) ++*dropped;
      EraseRange(w, 0, 1);
    }
  }

  // ---- firing ---------------------------------------------------------------

  static void StartFiring(WindowFiring* firing, int64_t start, int64_t end, uint64_t count,
                          double value) {
    firing->window_start_ns = start;
    firing->window_end_ns = end;
    firing->count = count;
    firing->value = value;
    firing->contributors.clear();
  }

  static void AddContributors(const KeyWindow& w, Range range, size_t max_contributors,
                              WindowFiring* firing) {
    const size_t first = range.end - std::min(max_contributors, range.end - range.begin);
    for (size_t i = first; i < range.end; ++i) {
      const Entry entry = Get(w, i);
      firing->contributors.push_back({entry.event_id, entry.time_ns});
    }
  }

  // Reports the entries `range` and consumes everything up to its end.
  static void FireRange(KeyWindow& w, Range range, uint64_t count, double value,
                        size_t max_contributors, WindowFiring* firing) {
    StartFiring(firing, TimeAt(w, range.begin), TimeAt(w, range.end - 1), count, value);
    AddContributors(w, range, max_contributors, firing);
    EraseRange(w, 0, range.end);
  }

  // ---- lower bounds: fire from Add -------------------------------------------

  // Entries that can share a window with time t.
  static Range Neighbourhood(const KeyWindow& w, int64_t t, int64_t span) {
    return {LowerBound(w, SaturatingSub(t, span)), UpperBound(w, SaturatingAdd(t, span))};
  }

  // Slides a window [s, s + span] from s = t - span to s = t, visiting
  // each distinct set of entries once (a set changes when an entry enters
  // at s = time - span or leaves at s = time + 1); returns the first set
  // whose aggregate satisfies `condition`, leaving `agg` on it. A monotone
  // aggregate only needs the sets right after an entry entered.
  static std::optional<Range> Sweep(const KeyWindow& w, int64_t t, int64_t span, Range scope,
                                    const CountCondition& condition, Aggregate& agg) {
    int64_t s = SaturatingSub(t, span);
    size_t left = scope.begin, right = scope.begin;
    for (;;) {
      while (left < right && TimeAt(w, left) < s) agg.Remove(Get(w, left++));
      const int64_t s_end = SaturatingAdd(s, span);
      while (right < scope.end && TimeAt(w, right) <= s_end) agg.Add(Get(w, right++));
      if (condition.Holds(agg.Value())) return Range{left, right};
      bool has_next = false;
      int64_t next = 0;
      if (!agg.Monotone() && left < right && TimeAt(w, left) < t) {
        next = TimeAt(w, left) + 1;
        has_next = true;
      }
      if (right < scope.end) {
        const int64_t enter = SaturatingSub(TimeAt(w, right), span);
        next = has_next ? std::min(next, enter) : enter;
        has_next = true;
      }
      if (!has_next || next > t) return std::nullopt;
      s = next;
    }
  }

  // Walks `scope` in time order (equal times: earlier steps first) keeping,
  // per step k, the latest start of a chain refs[0..k] seen so far; calls
  // on_chain(length, start, end) at every chain end until it returns true.
  template <typename OnChain>
  static bool ScanOrdered(const KeyWindow& w, size_t refs, Range scope, OnChain&& on_chain) {
    std::vector<int64_t>& best = ThreadScratch().best;
    best.assign(refs, kNoStart);
    for (size_t group = scope.begin; group < scope.end;) {
      const int64_t time = TimeAt(w, group);
      size_t group_end = group + 1;
      while (group_end < scope.end && TimeAt(w, group_end) == time) ++group_end;
      for (size_t step = 0; step < refs; ++step) {
        for (size_t i = group; i < group_end; ++i) {
          if (AuxAt(w, i) != step) continue;
          const int64_t start = step == 0 ? time : best[step - 1];
          if (start == kNoStart) continue;
          if (on_chain(step + 1, start, time)) return true;
          best[step] = std::max(best[step], start);
        }
      }
      group = group_end;
    }
    return false;
  }

  static bool FireOrdered(KeyWindow& w, const CorrelationRule& rule, size_t pos,
                          size_t max_contributors, WindowFiring* firing) {
    const CountCondition condition = EffectiveCondition(rule);
    const int64_t t = TimeAt(w, pos), span = Timespan(rule);
    int64_t lo = 0, hi = 0;
    size_t length = 0;
    const bool found = ScanOrdered(
        w, rule.refs.size(), Neighbourhood(w, t, span),
        [&](size_t len, int64_t start, int64_t end) {
          const int64_t first = std::min(start, t), last = std::max(end, t);
          if (!WithinSpan(first, last, span) || !condition.Holds(static_cast<double>(len)))
            return false;
          lo = first, hi = last, length = len;
          return true;
        });
    if (!found) return false;
    const Range range{LowerBound(w, lo), UpperBound(w, hi)};
    FireRange(w, range, length, static_cast<double>(length), max_contributors, firing);
    return true;
  }

  static bool FireSet(KeyWindow& w, const CorrelationRule& rule, size_t pos,
                      size_t max_contributors, WindowFiring* firing) {
    const int64_t t = TimeAt(w, pos), span = Timespan(rule);
    const Range scope = Neighbourhood(w, t, span);
    Aggregate agg(rule, scope.end - scope.begin);
    const std::optional<Range> found = Sweep(w, t, span, scope, EffectiveCondition(rule), agg);
    if (!found) return false;
    FireRange(w, *found, agg.Count(), agg.Value(), max_contributors, firing);
    return true;
  }

  // Presence types: drops an occurrence of a key whose previous and next
  // occurrences lie within one timespan (every window holding it holds one
  // of them). Only the new entry and its two neighbours can have become so.
  static void ThinRepeats(KeyWindow& w, size_t pos, int64_t span) {
    const uint64_t key = AuxAt(w, pos);
    const int64_t t = TimeAt(w, pos);
    std::optional<size_t> before[2], after[2];
    for (size_t i = pos, n = 0; i > 0 && n < 2 && TimeAt(w, i - 1) >= SaturatingSub(t, span); --i)
      if (AuxAt(w, i - 1) == key) before[n++] = i - 1;
    for (size_t i = pos + 1, n = 0; i < w.size_ && n < 2 && TimeAt(w, i) <= SaturatingAdd(t, span);
         ++i)
      if (AuxAt(w, i) == key) after[n++] = i;
    auto close = [&](std::optional<size_t> a, std::optional<size_t> b) {
      return a && b && WithinSpan(TimeAt(w, *a), TimeAt(w, *b), span);
    };
    if (close(before[0], after[0])) return EraseRange(w, pos, pos + 1);
    if (close(pos, after[1])) EraseRange(w, *after[0], *after[0] + 1);
    if (close(before[1], pos)) EraseRange(w, *before[0], *before[0] + 1);
  }

  // temporal_ordered: whether an entry of the same step already sits at this
  // time. Two such entries are interchangeable in every chain (same time,
  // same step: ScanOrdered gives them the same start), so the window keeps
  // the first. Without this, a step repeated within one second (successful
  // logins from one address) piled up and every add rescanned the pile.
  static bool HoldsSameStepAt(const KeyWindow& w, int64_t time_ns, uint64_t step) {
    for (size_t i = UpperBound(w, time_ns); i > 0 && TimeAt(w, i - 1) == time_ns; --i)
      if (AuxAt(w, i - 1) == step) return true;
    return false;
  }

  // ---- Add ----------------------------------------------------------------------

  static bool Add(KeyWindow& w, const CorrelationRule& rule, const WindowInput& input,
                  const WindowLimits& limits, size_t max_contributors, WindowFiring* firing,
                  uint64_t* dropped) {
    if (IsTemporal(rule.type) && input.ref >= rule.refs.size()) return false;
    const bool wide = rule.type != CorrelationType::kEventCount;
    if (w.wide_ != wide) {  // the rule changed shape: start over
      Release(w);
      w.wide_ = wide;
    }
    // A repeat adds no chain: nothing can fire that could not fire before.
    if (rule.type == CorrelationType::kTemporalOrdered &&
        HoldsSameStepAt(w, input.time_ns, input.ref))
      return false;
    const uint32_t hard = std::clamp<uint32_t>(limits.max_entries, 1, kMaxEntries);
    const uint32_t limit = std::min(hard, SoftLimit(rule));
    const std::optional<size_t> pos =
        Insert(w, {input.time_ns, input.event_id, AuxOf(rule, input)}, limit);
    if (!pos) {
      if (dropped != nullptr) ++*dropped;
      return false;
    }
    bool fired = false;
    if (FiresOnAdd(rule)) {
      fired = rule.type == CorrelationType::kTemporalOrdered
                  ? FireOrdered(w, rule, *pos, max_contributors, firing)
                  : FireSet(w, rule, *pos, max_contributors, firing);
      if (!fired && PresenceOnly(rule)) ThinRepeats(w, *pos, Timespan(rule));
    }
    Trim(w, limit, hard, dropped);
    if (fired) ShrinkAfterFire(w);
    return fired;
  }

  // ---- Advance -------------------------------------------------------------------

  // Value and count of the entries `range`, for a close.
  static std::pair<double, uint64_t> Evaluate(const KeyWindow& w, const CorrelationRule& rule,
                                              Range range) {
    if (rule.type == CorrelationType::kTemporalOrdered) {
      size_t longest = 0;
      ScanOrdered(w, rule.refs.size(), range, [&](size_t len, int64_t, int64_t) {
        longest = std::max(longest, len);
        return false;
      });
      return {static_cast<double>(longest), longest};
    }
    Aggregate agg(rule, range.end - range.begin);
    for (size_t i = range.begin; i < range.end; ++i) agg.Add(Get(w, i));
    return {agg.Value(), agg.Count()};
  }

  // value_percentile at a close: each distinct value's share of the inputs
  // `range`, in percent. Fires when some share satisfies the condition:
  // value = the smallest such share, count = the inputs of every such value,
  // contributors = those inputs (the newest when capped); the range is
  // consumed either way.
  static bool ClosePercentile(KeyWindow& w, const CorrelationRule& rule, Range range,
                              size_t max_contributors, WindowFiring* firing) {
    const size_t inputs = range.end - range.begin;
    size_t mask = 0;
    Scratch::Slot* slots = ResetSlots(inputs, &mask);
    for (size_t i = range.begin; i < range.end; ++i) ++FindSlot(slots, mask, AuxAt(w, i))->count;
    std::optional<double> smallest;
    uint64_t members = 0;
    for (size_t s = 0; s <= mask; ++s) {
      if (!slots[s].used) continue;
      const double share = 100.0 * slots[s].count / static_cast<double>(inputs);
      if (!rule.condition.Holds(share)) continue;
      slots[s].hit = true;
      members += slots[s].count;
      smallest = std::min(share, smallest.value_or(share));
    }
    if (!smallest) return false;
    StartFiring(firing, TimeAt(w, range.begin), TimeAt(w, range.end - 1), members, *smallest);
    for (size_t i = range.end;
         i-- > range.begin && firing->contributors.size() < max_contributors;) {
      if (!FindSlot(slots, mask, AuxAt(w, i))->hit) continue;
      const Entry entry = Get(w, i);
      firing->contributors.push_back({entry.event_id, entry.time_ns});
    }
    std::reverse(firing->contributors.begin(), firing->contributors.end());
    EraseRange(w, 0, range.end);
    return true;
  }

  // Upper-bound conditions (and value_percentile): closes the windows that
  // began at the oldest entry and ended before the watermark, until one fires.
  static bool CloseWindows(KeyWindow& w, const CorrelationRule& rule, int64_t watermark,
                           size_t max_contributors, WindowFiring* firing) {
    while (w.size_ > 0) {
      const int64_t close = SaturatingAdd(TimeAt(w, 0), Timespan(rule));
      if (!(watermark > close)) return false;
      const Range range{0, UpperBound(w, close)};
      if (rule.type == CorrelationType::kValuePercentile) {
        if (ClosePercentile(w, rule, range, max_contributors, firing)) return true;
        EraseRange(w, range.begin, range.end);
        continue;
      }
      const auto [value, count] = Evaluate(w, rule, range);
      if (rule.condition.Holds(value)) {
        FireRange(w, range, count, value, max_contributors, firing);
        return true;
      }
      EraseRange(w, range.begin, range.end);
    }
    return false;
  }

  // absent_last: the chain refs[0..n-2] from the refs[0] entry `start`
  // (greedy, earliest step each time) into scratch `chain`; true when it is
  // complete within the timespan and no refs[n-1] entry lies in [its last
  // step, start + timespan].
  static bool AbsenceHolds(const KeyWindow& w, const CorrelationRule& rule, size_t start,
                           std::vector<uint32_t>& chain) {
    const size_t last_ref = rule.refs.size() - 1;
    const int64_t deadline = SaturatingAdd(TimeAt(w, start), Timespan(rule));
    chain.assign(1, static_cast<uint32_t>(start));
    int64_t previous = TimeAt(w, start);
    for (size_t step = 1; step < last_ref; ++step) {
      size_t i = LowerBound(w, previous);
      while (i < w.size_ && TimeAt(w, i) <= deadline && AuxAt(w, i) != step) ++i;
      if (i == w.size_ || TimeAt(w, i) > deadline) return false;
      chain.push_back(static_cast<uint32_t>(i));
      previous = TimeAt(w, i);
    }
    for (size_t i = LowerBound(w, previous); i < w.size_ && TimeAt(w, i) <= deadline; ++i)
      if (AuxAt(w, i) == last_ref) return false;
    return true;
  }

  static void FireAbsence(KeyWindow& w, const CorrelationRule& rule, std::vector<uint32_t>& chain,
                          size_t max_contributors, WindowFiring* firing) {
    const int64_t start = TimeAt(w, chain.front());
    const uint64_t steps = chain.size();
    StartFiring(firing, start, SaturatingAdd(start, Timespan(rule)), steps,
                static_cast<double>(steps));
    std::sort(chain.begin(), chain.end());
    const size_t first = chain.size() - std::min(max_contributors, chain.size());
    for (size_t i = first; i < chain.size(); ++i) {
      const Entry entry = Get(w, chain[i]);
      firing->contributors.push_back({entry.event_id, entry.time_ns});
    }
    for (size_t i = chain.size(); i-- > 0;) EraseRange(w, chain[i], chain[i] + 1);
  }

  // Decides the pending windows that started at the oldest time, group by
  // group, while their deadline is before the watermark; then the group is
  // of no use to any undecided window and goes.
  static bool DecideAbsences(KeyWindow& w, const CorrelationRule& rule, int64_t watermark,
                             size_t max_contributors, WindowFiring* firing) {
    std::vector<uint32_t>& chain = ThreadScratch().chain;
    while (w.size_ > 0 && watermark > SaturatingAdd(TimeAt(w, 0), Timespan(rule))) {
      const size_t group_end = UpperBound(w, TimeAt(w, 0));
      for (size_t i = 0; i < group_end && rule.refs.size() >= 2; ++i) {
        if (AuxAt(w, i) != 0 || !AbsenceHolds(w, rule, i, chain)) continue;
        FireAbsence(w, rule, chain, max_contributors, firing);
        return true;
      }
      EraseRange(w, 0, group_end);
    }
    return false;
  }

  static bool Advance(KeyWindow& w, const CorrelationRule& rule, int64_t watermark,
                      size_t max_contributors, WindowFiring* firing) {
    if (w.size_ == 0) return false;
    bool fired = false;
    if (IsAbsent(rule)) {
      fired = DecideAbsences(w, rule, watermark, max_contributors, firing);
    } else if (DecidedAtClose(rule)) {
      fired = CloseWindows(w, rule, watermark, max_contributors, firing);
    } else {
      EraseRange(w, 0, LowerBound(w, SaturatingSub(watermark, Timespan(rule))));
    }
    Shrink(w);
    return fired;
  }

  // ---- checkpoint -------------------------------------------------------------

  // The entries are stored as the format lays them out (u64 time, u64 id[,
  // u64 aux], little-endian), so they go out in one copy: a checkpoint of a
  // million keys spent a third of its time here, entry field by field.
  static void Serialize(const KeyWindow& w, std::string& out) {
    static_assert(std::endian::native == std::endian::little);
    const auto size = static_cast<uint32_t>(w.size_);
    const char header[kHeaderBytes] = {
        static_cast<char>(kFormatVersion), static_cast<char>(w.wide_),
        static_cast<char>(size),           static_cast<char>(size >> 8),
        static_cast<char>(size >> 16),     static_cast<char>(size >> 24)};
    out.append(header, kHeaderBytes);
    if (size > 0) out.append(w.data_, size * Stride(w));
  }

  static bool Deserialize(KeyWindow& w, std::string_view& in) {
    if (in.size() < kHeaderBytes) return false;
    const auto version = static_cast<uint8_t>(in[0]);
    const auto wide = static_cast<uint8_t>(in[1]);
    uint32_t count = 0;
    for (int i = 0; i < 4; ++i) count |= uint32_t{static_cast<uint8_t>(in[2 + i])} << (8 * i);
    if (version != kFormatVersion || wide > 1 || count > kMaxEntries) return false;
    const size_t stride = wide ? kWideBytes : kNarrowBytes;
    if (count > (in.size() - kHeaderBytes) / stride) return false;
    const char* bytes = in.data() + kHeaderBytes;
    for (size_t i = 1; i < count; ++i)  // sorted by time
      if (static_cast<int64_t>(GetU64(bytes + i * stride)) <
          static_cast<int64_t>(GetU64(bytes + (i - 1) * stride)))
        return false;
    KeyWindow loaded;
    loaded.wide_ = wide;
    if (count > 0 && !Resize(loaded, count)) return false;
    for (size_t i = 0; i < count; ++i) {
      const char* slot = bytes + i * stride;
      Entry entry{static_cast<int64_t>(GetU64(slot)), GetU64(slot + 8), 0};
      if (wide) entry.aux = GetU64(slot + 16);
      Put(loaded, i, entry);
    }
    loaded.size_ = count;
    w = std::move(loaded);
    in.remove_prefix(kHeaderBytes + count * stride);
    return true;
  }
};

// ---- KeyWindow ---------------------------------------------------------------------

KeyWindow::KeyWindow(const KeyWindow& other) { *this = other; }

KeyWindow& KeyWindow::operator=(const KeyWindow& other) {
  if (this == &other) return *this;
  Impl::Release(*this);
  wide_ = other.wide_;
  if (other.size_ > 0 && Impl::Resize(*this, other.size_)) {
    std::memcpy(data_, other.data_, other.size_ * Impl::Stride(other));
    size_ = other.size_;
  }
  return *this;
}

KeyWindow::KeyWindow(KeyWindow&& other) noexcept { *this = std::move(other); }

KeyWindow& KeyWindow::operator=(KeyWindow&& other) noexcept {
  if (this == &other) return *this;
  std::free(data_);
  data_ = std::exchange(other.data_, nullptr);
  size_ = std::exchange(other.size_, 0);
  capacity_ = other.capacity_;
  wide_ = other.wide_;
  other.capacity_ = 0;
  return *this;
}

KeyWindow::~KeyWindow() { std::free(data_); }

bool KeyWindow::Add(const CorrelationRule& rule, const WindowInput& input,
                    const WindowLimits& limits, size_t max_contributors, WindowFiring* firing,
                    uint64_t* dropped) {
  return Impl::Add(*this, rule, input, limits, max_contributors, firing, dropped);
}

bool KeyWindow::Advance(const CorrelationRule& rule, int64_t watermark_ns, size_t max_contributors,
                        WindowFiring* firing) {
  return Impl::Advance(*this, rule, watermark_ns, max_contributors, firing);
}

int64_t KeyWindow::NextDeadline(const CorrelationRule& rule) const {
  if (size_ == 0) return kNoDeadline;
  return SaturatingAdd(SaturatingAdd(Impl::TimeAt(*this, 0), Timespan(rule)), 1);
}

bool KeyWindow::empty() const { return size_ == 0; }

int64_t KeyWindow::newest_ns() const {
  return size_ == 0 ? std::numeric_limits<int64_t>::min() : Impl::TimeAt(*this, size_ - 1);
}

size_t KeyWindow::HeapBytes() const { return size_t{capacity_} * Impl::Stride(*this); }

void KeyWindow::Serialize(std::string& out) const { Impl::Serialize(*this, out); }

bool KeyWindow::Deserialize(std::string_view& in) { return Impl::Deserialize(*this, in); }

void KeyWindow::AppendEventIds(std::vector<uint64_t>& out) const {
  for (size_t i = 0; i < size_; ++i) out.push_back(Impl::Get(*this, i).event_id);
}

}  // namespace gsoc::correlate
