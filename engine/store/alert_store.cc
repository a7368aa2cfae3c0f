// AlertStore on RocksDB.
//
// Key layout and record encoding: engine/store/README.md (the bytes in
// store_format.h); RocksDB options: store_options.cc.
//
// Retention by age goes by commit time: the wall clock when the writer built
// the alert's WriteBatch, stored in the record. A message time is the
// sender's word: an alert stamped 2000-01-01 must not be deleted by the next
// retention run (records of format 1, which have no commit time, go by their
// alert time). It needs no per-alert time index: the writer keeps, in the
// same WriteBatch as the alerts, the min and max commit time of each block of 4096
// ids (the running min/max of everything it wrote there, so the summary min
// is <= every alert's time even across restarts; at open the writer goes on
// from the stored summary of its block). Retention reads the records of the
// blocks whose min is older than the cutoff and deletes those that are; a
// block's summary is deleted once the block is empty and entirely below
// last_id (no later write can touch it).
//
// Live bytes (StoreStats::live_bytes, retention_bytes) = bytes_added -
// bytes_deleted, where a record's size is its alerts key + value before
// compression (index entries and RocksDB overhead are not counted). The
// writer alone writes bytes_added (in each alert WriteBatch) and retention
// alone writes bytes_deleted (in each deletion WriteBatch), so both are exact
// across crashes without a read-modify-write shared by the two threads.
//
// Threads:
//   - Publish (any thread) renders the JSON with id 0 and queues it; it
//     blocks while the queue holds queue_alerts.
//   - The writer is a pipeline of two threads. The encoder takes up to
//     max_batch_alerts (1 under sync "always"), assigns ids, patches them
//     into the JSON and builds the WriteBatch (records, index entries, block
//     summaries) while the committer writes the previous one: it adds
//     next_id and bytes_added, writes it, then calls the listeners and the
//     commit observer, then wakes Flush callers. The
//     batches go through the committer in encoding (id) order. Under sync
//     "batch" the committer writes without sync and a third thread, the
//     syncer, syncs the WAL (SyncWAL: one fsync covers every batch written
//     before it) and only then publishes last_id and calls the listeners,
//     so the next batch goes into the memtables during the fsync; readers
//     never see ids above last_id, so nothing unsynced is visible.
//   - Failure is sticky (LevelDB's RecordBackgroundError): the first failed
//     write or SyncWAL sets failed_ (logged once, counted); that batch and
//     every later one are not written, not announced, and last_id stays, so
//     nothing that may not be durable is ever served. After a failed fsync
//     the data may already be gone ("fsyncgate"): retrying and then
//     announcing would be a lie. Publish blocks from then on (backpressure to
//     the senders) until BeginShutdown or the destructor; retention and
//     checkpoints stop writing. A restart replays the WAL; ids continue above
//     whatever it holds.
//   - Retention (its own thread, or RunRetention) deletes in its own
//     WriteBatches under retention_mutex_, which the writer never takes.
//   - Query/Get read under a RocksDB snapshot; ids above last_id() (not yet
//     announced) are not returned.
//
// Query bounds: limit is capped at 10,000; a query examines at most
// 1,000,000 index entries or records, then returns what it found with
// next_cursor = the last id examined, so that a client pages through a
// sparse match without one request scanning the whole store.
#include "engine/store/alert_store.h"

#include <pthread.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "engine/store/store_format.h"
#include "engine/store/store_options.h"
#include "engine/util/thread_annotations.h"

namespace gsoc::store {

const char* SyncPolicyName(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kAlways:
      return "always";
    case SyncPolicy::kBatch:
      return "batch";
    case SyncPolicy::kNone:
      return "none";
  }
  return "batch";
}

std::optional<SyncPolicy> ParseSyncPolicy(std::string_view text) {
  if (text == "always") return SyncPolicy::kAlways;
  if (text == "batch") return SyncPolicy::kBatch;
  if (text == "none") return SyncPolicy::kNone;
  return std::nullopt;
}

namespace {

using format::RecordView;
using namespace rocks;  // column family names, RocksDB options

constexpr size_t kMaxQueryLimit = 10'000;
constexpr uint64_t kMaxScannedPerQuery = 1'000'000;
constexpr size_t kRetentionChunk = 1024;

constexpr const char* kMetaFormatVersion = "format_version";
constexpr const char* kMetaNextId = "next_id";
constexpr const char* kMetaBytesAdded = "bytes_added";
constexpr const char* kMetaBytesDeleted = "bytes_deleted";
constexpr const char* kMetaTimeBlocksFrom = "time_blocks_from";
constexpr const char* kCheckpointKey = "correlation";

int64_t ToNanos(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// --- text search -------------------------------------------------------------

struct FoldedHash {
  size_t operator()(char c) const { return static_cast<unsigned char>(Fold(c)); }
  static char Fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
};
struct FoldedEqual {
  bool operator()(char a, char b) const { return FoldedHash::Fold(a) == FoldedHash::Fold(b); }
};

// Case-insensitive (ASCII) substring search, built once per query.
class TextNeedle {
 public:
  explicit TextNeedle(std::string_view needle)
      : needle_(needle), searcher_(needle_.begin(), needle_.end(), FoldedHash(), FoldedEqual()) {}
  TextNeedle(const TextNeedle&) = delete;  // searcher_ points into needle_
  TextNeedle& operator=(const TextNeedle&) = delete;
  bool FoundIn(std::string_view text) const {
    if (needle_.empty()) return true;
    return searcher_(text.begin(), text.end()).first != text.end();
  }

 private:
  std::string needle_;
  std::boyer_moore_horspool_searcher<std::string::const_iterator, FoldedHash, FoldedEqual>
      searcher_;
};

// AlertFilter::Matches over a record view, with the needle prepared once.
class FilterMatcher {
 public:
  explicit FilterMatcher(const AlertFilter& filter) : filter_(filter), needle_(filter.q) {}
  bool Matches(uint64_t id, const RecordView& r) const {
    const AlertFilter& f = filter_;
    if (id <= f.after_id || id >= f.before_id) return false;
    if (r.time_ns < f.since_ns || r.time_ns >= f.until_ns) return false;
    if (!f.rule.empty() && f.rule != r.rule_id && f.rule != r.rule_name) return false;
    if (f.min_level && r.level < *f.min_level) return false;
    if (!f.agency.empty() && f.agency != r.agency) return false;
    if (!f.AgencyAllowed(r.agency)) return false;
    return needle_.FoundIn(r.json);
  }

 private:
  const AlertFilter& filter_;
  TextNeedle needle_;
};

RecordView ViewOf(const StoredAlert& alert) {
  return RecordView{alert.time_ns, alert.commit_ns, alert.level,  alert.kind,
                    alert.rule_id, alert.rule_name, alert.agency, alert.json};
}

StoredAlert FromView(uint64_t id, const RecordView& view) {
  return StoredAlert{id,
                     view.time_ns,
                     view.commit_ns,
                     view.level,
                     view.kind,
                     std::string(view.rule_id),
                     std::string(view.rule_name),
                     std::string(view.agency),
                     std::string(view.json)};
}

// --- checkpoints ---------------------------------------------------------------

// What the checkpoint store needs of the alert store: its sticky failure.
class FailureState {
 public:
  virtual ~FailureState() = default;
  virtual bool failed() const = 0;
  virtual void RecordFailure(const char* what, const rocksdb::Status& status) = 0;
};

class RocksCheckpointStore : public correlate::CheckpointStore {
 public:
  RocksCheckpointStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, FailureState* failure)
      : db_(db), cf_(cf), failure_(failure) {}

  // Throws when the store has failed or this write fails (which fails it).
  void Save(std::string_view blob) override {
    if (failure_->failed()) throw std::runtime_error("checkpoint save: the alert store has failed");
    rocksdb::WriteOptions write;
    write.sync = true;
    const rocksdb::Status status = db_->Put(write, cf_, kCheckpointKey, blob);
    if (!status.ok()) {
      failure_->RecordFailure("writing a correlation checkpoint", status);
      throw std::runtime_error("checkpoint save: " + status.ToString());
    }
  }

  bool Load(std::string* blob) override {
    const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), cf_, kCheckpointKey, blob);
    if (status.IsNotFound()) return false;
    if (!status.ok()) throw std::runtime_error("checkpoint load: " + status.ToString());
    return true;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  FailureState* failure_;
};

