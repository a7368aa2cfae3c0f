// Helpers shared by the KeyWindow test files: count conditions, rules and a
// harness that feeds one window. Times are plain nanosecond integers.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/correlate/window.h"

namespace gsoc::correlate::window_test {

using Type = CorrelationType;

inline CountCondition Cond(std::optional<double> gt, std::optional<double> gte,
                           std::optional<double> lt = {}, std::optional<double> lte = {},
                           std::optional<double> eq = {}, std::optional<double> neq = {}) {
  CountCondition c;
  c.gt = gt, c.gte = gte, c.lt = lt, c.lte = lte, c.eq = eq, c.neq = neq;
  return c;
}
inline CountCondition Gte(double v) { return Cond({}, v); }
inline CountCondition Gt(double v) { return Cond(v, {}); }
inline CountCondition Lt(double v) { return Cond({}, {}, v); }
inline CountCondition Lte(double v) { return Cond({}, {}, {}, v); }
inline CountCondition Eq(double v) { return Cond({}, {}, {}, {}, v); }
inline CountCondition Neq(double v) { return Cond({}, {}, {}, {}, {}, v); }

inline CorrelationRule MakeRule(Type type, CountCondition condition, int64_t timespan = 10,
                                size_t refs = 1, bool absent = false) {
  CorrelationRule rule;
  rule.type = type;
  rule.condition = condition;
  rule.timespan_ns = timespan;
  rule.refs.resize(refs);
  rule.absent_last = absent;
  return rule;
}

// Entries held, read from the checkpoint form (6-byte header).
inline size_t EntryCount(const KeyWindow& window) {
  std::string blob;
  window.Serialize(blob);
  return blob.size() <= 6 ? 0 : (blob.size() - 6) / (blob[1] ? 24 : 16);
}

struct Harness {
  explicit Harness(CorrelationRule r) : rule(std::move(r)) {}

  bool Add(int64_t time, uint32_t ref = 0, uint64_t hash = 0, double number = 0) {
    WindowInput input{time, next_id++, ref, hash, number};
    return window.Add(rule, input, limits, max_contributors, &firing, &dropped);
  }
  bool Value(int64_t time, uint64_t hash) { return Add(time, 0, hash); }
  bool Number(int64_t time, double number) { return Add(time, 0, 0, number); }
  bool Advance(int64_t watermark) {
    return window.Advance(rule, watermark, max_contributors, &firing);
  }
  std::vector<int64_t> Times() const {
    std::vector<int64_t> times;
    for (const Contributor& c : firing.contributors) times.push_back(c.time_ns);
    return times;
  }
  std::vector<uint64_t> Ids() const {
    std::vector<uint64_t> ids;
    for (const Contributor& c : firing.contributors) ids.push_back(c.event_id);
    return ids;
  }

  CorrelationRule rule;
  KeyWindow window;
  WindowLimits limits;
  size_t max_contributors = 100;
  WindowFiring firing;
  uint64_t dropped = 0;
  uint64_t next_id = 1;
};

using Times = std::vector<int64_t>;

inline CorrelationRule AbsentRule(size_t refs = 3) {
  return MakeRule(Type::kTemporalOrdered, {}, 10, refs, true);
}

}  // namespace gsoc::correlate::window_test
