// AlertStore: alerts persisted in RocksDB before anyone can see them.
//
// Data flow: workers Publish() alerts (detection and correlation) -> a
// bounded queue -> one writer thread takes everything queued (up to
// max_batch_alerts), assigns ids, writes ONE rocksdb::WriteBatch (alerts,
// their index entries and the next-id counter together) under the sync
// policy, and only then hands the committed alerts, in id order, to the
// CommitListeners (the API's live stream, the JSON-lines file, the webhook).
// So a listener never sees an alert that a crash could lose, and an alert an
// API client has received is on disk (with sync batch/always).
//
// Ids: increase monotonically and are never reused, across restarts too:
// the next id is stored in the same WriteBatch as the alerts that used the
// ones below it; at open it is max(stored next id, last alert id + 1).
//
// Threading: Publish from any thread; when the queue holds queue_alerts,
// Publish blocks until the writer has taken some (backpressure: the worker
// waits, the pipeline queue fills, TCP stops reading).
//
// Failure: a failed write or WAL sync is sticky (LevelDB's background
// error): that batch is not announced, its alerts are never served, no later
// commit is attempted, health() reports the error, and Publish blocks (the
// same backpressure) until BeginShutdown or the destructor. Recovery is a
// restart, which replays the WAL: what reached it is kept, ids go on above. Query/Get/stats from
// any thread, concurrently with writes (RocksDB snapshots/iterators).
// Listeners are called on the writer thread: they must not block for long
// (copy and hand off).
//
// Retention: a background thread deletes, oldest id first, alerts committed
// longer than retention_age ago (by commit time, never by the time a sender
// wrote in its message) and, beyond retention_bytes of live data, the
// oldest ones; index entries go with them. It uses its own WriteBatches and
// never holds up the writer.
//
// The key layout is documented in engine/store/README.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/correlate/correlator.h"
#include "engine/store/rocks_memory.h"

namespace rocksdb {
class Env;
}

namespace gsoc::store {

enum class SyncPolicy : uint8_t {
  kAlways,  // every WriteBatch with sync, and every alert in a batch of its own
  kBatch,   // one fsync per WriteBatch (group commit); the default
  kNone,    // no fsync (the OS writes back; a power loss can lose recent alerts)
};
const char* SyncPolicyName(SyncPolicy policy);
std::optional<SyncPolicy> ParseSyncPolicy(std::string_view text);

struct StoreOptions {
  std::filesystem::path path;  // the RocksDB directory, e.g. <data_dir>/alerts.db
  SyncPolicy sync = SyncPolicy::kBatch;
  size_t max_batch_alerts = 4096;  // alerts per WriteBatch at most
  size_t queue_alerts = 65536;     // Publish blocks beyond this many pending alerts
  std::chrono::seconds retention_age{90LL * 24 * 3600};  // 0 = keep forever
  uint64_t retention_bytes = 0;                          // 0 = no size limit
  std::chrono::milliseconds retention_interval{60'000};  // how often retention runs
  // RocksDB memory, by design (README "Memory"): the block cache, and the
  // memtables of all column families (a WriteBufferManager flushes beyond it).
  size_t block_cache_bytes = size_t{64} << 20;
  size_t memtable_bytes = size_t{128} << 20;
  // Ids start at least here: a data dir whose alerts were numbered before the
  // store existed (gsocd's old alert-id file) must not see its ids again.
  uint64_t min_first_id = 1;
  // A cluster store node (engine/cluster/store_role.h): alerts arrive with
  // their id set (derived from the GSOC_ALERTS stream), and the writer keeps
  // an id that is above the last one assigned (else it assigns the next).
  bool ids_given = false;
  // Tests: the wall clock that stamps commit times (retention goes by them).
  std::function<std::chrono::system_clock::time_point()> clock_for_test;
  // Tests: a RocksDB Env whose files fail on demand (not owned; outlives the store).
  rocksdb::Env* env_for_test = nullptr;
};

// One committed alert as listeners and queries see it.
struct StoredAlert {
  uint64_t id = 0;
  int64_t time_ns = 0;    // the alert's time (its event time)
  int64_t commit_ns = 0;  // when it was committed (wall clock; retention goes by this)
  rules::Level level = rules::Level::kMedium;
  AlertKind kind = AlertKind::kDetection;
  std::string rule_id;
  std::string rule_name;
  std::string agency;
  // AppendAlertJson output (one line, no newline), id included. Queries and
  // listeners always get it; Publish renders it only when listeners are
  // registered (the store itself keeps the binary detail).
  std::string json;
  // Aggregated detection alerts, as handed to CommitListeners (queries read
  // them from `json`, and leave these 0): the aggregate key and version, and
  // the id of the version this one replaced (deleted with this commit).
  uint64_t aggregate_key = 0;
  uint32_t aggregate_version = 0;
  uint64_t replaces = 0;
  // What the writer stores: the alert's binary detail (engine/alert/
  // alert_codec.h). Empty in what queries return.
  std::string detail{};
};

// Query filters; every given one must hold.
struct AlertFilter {
  int64_t since_ns = INT64_MIN;           // alert time >= since
  int64_t until_ns = INT64_MAX;           // alert time < until
  uint64_t after_id = 0;                  // id > after_id
  uint64_t before_id = UINT64_MAX;        // id < before_id
  std::string rule;                       // rule id or rule name; empty = any
  std::optional<rules::Level> min_level;  // level >= this
  std::string agency;                     // empty = any
  // The agencies a principal may see (agency-analyst scope): nullopt = every
  // agency; otherwise only alerts of these (an empty list: none).
  std::optional<std::vector<std::string>> allowed_agencies;
  std::string q;  // case-insensitive substring of the alert JSON; empty = any
  bool Matches(const StoredAlert& alert) const;
  bool AgencyAllowed(std::string_view agency) const;
};

struct QueryRequest {
  AlertFilter filter;
  size_t limit = 100;         // at most this many (capped at 10,000)
  bool newest_first = false;  // id order: ascending (oldest first) or descending
};

struct QueryResult {
  std::vector<StoredAlert> alerts;
  // To continue: the same request with after_id (oldest first) or before_id
  // (newest first) set to this; 0 when there is nothing more.
  uint64_t next_cursor = 0;
};

// Read side, also implemented by test fakes (the API depends only on this).
class AlertReader {
 public:
  virtual ~AlertReader() = default;
  virtual QueryResult Query(const QueryRequest& request) const = 0;
  virtual std::optional<StoredAlert> Get(uint64_t id) const = 0;
  // The newest committed id (0 when empty).
  virtual uint64_t last_id() const = 0;
};

// Called on the writer thread after each commit, alerts in id order.
class CommitListener {
 public:
  virtual ~CommitListener() = default;
  virtual void OnCommitted(std::span<const StoredAlert> alerts) = 0;
};

struct StoreStats {
  uint64_t alerts_committed = 0;
  uint64_t batches_committed = 0;
  uint64_t write_errors = 0;       // writes or WAL syncs that failed (never retried)
  uint64_t not_stored = 0;         // alerts published but not stored (the store had failed)
  uint64_t replaced = 0;           // aggregate versions deleted by their newer version
  uint64_t purges_dropped = 0;     // replaced versions' ids not queued for removal from postings
  bool failed = false;             // a write or sync failed: no commit until a restart
  uint64_t retention_deleted = 0;  // alerts deleted by retention
  uint64_t pending = 0;            // queued, not yet committed (gauge)
  uint64_t live_bytes = 0;         // estimated live data size (gauge)
  uint64_t publish_waits = 0;      // Publish calls that blocked on a full queue
  uint64_t rule_revisions = 0;     // rule revisions kept (ArchiveRuleRevisions)
  uint64_t rule_revisions_dropped = 0;  // not kept: past kMaxRuleArchiveBytes
};

// One revision of one rule, as GET /api/v1/rules/{id} shows it: kept by the
// store so that an alert shows the rule as it was when it fired.
struct RuleRevisionDetail {
  uint64_t revision = 0;  // rules::RevisionHasher; the alert's rule "revision"
  std::string rule_id;
  std::string json;  // the rule detail object
};

// Whether the store still commits; `error` says what failed, and when.
struct StoreHealth {
  bool ok = true;
  std::string error;  // empty when ok
};

class AlertStore : public AlertSink, public AlertReader {
 public:
  // Opens (creating if missing) the store; throws std::runtime_error naming
  // the path and RocksDB's reason when it cannot (locked by another gsocd,
  // corrupt, unwritable). Starts the writer and retention threads.
  static std::unique_ptr<AlertStore> Open(const StoreOptions& options);
  ~AlertStore() override;  // commits everything queued, stops the threads