// --- index scans -------------------------------------------------------------

// Ids from one or more index prefixes (by_rule, by_agency, by_level), merged
// in id order, within [lo, hi).
class IndexIdSource {
 public:
  IndexIdSource(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snapshot,
                const std::vector<std::string>& prefixes, uint64_t lo, uint64_t hi,
                bool newest_first)
      : newest_first_(newest_first), lo_(lo), hi_(hi) {
    for (const std::string& prefix : prefixes) {
      auto cursor = std::make_unique<Cursor>();
      cursor->prefix = prefix;
      cursor->lower = prefix + format::IdKey(lo);
      cursor->upper = prefix + format::IdKey(hi);
      cursor->lower_slice = cursor->lower;
      cursor->upper_slice = cursor->upper;
      rocksdb::ReadOptions read;
      read.snapshot = snapshot;
      read.prefix_same_as_start = true;
      read.iterate_lower_bound = &cursor->lower_slice;
      read.iterate_upper_bound = &cursor->upper_slice;
      cursor->it.reset(db->NewIterator(read, cf));
      if (newest_first) {
        cursor->it->SeekForPrev(prefix + format::IdKey(hi - 1));
      } else {
        cursor->it->Seek(cursor->lower);
      }
      cursors_.push_back(std::move(cursor));
    }
    PickCurrent();
  }

  bool Valid() const { return current_ != nullptr; }
  uint64_t id() const { return current_id_; }
  void Next() {
    if (newest_first_) {
      current_->it->Prev();
    } else {
      current_->it->Next();
    }
    PickCurrent();
  }

 private:
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string prefix, lower, upper;
    rocksdb::Slice lower_slice, upper_slice;
  };

  // The id under `cursor`, or 0 when it is exhausted.
  uint64_t IdAt(const Cursor& cursor) const {
    if (!cursor.it->Valid()) {
      if (!cursor.it->status().ok()) {
        spdlog::warn("alert store: index scan: {}", cursor.it->status().ToString());
      }
      return 0;
    }
    const rocksdb::Slice key = cursor.it->key();
    if (key.size() != cursor.prefix.size() + 8 || !key.starts_with(cursor.prefix)) return 0;
    const uint64_t id = format::IdFromIndexKey(std::string_view(key.data(), key.size()));
    return id >= lo_ && id < hi_ ? id : 0;
  }

  void PickCurrent() {
    current_ = nullptr;
    for (const auto& cursor : cursors_) {
      const uint64_t id = IdAt(*cursor);
      if (id == 0) continue;
      if (!current_ || (newest_first_ ? id > current_id_ : id < current_id_)) {
        current_ = cursor.get();
        current_id_ = id;
      }
    }
  }

  const bool newest_first_;
  const uint64_t lo_, hi_;
  std::vector<std::unique_ptr<Cursor>> cursors_;
  Cursor* current_ = nullptr;
  uint64_t current_id_ = 0;
};

// Collects query results: filter, limit, scan budget, cursor.
class ResultCollector {
 public:
  ResultCollector(const QueryRequest& request, size_t limit)
      : matcher_(request.filter), limit_(limit) {}

  bool full() const { return result_.alerts.size() >= limit_; }
  size_t missing() const { return limit_ - result_.alerts.size(); }
  bool budget_left() const { return scanned_ < kMaxScannedPerQuery; }
  void CountScanned(uint64_t n = 1) { scanned_ += n; }

  // Offers one record; returns true when it was taken.
  bool Offer(uint64_t id, std::string_view value) {
    RecordView view;
    if (!format::DecodeRecord(value, &view)) {
      spdlog::warn("alert store: undecodable record {}", id);
      return false;
    }
    if (!matcher_.Matches(id, view)) return false;
    result_.alerts.push_back(FromView(id, view));
    return true;
  }

  // `more`: whether candidates remain; `last_examined`: the last id looked at.
  QueryResult Finish(bool more, uint64_t last_examined) {
    if (more) result_.next_cursor = full() ? result_.alerts.back().id : last_examined;
    return std::move(result_);
  }

 private:
  FilterMatcher matcher_;
  size_t limit_;
  uint64_t scanned_ = 0;
  QueryResult result_;
};

// --- the store -----------------------------------------------------------------

class RocksAlertStore final : public AlertStore, public FailureState {
 public:
  explicit RocksAlertStore(const StoreOptions& options) : options_(options) {
    OpenDb();
    LoadMeta();
    for (int i = 0; i < 3; ++i) free_slots_.push_back(std::make_unique<Slot>());
    if (options_.sync == SyncPolicy::kBatch) syncer_ = std::thread([this] { SyncerLoop(); });
    committer_ = std::thread([this] { CommitterLoop(); });
    writer_ = std::thread([this] { EncoderLoop(); });
    retention_thread_ = std::thread([this] { RetentionLoop(); });
  }

  ~RocksAlertStore() override {
    StopRetention();
    {
      MutexLock lock(queue_mutex_);
      stopping_ = true;
    }
    queue_not_empty_.notify_all();
    queue_not_full_.notify_all();
    if (writer_.joinable()) writer_.join();
    if (committer_.joinable()) committer_.join();
    if (syncer_.joinable()) syncer_.join();
    if (failed()) {
      spdlog::critical("alert store: closing after a failure ({}); {} published alerts not stored",
                       health().error, not_stored_.load());
    }
    CloseDb();
  }

  void Publish(std::vector<Alert>& alerts) override;
  void Flush() override;
  void BeginShutdown();
  StoreHealth health() const;
  bool failed() const override { return failed_.load(std::memory_order_acquire); }
  void RecordFailure(const char* what, const rocksdb::Status& status) override;
  void AddListener(CommitListener* listener) { listeners_.push_back(listener); }

  QueryResult Query(const QueryRequest& request) const override;
  std::optional<StoredAlert> Get(uint64_t id) const override;
  uint64_t last_id() const override { return last_id_.load(std::memory_order_acquire); }

  uint64_t RunRetention(std::chrono::system_clock::time_point now);

  StoreStats stats() const;
  void SetCommitObserver(std::function<void(double, size_t)> observer) {
    MutexLock lock(observer_mutex_);
    observer_ = std::move(observer);
  }
  std::vector<std::pair<std::string, uint64_t>> RocksDbTickers() const;
  std::unique_ptr<correlate::CheckpointStore> MakeCheckpointStore() {
    return std::make_unique<RocksCheckpointStore>(db_.get(), Cf(kCheckpointsCf), this);
  }

 private:
  // open / close
  void OpenDb();
  void CloseDb();
  void LoadMeta();
  uint64_t ReadMeta(const char* key, uint64_t fallback) const;
  rocksdb::ColumnFamilyHandle* Cf(const std::string& name) const { return cfs_.at(name); }
  [[noreturn]] void Fail(const std::string& what, const rocksdb::Status& status) const;

