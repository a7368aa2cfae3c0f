// Alerts: what detection and correlation produce, and the one JSON schema
// every output uses (DESIGN.md "Event, alert, ids").
//
// An Alert owns copies of what it shows (rule identity, fields, contributing
// raw lines), so it outlives the batch and the rule set that produced it.
// Alerts are rare next to events; allocating per alert is fine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/rules/rule.h"

namespace gsoc {

enum class AlertKind : uint8_t { kDetection, kCorrelation };
const char* AlertKindName(AlertKind kind);

struct AlertRule {
  std::string id;
  std::string name;
  std::string title;
  rules::Level level = rules::Level::kMedium;
  std::vector<std::string> tags;
  // The rule's revision when it fired (rules::RevisionHasher; 0: unknown).
  // JSON: "revision", 16 hex digits; the API looks the rule detail up by it.
  uint64_t revision = 0;
};

struct AlertEvent {
  uint64_t id = 0;
  int64_t time_ns = 0;
  std::string raw;
};

struct Alert {
  uint64_t id = 0;  // assigned when the alert is committed (store/output)
  int64_t time_ns = 0;
  AlertKind kind = AlertKind::kDetection;
  AlertRule rule;
  std::string agency;
  std::vector<std::pair<std::string, std::string>> group;  // group-by values
  int64_t window_start_ns = 0;
  int64_t window_end_ns = 0;
  uint64_t count = 1;
  // Correlation alerts only (JSON member "correlation"): the type, what the
  // condition was compared with (count, distinct values, refs seen, sum or
  // average), the condition, and how many firings for this group were
  // suppressed since the previous alert for it.
  std::string correlation_type;
  double value = 0;
  std::string condition;
  uint64_t suppressed = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<AlertEvent> events;  // capped by the producer
  // Aggregated detection alerts (engine/aggregate), JSON member "aggregate"
  // when aggregate_key != 0: the stable key of (rule, agency, group values),
  // the version (0 = opened), when it opened and when it stops taking hits
  // (wall clock), and the id of the version this one replaces (0: none; the
  // store deletes that record in the same WriteBatch).
  uint64_t aggregate_key = 0;
  uint32_t aggregate_version = 0;
  int64_t aggregate_opened_ns = 0;
  int64_t aggregate_closes_ns = 0;
  uint64_t replaces = 0;
};

// The aggregate key as JSON shows it (16 lower-case hex digits).
std::string AggregateKeyText(uint64_t key);
// 16 lower-case hex digits: aggregate keys and rule revisions.
std::string HexId(uint64_t value);
// The inverse: exactly 16 hex digits (either case), else nullopt.
std::optional<uint64_t> ParseHexId(std::string_view text);

// Appends the alert as one JSON object (no newline).
void AppendAlertJson(std::string& out, const Alert& alert);
// Appends each alert as AppendAlertJson does, then a newline: the same
// bytes, but an alert whose fields or events equal the previous one's (the
// rules one event fires) copies them from it instead of escaping them again.
void AppendAlertJsonLines(std::string& out, std::span<const Alert> alerts);
// The same lines in two steps, for a thread that renders alerts before their
// ids are known (gsocctl replay's workers; the ids are given in input
// order): AppendAlertJsonBodies appends each alert's JSON after its "id"
// member (`,"time":...}`), reusing equal parts as AppendAlertJsonLines
// does, and pushes where each ends in `out` to `ends`; a line is then
// AppendAlertJsonIdMember(id) + its body + '\n', byte for byte the line
// AppendAlertJsonLines writes.
void AppendAlertJsonBodies(std::string& out, std::span<const Alert> alerts,
                           std::vector<size_t>& ends);
void AppendAlertJsonIdMember(std::string& out, uint64_t id);  // `{"id":"N"`

// Where alerts go once produced. Publish is called from worker threads,
// once per batch with every alert of that batch; implementations batch their
// own writes. When an output is slow, Publish blocks the worker: the queue
// fills and TCP collectors stop reading (backpressure, no loss).
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void Publish(std::vector<Alert>& alerts) = 0;
  virtual void Flush() {}
};

}  // namespace gsoc
