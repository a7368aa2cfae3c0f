// Private to gsoc_triage: the RocksDB implementation of TriageStore, shared
// by triage_store.cc (alert states) and cases.cc (cases, auto cases).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <unordered_map>

#include "engine/triage/codec.h"
#include "engine/triage/triage_store.h"
#include "engine/util/thread_annotations.h"

namespace gsoc::triage {

class RocksTriageStore final : public TriageStore {
 public:
  explicit RocksTriageStore(const TriageOptions& options);
  ~RocksTriageStore() override;

  const TriageLimits& limits() const { return options_.limits; }
  std::vector<ChangeResult> Apply(const Change& change, std::span<const ChangeTarget> targets);
  TriageState Get(uint64_t id) const;
  std::vector<TriageState> GetMany(std::span<const uint64_t> ids) const;
  std::vector<HistoryEntry> History(uint64_t id) const;
  std::vector<uint64_t> FindIds(const TriageFilter& filter, uint64_t after_id, uint64_t before_id,
                                bool newest_first, size_t limit) const;
  void SetChangeListener(std::function<void(const ChangeEvent&)> listener) {
    listener_ = std::move(listener);
  }
  void OnCommitted(std::span<const store::StoredAlert> alerts) override;
  ChangeLogPage ReadChangeLog(uint64_t after_position, uint64_t after_seq, size_t max) const;
  void NoteAlertPosition(uint64_t last_alert_id);

  std::variant<Case, std::string> CreateCase(const NewCase& request, const std::string& author,
                                             std::span<const CaseAlert> alerts);
  std::optional<Case> GetCase(uint64_t id) const;
  std::vector<Case> ListCases(const std::function<bool(const Case&)>& visible, uint64_t before_id,
                              size_t limit) const;
  CaseChangeResult ChangeCase(uint64_t id, const CaseChange& change, const std::string& author,
                              std::span<const CaseAlert> alerts);
  TriageStats stats() const;

 private:
  static constexpr size_t kStripes = 64;
  struct AutoOpen {
    uint64_t case_id = 0;
    int64_t last_ns = 0;
  };

  int64_t Now() const;
  void Write(rocksdb::WriteBatch& batch);
  [[noreturn]] void Fail(const std::string& what, const rocksdb::Status& status) const;
  std::optional<std::string> Read(const std::string& key) const;
  using Visit = std::function<bool(const rocksdb::Slice& key, const rocksdb::Slice& value)>;
  void Scan(const std::string& prefix, const Visit& visit) const;  // visit false: stop

  // Alert states (triage_store.cc).
  std::optional<TriageState> ReadState(uint64_t id) const;
  // The new state and its index entries (whose value is the alert's agency).
  void PutState(rocksdb::WriteBatch& batch, const TriageState& before, const TriageState& after,
                std::string_view agency);
  ChangeResult ApplyOne(const Change& change, const ChangeTarget& target, TriageState& state, int64_t now,
                        rocksdb::WriteBatch& batch);
  void LockStripes(const std::vector<size_t>& stripes);
  void UnlockStripes(const std::vector<size_t>& stripes);
  void CarryOver(uint64_t from, uint64_t to, std::string_view agency, rocksdb::WriteBatch& batch);
  // Under both alerts' stripes.
  void CarryOverLocked(uint64_t from, uint64_t to, std::string_view agency);
  void ScanIds(const std::string& prefix, uint64_t after_id, uint64_t before_id, bool newest_first,
               size_t limit, const std::function<bool(uint64_t, std::string_view)>& take,
               std::vector<uint64_t>& out) const;

  // Change log (triage_store.cc).
  void LoadLog() GSOC_EXCLUDES(log_mutex_);
  void LogChange(const std::string& agency, const TriageState& state, rocksdb::WriteBatch& batch,
                 uint64_t& seq) GSOC_EXCLUDES(log_mutex_);
  void TrimLog() GSOC_EXCLUDES(log_mutex_);

  // Cases (cases.cc).
  void LoadAutoOpen() GSOC_EXCLUDES(cases_mutex_);
  void PutCase(rocksdb::WriteBatch& batch, const Case& value);
  uint64_t NextCaseId() GSOC_REQUIRES(cases_mutex_);
  void FileAutoCases(const store::StoredAlert& alert, rocksdb::WriteBatch& batch)
      GSOC_REQUIRES(cases_mutex_);
  void FileAutoCase(const AutoCaseRule& rule, const store::StoredAlert& alert,
                    const std::string& value, rocksdb::WriteBatch& batch)
      GSOC_REQUIRES(cases_mutex_);
  void ReplaceCaseAlert(uint64_t from, uint64_t to, rocksdb::WriteBatch& batch)
      GSOC_REQUIRES(cases_mutex_);
  // The case as changed so far in this OnCommitted call (read once).
  Case* PendingCase(uint64_t id) GSOC_REQUIRES(cases_mutex_);
  void FlushPending(rocksdb::WriteBatch& batch) GSOC_REQUIRES(cases_mutex_);
  std::optional<std::string> ApplyCaseChange(Case& value, const CaseChange& change,
                                             std::span<const CaseAlert> alerts,
                                             rocksdb::WriteBatch& batch);
  void AppendTimeline(Case& value, int64_t now, const std::string& author, std::string action,
                      std::string detail);

  const TriageOptions options_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<Mutex, kStripes> stripes_;
  Mutex cases_mutex_;  // every case change, and the auto case map
  std::unordered_map<std::string, AutoOpen> auto_open_ GSOC_GUARDED_BY(cases_mutex_);
  uint64_t next_case_id_ GSOC_GUARDED_BY(cases_mutex_) = 0;
  // During one OnCommitted call: cases changed, and alert -> cases filed.
  std::map<uint64_t, Case> pending_cases_ GSOC_GUARDED_BY(cases_mutex_);
  std::unordered_map<uint64_t, std::vector<uint64_t>> pending_members_
      GSOC_GUARDED_BY(cases_mutex_);
  std::function<void(const ChangeEvent&)> listener_;
  std::atomic<uint64_t> alert_position_{0};  // newest committed alert id
  mutable Mutex log_mutex_;                  // assigns (seq, position) in order; trims
  uint64_t log_next_seq_ GSOC_GUARDED_BY(log_mutex_) = 1;
  uint64_t log_count_ GSOC_GUARDED_BY(log_mutex_) = 0;
  uint64_t log_bytes_ GSOC_GUARDED_BY(log_mutex_) = 0;
  uint64_t log_dropped_position_ GSOC_GUARDED_BY(log_mutex_) = 0;
  uint64_t log_dropped_seq_ GSOC_GUARDED_BY(log_mutex_) = 0;
  mutable std::atomic<uint64_t> changes_{0}, conflicts_{0}, refused_{0}, carried_{0},
      cases_created_{0}, auto_case_alerts_{0}, write_errors_{0}, log_dropped_{0};
};

std::string EncodeState(const TriageState& state);
std::optional<TriageState> DecodeState(uint64_t id, std::string_view bytes);
std::string EncodeCase(const Case& value);
std::optional<Case> DecodeCase(uint64_t id, std::string_view bytes);

}  // namespace gsoc::triage
