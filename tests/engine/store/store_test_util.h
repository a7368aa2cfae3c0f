// Helpers shared by the alert store's test files: a temporary store
// directory, a settable commit clock, alert builders and readers.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/store/alert_store.h"
#include "tests/engine/store/store_test_dir.h"

// Designated initializers leave the other members at their defaults on
// purpose; GCC 12 warns about that under -Wextra (this holds for the
// including test file too).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

namespace gsoc::store::store_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'764'000'000 * kSecond;  // 2025-11-24

using test_dir::TempDir;
using test_dir::TestOptions;

// The wall clock the store stamps commit times with, set by the test.
class TestClock {
 public:
  explicit TestClock(int64_t ns = kBase) : ns_(ns) {}
  void Set(int64_t ns) { ns_.store(ns); }
  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(ns_.load()));
  }
  std::function<std::chrono::system_clock::time_point()> Function() const {
    return [this] { return now(); };
  }

 private:
  std::atomic<int64_t> ns_;
};

inline int64_t ToNs(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// A sender's clock far in the past (2000-01-01): retention must ignore it.
constexpr int64_t kYear2000 = 946'684'800 * kSecond;

struct AlertSpec {
  std::string rule_id = "rule-a";
  std::string rule_name;
  rules::Level level = rules::Level::kMedium;
  std::string agency = "mof";
  int64_t time_ns = kBase;
  std::string text = "hello";
  AlertKind kind = AlertKind::kDetection;
};

inline Alert MakeAlert(const AlertSpec& spec) {
  Alert alert;
  alert.time_ns = spec.time_ns;
  alert.kind = spec.kind;
  alert.rule.id = spec.rule_id;
  alert.rule.name = spec.rule_name;
  alert.rule.title = "Title of " + spec.rule_id;
  alert.rule.level = spec.level;
  alert.rule.tags = {"attack.t1110"};
  alert.agency = spec.agency;
  alert.fields = {{"message", spec.text}};
  alert.window_start_ns = spec.time_ns;
  alert.window_end_ns = spec.time_ns;
  return alert;
}

inline void PublishOne(AlertStore& store, const AlertSpec& spec) {
  std::vector<Alert> alerts{MakeAlert(spec)};
  store.Publish(alerts);
}

inline void PublishMany(AlertStore& store, size_t count, const AlertSpec& spec = {}) {
  std::vector<Alert> alerts;
  for (size_t i = 0; i < count; ++i) alerts.push_back(MakeAlert(spec));
  store.Publish(alerts);
}

inline std::vector<uint64_t> Ids(const std::vector<StoredAlert>& alerts) {
  std::vector<uint64_t> ids;
  for (const StoredAlert& alert : alerts) ids.push_back(alert.id);
  return ids;
}

inline std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

// Every page of `request`, following next_cursor; ids in the order returned.
inline std::vector<uint64_t> AllPages(const AlertStore& store, QueryRequest request) {
  std::vector<uint64_t> ids;
  for (int page = 0; page < 100'000; ++page) {
    const QueryResult result = store.Query(request);
    for (const StoredAlert& alert : result.alerts) ids.push_back(alert.id);
    if (result.next_cursor == 0) return ids;
    (request.newest_first ? request.filter.before_id : request.filter.after_id) =
        result.next_cursor;
  }
  ADD_FAILURE() << "pagination does not end";
  return ids;
}

// Entries of a column family, read with a read-only RocksDB handle.
inline size_t CountEntries(const fs::path& path, const std::string& cf_name) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {cf_name, {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path.string(), cfs, &handles, &db);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok()) return 0;
  size_t count = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return count;
}

class RecordingListener : public CommitListener {
 public:
  explicit RecordingListener(const AlertStore* store = nullptr) : store_(store) {}
  void OnCommitted(std::span<const StoredAlert> alerts) override {
    std::lock_guard lock(mutex_);
    for (const StoredAlert& alert : alerts) {
      ids_.push_back(alert.id);
      if (store_ && !store_->Get(alert.id)) ++not_found_;
      if (store_) {
        QueryRequest request;
        request.filter.after_id = alert.id - 1;
        request.filter.before_id = alert.id + 1;
        if (Ids(store_->Query(request).alerts) != std::vector<uint64_t>{alert.id}) ++not_found_;
      }
      if (alert.json.find("\"id\":\"" + std::to_string(alert.id) + "\"") != 1) ++bad_json_;
    }
  }
  std::vector<uint64_t> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  int not_found() const { return not_found_; }
  int bad_json() const { return bad_json_; }

 private:
  const AlertStore* store_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> ids_;
  int not_found_ = 0;
  int bad_json_ = 0;
};

}  // namespace gsoc::store::store_test
