// Private to the alert store (alert_store.cc, store_writer.cc,
// store_query.cc, store_retention.cc): RocksAlertStore, the one
// implementation of AlertStore, and the helpers its parts share. The
// contract is in alert_store.h, the key layout in README.md.
#pragma once

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

#include "engine/store/alert_store.h"
#include "engine/store/store_format.h"
#include "engine/store/store_index_source.h"
#include "engine/store/store_options.h"
#include "engine/store/store_postings.h"
#include "engine/util/thread_annotations.h"

namespace gsoc::store {
namespace detail {

using format::RecordView;
using namespace rocks;  // column family names, RocksDB options

inline constexpr size_t kMaxQueryLimit = 10'000;
inline constexpr uint64_t kMaxScannedPerQuery = 1'000'000;
inline constexpr size_t kRetentionChunk = 1024;

inline constexpr const char* kMetaFormatVersion = "format_version";
inline constexpr const char* kMetaNextId = "next_id";
inline constexpr const char* kMetaBytesAdded = "bytes_added";
inline constexpr const char* kMetaBytesDeleted = "bytes_deleted";
inline constexpr const char* kMetaTimeBlocksFrom = "time_blocks_from";
inline constexpr const char* kCheckpointKey = "correlation";  // legacy: checkpoints CF
inline constexpr const char* kCheckpointFile = "correlation.checkpoint";

inline int64_t ToNanos(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// --- text search -------------------------------------------------------------

// Case-insensitive (ASCII) substring search, built once per query: Horspool
// over folded bytes, with a 256-entry shift table (std's searcher with a
// custom hash keeps its table in a hash map, a lookup per shift).
class TextNeedle {
 public:
  explicit TextNeedle(std::string_view needle) : needle_(needle) {
    for (char& c : needle_) c = Fold(c);
    shift_.fill(needle_.size());
    for (size_t k = 0; k + 1 < needle_.size(); ++k) {
      shift_[static_cast<unsigned char>(needle_[k])] = needle_.size() - 1 - k;
    }
  }
  bool FoundIn(std::string_view text) const {
    const size_t n = needle_.size();
    if (n == 0) return true;
    for (size_t i = 0; i + n <= text.size();) {
      const char last = Fold(text[i + n - 1]);
      if (last == needle_[n - 1] && EqualFolded(text.data() + i, n - 1)) return true;
      i += shift_[static_cast<unsigned char>(last)];
    }
    return false;
  }

 private:
  static char Fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
  bool EqualFolded(const char* text, size_t count) const {
    for (size_t j = 0; j < count; ++j) {
      if (Fold(text[j]) != needle_[j]) return false;
    }
    return true;
  }

  std::string needle_;  // folded
  std::array<size_t, 256> shift_{};
};

// AlertFilter::Matches over a record view, with the needle prepared once.
class FilterMatcher {
 public:
  explicit FilterMatcher(const AlertFilter& filter) : filter_(filter), needle_(filter.q) {}
  // Every condition but `q`, from the record's head.
  bool HeadMatches(uint64_t id, const RecordView& r) const {
    const AlertFilter& f = filter_;
    if (id <= f.after_id || id >= f.before_id) return false;
    if (r.time_ns < f.since_ns || r.time_ns >= f.until_ns) return false;
    if (!f.rule.empty() && f.rule != r.rule_id && f.rule != r.rule_name) return false;
    if (f.min_level && r.level < *f.min_level) return false;
    if (!f.agency.empty() && f.agency != r.agency) return false;
    return f.AgencyAllowed(r.agency);
  }
  bool needs_text() const { return !filter_.q.empty(); }
  bool TextMatches(std::string_view json) const { return needle_.FoundIn(json); }
  bool Matches(uint64_t id, const RecordView& r, std::string_view json) const {
    return HeadMatches(id, r) && TextMatches(json);
  }

 private:
  const AlertFilter& filter_;
  TextNeedle needle_;
};

// The record view of an alert the writer is about to store (body: its detail).
inline RecordView ViewOf(const StoredAlert& alert) {
  return RecordView{alert.time_ns,   alert.commit_ns, alert.level,  alert.kind, alert.rule_id,
                    alert.rule_name, alert.agency,    alert.detail, false};
}

// The alert `id` whose record is `view`, its JSON rendered (store_record.cc);
// false when the record's body does not decode (logged).
bool FromView(uint64_t id, const RecordView& view, StoredAlert& out);

// The JSON of the alert `id` whose record is `view` into `json` (replaced):
// a record 3's detail decoded and rendered, a record 1 or 2's own JSON.
bool RenderRecordJson(uint64_t id, const RecordView& view, std::string& json);

// --- checkpoints ---------------------------------------------------------------

// What the checkpoint store needs of the alert store: its sticky failure.
class FailureState {
 public:
  virtual ~FailureState() = default;
  virtual bool failed() const = 0;
  virtual void RecordFailure(const char* what, const rocksdb::Status& status) = 0;
};

// The correlation checkpoint: a file in the store's directory, replaced
// atomically (correlate::FileCheckpointStore), not a RocksDB value. A
// checkpoint is large (tens of MiB) and synced; written into the DB it
// held the one write queue (and stopped writes when its memtables piled up),
// so every alert commit waited behind it. Stores written before keep theirs
// in the checkpoints column family: Load falls back to it, and the first
// Save deletes it.
class StoreCheckpointStore : public correlate::CheckpointStore {
 public:
  StoreCheckpointStore(const std::filesystem::path& directory, rocksdb::DB* db,
                       rocksdb::ColumnFamilyHandle* cf, FailureState* failure)
      : file_((directory / kCheckpointFile).string()), db_(db), cf_(cf), failure_(failure) {}

  // Throws when the store has failed or the file cannot be written.
  void Save(std::string_view blob) override {
    if (failure_->failed()) throw std::runtime_error("checkpoint save: the alert store has failed");
    file_.Save(blob);
    if (legacy_deleted_) return;
    const rocksdb::Status status = db_->Delete(rocksdb::WriteOptions(), cf_, kCheckpointKey);
    if (!status.ok()) throw std::runtime_error("checkpoint save: " + status.ToString());
    legacy_deleted_ = true;
  }

  bool Load(std::string* blob) override {
    if (file_.Load(blob)) return true;
    const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), cf_, kCheckpointKey, blob);
    if (status.IsNotFound()) return false;
    if (!status.ok()) throw std::runtime_error("checkpoint load: " + status.ToString());
    return true;
  }