  // writer: a batch between the encoder and the committer
  struct Slot {
    std::vector<StoredAlert> alerts;
    rocksdb::WriteBatch write;                    // reused: keeps its buffer
    uint64_t first_id = 0, end_id = 0;            // ids [first_id, end_id)
    int64_t bytes = 0;                            // record bytes added (net of replaced)
    bool encoded = false;                         // false: encoding failed, nothing to write
    bool written = false;                         // false: not written (or not synced)
    std::chrono::steady_clock::time_point start;  // of its write
  };
  static StoredAlert Render(Alert& alert);
  void EncoderLoop();
  void CommitterLoop();
  bool TakeBatch(std::vector<StoredAlert>& batch);
  void Encode(Slot& slot);
  int64_t DeleteReplaced(rocksdb::WriteBatch& write, uint64_t id);
  void SyncerLoop();
  bool Write(Slot& slot);
  void Finish(Slot& slot);
  bool SyncWal();
  bool WriteBatchOnce(rocksdb::WriteBatch& write);
  // Queue (queue_mutex_ held): Publish may queue now.
  bool HasRoomLocked(size_t capacity) const GSOC_REQUIRES(queue_mutex_) {
    return !failed() && queue_.size() + staged_ < capacity;
  }
  void Announce(const std::vector<StoredAlert>& batch, double seconds);
  void MarkCommitted(size_t alerts);

  // indexes (the same keys for Put and Delete): fn(cf, key) for each
  template <typename Fn>
  void ForEachIndexKey(uint64_t id, const RecordView& record, Fn&& fn) const;

  // queries
  QueryResult ScanPrimary(const QueryRequest& request, ResultCollector& out, uint64_t lo,
                          uint64_t hi, const rocksdb::Snapshot* snapshot) const;
  QueryResult ScanIndex(const QueryRequest& request, ResultCollector& out, IndexIdSource& source,
                        const rocksdb::Snapshot* snapshot) const;
  void FetchAndOffer(const std::vector<uint64_t>& ids, ResultCollector& out, size_t* taken_until,
                     const rocksdb::Snapshot* snapshot) const;
  std::vector<std::string> LevelPrefixes(rules::Level min_level) const;

  // retention
  void RetentionLoop();
  void StopRetention();
  uint64_t DeleteOlderThan(int64_t cutoff_ns);
  uint64_t DeleteBeyondBytes(uint64_t limit);
  uint64_t DeleteOlderThanByTimeIndex(int64_t cutoff_ns);
  uint64_t DeleteIds(const std::vector<uint64_t>& ids, const rocksdb::Snapshot* snapshot,
                     const std::vector<std::string>& stale_time_keys);
  // Deletes the records (id, value) with their index entries, and the meta
  // keys `meta_deletes`, in one batch; returns the number of records.
  uint64_t DeleteRecords(const std::vector<std::pair<uint64_t, std::string>>& records,
                         const std::vector<std::string>& stale_time_keys,
                         const std::vector<std::string>& meta_deletes);
  void UpdateLiveHint();
  std::chrono::system_clock::time_point Now() const {
    return options_.clock_for_test ? options_.clock_for_test() : std::chrono::system_clock::now();
  }

  const StoreOptions options_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unordered_map<std::string, rocksdb::ColumnFamilyHandle*> cfs_;

  // Queue (queue_mutex_).
  mutable Mutex queue_mutex_;
  std::condition_variable_any queue_not_empty_, queue_not_full_, committed_cv_;
  std::deque<StoredAlert> queue_ GSOC_GUARDED_BY(queue_mutex_);
  uint64_t enqueued_ GSOC_GUARDED_BY(queue_mutex_) = 0;   // alerts ever queued
  uint64_t committed_ GSOC_GUARDED_BY(queue_mutex_) = 0;  // alerts ever handled by the writer
  // Taken by the encoder, not yet durable (count as queued).
  size_t staged_ GSOC_GUARDED_BY(queue_mutex_) = 0;
  bool stopping_ GSOC_GUARDED_BY(queue_mutex_) = false;
  // BeginShutdown: Publish no longer waits on a failed store.
  bool shutting_down_ GSOC_GUARDED_BY(queue_mutex_) = false;
  std::string failure_ GSOC_GUARDED_BY(queue_mutex_);  // what failed first (set once, with failed_)

  // Ids below this have a by_time entry (written before the block summaries).
  uint64_t time_blocks_from_ = 1;

  // Pipeline between the encoder and the committer (pipe_mutex_).
  Mutex pipe_mutex_;
  std::condition_variable_any pipe_cv_;
  std::vector<std::unique_ptr<Slot>> free_slots_ GSOC_GUARDED_BY(pipe_mutex_);
  std::deque<std::unique_ptr<Slot>> ready_slots_ GSOC_GUARDED_BY(pipe_mutex_);
  // Sync batch: written, to sync.
  std::deque<std::unique_ptr<Slot>> written_slots_ GSOC_GUARDED_BY(pipe_mutex_);
  bool encoder_done_ GSOC_GUARDED_BY(pipe_mutex_) = false;
  bool committer_done_ GSOC_GUARDED_BY(pipe_mutex_) = false;

  // Encoder thread only.
  uint64_t encoder_next_id_ = 1;
  uint64_t block_ = UINT64_MAX;  // the block of the last id assigned, and its times so far
  int64_t block_min_ns_ = INT64_MAX, block_max_ns_ = INT64_MIN;
  std::string encode_head_, encode_key_;

  // Committer thread only.
  uint64_t written_bytes_ = 0;  // bytes_added as of the last batch written
  // Called by the committer (sync always/none) or the syncer (batch).
  std::vector<CommitListener*> listeners_;
  Mutex observer_mutex_;
  std::function<void(double, size_t)> observer_ GSOC_GUARDED_BY(observer_mutex_);

  std::atomic<uint64_t> last_id_{0};
  std::atomic<uint64_t> live_hint_{1};  // no live alert has an id below this
  std::atomic<uint64_t> bytes_added_{0}, bytes_deleted_{0};
  std::atomic<uint64_t> alerts_committed_{0}, batches_committed_{0}, write_errors_{0};
  std::atomic<uint64_t> retention_deleted_{0}, publish_waits_{0}, not_stored_{0}, replaced_{0};
  std::atomic<bool> failed_{false};

  // Retention.
  Mutex retention_mutex_;  // one RunRetention at a time
  Mutex retention_wait_mutex_;
  std::condition_variable_any retention_cv_;
  bool retention_stop_ GSOC_GUARDED_BY(retention_wait_mutex_) = false;

  std::thread writer_, committer_, syncer_, retention_thread_;
};

// --- open / close ----------------------------------------------------------------

void RocksAlertStore::Fail(const std::string& what, const rocksdb::Status& status) const {
  throw std::runtime_error("alert store " + options_.path.string() + ": " + what + ": " +
                           status.ToString());
}

void RocksAlertStore::OpenDb() {
  statistics_ = rocksdb::CreateDBStatistics();
  // Only tickers are exported: histograms and timers would cost every write.
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  cache_ = rocksdb::NewLRUCache(kBlockCacheBytes);
  std::error_code ignored;
  std::filesystem::create_directories(options_.path, ignored);
  const std::string path = options_.path.string();
  const rocksdb::DBOptions db_options = MakeDbOptions(statistics_, options_.env_for_test);

  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(db_options, path, &names).ok()) names.clear();
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kAlertsCf, kByRuleCf,
                           kByAgencyCf, kByLevelCf, kByTimeCf, kCheckpointsCf, kMetaCf}) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, CfOptionsFor(name, cache_));

  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(db_options, path, descriptors, &handles_, &db);
  if (!status.ok()) Fail("cannot open", status);
  db_.reset(db);
  for (rocksdb::ColumnFamilyHandle* handle : handles_) cfs_[handle->GetName()] = handle;
}

void RocksAlertStore::CloseDb() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  handles_.clear();
  const rocksdb::Status status = db_->Close();
  if (!status.ok()) spdlog::error("alert store: close: {}", status.ToString());
  db_.reset();
}

uint64_t RocksAlertStore::ReadMeta(const char* key, uint64_t fallback) const {
  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), Cf(kMetaCf), key, &value);
  if (status.IsNotFound()) return fallback;
  if (!status.ok()) Fail(std::string("read meta ") + key, status);
  if (value.size() != 8) {
    Fail(std::string("read meta ") + key, rocksdb::Status::Corruption("bad length"));
  }
  return format::ReadBigEndian64(value);
}

