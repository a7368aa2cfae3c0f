// KeyWindow: the state of one correlation rule for one group-by key, in
// event time. Pure logic: no locks, no clocks, no I/O; the Correlator owns
// one per (rule, key) and calls it under its shard's lock.
//
// Time model (README "Correlation"):
//  - An input carries its event time. Inputs may arrive out of order; the
//    window keeps its entries sorted by time and places a late-arriving one
//    where it belongs. (The Correlator has already replaced the time of an
//    input later than the allowed lateness by the stream time.)
//  - Two inputs are in one window when their times differ by at most
//    `timespan` (inclusive: a tie at the boundary is inside).
//  - The watermark (stream time minus lateness) only moves forward; nothing
//    earlier than it can arrive any more. Advance(watermark) closes what ended
//    before it: conditions with an upper bound (lt, lte, eq, neq) are decided
//    for the window that began at the key's first entry, absence deadlines
//    fire, and entries that no future window can contain are dropped.
//
// Firing: conditions with only lower bounds (gt, gte; temporal types without
// a condition) fire from Add as soon as some window containing the new input
// satisfies them. After a firing the window's entries are consumed (the next
// firing needs new inputs); suppression is the Correlator's job.
//
// Memory: entries are 16-24 bytes; how many a key keeps is bounded by what
// the condition needs (event_count gte N keeps at most N) and by
// WindowLimits::max_entries. HeapBytes() reports the key's heap use.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engine/correlate/correlation_rule.h"

namespace gsoc::correlate {

inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

// One hit fed to a correlation for one key.
struct WindowInput {
  int64_t time_ns = 0;
  uint64_t event_id = 0;  // 0 when the input is a chained correlation's firing
  uint32_t ref = 0;       // position in CorrelationRule::refs
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
  std::vector<Contributor> contributors;  // caller-owned, reused; oldest first, newest kept when capped
};

class KeyWindow {
 public:
  // Adds `input`. Returns true when the rule fires now; `firing` is filled
  // (its contributors capped at `max_contributors`) and the window's
  // entries are consumed. `dropped` is incremented when a limit dropped an entry.
  bool Add(const CorrelationRule& rule, const WindowInput& input, const WindowLimits& limits,
           size_t max_contributors, WindowFiring* firing, uint64_t* dropped);

  // Closes what ended before `watermark_ns` (see above). Returns true when
  // closing fired (upper-bound condition held, or an absence deadline passed).
  bool Advance(const CorrelationRule& rule, int64_t watermark_ns, size_t max_contributors,
               WindowFiring* firing);

  // The earliest watermark at which Advance would do anything; kNoDeadline
  // when nothing is pending. Lets the Correlator skip and expire keys.
  int64_t NextDeadline(const CorrelationRule& rule) const;

  // True when the window holds nothing: the key may be erased (unless
  // the Correlator still needs its suppression state).
  bool empty() const;

  // Newest entry time, or INT64_MIN when empty.
  int64_t newest_ns() const;

  size_t HeapBytes() const;

  // Binary form for checkpoints: Serialize appends; Deserialize consumes from
  // the front of `in` and returns false on malformed input (never crashes).
  void Serialize(std::string& out) const;
  bool Deserialize(std::string_view& in);

 private:
  struct Entry {
    int64_t time_ns;
    uint64_t event_id;
    uint64_t aux;  // ref index, value hash, or the bits of the number
  };
  std::vector<Entry> entries_;  // sorted by time_ns
};

}  // namespace gsoc::correlate