 private:
  correlate::FileCheckpointStore file_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  FailureState* failure_;
  bool legacy_deleted_ = false;
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
    if (!matcher_.HeadMatches(id, view)) return false;
    if (!FromView(id, view, candidate_)) return false;
    if (matcher_.needs_text() && !matcher_.TextMatches(candidate_.json)) return false;
    result_.alerts.push_back(std::move(candidate_));
    candidate_ = StoredAlert();
    return true;
  }

  // `more`: whether candidates remain; `last_examined`: the last id looked at.
  QueryResult Finish(bool more, uint64_t last_examined) {
    if (more) result_.next_cursor = full() ? result_.alerts.back().id : last_examined;
    return std::move(result_);
  }

 private:
  FilterMatcher matcher_;
  StoredAlert candidate_;  // rendered, then taken or reused for the next
  size_t limit_;
  uint64_t scanned_ = 0;
  QueryResult result_;
};

// An id to drop from the posting of (index, prefix).
struct PostingRemoval {
  format::PostingIndex index;
  std::string prefix;
  uint64_t id;
};
// Replaced versions' ids waiting for retention to drop them from their
// postings, at most this many (id, prefix) pairs and this many bytes (the
// pairs and their prefixes); beyond, they stay (skipped by queries) until
// retention deletes their postings' other ids.
inline constexpr size_t kMaxPendingPurges = size_t{1} << 18;
inline constexpr size_t kMaxPendingPurgeBytes = size_t{32} << 20;
inline size_t PurgeBytes(const PostingRemoval& removal) {
  return sizeof(PostingRemoval) + removal.prefix.size();
}

