// The alert store's write path: Publish, the encoder, committer and syncer
// threads, one WriteBatch per batch, then the listeners (alert_store.h).
#include "engine/alert/alert_codec.h"
#include "engine/store/store_internal.h"

namespace gsoc::store {
namespace detail {

using format::PostingIndex;

namespace {
// `name` '\0' in `buffer`: the prefix of its by_rule / by_agency postings.
std::string_view NamePrefixView(std::string_view name, std::string& buffer) {
  buffer.assign(name);
  buffer.push_back('\0');
  return buffer;
}
}  // namespace

// --- publish / writer ------------------------------------------------------------

// On the publishing thread: the binary detail the record keeps, and the
// JSON only for listeners (the API's stream, the file, the webhook).
StoredAlert RocksAlertStore::Render(Alert& alert, bool with_json) {
  StoredAlert stored;
  stored.id = alert.id;  // kept by the writer with ids_given, else replaced
  alert.id = 0;          // placeholder, patched by the writer
  stored.detail.reserve(256);
  AppendAlertDetail(stored.detail, alert);
  if (with_json) {
    stored.json.reserve(1024);
    AppendAlertJson(stored.json, alert);
  }
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
  const bool with_json = listening_.load(std::memory_order_acquire);
  for (Alert& alert : alerts) rendered.push_back(Render(alert, with_json));
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

// Encoder thread: assigns ids (patching them into the JSON) and fills the
// slot's WriteBatch with the records, the batch's index postings (one per
// index and value: store_postings.h) and the age summaries of the blocks
// they fall in. The committer adds next_id and
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
  format::PostingBatch& postings = encode_postings_;
  postings.Clear();
  slot.replaced_postings.clear();
  auto put_block = [&] {
    write.Put(meta_cf, format::TimeBlockKey(block_),
              format::TimeBlockValue(block_min_ns_, block_max_ns_));
  };
  bool block_touched = false;
  char id_text[24];
  for (StoredAlert& alert : slot.alerts) {
    if (options_.ids_given && alert.id >= id) id = alert.id;
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
    const rocksdb::Slice value_parts[2] = {rocksdb::Slice(head), rocksdb::Slice(alert.detail)};
    const rocksdb::Slice key_part(id_key, 8);
    write.Put(alerts_cf, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
    bytes += 8 + head.size() + alert.detail.size();

    // One posting per (index, value) of the batch, not an entry per alert.
    if (!view.rule_id.empty())
      postings.Add(PostingIndex::kRule, NamePrefixView(view.rule_id, key), alert.id);
    if (!view.rule_name.empty() && view.rule_name != view.rule_id) {
      postings.Add(PostingIndex::kRule, NamePrefixView(view.rule_name, key), alert.id);
    }
    if (!view.agency.empty()) {
      postings.Add(PostingIndex::kAgency, NamePrefixView(view.agency, key), alert.id);
    }
    const char level = static_cast<char>(view.level);
    postings.Add(PostingIndex::kLevel, std::string_view(&level, 1), alert.id);
    if (alert.replaces != 0 && alert.replaces < alert.id)
      bytes -= DeleteReplaced(slot, alert.replaces);
  }
  if (block_touched) put_block();
  rocksdb::ColumnFamilyHandle* const posting_cfs[format::kPostingIndexes] = {rule_cf, agency_cf,
                                                                             level_cf};
  postings.ForEach([&](PostingIndex index, std::string_view posting_key, std::string_view gaps) {
    write.Put(posting_cfs[static_cast<size_t>(index)], posting_key, gaps);
  });
  encoder_next_id_ = id;
  slot.end_id = id;
  slot.bytes = bytes;
}

// Encoder thread: deletes (in `write`) the record `id` replaced by a newer
// version of its aggregate (not its postings, see below); returns its bytes (0 when
// it is already gone). The next version has a higher id, so a reader resuming
// "after id N" never misses the newest state.
int64_t RocksAlertStore::DeleteReplaced(Slot& slot, uint64_t id) {
  rocksdb::WriteBatch& write = slot.write;
  // The aggregator publishes a version only once the one it replaces is
  // committed (it waits for its id), so that one is durable and readable.
  rocksdb::PinnableSlice value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), Cf(kAlertsCf), format::IdKey(id), &value);
  if (!status.ok()) return 0;  // deleted by retention meanwhile
  RecordView view;
  if (!format::DecodeRecord(value.ToStringView(), &view)) return 0;
  // Its postings are not edited here (a posting is one key for a whole
  // batch's ids, and retention alone rewrites postings): queries skip ids
  // whose record is gone, and once this batch is durable retention drops
  // the id from them (PurgeReplacedPostings).
  write.Delete(Cf(kAlertsCf), format::IdKey(id));
  ForLegacyTimeKey(id, view, [&write](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    write.Delete(cf, key);
  });
  ForEachPostingPrefix(view, [&](format::PostingIndex index, std::string prefix) {
    slot.replaced_postings.push_back({index, std::move(prefix), id});
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
  if (!slot.replaced_postings.empty()) {
    MutexLock lock(purge_mutex_);
    uint64_t dropped = 0;
    for (PostingRemoval& removal : slot.replaced_postings) {
      const size_t bytes = PurgeBytes(removal);
      if (pending_purges_.size() >= kMaxPendingPurges ||
          pending_purge_bytes_ + bytes > kMaxPendingPurgeBytes) {
        ++dropped;
        continue;
      }
      pending_purge_bytes_ += bytes;
      pending_purges_.push_back(std::move(removal));
    }
    if (dropped > 0) {
      purges_dropped_.fetch_add(dropped, std::memory_order_relaxed);
      purges_dropped_total_.fetch_add(dropped, std::memory_order_relaxed);
    }
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

void RocksAlertStore::Announce(std::vector<StoredAlert>& batch, double seconds) {
  if (!listeners_.empty()) {
    // Published before the first listener came: rendered from the record.
    for (StoredAlert& alert : batch) {
      if (alert.json.empty()) RenderRecordJson(alert.id, ViewOf(alert), alert.json);
    }
  }
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

}  // namespace detail
}  // namespace gsoc::store
