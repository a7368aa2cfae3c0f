// KeyWindow: the state of one correlation rule for one group-by key, in
// event time. Pure logic: no locks, no clocks, no I/O; the Correlator owns
// one per (rule, key) and calls it under its shard's lock.
//
// Time model (README "Correlation"):
//  - An input carries its event time. Inputs may arrive out of order; the
//    window keeps its entries sorted by time and places a late-arriving one
//    where it belongs (after entries with the same time). (The Correlator has
//    already replaced the time of an input later than the allowed lateness by
//    the stream time.)
//  - Two inputs are in one window when their times differ by at most
//    `timespan` (inclusive: a tie at the boundary is inside).
//  - The watermark (stream time minus lateness) only moves forward; nothing
//    earlier than it can arrive any more. Advance(watermark) closes what ended
//    before it: conditions with an upper bound (lt, lte, eq, neq) are decided
//    for the window that began at the key's first entry, absence deadlines
//    fire, and entries that no future window can contain are dropped.
//
// Firing: conditions with only lower bounds (gt, gte; temporal types without
// a condition) fire from Add as soon as some window [s, s + timespan] that
// contains the new input satisfies them (every such window is examined, so
// this is exact for out-of-order inputs too; value_sum / value_avg /
// value_median examine the windows holding a subset as well, since a sum,
// average or median is not monotone). The firing reports the earliest such window: window_start/end
// are the times of its first and last entry, contributors its entries
// (oldest first; the newest `max_contributors` when capped). After a firing
// every entry up to and including the window's last one is consumed (the
// next firing needs new inputs); suppression is the Correlator's job.
//
// What each type compares (WindowFiring::value / count):
//  - event_count: inputs in the window / same.
//  - value_count: distinct WindowInput::value_hash / same.
//  - value_sum, value_avg, value_median: sum, mean or median (an even count:
//    the mean of the two middle numbers) of WindowInput::number / inputs.
//  - value_percentile: per distinct WindowInput::value_hash, its share of
//    the window's inputs in percent (100 * its inputs / inputs). Always
//    decided at close, like an upper bound (whatever the condition: a share
//    needs the whole window). Fires when some share satisfies the condition:
//    value = the smallest such share, count = the inputs of all such values,
//    contributors = those inputs only.
//  - temporal: distinct refs in the window; no condition = all refs.
//  - temporal_ordered: length k of the longest prefix refs[0..k-1] that
//    occurs in that order (equal times count as ordered) within the window;
//    no condition = all refs. The reported window spans that chain and the
//    new input.
//  - temporal_ordered with absent_last: refs[0..n-2] in order (greedy,
//    earliest) open a pending window [t0, t0 + timespan] at the time t0 of
//    the refs[0] entry; a refs[n-1] entry at a time in [the chain's last
//    step, t0 + timespan] cancels it. Add never fires; Advance fires once
//    watermark > t0 + timespan and no cancelling entry came (window =
//    [t0, t0 + timespan], count = value = n-1, contributors = the chain),
//    and the chain's entries are consumed.
//
// Upper-bound conditions: the window begins at the key's oldest entry f and
// closes at f + timespan; Advance(watermark > f + timespan) evaluates the
// entries in [f, f + timespan], fires when the condition holds, removes them
// in any case, and the next entry (if any) begins the next window. A late
// input older than f moves the start of the still-open window back. Add never
// fires for these. Call Advance again while it returns true: one call
// reports at most one firing.
//
// Memory: entries are 16 bytes (event_count: time, event id) or 24 bytes
// (plus the value hash, number bits or ref), in one heap block sized to
// the entries (freed when empty). Bounds:
//  - event_count with lower bounds keeps at most max(1, 2N-2) entries, where
//    N is the count the condition needs (gte N: N, gt N: N+1): the newest
//    ones. 2N-2 (not N) keeps firing exact for any input up to `timespan`
//    older than the newest entry; trimming to it is not counted as a drop.
//  - value_count and temporal with lower bounds drop a repeated value (ref)
//    whose previous and next occurrences lie within one timespan: no window
//    can see it without seeing one of them (so at most two occurrences of a
//    value per timespan are kept; after a firing consumed older entries this
//    can, rarely, miss a value seen only by the dropped occurrence).
//  - temporal_ordered keeps one entry per (time, ref): a second input of the
//    same ref at the same time is interchangeable with the first in every
//    chain, so it is not stored (the first one's event is the contributor).
//    With an absence last, where a firing uses up only its own chain's
//    entries, repeats no longer fire the same window a second time.
//  - upper-bound conditions, value_sum/avg/median/percentile and ordered types keep every
//    other entry until it is closed or too old.
//  - WindowLimits::max_entries bounds every key: beyond it the oldest entry
//    goes and *dropped is incremented (for an upper-bound condition this
//    moves its window start forward).
// Advance drops entries that no future window can contain: those older than
// watermark - timespan (for absent and upper-bound rules, once decided).
// HeapBytes() reports the block's size (capacity x entry size). Add and
// Advance allocate only to grow that block. A firing that empties the
// window keeps a block of up to 256 bytes (the key refills at once);
// Advance frees an emptied block. The distinct-value and ordered
// scans use a per-thread scratch that grows to the largest window once.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/correlation_rule.h"