// --- the store -----------------------------------------------------------------

class RocksAlertStore final : public AlertStore, public FailureState {
 public:
  explicit RocksAlertStore(const StoreOptions& options) : options_(options) {
    OpenDb();
    try {
      LoadMeta();
      LoadRuleArchiveSize();
    } catch (...) {
      // Refused (an unknown format) or unreadable: the column family handles
      // go before the DB (RocksDB asserts that), then the error.
      CloseDb();
      throw;
    }
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
  RocksMemory shared_memory() const { return {budget_->cache, budget_->write_buffers}; }
  bool failed() const override { return failed_.load(std::memory_order_acquire); }
  void RecordFailure(const char* what, const rocksdb::Status& status) override;
  // Before the first Publish (listeners_ is read by the committer unlocked).
  void AddListener(CommitListener* listener) {
    listeners_.push_back(listener);
    listening_.store(true, std::memory_order_release);
  }

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
  size_t ArchiveRuleRevisions(const std::vector<RuleRevisionDetail>& details);
  std::optional<std::string> RuleRevision(std::string_view rule_id, uint64_t revision) const;

  std::unique_ptr<correlate::CheckpointStore> MakeCheckpointStore() {
    return std::make_unique<StoreCheckpointStore>(options_.path, db_.get(), Cf(kCheckpointsCf),
                                                  this);
  }

 private:
  // open / close
  void OpenDb();
  void CloseDb();
  void LoadMeta();
  void LoadRuleArchiveSize();  // rule_archive_bytes_ and rule_revisions_ from the meta CF
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
    // The postings of the versions this batch replaced (deleted records):
    // handed to retention once the batch is durable (Finish).
    std::vector<PostingRemoval> replaced_postings;
  };
  static StoredAlert Render(Alert& alert, bool with_json);
  void EncoderLoop();
  void CommitterLoop();
  bool TakeBatch(std::vector<StoredAlert>& batch);
  void Encode(Slot& slot);
  int64_t DeleteReplaced(Slot& slot, uint64_t id);
  void SyncerLoop();
  bool Write(Slot& slot);
  void Finish(Slot& slot);
  bool SyncWal();
  bool WriteBatchOnce(rocksdb::WriteBatch& write);
  // Queue (queue_mutex_ held): Publish may queue now.
  bool HasRoomLocked(size_t capacity) const GSOC_REQUIRES(queue_mutex_) {
    return !failed() && queue_.size() + staged_ < capacity;
  }
  void Announce(std::vector<StoredAlert>& batch, double seconds);
  void MarkCommitted(size_t alerts);

  // The by_time entry of `id` when it has one (alerts written before the
  // block summaries): fn(cf, key).
  template <typename Fn>
  void ForLegacyTimeKey(uint64_t id, const RecordView& record, Fn&& fn) const;

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
  uint64_t DeleteOlderThan(int64_t cutoff_ns) GSOC_REQUIRES(retention_mutex_);
  uint64_t DeleteBeyondBytes(uint64_t limit) GSOC_REQUIRES(retention_mutex_);
  uint64_t DeleteOlderThanByTimeIndex(int64_t cutoff_ns) GSOC_REQUIRES(retention_mutex_);
  uint64_t DeleteIds(const std::vector<uint64_t>& ids, const rocksdb::Snapshot* snapshot,
                     const std::vector<std::string>& stale_time_keys)
      GSOC_REQUIRES(retention_mutex_);
  // Deletes the records (id, value) with their index entries, and the meta
  // keys `meta_deletes`, in one batch; returns the number of records.
  uint64_t DeleteRecords(const std::vector<std::pair<uint64_t, std::string>>& records,
                         const std::vector<std::string>& stale_time_keys,
                         const std::vector<std::string>& meta_deletes)
      GSOC_REQUIRES(retention_mutex_);
  // Existing postings are rewritten by retention alone, one run at a time.
  bool RemoveFromPostings(rocksdb::WriteBatch& write, std::vector<PostingRemoval>& removals) const
      GSOC_REQUIRES(retention_mutex_);
  void UpdateLiveHint();
  void CleanPostingHeads() GSOC_REQUIRES(retention_mutex_);
  void PurgeReplacedPostings() GSOC_REQUIRES(retention_mutex_);
  std::chrono::system_clock::time_point Now() const {
    return options_.clock_for_test ? options_.clock_for_test() : std::chrono::system_clock::now();
  }