void RocksAlertStore::LoadMeta() {
  const uint64_t version = ReadMeta(kMetaFormatVersion, 0);
  if (version == 0 || version == format::kFormatVersionNoCommitTime) {
    // New, or records 1 (read as they are) to which records 2 are now added.
    rocksdb::WriteOptions write;
    write.sync = true;
    const rocksdb::Status status =
        db_->Put(write, Cf(kMetaCf), kMetaFormatVersion, format::IdKey(format::kFormatVersion));
    if (!status.ok()) Fail("write meta", status);
  } else if (version != format::kFormatVersion) {
    Fail("format version " + std::to_string(version),
         rocksdb::Status::NotSupported("this gsoc reads versions 1 and 2"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(kAlertsCf)));
  it->SeekToLast();
  const uint64_t last_key = it->Valid() ? format::ReadBigEndian64(it->key().ToStringView()) : 0;
  it->SeekToFirst();
  const uint64_t next_id =
      std::max({ReadMeta(kMetaNextId, 1), last_key + 1, options_.min_first_id, uint64_t{1}});
  encoder_next_id_ = next_id;
  live_hint_ = it->Valid() ? format::ReadBigEndian64(it->key().ToStringView()) : next_id;
  last_id_ = next_id - 1;
  // A store written before the block summaries: its alerts keep their by_time
  // entries; the ones from here on are summarized per block.
  time_blocks_from_ = ReadMeta(kMetaTimeBlocksFrom, 0);
  if (time_blocks_from_ == 0) {
    time_blocks_from_ = next_id;
    rocksdb::WriteOptions write;
    write.sync = options_.sync != SyncPolicy::kNone;
    const rocksdb::Status status =
        db_->Put(write, Cf(kMetaCf), kMetaTimeBlocksFrom, format::IdKey(time_blocks_from_));
    if (!status.ok()) Fail("write meta", status);
  }
  // The summary of the block being filled goes on from what it holds.
  block_ = next_id >> format::kTimeBlockBits;
  std::string summary;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), Cf(kMetaCf), format::TimeBlockKey(block_), &summary);
  if (status.ok()) {
    if (!format::DecodeTimeBlockValue(summary, &block_min_ns_, &block_max_ns_)) {
      Fail("read meta time_block", rocksdb::Status::Corruption("bad length"));
    }
  } else if (!status.IsNotFound()) {
    Fail("read meta time_block", status);
  }
  bytes_added_ = ReadMeta(kMetaBytesAdded, 0);
  written_bytes_ = bytes_added_;
  bytes_deleted_ = ReadMeta(kMetaBytesDeleted, 0);
}

// --- publish / writer ------------------------------------------------------------

StoredAlert RocksAlertStore::Render(Alert& alert) {
  StoredAlert stored;
  alert.id = 0;  // placeholder, patched by the writer
  stored.json.reserve(1024);
  AppendAlertJson(stored.json, alert);
  stored.time_ns = alert.time_ns;
  stored.level = alert.rule.level;
  stored.kind = alert.kind;
  stored.rule_id = std::move(alert.rule.id);
  stored.rule_name = std::move(alert.rule.name);
  stored.agency = std::move(alert.agency);
  stored.aggregate_key = alert.aggregate_key;
  stored.aggregate_version = alert.aggregate_version;
  stored.replaces = alert.replaces;
  return stored;
}

void RocksAlertStore::Publish(std::vector<Alert>& alerts) {
  if (alerts.empty()) return;
  std::vector<StoredAlert> rendered;
  rendered.reserve(alerts.size());
  for (Alert& alert : alerts) rendered.push_back(Render(alert));
  alerts.clear();

  const size_t capacity = std::max<size_t>(1, options_.queue_alerts);
  bool waited = false;
  MutexLock lock(queue_mutex_);
  for (size_t next = 0; next < rendered.size();) {
    if (!HasRoomLocked(capacity)) {
      waited = true;
      // A failed store never makes room: this waits until shutdown.
      queue_not_full_.wait(lock, [&]() GSOC_REQUIRES(queue_mutex_) {
        return HasRoomLocked(capacity) || stopping_ || (shutting_down_ && failed());
      });
    }
    if (failed()) {
      if (!stopping_ && !shutting_down_) continue;  // failed meanwhile: wait as above
      not_stored_.fetch_add(rendered.size() - next, std::memory_order_relaxed);
      break;
    }
    const size_t take =
        std::min(rendered.size() - next, capacity - std::min(capacity, queue_.size() + staged_));
    const size_t count = stopping_ ? rendered.size() - next : take;
    for (size_t i = 0; i < count; ++i) queue_.push_back(std::move(rendered[next + i]));
    next += count;
    enqueued_ += count;
    queue_not_empty_.notify_one();
  }
  if (waited) publish_waits_.fetch_add(1, std::memory_order_relaxed);
}

void RocksAlertStore::BeginShutdown() {
  {
    MutexLock lock(queue_mutex_);
    shutting_down_ = true;
  }
  queue_not_full_.notify_all();
}

StoreHealth RocksAlertStore::health() const {
  if (!failed()) return {};
  MutexLock lock(queue_mutex_);
  return {false, failure_};
}

// The first failure is logged and kept; every one is counted. Never cleared.
void RocksAlertStore::RecordFailure(const char* what, const rocksdb::Status& status) {
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  {
    MutexLock lock(queue_mutex_);
    if (failed()) return;
    failure_ = std::string(what) + ": " + status.ToString();
    failed_.store(true, std::memory_order_release);
  }
  queue_not_full_.notify_all();
  spdlog::critical(
      "alert store {}: {} failed: {}. No alert is committed from now on: the batch is not "
      "announced, ingest waits (backpressure), /readyz reports not ready. Fix the disk and "
      "restart gsocd; the WAL is replayed.",
      options_.path.string(), what, status.ToString());
}

void RocksAlertStore::Flush() {
  MutexLock lock(queue_mutex_);
  const uint64_t target = enqueued_;
  committed_cv_.wait(lock, [&]() GSOC_REQUIRES(queue_mutex_) { return committed_ >= target; });
}

// The writer is two threads in a pipeline: the encoder takes a batch from the
// queue, assigns its ids and builds its WriteBatch while the committer writes
// (and syncs) the previous one, then announces it. Two slots circulate
// between them, so the encoder is at most one batch ahead; the committer
// handles the slots in the order they were encoded (id order).
void RocksAlertStore::EncoderLoop() {
  ::pthread_setname_np(::pthread_self(), "gsoc-store-enc");
  for (;;) {
    std::unique_ptr<Slot> slot;
    {
      MutexLock lock(pipe_mutex_);
      pipe_cv_.wait(lock, [&]() GSOC_REQUIRES(pipe_mutex_) { return !free_slots_.empty(); });
      slot = std::move(free_slots_.back());
      free_slots_.pop_back();
    }
    // Frees the alerts of the batch committed in this slot before (here, not
    // on the committer).
    slot->alerts.clear();
    const bool more = TakeBatch(slot->alerts);
    if (more) {
      slot->encoded = false;
      try {
        slot->write.Clear();
        Encode(*slot);
        slot->encoded = true;
      } catch (const std::exception& error) {
        spdlog::error("alert store writer: {}", error.what());
      } catch (...) {
        spdlog::error("alert store writer: unknown exception");
      }
    }
    {
      MutexLock lock(pipe_mutex_);
      if (more) {
        ready_slots_.push_back(std::move(slot));
      } else {
        free_slots_.push_back(std::move(slot));
        encoder_done_ = true;
      }
    }
    pipe_cv_.notify_all();
    if (!more) return;
  }
}

