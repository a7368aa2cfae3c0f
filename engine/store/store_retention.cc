// The alert store's retention: by commit time and by bytes, oldest id
// first, in its own WriteBatches (alert_store.h "Retention").
#include "engine/store/store_internal.h"

namespace gsoc::store {
namespace detail {

// --- retention -----------------------------------------------------------------------

uint64_t RocksAlertStore::RunRetention(std::chrono::system_clock::time_point now) {
  MutexLock lock(retention_mutex_);
  PurgeReplacedPostings();
  uint64_t deleted = 0;
  if (options_.retention_age.count() > 0) {
    deleted += DeleteOlderThan(
        ToNanos(now) -
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retention_age).count());
  }
  if (options_.retention_bytes > 0) deleted += DeleteBeyondBytes(options_.retention_bytes);
  if (deleted > 0) {
    UpdateLiveHint();
    CleanPostingHeads();
    retention_deleted_.fetch_add(deleted, std::memory_order_relaxed);
  }
  return deleted;
}

// Drops the ids of the aggregate versions replaced since the last run
// (durable: Finish hands them over) from their postings, in one write.
void RocksAlertStore::PurgeReplacedPostings() {
  std::vector<PostingRemoval> removals;
  {
    MutexLock lock(purge_mutex_);
    removals.swap(pending_purges_);
    pending_purge_bytes_ = 0;
  }
  if (const uint64_t dropped = purges_dropped_.exchange(0); dropped > 0) {
    spdlog::warn(
        "alert store: {} replaced versions' index entries were not queued for removal (the "
        "queue was full); they stay until retention deletes their postings' other ids",
        dropped);
  }
  if (removals.empty() || failed()) return;
  rocksdb::WriteBatch write;
  if (!RemoveFromPostings(write, removals) || write.Count() == 0) return;
  rocksdb::WriteOptions options;
  options.sync = options_.sync != SyncPolicy::kNone;
  const rocksdb::Status status = db_->Write(options, &write);
  if (!status.ok()) RecordFailure("writing a retention deletion", status);
}

// Deletes the postings whose ids are all below live_hint_ (no record below
// it is left): those whose only ids left are of replaced aggregate versions,
// which retention never deletes (their records went with the newer version)
// and so never drops from their postings. Point deletions, from the head of
// each prefix: RocksDB's DeleteRange goes wrong with the memtable insert
// hints of these column families (an assertion in this librocksdb).
// Queries never read below live_hint_.
void RocksAlertStore::CleanPostingHeads() {
  const uint64_t hint = live_hint_.load();
  rocksdb::WriteBatch write;
  std::vector<uint64_t> ids;
  std::string prefix, next;
  for (const char* name : {kByRuleCf, kByAgencyCf, kByLevelCf}) {
    rocksdb::ColumnFamilyHandle* const cf = Cf(name);
    rocksdb::ReadOptions read;
    read.total_order_seek = true;  // across prefixes
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf));
    for (it->SeekToFirst(); it->Valid();) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() <= 8) {  // not a posting
        it->Next();
        continue;
      }
      prefix.assign(key.substr(0, key.size() - 8));
      // This prefix's postings from its head, while all their ids are below the hint.
      for (; it->Valid(); it->Next()) {
        const std::string_view at = it->key().ToStringView();
        if (at.size() != prefix.size() + 8 || !at.starts_with(prefix)) break;
        const uint64_t first = format::IdFromIndexKey(at);
        if (first >= hint || !format::DecodePosting(first, it->value().ToStringView(), ids) ||
            ids.back() >= hint) {
          break;
        }
        write.Delete(cf, at);
      }
      // The next prefix: past every key of this one (prefix + 8 bytes).
      next = prefix;
      next.append(9, '\xff');
      it->Seek(next);
    }
    if (!it->status().ok()) {
      spdlog::warn("alert store: retention: posting heads: {}", it->status().ToString());
      return;
    }
  }
  if (write.Count() == 0 || failed()) return;
  rocksdb::WriteOptions options;
  options.sync = options_.sync != SyncPolicy::kNone;
  const rocksdb::Status status = db_->Write(options, &write);
  if (!status.ok()) RecordFailure("writing a retention deletion", status);
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
  std::vector<PostingRemoval> removals;
  removals.reserve(records.size() * 4);
  for (const auto& [id, value] : records) {
    RecordView view;
    if (!format::DecodeRecord(value, &view)) continue;
    write.Delete(Cf(kAlertsCf), format::IdKey(id));
    ForLegacyTimeKey(id, view, [&write](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
      write.Delete(cf, key);
    });
    const uint64_t record_id = id;  // (clang 14 does not capture a structured binding)
    ForEachPostingPrefix(view, [&](format::PostingIndex index, std::string prefix) {
      removals.push_back({index, std::move(prefix), record_id});
    });
    bytes += 8 + value.size();
    ++deleted;
  }
  if (!RemoveFromPostings(write, removals)) return 0;
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

