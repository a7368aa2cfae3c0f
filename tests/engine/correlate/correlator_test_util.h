// Helpers shared by the Correlator test files: batches whose events own their
// bytes, rule and set builders, and options small enough for tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "engine/correlate/correlator.h"

namespace gsoc::correlate::correlator_test {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'700'000'000 * kSecond;  // an arbitrary event-time origin

using FieldList = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Builds batches whose events own their bytes (the batch arena).
class Batch {
 public:
  // Adds an event at kBase + seconds; returns its index in the batch.
  uint32_t Add(uint64_t id, double seconds, FieldList fields, uint16_t agency = 0,
               std::string_view host = "host1") {
    Event& event = batch_.AddEvent();
    event.id = id;
    event.event_time_ns = kBase + static_cast<int64_t>(seconds * kSecond);
    event.receive_time_ns = event.event_time_ns;
    event.agency = agency;
    event.host = batch_.arena().Copy(host);
    std::string raw = "<38>raw line of event " + std::to_string(id);
    for (const auto& [name, value] : fields) {
      raw += " " + std::string(name) + "=" + std::string(value);
    }
    event.raw = batch_.arena().Copy(raw);
    event.message = event.raw;
    for (const auto& [name, value] : fields) {
      batch_.AddField(event, batch_.arena().Copy(name), batch_.arena().Copy(value));
    }
    return static_cast<uint32_t>(batch_.size() - 1);
  }
  // Adds an event that matched detection rule `rule`.
  void Hit(uint32_t rule, uint64_t id, double seconds, FieldList fields, uint16_t agency = 0,
           std::string_view host = "host1") {
    hits_.push_back({Add(id, seconds, fields, agency, host), rule});
  }

  const EventBatch& batch() const { return batch_; }
  const std::vector<RuleHit>& hits() const { return hits_; }

