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
//     into the JSON and builds the WriteBatch (records, index postings, block
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
// 1,000,000 index ids or records, then returns what it found with
// next_cursor = the last id examined, so that a client pages through a
// sparse match without one request scanning the whole store.
#include "engine/store/alert_store.h"

#include "engine/store/store_internal.h"

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

namespace detail {

void RocksAlertStore::Fail(const std::string& what, const rocksdb::Status& status) const {
  throw std::runtime_error("alert store " + options_.path.string() + ": " + what + ": " +
                           status.ToString());
}

void RocksAlertStore::OpenDb() {
  statistics_ = rocksdb::CreateDBStatistics();
  // Only tickers are exported: histograms and timers would cost every write.
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  budget_ = std::make_unique<MemoryBudget>(options_.block_cache_bytes, options_.memtable_bytes);
  std::error_code ignored;
  std::filesystem::create_directories(options_.path, ignored);
  const std::string path = options_.path.string();
  const rocksdb::DBOptions db_options = MakeDbOptions(statistics_, options_.env_for_test, *budget_);

  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(db_options, path, &names).ok()) names.clear();
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kAlertsCf, kByRuleCf,
                           kByAgencyCf, kByLevelCf, kByTimeCf, kCheckpointsCf, kMetaCf}) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names)
    descriptors.emplace_back(name, CfOptionsFor(name, *budget_));

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
  return wire::GetBigEndian64(value);
}

void RocksAlertStore::LoadMeta() {
  const uint64_t version = ReadMeta(kMetaFormatVersion, 0);
  if (version == 0 || version == format::kFormatVersionNoCommitTime ||
      version == format::kFormatVersionJson || version == format::kFormatVersionPerAlertIndex) {
    // New, or records 1 or 2 (read as they are) to which records 3 are now
    // added, or per-alert index entries (read as one-id postings) to which
    // per-batch postings are now added.
    rocksdb::WriteOptions write;
    write.sync = true;
    const rocksdb::Status status =
        db_->Put(write, Cf(kMetaCf), kMetaFormatVersion, format::IdKey(format::kFormatVersion));
    if (!status.ok()) Fail("write meta", status);
  } else if (version != format::kFormatVersion) {
    Fail("format version " + std::to_string(version),
         rocksdb::Status::NotSupported("this gsoc reads versions 1 to 4"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(kAlertsCf)));
  it->SeekToLast();
  const uint64_t last_key = it->Valid() ? wire::GetBigEndian64(it->key().ToStringView()) : 0;
  it->SeekToFirst();
  const uint64_t next_id =
      std::max({ReadMeta(kMetaNextId, 1), last_key + 1, options_.min_first_id, uint64_t{1}});
  encoder_next_id_ = next_id;
  live_hint_ = it->Valid() ? wire::GetBigEndian64(it->key().ToStringView()) : next_id;
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
  stats.purges_dropped = purges_dropped_total_.load(std::memory_order_relaxed);
  stats.rule_revisions = rule_revisions_.load(std::memory_order_relaxed);
  stats.rule_revisions_dropped = rule_revisions_dropped_.load(std::memory_order_relaxed);
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

}  // namespace detail

// --- public surface ------------------------------------------------------------------

bool AlertFilter::AgencyAllowed(std::string_view agency) const {
  return !allowed_agencies || std::find(allowed_agencies->begin(), allowed_agencies->end(),
                                        agency) != allowed_agencies->end();
}

bool AlertFilter::Matches(const StoredAlert& alert) const {
  return detail::FilterMatcher(*this).Matches(alert.id, detail::ViewOf(alert), alert.json);
}

std::unique_ptr<AlertStore> AlertStore::Open(const StoreOptions& options) {
  return std::make_unique<detail::RocksAlertStore>(options);
}

AlertStore::~AlertStore() = default;

namespace {
using detail::RocksAlertStore;
RocksAlertStore& Impl(AlertStore* store) { return *static_cast<RocksAlertStore*>(store); }
const RocksAlertStore& Impl(const AlertStore* store) {
  return *static_cast<const RocksAlertStore*>(store);
}
}  // namespace

void AlertStore::Publish(std::vector<Alert>& alerts) { Impl(this).Publish(alerts); }
void AlertStore::Flush() { Impl(this).Flush(); }
void AlertStore::BeginShutdown() { Impl(this).BeginShutdown(); }
StoreHealth AlertStore::health() const { return Impl(this).health(); }
RocksMemory AlertStore::shared_memory() const { return Impl(this).shared_memory(); }
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
size_t AlertStore::ArchiveRuleRevisions(const std::vector<RuleRevisionDetail>& details) {
  return Impl(this).ArchiveRuleRevisions(details);
}
std::optional<std::string> AlertStore::RuleRevision(std::string_view rule_id,
                                                    uint64_t revision) const {
  return Impl(this).RuleRevision(rule_id, revision);
}

}  // namespace gsoc::store
