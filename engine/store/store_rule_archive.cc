// Rule revisions in the meta column family: key "rule_revision/" + the
// revision (8 bytes, big-endian) + the rule id; value the rule detail JSON.
// Written with the WAL synced, read by GET /api/v1/alerts/{id}. Kept as long
// as the store (a revision is small: metadata is capped at 16 KiB a rule),
// bounded in bytes by kMaxRuleArchiveBytes.
#include <spdlog/spdlog.h>

#include "engine/store/store_internal.h"

namespace gsoc::store {
namespace {

constexpr std::string_view kRuleRevisionPrefix = "rule_revision/";

std::string RuleRevisionKey(uint64_t revision, std::string_view rule_id) {
  std::string key(kRuleRevisionPrefix);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(revision >> shift));
  key.append(rule_id);
  return key;
}

}  // namespace

void RocksAlertStore::LoadRuleArchiveSize() {
  const rocksdb::Slice prefix(kRuleRevisionPrefix.data(), kRuleRevisionPrefix.size());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(kMetaCf)));
  uint64_t bytes = 0, count = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    bytes += it->key().size() + it->value().size();
    ++count;
  }
  rule_archive_bytes_ = bytes;
  rule_revisions_ = count;
}

size_t RocksAlertStore::ArchiveRuleRevisions(const std::vector<RuleRevisionDetail>& details) {
  MutexLock lock(rule_archive_mutex_);
  rocksdb::WriteBatch write;
  uint64_t bytes = rule_archive_bytes_.load();
  size_t added = 0, dropped = 0;
  std::string existing;
  for (const RuleRevisionDetail& detail : details) {
    if (detail.revision == 0 || detail.rule_id.empty()) continue;
    const std::string key = RuleRevisionKey(detail.revision, detail.rule_id);
    const rocksdb::Status found = db_->Get(rocksdb::ReadOptions(), Cf(kMetaCf), key, &existing);
    if (found.ok()) continue;
    const uint64_t size = key.size() + detail.json.size();
    if (bytes + size > AlertStore::kMaxRuleArchiveBytes) {
      ++dropped;
      continue;
    }
    write.Put(Cf(kMetaCf), key, detail.json);
    bytes += size;
    ++added;
  }
  if (dropped > 0) {
    rule_revisions_dropped_.fetch_add(dropped);
    spdlog::warn("alert store: {} rule revision(s) not kept: the archive holds {} MiB already",
                 dropped, AlertStore::kMaxRuleArchiveBytes >> 20);
  }
  if (added == 0) return 0;
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status status = db_->Write(options, &write);
  if (!status.ok()) {
    spdlog::error("alert store: keeping rule revisions: {}", status.ToString());
    return 0;
  }
  rule_archive_bytes_ = bytes;
  rule_revisions_.fetch_add(added);
  return added;
}

std::optional<std::string> RocksAlertStore::RuleRevision(std::string_view rule_id,
                                                         uint64_t revision) const {
  std::string json;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), Cf(kMetaCf), RuleRevisionKey(revision, rule_id), &json);
  if (!status.ok()) return std::nullopt;
  return json;
}

}  // namespace gsoc::store