void RocksAlertStore::CommitterLoop() {
  ::pthread_setname_np(::pthread_self(), "gsoc-store-wr");
  const bool deferred_sync = options_.sync == SyncPolicy::kBatch;
  for (;;) {
    std::unique_ptr<Slot> slot;
    {
      MutexLock lock(pipe_mutex_);
      pipe_cv_.wait(lock, [&]() GSOC_REQUIRES(pipe_mutex_) {
        return !ready_slots_.empty() || encoder_done_;
      });
      if (ready_slots_.empty()) {
        committer_done_ = true;
        lock.unlock();
        pipe_cv_.notify_all();
        return;
      }
      slot = std::move(ready_slots_.front());
      ready_slots_.pop_front();
    }
    slot->written = false;
    try {
      if (slot->encoded) slot->written = Write(*slot);
    } catch (const std::exception& error) {
      spdlog::error("alert store writer: {}", error.what());
    } catch (...) {
      spdlog::error("alert store writer: unknown exception");
    }
    if (deferred_sync) {
      {
        MutexLock lock(pipe_mutex_);
        written_slots_.push_back(std::move(slot));
      }
      pipe_cv_.notify_all();
      continue;
    }
    Finish(*slot);
    {
      MutexLock lock(pipe_mutex_);
      free_slots_.push_back(std::move(slot));
    }
    pipe_cv_.notify_all();
  }
}

// Sync "batch": the committer writes without sync, this thread syncs the WAL
// (one fsync for every batch written meanwhile: all writes before it are
// durable after it) and only then publishes them, so that the next batch is
// written to the memtables while this one is synced.
void RocksAlertStore::SyncerLoop() {
  ::pthread_setname_np(::pthread_self(), "gsoc-store-sync");
  std::vector<std::unique_ptr<Slot>> slots;
  for (;;) {
    {
      MutexLock lock(pipe_mutex_);
      pipe_cv_.wait(lock, [&]() GSOC_REQUIRES(pipe_mutex_) {
        return !written_slots_.empty() || committer_done_;
      });
      if (written_slots_.empty()) return;
      while (!written_slots_.empty()) {
        slots.push_back(std::move(written_slots_.front()));
        written_slots_.pop_front();
      }
    }
    bool any_written = false;
    for (const auto& slot : slots) any_written = any_written || slot->written;
    bool synced = false;
    try {
      synced = !any_written || SyncWal();
    } catch (const std::exception& error) {
      spdlog::error("alert store writer: {}", error.what());
    } catch (...) {
      spdlog::error("alert store writer: unknown exception");
    }
    for (auto& slot : slots) {
      if (!synced) slot->written = false;
      Finish(*slot);
    }
    {
      MutexLock lock(pipe_mutex_);
      for (auto& slot : slots) free_slots_.push_back(std::move(slot));
    }
    slots.clear();
    pipe_cv_.notify_all();
  }
}

// Once: after a failed fsync the data may already be gone, so a retry that
// succeeds proves nothing. A failure is sticky.
bool RocksAlertStore::SyncWal() {
  if (failed()) return false;
  const rocksdb::Status status = db_->SyncWAL();
  if (status.ok()) return true;
  RecordFailure("syncing the WAL", status);
  return false;
}

bool RocksAlertStore::TakeBatch(std::vector<StoredAlert>& batch) {
  batch.clear();
  MutexLock lock(queue_mutex_);
  queue_not_empty_.wait(lock,
                        [&]() GSOC_REQUIRES(queue_mutex_) { return !queue_.empty() || stopping_; });
  if (queue_.empty()) return false;
  const size_t limit =
      options_.sync == SyncPolicy::kAlways ? 1 : std::max<size_t>(1, options_.max_batch_alerts);
  const size_t count = std::min(queue_.size(), limit);
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // Still counted against queue_alerts until it is durable (Finish), as
  // when one thread took, wrote and announced a batch.
  staged_ += count;
  return true;
}

template <typename Fn>
void RocksAlertStore::ForEachIndexKey(uint64_t id, const RecordView& record, Fn&& fn) const {
  if (!record.rule_id.empty()) fn(Cf(kByRuleCf), format::NameKey(record.rule_id, id));
  if (!record.rule_name.empty() && record.rule_name != record.rule_id) {
    fn(Cf(kByRuleCf), format::NameKey(record.rule_name, id));
  }
  if (!record.agency.empty()) fn(Cf(kByAgencyCf), format::NameKey(record.agency, id));
  fn(Cf(kByLevelCf), format::LevelKey(record.level, id));
  // Only alerts written before the block summaries existed have one.
  if (id < time_blocks_from_) fn(Cf(kByTimeCf), format::TimeKey(record.time_ns, id));
}

// Encoder thread: assigns ids (patching them into the JSON) and fills the
// slot's WriteBatch with the records, their index entries and the age
// summaries of the blocks they fall in. The committer adds next_id and
// bytes_added.
void RocksAlertStore::Encode(Slot& slot) {
  static constexpr std::string_view kPlaceholder = "{\"id\":\"0\"";
  rocksdb::WriteBatch& write = slot.write;
  rocksdb::ColumnFamilyHandle* const alerts_cf = Cf(kAlertsCf);
  rocksdb::ColumnFamilyHandle* const rule_cf = Cf(kByRuleCf);
  rocksdb::ColumnFamilyHandle* const agency_cf = Cf(kByAgencyCf);
  rocksdb::ColumnFamilyHandle* const level_cf = Cf(kByLevelCf);
  rocksdb::ColumnFamilyHandle* const meta_cf = Cf(kMetaCf);
  slot.first_id = encoder_next_id_;
  uint64_t id = encoder_next_id_;
  const int64_t commit_ns = ToNanos(Now());
  int64_t bytes = 0;  // net: a replaced version's record goes
  std::string& head = encode_head_;
  std::string& key = encode_key_;
  auto put_block = [&] {
    write.Put(meta_cf, format::TimeBlockKey(block_),
              format::TimeBlockValue(block_min_ns_, block_max_ns_));
  };
  bool block_touched = false;
  char id_text[24];
  for (StoredAlert& alert : slot.alerts) {
    alert.id = id++;
    alert.commit_ns = commit_ns;
    if (alert.json.starts_with(kPlaceholder)) {
      const auto [end, ec] = std::to_chars(id_text, id_text + sizeof id_text, alert.id);
      alert.json.replace(7, 1, id_text, static_cast<size_t>(end - id_text));
    }
    const uint64_t block = alert.id >> format::kTimeBlockBits;
    if (block != block_) {
      if (block_touched) put_block();
      block_ = block;
      block_min_ns_ = INT64_MAX;
      block_max_ns_ = INT64_MIN;
    }
    block_touched = true;
    block_min_ns_ = std::min(block_min_ns_, commit_ns);
    block_max_ns_ = std::max(block_max_ns_, commit_ns);

    const RecordView view = ViewOf(alert);
    head.clear();
    format::EncodeRecordHead(head, view);
    char id_key[8];
    {
      uint64_t v = alert.id;
      for (int i = 7; i >= 0; --i, v >>= 8) id_key[i] = static_cast<char>(v & 0xff);
    }
    const rocksdb::Slice value_parts[2] = {rocksdb::Slice(head), rocksdb::Slice(alert.json)};
    const rocksdb::Slice key_part(id_key, 8);
    write.Put(alerts_cf, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
    bytes += 8 + head.size() + alert.json.size();

    auto put_index = [&](rocksdb::ColumnFamilyHandle* cf) { write.Put(cf, key, rocksdb::Slice()); };
    if (!view.rule_id.empty()) {
      key.clear();
      format::AppendNameKey(key, view.rule_id, alert.id);
      put_index(rule_cf);
    }
    if (!view.rule_name.empty() && view.rule_name != view.rule_id) {
      key.clear();
      format::AppendNameKey(key, view.rule_name, alert.id);
      put_index(rule_cf);
    }
    if (!view.agency.empty()) {
      key.clear();
      format::AppendNameKey(key, view.agency, alert.id);
      put_index(agency_cf);
    }
    key.clear();
    format::AppendLevelKey(key, view.level, alert.id);
    put_index(level_cf);
    if (alert.replaces != 0 && alert.replaces < alert.id)
      bytes -= DeleteReplaced(write, alert.replaces);
  }
  if (block_touched) put_block();
  encoder_next_id_ = id;
  slot.end_id = id;
  slot.bytes = bytes;
}

// Encoder thread: deletes (in `write`) the record `id` replaced by a newer
// version of its aggregate, with its index entries; returns its bytes (0 when
// it is already gone). The next version has a higher id, so a reader resuming
// "after id N" never misses the newest state.
int64_t RocksAlertStore::DeleteReplaced(rocksdb::WriteBatch& write, uint64_t id) {
  // The aggregator publishes a version only once the one it replaces is
  // committed (it waits for its id), so that one is durable and readable.
  rocksdb::PinnableSlice value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), Cf(kAlertsCf), format::IdKey(id), &value);
  if (!status.ok()) return 0;  // deleted by retention meanwhile
  RecordView view;
  if (!format::DecodeRecord(value.ToStringView(), &view)) return 0;
  write.Delete(Cf(kAlertsCf), format::IdKey(id));
  ForEachIndexKey(id, view, [&write](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    write.Delete(cf, key);
  });
  replaced_.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int64_t>(8 + value.size());
}