namespace gsoc::correlate {

inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

// One hit fed to a correlation for one key.
struct WindowInput {
  int64_t time_ns = 0;
  uint64_t event_id = 0;    // 0 when the input is a chained correlation's firing
  uint32_t ref = 0;         // position in CorrelationRule::refs
  uint64_t value_hash = 0;  // value_count: hash of the `field` value
  double number = 0;        // value_sum / value_avg: the `field` value
};

struct WindowLimits {
  // Most entries one key keeps (value_count distinct values, value_sum/avg
  // samples, temporal entries). When a key is full, its oldest entry is
  // dropped and counted (WindowFiring is unaffected otherwise).
  uint32_t max_entries = 4096;
};

struct Contributor {
  uint64_t event_id = 0;
  int64_t time_ns = 0;
};

struct WindowFiring {
  int64_t window_start_ns = 0;
  int64_t window_end_ns = 0;
  // event_count, value_sum, value_avg: inputs in the window; value_count:
  // distinct values; temporal types: distinct refs seen.
  uint64_t count = 0;
  double value = 0;  // what the condition was compared with (count, distinct, sum or average)
  std::vector<Contributor>
      contributors;  // caller-owned, reused; oldest first, newest kept when capped
};

class KeyWindow {
 public:
  KeyWindow() = default;
  KeyWindow(const KeyWindow& other);
  KeyWindow& operator=(const KeyWindow& other);
  KeyWindow(KeyWindow&& other) noexcept;
  KeyWindow& operator=(KeyWindow&& other) noexcept;
  ~KeyWindow();

  // Adds `input`. Returns true when the rule fires now; `firing` is filled
  // (its contributors capped at `max_contributors`) and the window's
  // entries are consumed. `dropped` is incremented when a limit dropped an entry.
  bool Add(const CorrelationRule& rule, const WindowInput& input, const WindowLimits& limits,
           size_t max_contributors, WindowFiring* firing, uint64_t* dropped);

  // Closes what ended before `watermark_ns` (see above). Returns true when
  // closing fired (upper-bound condition held, or an absence deadline passed).
  bool Advance(const CorrelationRule& rule, int64_t watermark_ns, size_t max_contributors,
               WindowFiring* firing);

  // The earliest watermark at which Advance would do anything (oldest entry
  // time + timespan + 1: a close, an absence deadline or a drop all happen
  // when watermark > oldest + timespan); kNoDeadline when empty. Lets the
  // Correlator skip and expire keys.
  int64_t NextDeadline(const CorrelationRule& rule) const;

  // True when the window holds nothing: the key may be erased (unless
  // the Correlator still needs its suppression state).
  bool empty() const;

  // Newest entry time, or INT64_MIN when empty.
  int64_t newest_ns() const;
  // Entries kept (how far the key has come towards its condition).
  size_t entries() const { return size_; }

  size_t HeapBytes() const;

  // Binary form for checkpoints: Serialize appends; Deserialize consumes from
  // the front of `in`, replacing this window, and returns false on malformed
  // input (never crashes; `in` and the window are then unchanged).
  // Format (little-endian): u8 version (1), u8 wide (0: 16-byte entries,
  // 1: 24-byte), u32 count, then per entry i64 time, u64 event id[, u64 aux],
  // sorted by time.
  void Serialize(std::string& out) const;
  bool Deserialize(std::string_view& in);
  // Appends the event id of every entry (the events a firing could name):
  // a checkpoint keeps only the raw lines some window still refers to.
  void AppendEventIds(std::vector<uint64_t>& out) const;

 private:
  struct Impl;  // the logic, in window.cc
  friend struct Impl;

  // One malloc'ed block of capacity_ entries, each 16 bytes or, when
  // wide_, 24 bytes: i64 time, u64 event id[, u64 aux = ref, value hash or
  // the bits of the number]; sorted by time, ties in arrival order.
  char* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ : 31 = 0;
  uint32_t wide_ : 1 = 0;
};

}  // namespace gsoc::correlate
