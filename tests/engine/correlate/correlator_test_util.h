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

}  // namespace gsoc::correlate::correlator_test