// Once, like SyncWal: a failed WAL write is sticky.
bool RocksAlertStore::WriteBatchOnce(rocksdb::WriteBatch& write) {
  if (failed()) return false;
  rocksdb::WriteOptions options;
  options.sync = options_.sync == SyncPolicy::kAlways;
  const rocksdb::Status status = db_->Write(options, &write);
  if (status.ok()) return true;
  RecordFailure(
      options.sync ? "writing (with sync) a batch of alerts" : "writing a batch of alerts", status);
  return false;
}

// Committer thread: writes the slot's batch (with sync unless the policy is
// "batch", whose sync is the syncer's); false when it could not.
bool RocksAlertStore::Write(Slot& slot) {
  rocksdb::WriteBatch& write = slot.write;
  // Only the committer knows what is written: the counters go in here.
  write.Put(Cf(kMetaCf), kMetaNextId, format::IdKey(slot.end_id));
  write.Put(Cf(kMetaCf), kMetaBytesAdded,
            format::IdKey(written_bytes_ + static_cast<uint64_t>(slot.bytes)));
  slot.start = std::chrono::steady_clock::now();
  if (!WriteBatchOnce(write)) return false;
  written_bytes_ += static_cast<uint64_t>(slot.bytes);  // net; modular like the meta
  return true;
}

// Committer (sync always/none) or syncer (batch) thread, in id order: the
// slot is durable (or failed): publish it, call the listeners, wake Flush.
void RocksAlertStore::Finish(Slot& slot) {
  {
    MutexLock lock(queue_mutex_);
    staged_ -= slot.alerts.size();
  }
  queue_not_full_.notify_all();
  if (!slot.written) {
    not_stored_.fetch_add(slot.alerts.size(), std::memory_order_relaxed);
    MarkCommitted(slot.alerts.size());
    return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - slot.start).count();
  bytes_added_.fetch_add(static_cast<uint64_t>(slot.bytes), std::memory_order_relaxed);
  last_id_.store(slot.end_id - 1, std::memory_order_release);
  alerts_committed_.fetch_add(slot.alerts.size(), std::memory_order_relaxed);
  batches_committed_.fetch_add(1, std::memory_order_relaxed);
  Announce(slot.alerts, seconds);
  MarkCommitted(slot.alerts.size());
}

void RocksAlertStore::Announce(const std::vector<StoredAlert>& batch, double seconds) {
  const std::span<const StoredAlert> alerts(batch);
  for (CommitListener* listener : listeners_) {
    try {
      listener->OnCommitted(alerts);
    } catch (const std::exception& error) {
      spdlog::error("alert store: a commit listener threw: {}", error.what());
    } catch (...) {
      spdlog::error("alert store: a commit listener threw");
    }
  }
  MutexLock lock(observer_mutex_);
  if (!observer_) return;
  try {
    observer_(seconds, batch.size());
  } catch (...) {
    spdlog::error("alert store: the commit observer threw");
  }
}

void RocksAlertStore::MarkCommitted(size_t alerts) {
  {
    MutexLock lock(queue_mutex_);
    committed_ += alerts;
  }
  committed_cv_.notify_all();
}

// --- queries -----------------------------------------------------------------------

std::optional<StoredAlert> RocksAlertStore::Get(uint64_t id) const {
  if (id == 0 || id > last_id()) return std::nullopt;
  rocksdb::PinnableSlice value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), Cf(kAlertsCf), format::IdKey(id), &value);
  if (!status.ok()) {
    if (!status.IsNotFound()) spdlog::warn("alert store: get {}: {}", id, status.ToString());
    return std::nullopt;
  }
  RecordView view;
  if (!format::DecodeRecord(value.ToStringView(), &view)) return std::nullopt;
  return FromView(id, view);
}

std::vector<std::string> RocksAlertStore::LevelPrefixes(rules::Level min_level) const {
  std::vector<std::string> prefixes;
  for (auto level = static_cast<int>(min_level); level <= static_cast<int>(rules::Level::kCritical);
       ++level) {
    prefixes.push_back(format::LevelPrefix(static_cast<rules::Level>(level)));
  }
  return prefixes;
}

QueryResult RocksAlertStore::Query(const QueryRequest& request) const {
  const AlertFilter& filter = request.filter;
  const size_t limit = std::min(request.limit, kMaxQueryLimit);
  if (limit == 0 || filter.after_id == UINT64_MAX) return {};
  const uint64_t lo = std::max(filter.after_id + 1, live_hint_.load());
  const uint64_t hi = std::min(filter.before_id, last_id() + 1);  // exclusive
  if (lo >= hi) return {};

  rocksdb::ManagedSnapshot snapshot(db_.get());
  ResultCollector out(request, limit);
  auto scan_index = [&](const char* cf, const std::vector<std::string>& prefixes) {
    IndexIdSource source(db_.get(), Cf(cf), snapshot.snapshot(), prefixes, lo, hi,
                         request.newest_first);
    return ScanIndex(request, out, source, snapshot.snapshot());
  };
  if (filter.allowed_agencies) {  // a scoped principal: only its agencies' index entries
    std::vector<std::string> prefixes;
    for (const std::string& agency : *filter.allowed_agencies) {
      if (filter.agency.empty() || filter.agency == agency) {
        prefixes.push_back(format::NamePrefix(agency));
      }
    }
    if (prefixes.empty()) return {};
    return scan_index(kByAgencyCf, prefixes);
  }
  if (!filter.rule.empty()) return scan_index(kByRuleCf, {format::NamePrefix(filter.rule)});
  if (!filter.agency.empty()) return scan_index(kByAgencyCf, {format::NamePrefix(filter.agency)});
  if (filter.min_level && *filter.min_level > rules::Level::kInformational) {
    return scan_index(kByLevelCf, LevelPrefixes(*filter.min_level));
  }
  return ScanPrimary(request, out, lo, hi, snapshot.snapshot());
}

QueryResult RocksAlertStore::ScanPrimary(const QueryRequest& request, ResultCollector& out,
                                         uint64_t lo, uint64_t hi,
                                         const rocksdb::Snapshot* snapshot) const {
  const std::string lower = format::IdKey(lo), upper = format::IdKey(hi);
  const rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  read.iterate_lower_bound = &lower_slice;
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, Cf(kAlertsCf)));
  const bool desc = request.newest_first;
  if (desc) {
    it->SeekForPrev(format::IdKey(hi - 1));
  } else {
    it->Seek(lower);
  }
  uint64_t last = 0;
  while (it->Valid() && !out.full() && out.budget_left()) {
    last = format::ReadBigEndian64(it->key().ToStringView());
    out.CountScanned();
    out.Offer(last, it->value().ToStringView());
    desc ? it->Prev() : it->Next();
  }
  if (!it->status().ok()) spdlog::warn("alert store: query scan: {}", it->status().ToString());
  return out.Finish(it->Valid(), last);
}

