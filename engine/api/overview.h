// OverviewRollup: per-agency counts for GET /api/v1/overview, kept in memory
// so that a request never scans the store.
//
// It is a CommitListener of the AlertStore: OnCommitted (the store's writer
// thread, once per committed batch, one lock per batch) adds each alert to
// its agency's hourly ring (168 hours x 5 levels, by the alert's time, UTC)
// and to that agency's per-day top maps of rules and sources. At start,
// Seed() reads the last 7 days from the store, newest first, up to
// seed_alerts alerts (a bounded scan; beyond it the oldest hours are left
// uncounted and `seeded_complete` says so).
//
// Bounds: at most max_agencies agencies (alerts of further agencies are
// counted in `dropped` only); per agency and day at most top_entries rules
// and top_entries sources (when a map is full, the less counted half is
// pruned: counts of rare keys are approximate, the heavy hitters stay);
// keys are cut at kMaxKeyBytes. So the memory is at most
// max_agencies x (168 x 6 counters + 8 days x 2 x top_entries keys).
//
// An aggregated alert's newer versions (StoredAlert::replaces != 0) are not
// counted again: the first version counted it. A ring slot keeps the newest
// hour it was given (older alerts for it are not counted); alerts dated more
// than an hour ahead of the clock are not counted (`dropped`), so a sender
// with a wrong clock cannot push real hours out.
//
// Source of an alert: the first of the fields (or group values) src_ip,
// source_ip, SourceIp, IpAddress, client_ip, host, hostname, Computer.
//
// Open versus closed: an alert counts as open until its triage status is
// closed. OnTriageChange (the triage store's change listener, with the
// status before the change and the alert's time) moves the count of the
// alert's hour when it enters or leaves "closed"; Seed reads the triage
// state of each alert it counts (one multi-get per page), so the counts are
// right after a restart too.
//
// Threading: every method is thread-safe (one Mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/auth/principal.h"
#include "engine/store/alert_store.h"
#include "engine/triage/triage_store.h"
#include "engine/util/thread_annotations.h"

namespace gsoc::api {

struct OverviewOptions {
  size_t max_agencies = 256;
  size_t top_entries = 256;      // rules (and sources) per agency and day
  size_t seed_alerts = 500'000;  // Seed reads at most this many alerts
};

// What one request sees: the sum over the agencies the principal may see
// (or the one it asked for).
struct OverviewCounts {
  static constexpr size_t kLevels = 5;  // rules::Level informational..critical
  struct Bucket {
    int64_t start_ns = 0;
    std::array<uint64_t, kLevels> counts{};
  };
  struct Top {
    std::string key;    // rule id or source
    std::string title;  // rules: the rule's title
    uint64_t count = 0;
  };
  std::vector<Bucket> hours;  // 24, oldest first, the last one holds now
  std::vector<Bucket> days;   // 7 UTC days, oldest first, the last one is today
  std::vector<Top> top_rules;
  std::vector<Top> top_sources;
  uint64_t open = 0;  // over the 7 days
  uint64_t closed = 0;
};

class OverviewRollup : public store::CommitListener {
 public:
  static constexpr size_t kHours = 168;
  static constexpr size_t kDays = 8;  // 7 shown; one more so a day never shares a slot
  static constexpr size_t kMaxKeyBytes = 256;
  static constexpr size_t kTopShown = 10;

  explicit OverviewRollup(OverviewOptions options = {});
  ~OverviewRollup() override;

  void OnCommitted(std::span<const store::StoredAlert> alerts) override;

  // Counts the alerts of the last 7 days (as of `now`) already in the store,
  // newest first, up to options.seed_alerts; ids above the newest one at the
  // call are left to OnCommitted. Call before adding the rollup as a listener
  // and before the store's first commit of this process. Returns the number
  // of alerts read.
  // With `triage` (may be null: none closed), closed alerts count as closed.
  size_t Seed(const store::AlertReader& reader, std::chrono::system_clock::time_point now,
              const triage::TriageStore* triage = nullptr);

  // A triage change (TriageStore's change listener): counts the alert as
  // closed, or open again, when its status enters or leaves "closed".
  void OnTriageChange(const triage::ChangeEvent& change);

  // Triage: an alert of `agency` with time `time_ns` entered (+1) or left
  // (-1) the closed status.
  void CountStatusChange(std::string_view agency, int64_t time_ns, int closed_delta);

  // The sum over `agencies` (empty: every agency) as of `now`.
  OverviewCounts Counts(const std::vector<std::string>& agencies,
                        std::chrono::system_clock::time_point now) const;

  uint64_t dropped() const;  // alerts not counted: agency limit, time ahead of the clock
  bool seeded_complete() const;

 private:
  struct Agency;
  struct Parsed;
  Agency* FindOrAdd(std::string_view name) GSOC_REQUIRES(mutex_);
  void Add(const store::StoredAlert& alert, const Parsed& parsed, int64_t now_ns,
           bool closed = false) GSOC_REQUIRES(mutex_);
  void AddTo(const Agency& agency, int64_t now_hour, OverviewCounts& out,
             std::map<std::string, OverviewCounts::Top>& rules,
             std::map<std::string, OverviewCounts::Top>& sources) const GSOC_REQUIRES(mutex_);

  const OverviewOptions options_;
  mutable Mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Agency>> agencies_ GSOC_GUARDED_BY(mutex_);
  uint64_t seeded_last_id_ GSOC_GUARDED_BY(mutex_) = 0;
  uint64_t dropped_ GSOC_GUARDED_BY(mutex_) = 0;
  bool seeded_complete_ GSOC_GUARDED_BY(mutex_) = true;
  struct WriterState;                          // the writer thread's JSON parser
  std::unique_ptr<WriterState> writer_state_;  // OnCommitted only (one writer thread)
};

// The GET /api/v1/overview body (see README.md): `agency` is the one asked
// for, or null for the sum.
std::string OverviewJson(const OverviewCounts& counts, const std::optional<std::string>& agency);

}  // namespace gsoc::api
