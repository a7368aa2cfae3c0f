// The alert store's read path: Get and Query over the id order and the
// rule / agency / level / time indexes (README.md has the key layout).
#include "engine/store/store_internal.h"

namespace gsoc::store {
namespace detail {

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
  StoredAlert alert;
  if (!format::DecodeRecord(value.ToStringView(), &view) || !FromView(id, view, alert)) {
    return std::nullopt;
  }
  return alert;
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
    last = wire::GetBigEndian64(it->key().ToStringView());
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

}  // namespace detail
}  // namespace gsoc::store
