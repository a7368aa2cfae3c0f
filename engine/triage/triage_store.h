// TriageStore: the analysts' state of each alert (status, closing reason,
// assignee, notes, history) and the cases (incidents) that group alerts,
// kept in their own RocksDB (<data_dir>/triage.db) next to the alert store.
//
// Alerts nobody touched have no record: they are status "new", version 0.
// Every accepted change bumps the alert's version by one and appends one
// history entry (version, time, author, action, status, reason, assignee,
// note) in the same WriteBatch as the new state and its index entries.
//
// Optimistic concurrency: a change may carry the version its author saw;
// when that is not the current version the change is refused as a
// conflict, with the current state (never a silent overwrite). Changes of
// the same alert are serialised by a striped mutex (64 stripes by alert id;
// a request locks its stripes in ascending order, so two bulk requests never
// deadlock) held across read, check and write.
//
// Durability: every write is a WriteBatch with the alert store's sync
// policy (sync for "always" and "batch"), so an acknowledged change
// survives kill -9.
//
// Indexes: status (all but "new", which untouched alerts are) and assignee
// -> alert ids, in id order, so `status=closed` or `assignee=x` reads only
// the matching alerts.
//
// Aggregated alerts: when the alert store replaces an aggregate's alert by a
// new id (StoredAlert::replaces, seen as a CommitListener), the state,
// history and case membership move to the new id.
//
// Bounds (TriageLimits): note bytes, notes and history entries per alert,
// assignee bytes, ids per request; see engine/triage/README.md.
//
// Threading: every method is thread-safe. OnCommitted runs on the alert
// store's writer thread.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/triage/triage_types.h"

namespace gsoc::triage {

struct TriageOptions {
  std::filesystem::path path;  // the RocksDB directory, e.g. <data_dir>/triage.db
  bool sync = true;            // WriteOptions::sync (false only for sync policy "none")
  store::RocksMemory memory;   // gsocd: the alert store's cache and write-buffer budget
  TriageLimits limits;
  std::vector<AutoCaseRule> auto_cases;  // config cases.auto
  // Tests: the wall clock stamping changes.
  std::function<int64_t()> clock_ns_for_test;
};

// A change of one alert's triage state, with the alert's agency (from the
// alert store) recorded for scoping of the change events, and what the
// overview needs to move its open/closed counts.
struct ChangeEvent {
  uint64_t id = 0;
  std::string agency;
  TriageState state;
  Status previous = Status::kNew;  // the status before this change
  int64_t alert_time_ns = 0;       // ChangeTarget::time_ns
  uint64_t seq = 0;                // its entry in the change log
};

// One entry of the change log (stream resume): the change `seq`, made when
// the newest committed alert id was `position`.
struct LoggedChange {
  uint64_t seq = 0;
  uint64_t position = 0;
  std::string agency;
  TriageState state;
};

struct ChangeLogPage {
  std::vector<LoggedChange> changes;
  // The log bound dropped changes that this read should have returned: the
  // reader must re-read the states it shows (the stream's triage_gap event).
  bool gap = false;
};

class TriageStore : public store::CommitListener {
 public:
  // Opens (creating if missing); throws std::runtime_error naming the path
  // and RocksDB's reason.
  static std::unique_ptr<TriageStore> Open(const TriageOptions& options);
  ~TriageStore() override;

  const TriageLimits& limits() const;

  // Applies `change` to each target (id and agency, checked by the caller).
  // One result per target, in order. Refuses the whole request (an error
  // text, no change made) when the change itself is invalid (see
  // ValidateChange).
  std::vector<ChangeResult> Apply(const Change& change, std::span<const ChangeTarget> targets);

  // The state of `id` (status new, version 0 when untouched).
  TriageState Get(uint64_t id) const;
  std::vector<TriageState> GetMany(std::span<const uint64_t> ids) const;
  std::vector<HistoryEntry> History(uint64_t id) const;

  // Alert ids whose status is one of `statuses` (none of them kNew) and/or
  // whose assignee is `assignee` (when set), in id order (descending when
  // newest_first), strictly between after_id and before_id, at most `limit`.
  std::vector<uint64_t> FindIds(const TriageFilter& filter, uint64_t after_id, uint64_t before_id,
                                bool newest_first, size_t limit) const;

  // Called (outside the stripe locks, on the changing thread) after each
  // committed change; set before serving. Must not block.
  void SetChangeListener(std::function<void(const ChangeEvent&)> listener);

  // Change log, for a stream resumed after alert id `position`: every change
  // made after alert `position` was committed has a log position >= it (this
  // store is a CommitListener that runs before the live hub). Returns up to
  // `max` changes with log position >= `position`, after the entry
  // (after_position, after_seq) (start: position, 0), oldest first.
  ChangeLogPage ReadChangeLog(uint64_t after_position, uint64_t after_seq, size_t max) const;
  // The newest committed alert id at start (OnCommitted follows it after).
  void NoteAlertPosition(uint64_t last_alert_id);

  // (CommitListener::OnCommitted: carries the state of replaced aggregate
  // alerts to their new id; files alerts into auto cases.)

  // Cases.
  std::variant<Case, std::string> CreateCase(const NewCase& request, const std::string& author,
                                             std::span<const CaseAlert> alerts);
  std::optional<Case> GetCase(uint64_t id) const;
  // Newest first, id < before_id; `visible` filters (scoping, status, agency).
  std::vector<Case> ListCases(const std::function<bool(const Case&)>& visible, uint64_t before_id,
                              size_t limit) const;
  CaseChangeResult ChangeCase(uint64_t id, const CaseChange& change, const std::string& author,
                              std::span<const CaseAlert> alerts);

  // Metrics.
  TriageStats stats() const;

 protected:
  TriageStore() = default;
};

}  // namespace gsoc::triage