  const StoreOptions options_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<MemoryBudget> budget_;  // block cache and memtable budget of db_
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
  format::PostingBatch encode_postings_;  // the batch's postings (buffers kept)

  // Committer thread only.
  uint64_t written_bytes_ = 0;  // bytes_added as of the last batch written
  // Called by the committer (sync always/none) or the syncer (batch).
  std::vector<CommitListener*> listeners_;
  std::atomic<bool> listening_{false};  // listeners_ not empty: Publish renders JSON
  Mutex observer_mutex_;
  std::function<void(double, size_t)> observer_ GSOC_GUARDED_BY(observer_mutex_);

  std::atomic<uint64_t> last_id_{0};
  std::atomic<uint64_t> live_hint_{1};  // no live alert has an id below this
  std::atomic<uint64_t> bytes_added_{0}, bytes_deleted_{0};
  std::atomic<uint64_t> alerts_committed_{0}, batches_committed_{0}, write_errors_{0};
  std::atomic<uint64_t> retention_deleted_{0}, publish_waits_{0}, not_stored_{0}, replaced_{0};
  std::atomic<bool> failed_{false};

  // Rule revisions (store_rule_archive.cc): one writer at a time; the sizes
  // are read by stats() without it.
  // Replaced versions' postings to purge (Finish adds, retention drains).
  Mutex purge_mutex_;
  std::vector<PostingRemoval> pending_purges_ GSOC_GUARDED_BY(purge_mutex_);
  size_t pending_purge_bytes_ GSOC_GUARDED_BY(purge_mutex_) = 0;
  std::atomic<uint64_t> purges_dropped_{0};  // logged by the next run
  std::atomic<uint64_t> purges_dropped_total_{0};

  Mutex rule_archive_mutex_;
  std::atomic<uint64_t> rule_archive_bytes_{0}, rule_revisions_{0}, rule_revisions_dropped_{0};

  // Retention.
  Mutex retention_mutex_;  // one RunRetention at a time
  Mutex retention_wait_mutex_;
  std::condition_variable_any retention_cv_;
  bool retention_stop_ GSOC_GUARDED_BY(retention_wait_mutex_) = false;

  std::thread writer_, committer_, syncer_, retention_thread_;
};

// --- open / close ----------------------------------------------------------------

template <typename Fn>
void RocksAlertStore::ForLegacyTimeKey(uint64_t id, const RecordView& record, Fn&& fn) const {
  if (id < time_blocks_from_) fn(Cf(kByTimeCf), format::TimeKey(record.time_ns, id));
}

// The posting prefixes of a record (the same as the writer's): fn(index, prefix).
template <typename Fn>
void ForEachPostingPrefix(const RecordView& record, Fn&& fn) {
  using format::PostingIndex;
  if (!record.rule_id.empty()) fn(PostingIndex::kRule, format::NamePrefix(record.rule_id));
  if (!record.rule_name.empty() && record.rule_name != record.rule_id) {
    fn(PostingIndex::kRule, format::NamePrefix(record.rule_name));
  }
  if (!record.agency.empty()) fn(PostingIndex::kAgency, format::NamePrefix(record.agency));
  fn(PostingIndex::kLevel, format::LevelPrefix(record.level));
}

}  // namespace detail
}  // namespace gsoc::store