// Reads the records of `ids` (in order) and offers them until the result is
// full; *taken_until = how many ids were examined.
void RocksAlertStore::FetchAndOffer(const std::vector<uint64_t>& ids, ResultCollector& out,
                                    size_t* taken_until, const rocksdb::Snapshot* snapshot) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back(format::IdKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  db_->MultiGet(read, Cf(kAlertsCf), ids.size(), slices.data(), values.data(), statuses.data(),
                /*sorted_input=*/false);
  size_t i = 0;
  for (; i < ids.size() && !out.full(); ++i) {
    if (statuses[i].ok()) out.Offer(ids[i], values[i].ToStringView());
  }
  *taken_until = i;
}

QueryResult RocksAlertStore::ScanIndex(const QueryRequest& request, ResultCollector& out,
                                       IndexIdSource& source,
                                       const rocksdb::Snapshot* snapshot) const {
  // Fetch a little more than needed when other filters may reject some.
  const AlertFilter& f = request.filter;
  const bool exact = f.q.empty() && f.since_ns == INT64_MIN && f.until_ns == INT64_MAX &&
                     f.agency.empty() && !f.min_level && !f.allowed_agencies;
  std::vector<uint64_t> ids;
  uint64_t last_examined = 0;
  bool more_in_chunk = false;
  while (!out.full() && source.Valid() && out.budget_left()) {
    const size_t want = std::clamp<size_t>(exact ? out.missing() : out.missing() * 2, 16, 1024);
    ids.clear();
    while (ids.size() < want && source.Valid() && out.budget_left()) {
      ids.push_back(source.id());
      source.Next();
      out.CountScanned();
    }
    size_t examined = 0;
    FetchAndOffer(ids, out, &examined, snapshot);
    last_examined = ids[examined - 1];
    more_in_chunk = examined < ids.size();
  }
  return out.Finish(more_in_chunk || source.Valid(), last_examined);
}

// --- retention -----------------------------------------------------------------------

uint64_t RocksAlertStore::RunRetention(std::chrono::system_clock::time_point now) {
  MutexLock lock(retention_mutex_);
  uint64_t deleted = 0;
  if (options_.retention_age.count() > 0) {
    deleted += DeleteOlderThan(
        ToNanos(now) -
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retention_age).count());
  }
  if (options_.retention_bytes > 0) deleted += DeleteBeyondBytes(options_.retention_bytes);
  if (deleted > 0) {
    UpdateLiveHint();
    retention_deleted_.fetch_add(deleted, std::memory_order_relaxed);
  }
  return deleted;
}

// Deletes `ids` (records as of `snapshot`) with all their index entries, and
// `stale_time_keys` (by_time entries whose record is gone), in one batch.
uint64_t RocksAlertStore::DeleteIds(const std::vector<uint64_t>& ids,
                                    const rocksdb::Snapshot* snapshot,
                                    const std::vector<std::string>& stale_time_keys) {
  std::vector<std::string> keys;
  for (uint64_t id : ids) keys.push_back(format::IdKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  db_->MultiGet(read, Cf(kAlertsCf), ids.size(), slices.data(), values.data(), statuses.data());
  std::vector<std::pair<uint64_t, std::string>> records;
  records.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].ok()) records.emplace_back(ids[i], values[i].ToString());
  }
  return DeleteRecords(records, stale_time_keys, {});
}

uint64_t RocksAlertStore::DeleteRecords(
    const std::vector<std::pair<uint64_t, std::string>>& records,
    const std::vector<std::string>& stale_time_keys, const std::vector<std::string>& meta_deletes) {
  rocksdb::WriteBatch write;
  uint64_t deleted = 0, bytes = 0;
  for (const auto& [id, value] : records) {
    RecordView view;
    if (!format::DecodeRecord(value, &view)) continue;
    write.Delete(Cf(kAlertsCf), format::IdKey(id));
    ForEachIndexKey(id, view, [&write](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
      write.Delete(cf, key);
    });
    bytes += 8 + value.size();
    ++deleted;
  }
  for (const std::string& key : stale_time_keys) write.Delete(Cf(kByTimeCf), key);
  for (const std::string& key : meta_deletes) write.Delete(Cf(kMetaCf), key);
  if (write.Count() == 0 || failed()) return 0;
  if (bytes > 0) {
    write.Put(Cf(kMetaCf), kMetaBytesDeleted, format::IdKey(bytes_deleted_.load() + bytes));
  }
  rocksdb::WriteOptions options;
  options.sync = options_.sync != SyncPolicy::kNone;
  const rocksdb::Status status = db_->Write(options, &write);
  if (!status.ok()) {
    RecordFailure("writing a retention deletion", status);
    return 0;
  }
  bytes_deleted_.fetch_add(bytes, std::memory_order_relaxed);
  return deleted;
}

// Retention by age: the by_time entries of alerts from before the block
// summaries, then the blocks of ids, oldest first, whose summary says they
// hold an alert committed before the cutoff: each record of such a block is
// read and deleted when its commit time is. Exact whatever the order of
// commit times (a clock set back): a block's summary min is <= the commit
// time of every alert ever written to it.
uint64_t RocksAlertStore::DeleteOlderThan(int64_t cutoff_ns) {
  uint64_t deleted = DeleteOlderThanByTimeIndex(cutoff_ns);
  // Blocks whose every id is <= last_id get no more alerts (later ids are
  // larger), so their summary may go once they are empty.
  const uint64_t last = last_id();
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  std::unique_ptr<rocksdb::Iterator> blocks(db_->NewIterator(read, Cf(kMetaCf)));
  const rocksdb::Slice prefix(format::kTimeBlockPrefix.data(), format::kTimeBlockPrefix.size());
  std::vector<std::pair<uint64_t, std::string>> records;
  std::vector<std::string> meta_deletes;
  for (blocks->Seek(prefix); blocks->Valid() && blocks->key().starts_with(prefix); blocks->Next()) {
    const std::string_view key = blocks->key().ToStringView();
    int64_t min_ns = 0, max_ns = 0;
    if (key.size() != prefix.size() + 8 ||
        !format::DecodeTimeBlockValue(blocks->value().ToStringView(), &min_ns, &max_ns)) {
      spdlog::warn("alert store: bad time block summary");
      continue;
    }
    if (min_ns >= cutoff_ns) continue;
    const uint64_t block = format::ReadBigEndian64(key.substr(prefix.size()));
    const uint64_t first = block << format::kTimeBlockBits;
    const uint64_t end = first + format::kTimeBlockIds;
    const std::string lower = format::IdKey(std::max(first, live_hint_.load()));
    // Not beyond last_id: written alerts not yet synced and announced stay.
    const std::string upper = format::IdKey(std::min(end, last + 1));
    const rocksdb::Slice lower_slice(lower), upper_slice(upper);
    rocksdb::ReadOptions scan_read;
    scan_read.snapshot = snapshot.snapshot();
    scan_read.iterate_lower_bound = &lower_slice;
    scan_read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan_read, Cf(kAlertsCf)));
    bool kept = false;
    for (it->Seek(lower_slice); it->Valid(); it->Next()) {
      RecordView view;
      if (!format::DecodeRecord(it->value().ToStringView(), &view) || view.commit_ns >= cutoff_ns) {
        kept = true;
        continue;
      }
      records.emplace_back(format::ReadBigEndian64(it->key().ToStringView()),
                           it->value().ToString());
      if (records.size() >= kRetentionChunk) {
        deleted += DeleteRecords(records, {}, {});
        records.clear();
      }
    }
    if (!it->status().ok()) {
      spdlog::warn("alert store: retention scan: {}", it->status().ToString());
      kept = true;
    }
    if (!kept && end - 1 <= last) meta_deletes.emplace_back(key);
  }
  if (!records.empty() || !meta_deletes.empty()) {
    deleted += DeleteRecords(records, {}, meta_deletes);
  }
  return deleted;
}

