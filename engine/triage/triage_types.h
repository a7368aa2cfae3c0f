// Value types of triage and cases (engine/triage/README.md): states,
// changes, history entries, cases, limits, and their names in the API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/rules/rule.h"

namespace gsoc::triage {

enum class Status : uint8_t { kNew, kAcknowledged, kInProgress, kClosed };
enum class Reason : uint8_t { kNone, kTruePositive, kFalsePositive, kBenign, kDuplicate };
enum class Action : uint8_t { kAck, kStart, kAssign, kNote, kClose, kReopen, kCarried };

std::string_view StatusName(Status status);
std::optional<Status> ParseStatus(std::string_view name);
std::string_view ReasonName(Reason reason);  // "" for kNone
std::optional<Reason> ParseReason(std::string_view name);
std::string_view ActionName(Action action);
std::optional<Action> ParseAction(std::string_view name);  // kCarried is not parsed

// Every bound, with its default (config has no keys for them yet).
struct TriageLimits {
  size_t max_note_bytes = 4096;          // one note (alert or case)
  size_t max_notes_per_alert = 100;      // changes carrying a note, per alert
  size_t max_history_per_alert = 1000;   // history entries per alert
  size_t max_assignee_bytes = 128;       // assignee name
  size_t max_ids_per_request = 10'000;   // alert ids in one triage or case request
  size_t max_title_bytes = 256;          // case title
  size_t max_case_alerts = 10'000;       // alerts in one case
  size_t max_case_notes = 200;           // notes per case
  size_t max_case_timeline = 2'000;      // timeline entries per case (later changes refused)
  size_t max_open_auto_cases = 100'000;  // open auto cases remembered (the oldest are let go)
  size_t max_log_changes = 200'000;      // change log (stream resume): entries kept
  size_t max_log_bytes = 64 << 20;       // change log: bytes of its entries kept
};

struct TriageState {
  uint64_t id = 0;
  Status status = Status::kNew;
  Reason reason = Reason::kNone;
  std::string assignee;  // empty: nobody
  uint64_t version = 0;  // 0: never changed
  int64_t updated_ns = 0;
  std::string updated_by;
  uint32_t notes = 0;    // changes that carried a note
  uint32_t history = 0;  // history entries
};

struct HistoryEntry {
  uint64_t version = 0;
  int64_t time_ns = 0;
  std::string author;
  Action action = Action::kAck;
  Status status = Status::kNew;
  Reason reason = Reason::kNone;
  std::string assignee;
  std::string note;
};

// One request's change, applied to each of its alerts.
struct Change {
  Action action = Action::kAck;
  std::string author;
  std::string assignee;           // assign: the new assignee ("" unassigns)
  std::string note;               // required for note; optional with any other action
  Reason reason = Reason::kNone;  // required for close
  std::map<uint64_t, uint64_t> expected_versions;  // alert id -> version the author saw
};

struct ChangeTarget {
  uint64_t id = 0;
  std::string agency;
  int64_t time_ns = 0;  // the alert's time (the overview counts it in that hour)
};

enum class ChangeError : uint8_t { kNone, kConflict, kInvalidTransition, kLimit };
std::string_view ChangeErrorName(ChangeError error);  // "conflict", ...

struct ChangeResult {
  uint64_t id = 0;
  ChangeError error = ChangeError::kNone;
  std::string detail;  // why, for kInvalidTransition and kLimit
  TriageState state;   // after the change, or the current one when refused
};

// The request-wide checks (note size, assignee size, reason for close...):
// an error text, or nullopt.
std::optional<std::string> ValidateChange(const Change& change, const TriageLimits& limits);

// status= and assignee= filters of the alert routes.
struct TriageFilter {
  std::vector<Status> statuses;         // empty: any
  std::optional<std::string> assignee;  // set: exactly this assignee ("" = unassigned)
  // FindIds only: skip index entries of other agencies (nullopt = any). The
  // indexes carry each alert's agency, so a scoped or agency-filtered query
  // does not read other agencies' alerts; entries written without one (an
  // older triage.db) are returned, and the caller checks each alert anyway.
  std::optional<std::vector<std::string>> agencies;
  bool empty() const { return statuses.empty() && !assignee; }
  bool Matches(const TriageState& state) const;
  // Whether the matching alerts can be read from the indexes (untouched
  // alerts, status new and unassigned, cannot match).
  bool UsesIndex() const;
};

struct AutoCaseRule {
  std::string name;
  std::string entity;  // a field of the alert's group: src_ip, user, host...
  int64_t window_ns = 3600LL * 1'000'000'000;
  rules::Level min_level = rules::Level::kInformational;
};

enum class CaseStatus : uint8_t { kOpen, kInProgress, kClosed };
std::string_view CaseStatusName(CaseStatus status);
std::optional<CaseStatus> ParseCaseStatus(std::string_view name);

struct CaseAlert {
  uint64_t id = 0;
  std::string agency;
  rules::Level level = rules::Level::kInformational;
};

struct CaseEntry {  // a note or a timeline entry
  int64_t time_ns = 0;
  std::string author;
  std::string action;  // timeline only: created, add_alerts, assign, note, status, ...
  std::string text;    // the note, or the timeline detail
};

struct Case {
  uint64_t id = 0;
  std::string title;
  std::string agency;
  rules::Level severity = rules::Level::kInformational;  // the highest of its alerts
  CaseStatus status = CaseStatus::kOpen;
  std::string assignee;
  std::vector<std::pair<uint64_t, rules::Level>> alerts;  // id order
  std::vector<CaseEntry> notes;
  std::vector<CaseEntry> timeline;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  uint64_t version = 1;
  std::string auto_rule;  // the cases.auto rule that opened it; empty: by hand
};

struct NewCase {
  std::string title;
  std::string agency;
};

struct CaseChange {
  std::string action;  // add_alerts, remove_alerts, assign, note, status, close
  std::vector<uint64_t> alert_ids;
  std::string assignee;
  std::string note;
  std::optional<CaseStatus> status;
  std::optional<uint64_t> expected_version;
};

struct CaseChangeResult {
  enum class Outcome : uint8_t { kOk, kNotFound, kConflict, kInvalid } outcome = Outcome::kOk;
  std::string error;
  Case value;  // after the change, or the current one on a conflict
};

struct TriageStats {
  uint64_t changes = 0;           // alert changes committed
  uint64_t conflicts = 0;         // refused: expected version not current
  uint64_t refused = 0;           // refused: invalid transition or a per-alert limit
  uint64_t carried = 0;           // states moved to a replacing aggregate alert
  uint64_t cases_created = 0;     // by hand and by auto rules
  uint64_t auto_case_alerts = 0;  // alerts filed into cases by auto rules
  uint64_t write_errors = 0;
  uint64_t log_dropped = 0;  // change log entries dropped by its bounds (oldest first)
};

}  // namespace gsoc::triage