// Drops the ids of `removals` from their postings, in `write`: a posting is
// rewritten without them (under the key of its first id left), or deleted
// when none is left. Retention alone rewrites postings (the writer only adds
// new ones, keyed above every id retention deletes; a replaced version
// leaves its id in its posting), and retention runs one at a time, so the
// current state read here is the one the write replaces. False when a
// posting could not be read (nothing is deleted then: logged, retried at
// the next run).
bool RocksAlertStore::RemoveFromPostings(rocksdb::WriteBatch& write,
                                         std::vector<PostingRemoval>& removals) const {
  std::sort(removals.begin(), removals.end(), [](const PostingRemoval& a, const PostingRemoval& b) {
    if (a.index != b.index) return a.index < b.index;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return a.id < b.id;
  });
  rocksdb::ColumnFamilyHandle* const cfs[format::kPostingIndexes] = {Cf(kByRuleCf), Cf(kByAgencyCf),
                                                                     Cf(kByLevelCf)};
  std::vector<uint64_t> ids, kept;
  std::string value;
  for (size_t i = 0; i < removals.size();) {
    size_t end = i + 1;
    while (end < removals.size() && removals[end].index == removals[i].index &&
           removals[end].prefix == removals[i].prefix) {
      ++end;
    }
    const std::string& prefix = removals[i].prefix;
    const uint64_t max_id = removals[end - 1].id;
    rocksdb::ColumnFamilyHandle* const cf = cfs[static_cast<size_t>(removals[i].index)];
    const std::string lower = prefix;
    const std::string upper = prefix + format::IdKey(max_id + 1);  // ids are below UINT64_MAX
    const rocksdb::Slice lower_slice(lower), upper_slice(upper);
    rocksdb::ReadOptions read;
    read.prefix_same_as_start = true;
    read.iterate_lower_bound = &lower_slice;
    read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf));
    // Posting by posting, each found by a seek for the next id to remove: the
    // ids of a group may lie far apart (replaced versions), with many
    // postings between them that are not read.
    for (size_t next = i; next < end && it->status().ok();) {
      const uint64_t target = removals[next].id;
      it->SeekForPrev(prefix + format::IdKey(target));  // keyed at or below it
      if (!it->Valid()) {
        ++next;  // below every posting: not indexed
        continue;
      }
      const std::string_view key = it->key().ToStringView();
      const uint64_t first = format::IdFromIndexKey(key);
      if (key.size() != prefix.size() + 8 || !key.starts_with(prefix) ||
          !format::DecodePosting(first, it->value().ToStringView(), ids) || ids.back() < target) {
        ++next;  // not in a posting (or a malformed one, left as it is)
        continue;
      }
      // Every id to remove up to the posting's last is in it (or in none).
      size_t stop = next;
      while (stop < end && removals[stop].id <= ids.back()) ++stop;
      kept.clear();
      size_t r = next;
      for (uint64_t id : ids) {
        while (r < stop && removals[r].id < id) ++r;
        if (r < stop && removals[r].id == id) continue;
        kept.push_back(id);
      }
      next = stop;
      if (kept.size() == ids.size()) continue;
      if (kept.empty() || kept[0] != first) write.Delete(cf, key);
      if (kept.empty()) continue;
      format::EncodePostingGaps(value, kept);
      write.Put(cf, prefix + format::IdKey(kept[0]), value);
    }
    if (!it->status().ok()) {
      spdlog::warn("alert store: retention: posting scan: {}", it->status().ToString());
      return false;
    }
    i = end;
  }
  return true;
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
    const uint64_t block = wire::GetBigEndian64(key.substr(prefix.size()));
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
      records.emplace_back(wire::GetBigEndian64(it->key().ToStringView()), it->value().ToString());
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
      ids.push_back(wire::GetBigEndian64(it->key().ToStringView()));
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
  live_hint_ = it->Valid() ? wire::GetBigEndian64(it->key().ToStringView()) : last + 1;
}

// Runs also without retention limits: replaced versions' ids are dropped
// from their postings each retention_interval.
void RocksAlertStore::RetentionLoop() {
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

}  // namespace detail
}  // namespace gsoc::store