  // AlertSink: queues the alerts (moves them out); see the top comment.
  void Publish(std::vector<Alert>& alerts) override;
  // Blocks until everything published before the call is committed (or, on a
  // failed store, known not to be).
  void Flush() override;
  // Shutdown is starting: Publish on a failed store stops waiting for a
  // commit that will not come and counts what it is given as not stored
  // (workers can drain). No effect on a healthy store.
  void BeginShutdown();
  // ok until a write or WAL sync fails; then never ok again (restart).
  StoreHealth health() const;
  // The block cache and write-buffer budget of this store, for the other
  // databases of the process to open under (engine/store/rocks_memory.h).
  RocksMemory shared_memory() const;

  // Listeners are added before the first Publish; not owned.
  void AddListener(CommitListener* listener);

  QueryResult Query(const QueryRequest& request) const override;
  std::optional<StoredAlert> Get(uint64_t id) const override;
  uint64_t last_id() const override;

  // Deletes what retention would delete as of `now` (wall clock), now;
  // returns the number of alerts deleted (tests, and the retention thread).
  uint64_t RunRetention(std::chrono::system_clock::time_point now);

  StoreStats stats() const;
  // Observations for the histograms gsoc_store_write_seconds and
  // gsoc_store_batch_alerts: called on the writer thread after each commit.
  void SetCommitObserver(std::function<void(double seconds, size_t alerts)> observer);
  // RocksDB's own statistics (tickers) worth exporting: name -> value.
  std::vector<std::pair<std::string, uint64_t>> RocksDbTickers() const;

  // Rule revisions: keeps the detail of each (revision, rule id) not kept yet,
  // in one write; called when a rule set starts running (any thread). Bounded
  // by kMaxRuleArchiveBytes: beyond it new revisions are not kept (logged,
  // StoreStats::rule_revisions_dropped) and their alerts fall back to the
  // running rule set. Returns how many were added.
  size_t ArchiveRuleRevisions(const std::vector<RuleRevisionDetail>& details);
  std::optional<std::string> RuleRevision(std::string_view rule_id, uint64_t revision) const;
  static constexpr uint64_t kMaxRuleArchiveBytes = uint64_t{64} << 20;

  // Correlation checkpoints in the store's checkpoint column family (sync
  // writes; replaces the previous one atomically).
  std::unique_ptr<correlate::CheckpointStore> MakeCheckpointStore();

 protected:
  AlertStore() = default;
};

}  // namespace gsoc::store