uint64_t RocksAlertStore::DeleteOlderThanByTimeIndex(int64_t cutoff_ns) {
  rocksdb::ManagedSnapshot snapshot(db_.get());
  const std::string upper = format::TimeKey(cutoff_ns, 0);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, Cf(kByTimeCf)));
  uint64_t deleted = 0;
  std::vector<uint64_t> ids;
  std::vector<std::string> time_keys;
  for (it->SeekToFirst(); it->Valid() || !ids.empty();) {
    if (it->Valid()) {
      ids.push_back(format::IdFromIndexKey(it->key().ToStringView()));
      time_keys.push_back(it->key().ToString());
      it->Next();
      if (ids.size() < kRetentionChunk && it->Valid()) continue;
    }
    // A by_time key whose record is missing is deleted on its own (stale).
    deleted += DeleteIds(ids, snapshot.snapshot(), time_keys);
    ids.clear();
    time_keys.clear();
  }
  return deleted;
}

uint64_t RocksAlertStore::DeleteBeyondBytes(uint64_t limit) {
  uint64_t live = bytes_added_.load() - bytes_deleted_.load();
  if (live <= limit) return 0;
  const std::string upper = format::IdKey(last_id() + 1);  // announced alerts only
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, Cf(kAlertsCf)));
  uint64_t deleted = 0;
  std::vector<uint64_t> ids;
  for (it->Seek(format::IdKey(live_hint_.load())); it->Valid() || !ids.empty();) {
    if (it->Valid() && live > limit) {
      ids.push_back(format::ReadBigEndian64(it->key().ToStringView()));
      live -= std::min<uint64_t>(live, 8 + it->value().size());
      it->Next();
      if (ids.size() < kRetentionChunk && it->Valid() && live > limit) continue;
    }
    if (ids.empty()) break;
    deleted += DeleteIds(ids, snapshot.snapshot(), {});
    ids.clear();
  }
  return deleted;
}

void RocksAlertStore::UpdateLiveHint() {
  const uint64_t last = last_id();
  const std::string lower = format::IdKey(live_hint_.load());
  const rocksdb::Slice lower_slice(lower);
  rocksdb::ReadOptions read;
  read.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, Cf(kAlertsCf)));
  it->Seek(lower);
  live_hint_ = it->Valid() ? format::ReadBigEndian64(it->key().ToStringView()) : last + 1;
}

void RocksAlertStore::RetentionLoop() {
  if (options_.retention_age.count() == 0 && options_.retention_bytes == 0) return;
  ::pthread_setname_np(::pthread_self(), "gsoc-store-ret");
  MutexLock lock(retention_wait_mutex_);
  while (!retention_cv_.wait_for(
      lock, options_.retention_interval,
      [this]() GSOC_REQUIRES(retention_wait_mutex_) { return retention_stop_; })) {
    lock.unlock();
    try {
      const uint64_t deleted = RunRetention(Now());
      if (deleted > 0) spdlog::info("alert store: retention deleted {} alerts", deleted);
    } catch (const std::exception& error) {
      spdlog::error("alert store: retention: {}", error.what());
    }
    lock.lock();
  }
}

void RocksAlertStore::StopRetention() {
  {
    MutexLock lock(retention_wait_mutex_);
    retention_stop_ = true;
  }
  retention_cv_.notify_all();
  if (retention_thread_.joinable()) retention_thread_.join();
}

// --- stats ---------------------------------------------------------------------------

StoreStats RocksAlertStore::stats() const {
  StoreStats stats;
  stats.alerts_committed = alerts_committed_.load(std::memory_order_relaxed);
  stats.batches_committed = batches_committed_.load(std::memory_order_relaxed);
  stats.write_errors = write_errors_.load(std::memory_order_relaxed);
  stats.retention_deleted = retention_deleted_.load(std::memory_order_relaxed);
  stats.publish_waits = publish_waits_.load(std::memory_order_relaxed);
  stats.not_stored = not_stored_.load(std::memory_order_relaxed);
  stats.replaced = replaced_.load(std::memory_order_relaxed);
  stats.failed = failed();
  const uint64_t deleted = bytes_deleted_.load();
  const uint64_t added = bytes_added_.load();
  stats.live_bytes = added >= deleted ? added - deleted : 0;
  MutexLock lock(queue_mutex_);
  stats.pending = enqueued_ - committed_;
  return stats;
}

std::vector<std::pair<std::string, uint64_t>> RocksAlertStore::RocksDbTickers() const {
  static constexpr std::array<std::pair<const char*, rocksdb::Tickers>, 11> kTickers = {{
      {"block_cache_hit", rocksdb::BLOCK_CACHE_HIT},
      {"block_cache_miss", rocksdb::BLOCK_CACHE_MISS},
      {"bloom_filter_useful", rocksdb::BLOOM_FILTER_USEFUL},
      {"bloom_filter_prefix_useful", rocksdb::BLOOM_FILTER_PREFIX_USEFUL},
      {"bytes_written", rocksdb::BYTES_WRITTEN},
      {"bytes_read", rocksdb::BYTES_READ},
      {"flush_write_bytes", rocksdb::FLUSH_WRITE_BYTES},
      {"compact_read_bytes", rocksdb::COMPACT_READ_BYTES},
      {"compact_write_bytes", rocksdb::COMPACT_WRITE_BYTES},
      {"stall_micros", rocksdb::STALL_MICROS},
      {"wal_file_synced", rocksdb::WAL_FILE_SYNCED},
  }};
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(kTickers.size());
  for (const auto& [name, ticker] : kTickers) {
    out.emplace_back(name, statistics_->getTickerCount(ticker));
  }
  return out;
}

}  // namespace

// --- public surface ------------------------------------------------------------------

bool AlertFilter::AgencyAllowed(std::string_view agency) const {
  return !allowed_agencies || std::find(allowed_agencies->begin(), allowed_agencies->end(),
                                        agency) != allowed_agencies->end();
}

bool AlertFilter::Matches(const StoredAlert& alert) const {
  return FilterMatcher(*this).Matches(alert.id, ViewOf(alert));
}

std::unique_ptr<AlertStore> AlertStore::Open(const StoreOptions& options) {
  return std::make_unique<RocksAlertStore>(options);
}

AlertStore::~AlertStore() = default;

namespace {
RocksAlertStore& Impl(AlertStore* store) { return *static_cast<RocksAlertStore*>(store); }
const RocksAlertStore& Impl(const AlertStore* store) {
  return *static_cast<const RocksAlertStore*>(store);
}
}  // namespace

void AlertStore::Publish(std::vector<Alert>& alerts) { Impl(this).Publish(alerts); }
void AlertStore::Flush() { Impl(this).Flush(); }
void AlertStore::BeginShutdown() { Impl(this).BeginShutdown(); }
StoreHealth AlertStore::health() const { return Impl(this).health(); }
void AlertStore::AddListener(CommitListener* listener) { Impl(this).AddListener(listener); }
QueryResult AlertStore::Query(const QueryRequest& request) const {
  return Impl(this).Query(request);
}
std::optional<StoredAlert> AlertStore::Get(uint64_t id) const { return Impl(this).Get(id); }
uint64_t AlertStore::last_id() const { return Impl(this).last_id(); }
uint64_t AlertStore::RunRetention(std::chrono::system_clock::time_point now) {
  return Impl(this).RunRetention(now);
}
StoreStats AlertStore::stats() const { return Impl(this).stats(); }
void AlertStore::SetCommitObserver(std::function<void(double seconds, size_t alerts)> observer) {
  Impl(this).SetCommitObserver(std::move(observer));
}
std::vector<std::pair<std::string, uint64_t>> AlertStore::RocksDbTickers() const {
  return Impl(this).RocksDbTickers();
}
std::unique_ptr<correlate::CheckpointStore> AlertStore::MakeCheckpointStore() {
  return Impl(this).MakeCheckpointStore();
}

}  // namespace gsoc::store