 private:
  EventBatch batch_;
  std::vector<RuleHit> hits_;
};

inline CorrelationRule MakeRule(std::string name, CorrelationType type,
                                std::vector<std::string> group_by, size_t refs,
                                int64_t timespan_s) {
  CorrelationRule rule;
  rule.id = "id-" + name;
  rule.name = name;
  rule.title = "Title of " + name;
  rule.level = rules::Level::kHigh;
  rule.tags = {"attack.t1110"};
  rule.type = type;
  for (size_t r = 0; r < refs; ++r) {
    RuleRef ref;
    ref.written = ref.name = "ref" + std::to_string(r);
    ref.index = static_cast<uint32_t>(r);
    rule.refs.push_back(ref);
  }
  for (const std::string& field : group_by) {
    rule.group_fields.push_back(std::vector<std::string>(refs, field));
  }
  rule.group_by = std::move(group_by);
  rule.timespan_ns = timespan_s * kSecond;
  rule.fingerprint =
      name + "|" + std::to_string(static_cast<int>(type)) + "|" + std::to_string(timespan_s);
  return rule;
}

inline CorrelationRule EventCount(std::string name, std::vector<std::string> group_by, double gte,
                                  int64_t timespan_s = 60) {
  CorrelationRule rule =
      MakeRule(std::move(name), CorrelationType::kEventCount, std::move(group_by), 1, timespan_s);
  rule.condition.gte = gte;
  rule.fingerprint += "|gte" + std::to_string(gte);
  return rule;
}

// A set of `rules` where detection rule d feeds correlation d as ref 0.
inline CorrelationSet OneToOne(std::vector<CorrelationRule> rules) {
  CorrelationSet set;
  set.rules = std::move(rules);
  for (uint32_t i = 0; i < set.rules.size(); ++i) set.detection_routes.push_back({{i, 0}});
  set.correlation_routes.resize(set.rules.size());
  set.correlation_silenced.assign(set.rules.size(), false);
  set.detection_silenced.assign(set.rules.size(), true);
  return set;
}

inline CorrelatorOptions SmallOptions() {
  CorrelatorOptions options;
  options.shards = 4;
  options.lateness_ns = 5 * kSecond;
  options.raw_cache_bytes = 1 << 20;
  return options;
}

inline int64_t WallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::vector<Alert> Feed(Correlator& correlator, const CorrelationSet& set,
                               const Batch& batch) {
  std::vector<Alert> alerts;
  correlator.Process(set, batch.batch(), batch.hits(), alerts);
  return alerts;
}

inline std::string GroupOf(const Alert& alert) {
  std::string text;
  for (const auto& [name, value] : alert.group) text += name + "=" + value + ";";
  return text;
}

// temporal_ordered with repeats: hits of three keys (src_ip) for "ordered",
// ref 0 then ref 1 within 60 s, fed one at a time in this order. A repeat
// is a hit of a (key, time, ref) the key's window still holds: the window
// keeps the first (window.h), so it changes no alert, not even its
// contributors. Some steps repeat before their chain's other step came
// (1-7, 2-9), some at two times in a row (13-19), some right after another
// key's hit; hit 18 comes again at a (time, ref) a firing consumed, so it is
// kept. Times go back by up to 40 s: the lateness must be at least that.
struct OrderedHit {
  int key = 0;  // src_ip 198.18.1.<key>
  uint32_t ref = 0;
  int seconds = 0;
  bool repeat = false;
};

inline std::vector<OrderedHit> OrderedRepeats() {
  return {
      {1, 0, 0, false},   // 1
      {2, 1, 30, false},  // 2
      {1, 0, 0, true},    // 3
      {1, 0, 0, true},    // 4
      {2, 1, 30, true},   // 5
      {3, 0, 40, false},  // 6
      {1, 0, 0, true},    // 7
      {3, 0, 40, true},   // 8
      {2, 1, 30, true},   // 9
      {1, 1, 5, false},   // 10: fires key 1
      {3, 0, 40, true},   // 11
      {2, 0, 25, false},  // 12: fires key 2
      {1, 0, 10, false},  // 13
      {1, 0, 10, true},   // 14
      {1, 0, 12, false},  // 15
      {3, 1, 45, false},  // 16: fires key 3
      {1, 0, 12, true},   // 17
      {2, 1, 30, false},  // 18: the one at 30 was consumed by 12's firing
      {1, 0, 10, true},   // 19
      {2, 0, 30, false},  // 20: fires key 2 (equal times are in order)
      {1, 1, 15, false},  // 21: fires key 1 from the latest start, 12
      {3, 0, 45, false},  // 22
      {3, 0, 45, true},   // 23
      {3, 1, 45, false},  // 24: fires key 3
      {3, 1, 50, false},  // 25
      {3, 1, 50, true},   // 26
      {3, 0, 50, false},  // 27: fires key 3, with 25 (not 26)
  };
}

// What OrderedRepeats fires, in order: the key, the window in seconds,
// count, and the contributors as hit numbers (1-based), oldest first.
inline std::vector<std::string> OrderedRepeatsAlerts() {
  return {
      "src_ip=198.18.1.1; 0-5 count 2: 1 10",    "src_ip=198.18.1.2; 25-30 count 2: 12 2",
      "src_ip=198.18.1.3; 40-45 count 2: 6 16",  "src_ip=198.18.1.2; 30-30 count 2: 18 20",
      "src_ip=198.18.1.1; 12-15 count 2: 15 21", "src_ip=198.18.1.3; 45-45 count 2: 22 24",
      "src_ip=198.18.1.3; 50-50 count 2: 25 27",
  };
}

// The correlation OrderedRepeats feeds: detection rule r feeds ref r.
inline CorrelationRule OrderedRule() {
  CorrelationRule rule = MakeRule("ordered", CorrelationType::kTemporalOrdered, {"src_ip"}, 2, 60);
  rule.suppress_ns = 0;
  return rule;
}

}  // namespace gsoc::correlate::correlator_test
