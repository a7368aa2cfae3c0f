#include "engine/store/alert_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/store_format.h"
#include "tests/engine/store/store_test_dir.h"

// Designated initializers leave the other members at their defaults on
// purpose; GCC 12 warns about that under -Wextra.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

namespace gsoc::store {
namespace {

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

int64_t ToNs(std::chrono::system_clock::time_point time) {
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

Alert MakeAlert(const AlertSpec& spec) {
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

void PublishOne(AlertStore& store, const AlertSpec& spec) {
  std::vector<Alert> alerts{MakeAlert(spec)};
  store.Publish(alerts);
}

void PublishMany(AlertStore& store, size_t count, const AlertSpec& spec = {}) {
  std::vector<Alert> alerts;
  for (size_t i = 0; i < count; ++i) alerts.push_back(MakeAlert(spec));
  store.Publish(alerts);
}

std::vector<uint64_t> Ids(const std::vector<StoredAlert>& alerts) {
  std::vector<uint64_t> ids;
  for (const StoredAlert& alert : alerts) ids.push_back(alert.id);
  return ids;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

// Every page of `request`, following next_cursor; ids in the order returned.
std::vector<uint64_t> AllPages(const AlertStore& store, QueryRequest request) {
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
size_t CountEntries(const fs::path& path, const std::string& cf_name) {
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

TEST(StoreFormat, RecordsCarryTheCommitTimeAndVersion1ReadsWithout) {
  const format::RecordView record{
      kBase,  kBase + 7, rules::Level::kHigh, AlertKind::kCorrelation, "rule-1",
      "name", "mof",     "{\"id\":\"1\"}"};
  std::string bytes;
  format::EncodeRecord(bytes, record);
  format::RecordView read;
  ASSERT_TRUE(format::DecodeRecord(bytes, &read));
  EXPECT_EQ(read.time_ns, kBase);
  EXPECT_EQ(read.commit_ns, kBase + 7);
  EXPECT_EQ(read.level, rules::Level::kHigh);
  EXPECT_EQ(read.kind, AlertKind::kCorrelation);
  EXPECT_EQ(read.rule_id, "rule-1");
  EXPECT_EQ(read.agency, "mof");
  EXPECT_EQ(read.json, record.json);
  // A record 1: the same without commit_ns; its alert time stands in.
  std::string v1 = bytes.substr(0, 9) + bytes.substr(17);
  v1[0] = 1;
  ASSERT_TRUE(format::DecodeRecord(v1, &read));
  EXPECT_EQ(read.time_ns, kBase);
  EXPECT_EQ(read.commit_ns, kBase);
  EXPECT_EQ(read.rule_name, "name");
  EXPECT_EQ(read.json, record.json);
  for (size_t size = 0; size < 20; ++size) {
    EXPECT_FALSE(format::DecodeRecord(std::string_view(bytes).substr(0, size), &read)) << size;
  }
  v1[0] = 3;
  EXPECT_FALSE(format::DecodeRecord(v1, &read));
}

TEST(SyncPolicy, NamesRoundTrip) {
  for (SyncPolicy policy : {SyncPolicy::kAlways, SyncPolicy::kBatch, SyncPolicy::kNone}) {
    EXPECT_EQ(ParseSyncPolicy(SyncPolicyName(policy)), policy);
  }
  EXPECT_FALSE(ParseSyncPolicy("sometimes"));
}

TEST(AlertFilter, MatchesEveryCondition) {
  StoredAlert alert{7,
                    kBase,
                    kBase,
                    rules::Level::kHigh,
                    AlertKind::kDetection,
                    "rid",
                    "rname",
                    "mof",
                    R"({"id":"7","fields":{"user":"Root"}})"};
  EXPECT_TRUE(AlertFilter{}.Matches(alert));
  AlertFilter f;
  f.q = "ROOT";
  EXPECT_TRUE(f.Matches(alert));
  f.q = "admin";
  EXPECT_FALSE(f.Matches(alert));
  EXPECT_TRUE(AlertFilter{.since_ns = kBase}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.since_ns = kBase + 1}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.until_ns = kBase}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.until_ns = kBase + 1}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.after_id = 7}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.after_id = 6}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.before_id = 7}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.rule = "rid"}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.rule = "rname"}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.rule = "other"}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.min_level = rules::Level::kHigh}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.min_level = rules::Level::kCritical}.Matches(alert));
  EXPECT_TRUE(AlertFilter{.agency = "mof"}.Matches(alert));
  EXPECT_FALSE(AlertFilter{.agency = "moh"}.Matches(alert));
  using Agencies = std::vector<std::string>;
  EXPECT_TRUE((AlertFilter{.allowed_agencies = Agencies{"moh", "mof"}}.Matches(alert)));
  EXPECT_FALSE((AlertFilter{.allowed_agencies = Agencies{"moh"}}.Matches(alert)));
  EXPECT_FALSE((AlertFilter{.allowed_agencies = Agencies{}}.Matches(alert)));
}

TEST(AlertStore, IdsIncreaseAcrossPublishAndReopen) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.max_batch_alerts = 4096;
  {
    auto store = AlertStore::Open(options);
    EXPECT_EQ(store->last_id(), 0u);
    PublishMany(*store, 3);
    PublishMany(*store, 5000);  // more than one WriteBatch
    store->Flush();
    EXPECT_EQ(store->last_id(), 5003u);
  }
  {
    auto store = AlertStore::Open(options);
    EXPECT_EQ(store->last_id(), 5003u);
    PublishMany(*store, 1);
    store->Flush();
    EXPECT_EQ(store->last_id(), 5004u);
    EXPECT_TRUE(store->Get(5004));
    EXPECT_EQ(Ids(store->Query({.limit = 10'000}).alerts), Range(1, 5004));
  }
}

TEST(AlertStore, IdsAreNotReusedAfterRetentionDeletedTheNewest) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.retention_age = 3600s;
  TestClock clock(kBase);  // commit times
  options.clock_for_test = clock.Function();
  {
    auto store = AlertStore::Open(options);
    PublishMany(*store, 10, {.time_ns = kBase});
    store->Flush();
    const auto now = std::chrono::system_clock::time_point(std::chrono::nanoseconds(kBase)) + 2h;
    EXPECT_EQ(store->RunRetention(now), 10u);
    EXPECT_FALSE(store->Get(10));
    EXPECT_EQ(store->last_id(), 10u);
  }
  auto store = AlertStore::Open(options);
  EXPECT_EQ(store->last_id(), 10u);
  PublishMany(*store, 1, {.time_ns = kBase + 10 * 3600 * kSecond});
  store->Flush();
  EXPECT_EQ(store->last_id(), 11u);
  EXPECT_TRUE(store->Get(11));
}

TEST(AlertStore, IdsStartAboveAPreviousNumbering) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.min_first_id = 5000;
  {
    auto store = AlertStore::Open(options);
    PublishMany(*store, 3, {.time_ns = kBase});
    store->Flush();
    EXPECT_EQ(store->last_id(), 5002u);
    EXPECT_TRUE(store->Get(5000));
  }
  options.min_first_id = 1;  // the old numbering is forgotten: ids still go on
  auto store = AlertStore::Open(options);
  PublishMany(*store, 1, {.time_ns = kBase});
  store->Flush();
  EXPECT_EQ(store->last_id(), 5003u);
}

TEST(AlertStore, ListenersSeeCommittedAlertsInIdOrder) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  RecordingListener first(store.get()), second;
  store->AddListener(&first);
  store->AddListener(&second);
  std::vector<std::pair<double, size_t>> observed;
  store->SetCommitObserver(
      [&](double seconds, size_t alerts) { observed.emplace_back(seconds, alerts); });
  for (int i = 0; i < 20; ++i) PublishMany(*store, 1 + i % 7);
  store->Flush();
  const std::vector<uint64_t> expected = Range(1, store->last_id());
  EXPECT_EQ(expected.size(), 77u);  // 2 * (1 + ... + 7) + (1 + ... + 6)
  EXPECT_EQ(first.ids(), expected);
  EXPECT_EQ(second.ids(), expected);
  EXPECT_EQ(first.not_found(), 0);
  EXPECT_EQ(first.bad_json(), 0);
  size_t observed_alerts = 0;
  for (const auto& [seconds, alerts] : observed) {
    EXPECT_GE(seconds, 0.0);
    observed_alerts += alerts;
  }
  EXPECT_EQ(observed_alerts, 77u);
  EXPECT_EQ(store->stats().alerts_committed, 77u);
  EXPECT_EQ(store->stats().batches_committed, observed.size());
}

TEST(AlertStore, GetReturnsTheStoredFields) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  PublishOne(*store, {.rule_id = "r1",
                      .rule_name = "ssh_bruteforce",
                      .level = rules::Level::kCritical,
                      .agency = "moh",
                      .time_ns = kBase + 5,
                      .text = "x",
                      .kind = AlertKind::kCorrelation});
  store->Flush();
  const std::optional<StoredAlert> alert = store->Get(1);
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->id, 1u);
  EXPECT_EQ(alert->time_ns, kBase + 5);
  EXPECT_EQ(alert->level, rules::Level::kCritical);
  EXPECT_EQ(alert->kind, AlertKind::kCorrelation);
  EXPECT_EQ(alert->rule_id, "r1");
  EXPECT_EQ(alert->rule_name, "ssh_bruteforce");
  EXPECT_EQ(alert->agency, "moh");
  EXPECT_TRUE(alert->json.starts_with(R"({"id":"1",)")) << alert->json;
  EXPECT_NE(alert->json.find(R"("agency":"moh")"), std::string::npos);
  EXPECT_FALSE(store->Get(0));
  EXPECT_FALSE(store->Get(2));
  EXPECT_FALSE(store->Get(UINT64_MAX));
}

// A varied data set, the same for the filter and pagination tests.
class Dataset : public ::testing::Test {
 protected:
  static constexpr size_t kCount = 600;
  void SetUp() override {
    store_ = AlertStore::Open(TestOptions(dir_));
    const char* rules[] = {"rule-a", "rule-b", "rule-c", "rule-d"};
    const char* names[] = {"", "brute", "", "scan"};
    const char* agencies[] = {"mof", "moh", "mod", ""};
    std::vector<Alert> alerts;
    for (size_t i = 0; i < kCount; ++i) {
      AlertSpec spec;
      spec.rule_id = rules[i % 4];
      spec.rule_name = names[i % 4];
      spec.agency = agencies[(i / 4) % 4];
      spec.level = static_cast<rules::Level>((i * 7) % 5);
      spec.time_ns = kBase + static_cast<int64_t>((i * 37) % 600) * kSecond;  // not id order
      spec.text = i % 9 == 0 ? "Failed PASSWORD for root" : "accepted key";
      alerts.push_back(MakeAlert(spec));
      if (alerts.size() == 50) store_->Publish(alerts);
    }
    store_->Publish(alerts);
    store_->Flush();
    for (uint64_t id = 1; id <= kCount; ++id) all_.push_back(*store_->Get(id));
  }

  std::vector<uint64_t> Expected(const AlertFilter& filter, bool newest_first) const {
    std::vector<uint64_t> ids;
    for (const StoredAlert& alert : all_) {
      if (filter.Matches(alert)) ids.push_back(alert.id);
    }
    if (newest_first) std::reverse(ids.begin(), ids.end());
    return ids;
  }

  std::vector<AlertFilter> Filters() const {
    std::vector<AlertFilter> filters;
    filters.push_back({});
    for (const char* rule : {"rule-a", "rule-b", "brute", "scan", "rule-x"}) {
      filters.push_back({.rule = rule});
    }
    for (const char* agency : {"mof", "mod", "nobody"}) filters.push_back({.agency = agency});
    for (int level = 0; level <= 4; ++level) {
      filters.push_back({.min_level = static_cast<rules::Level>(level)});
    }
    filters.push_back({.since_ns = kBase + 100 * kSecond});
    filters.push_back({.until_ns = kBase + 100 * kSecond});
    filters.push_back({.since_ns = kBase + 50 * kSecond, .until_ns = kBase + 300 * kSecond});
    filters.push_back({.after_id = 100});
    filters.push_back({.before_id = 77});
    filters.push_back({.after_id = 10, .before_id = 500});
    filters.push_back({.q = "failed password"});
    filters.push_back({.q = "\"agency\":\"MOH\""});
    // combinations
    filters.push_back({.rule = "brute", .agency = "moh"});
    filters.push_back({.rule = "rule-a", .min_level = rules::Level::kHigh});
    filters.push_back({.min_level = rules::Level::kMedium, .agency = "mof", .q = "root"});
    filters.push_back({.since_ns = kBase + 200 * kSecond,
                       .after_id = 50,
                       .before_id = 550,
                       .rule = "scan",
                       .min_level = rules::Level::kLow,
                       .agency = "mod",
                       .q = "KEY"});
    filters.push_back({.after_id = 300, .min_level = rules::Level::kCritical, .q = "password"});
    // A principal's scope (agency-analyst): alone, with an agency asked
    // inside and outside it, with a rule, and empty.
    using Agencies = std::vector<std::string>;
    filters.push_back({.allowed_agencies = Agencies{"mof"}});
    filters.push_back({.allowed_agencies = Agencies{"mod", "moh"}});
    filters.push_back({.agency = "moh", .allowed_agencies = Agencies{"mod", "moh"}});
    filters.push_back({.agency = "mof", .allowed_agencies = Agencies{"mod", "moh"}});
    filters.push_back({.rule = "brute", .allowed_agencies = Agencies{"mof"}});
    filters.push_back({.min_level = rules::Level::kHigh, .allowed_agencies = Agencies{"mod"}});
    filters.push_back({.allowed_agencies = Agencies{}});
    return filters;
  }

  TempDir dir_;
  std::unique_ptr<AlertStore> store_;
  std::vector<StoredAlert> all_;
};

TEST_F(Dataset, EveryFilterAndCombination) {
  for (const AlertFilter& filter : Filters()) {
    for (bool newest_first : {false, true}) {
      const QueryResult result =
          store_->Query({.filter = filter, .limit = 10'000, .newest_first = newest_first});
      const std::vector<uint64_t> expected = Expected(filter, newest_first);
      EXPECT_EQ(Ids(result.alerts), expected)
          << "rule=" << filter.rule << " agency=" << filter.agency << " q=" << filter.q
          << " newest_first=" << newest_first;
      EXPECT_EQ(result.next_cursor, 0u);
      for (const StoredAlert& alert : result.alerts) {
        EXPECT_EQ(alert.json, all_[alert.id - 1].json);
      }
    }
  }
}

TEST_F(Dataset, PaginationCoversEveryAlertOnce) {
  for (const AlertFilter& filter : Filters()) {
    for (bool newest_first : {false, true}) {
      for (size_t limit : {1, 7, 100}) {
        const std::vector<uint64_t> got =
            AllPages(*store_, {.filter = filter, .limit = limit, .newest_first = newest_first});
        EXPECT_EQ(got, Expected(filter, newest_first))
            << "rule=" << filter.rule << " limit=" << limit << " newest_first=" << newest_first;
      }
    }
  }
}

TEST_F(Dataset, CursorIsZeroOnlyAtTheEnd) {
  QueryResult page = store_->Query({.filter = {.rule = "rule-a"}, .limit = 150});
  EXPECT_EQ(page.alerts.size(), 150u);
  EXPECT_EQ(page.next_cursor, 0u);  // exactly 150 alerts of rule-a
  page = store_->Query({.filter = {.rule = "rule-a"}, .limit = 149, .newest_first = true});
  EXPECT_EQ(page.next_cursor, page.alerts.back().id);
  EXPECT_EQ(page.alerts.back().id, 5u);
  EXPECT_TRUE(store_->Query({.limit = 0}).alerts.empty());
}

TEST(AlertStore, LimitIsCappedAt10000) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  PublishMany(*store, 10'050);
  store->Flush();
  QueryResult result = store->Query({.limit = 50'000});
  EXPECT_EQ(result.alerts.size(), 10'000u);
  EXPECT_EQ(result.next_cursor, 10'000u);
  result = store->Query({.filter = {.after_id = result.next_cursor}, .limit = 50'000});
  EXPECT_EQ(Ids(result.alerts), Range(10'001, 10'050));
  EXPECT_EQ(result.next_cursor, 0u);
}

TEST(AlertStore, RetentionByAgeDeletesExactlyTheOldAlertsAndTheirIndexEntries) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.retention_age = 3600s;
  options.sync = SyncPolicy::kNone;  // a Flush per alert
  TestClock clock;
  options.clock_for_test = clock.Function();
  const auto now = std::chrono::system_clock::time_point(std::chrono::nanoseconds(kBase));
  const int64_t cutoff = kBase - 3600 * kSecond;
  std::set<uint64_t> old_ids;
  {
    auto store = AlertStore::Open(options);
    for (int i = 0; i < 300; ++i) {
      // Commit times not in id order (the clock set back): every third alert
      // is old; one sits on the cutoff. Alert times say nothing.
      const int64_t commit = i % 3 == 0 ? cutoff - (i + 1) * kSecond
                             : i == 100 ? cutoff
                                        : cutoff + i * kSecond;
      clock.Set(commit);
      PublishOne(*store, {.rule_id = i % 2 ? "r-odd" : "r-even",
                          .rule_name = "named",
                          .level = rules::Level::kHigh,
                          .agency = "mof",
                          .time_ns = i % 2 ? kYear2000 : kBase + 3650 * 86400 * kSecond});
      store->Flush();
      if (commit < cutoff) old_ids.insert(static_cast<uint64_t>(i + 1));
    }
    const uint64_t bytes_before = store->stats().live_bytes;
    EXPECT_EQ(store->RunRetention(now), old_ids.size());
    EXPECT_EQ(store->stats().retention_deleted, old_ids.size());
    EXPECT_LT(store->stats().live_bytes, bytes_before);
    for (uint64_t id = 1; id <= 300; ++id)
      EXPECT_EQ(store->Get(id).has_value(), !old_ids.count(id));
    for (const char* rule : {"r-odd", "r-even", "named"}) {
      for (uint64_t id : Ids(store->Query({.filter = {.rule = rule}, .limit = 1000}).alerts)) {
        EXPECT_FALSE(old_ids.count(id));
      }
    }
    EXPECT_EQ(store->Query({.filter = {.rule = "named"}, .limit = 1000}).alerts.size(),
              300 - old_ids.size());
    EXPECT_EQ(store->RunRetention(now), 0u);  // nothing more
  }
  const size_t live = 300 - old_ids.size();
  EXPECT_EQ(CountEntries(dir.db(), "alerts"), live);
  EXPECT_EQ(CountEntries(dir.db(), "by_rule"), 2 * live);
  EXPECT_EQ(CountEntries(dir.db(), "by_agency"), live);
  EXPECT_EQ(CountEntries(dir.db(), "by_level"), live);
  // Age is summarized per block of ids in meta, not indexed per alert.
  EXPECT_EQ(CountEntries(dir.db(), "by_time"), 0u);
}

// Age is summarized per block of 4096 ids: old alerts anywhere in any block
// (times out of id order, blocks filled across a reopen) are found exactly.
TEST(AlertStore, RetentionByAgeIsExactAcrossBlocksAndReopens) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.retention_age = 3600s;
  options.sync = SyncPolicy::kNone;  // a Flush per alert
  TestClock clock;
  options.clock_for_test = clock.Function();
  const int64_t cutoff = kBase - 3600 * kSecond;
  constexpr int kAlerts = 9000;  // blocks 0, 1 and 2
  auto time_of = [&](int i) -> int64_t {
    if (i % 97 == 0 || i == 4095 || i == 4096 || i == 8191) return cutoff - (i + 1) * kSecond;
    if (i % 89 == 0) return cutoff;  // on the cutoff: kept
    return cutoff + i * kSecond;
  };
  std::set<uint64_t> old_ids;
  // Alert i is committed at time_of(i); its alert time is the year 2000.
  auto publish = [&](AlertStore& store, int from, int to) {
    for (int i = from; i < to; ++i) {
      clock.Set(time_of(i));
      PublishOne(store, {.rule_id = "r", .time_ns = kYear2000});
      store.Flush();
      if (time_of(i) < cutoff) old_ids.insert(static_cast<uint64_t>(i + 1));
    }
  };
  {
    auto store = AlertStore::Open(options);
    publish(*store, 0, 4200);  // block 1 half filled
  }
  auto now = std::chrono::system_clock::time_point(std::chrono::nanoseconds(kBase));
  {
    auto store = AlertStore::Open(options);
    publish(*store, 4200, kAlerts);
    EXPECT_EQ(store->last_id(), static_cast<uint64_t>(kAlerts));
    EXPECT_EQ(store->RunRetention(now), old_ids.size());
    for (uint64_t id = 1; id <= kAlerts; ++id) {
      ASSERT_EQ(store->Get(id).has_value(), !old_ids.count(id)) << id;
    }
    EXPECT_EQ(store->RunRetention(now), 0u);
    EXPECT_EQ(store->Query({.filter = {.rule = "r"}, .limit = 10'000}).alerts.size(),
              kAlerts - old_ids.size());
    // Later: every alert of the first two blocks has expired, some of the rest.
    now += std::chrono::seconds(8192);
    const int64_t later_cutoff = cutoff + 8192 * kSecond;
    size_t expected = 0;
    for (int i = 0; i < kAlerts; ++i) {
      if (time_of(i) >= cutoff && time_of(i) < later_cutoff) ++expected;
      if (time_of(i) < later_cutoff) old_ids.insert(static_cast<uint64_t>(i + 1));
    }
    EXPECT_EQ(store->RunRetention(now), expected);
    for (uint64_t id = 1; id <= kAlerts; ++id) {
      ASSERT_EQ(store->Get(id).has_value(), !old_ids.count(id)) << id;
      if (id <= 8192) {
        ASSERT_TRUE(old_ids.count(id));
      }
    }
    // A new alert in the block being filled is summarized with the old ones.
    clock.Set(cutoff - kSecond);
    PublishOne(*store, {.rule_id = "r"});
    store->Flush();
    EXPECT_EQ(store->RunRetention(now), 1u);
    EXPECT_FALSE(store->Get(kAlerts + 1).has_value());
  }
  EXPECT_EQ(CountEntries(dir.db(), "by_time"), 0u);
  const size_t live = kAlerts - old_ids.size();
  EXPECT_EQ(CountEntries(dir.db(), "alerts"), live);
  EXPECT_EQ(CountEntries(dir.db(), "by_rule"), live);
}

TEST(AlertStore, RetentionBySizeDeletesExactlyTheOldestBeyondTheLimit) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  std::vector<uint64_t> sizes;  // record bytes per id, from live_bytes deltas
  {
    auto store = AlertStore::Open(options);
    uint64_t previous = store->stats().live_bytes;
    EXPECT_EQ(previous, 0u);
    for (int i = 0; i < 120; ++i) {
      PublishOne(*store, {.rule_id = "r", .text = std::string(static_cast<size_t>(i * 3), 'x')});
      store->Flush();
      sizes.push_back(store->stats().live_bytes - previous);
      previous = store->stats().live_bytes;
    }
  }
  uint64_t total = 0;
  for (uint64_t size : sizes) total += size;
  options.retention_bytes = total / 2;
  size_t expected_deleted = 0;
  for (uint64_t live = total; live > options.retention_bytes; ++expected_deleted) {
    live -= sizes[expected_deleted];
  }
  {
    auto store = AlertStore::Open(options);
    EXPECT_EQ(store->stats().live_bytes, total);  // persisted across reopen
    EXPECT_EQ(store->RunRetention(std::chrono::system_clock::now()), expected_deleted);
    EXPECT_LE(store->stats().live_bytes, options.retention_bytes);
    EXPECT_GT(store->stats().live_bytes + sizes[expected_deleted - 1], options.retention_bytes);
    EXPECT_FALSE(store->Get(expected_deleted));
    EXPECT_TRUE(store->Get(expected_deleted + 1));
    EXPECT_EQ(Ids(store->Query({.filter = {.rule = "r"}, .limit = 1000}).alerts),
              Range(expected_deleted + 1, 120));
    EXPECT_EQ(Ids(store->Query({.limit = 1000}).alerts), Range(expected_deleted + 1, 120));
    EXPECT_EQ(store->RunRetention(std::chrono::system_clock::now()), 0u);
  }
  EXPECT_EQ(CountEntries(dir.db(), "by_rule"), 120 - expected_deleted);
  EXPECT_EQ(CountEntries(dir.db(), "by_time"), 0u);
  auto store = AlertStore::Open(options);
  EXPECT_LE(store->stats().live_bytes, options.retention_bytes);
}

TEST(AlertStore, RetentionThreadRunsOnItsInterval) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.retention_age = 3600s;
  options.retention_interval = 20ms;
  TestClock clock(kBase - 365LL * 24 * 3600 * kSecond);  // committed a year before
  options.clock_for_test = clock.Function();
  auto store = AlertStore::Open(options);
  PublishMany(*store, 5);
  store->Flush();
  clock.Set(kBase);
  for (int i = 0; i < 500 && store->stats().retention_deleted < 5; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(store->stats().retention_deleted, 5u);
}

// Blocks the writer inside OnCommitted until released.
class GateListener : public CommitListener {
 public:
  void OnCommitted(std::span<const StoredAlert> alerts) override {
    entered_.fetch_add(1);
    std::unique_lock lock(mutex_);
    open_cv_.wait(lock, [this] { return open_; });
    count_ += alerts.size();
  }
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    open_cv_.notify_all();
  }
  int entered() const { return entered_.load(); }

 private:
  std::atomic<int> entered_{0};
  std::mutex mutex_;
  std::condition_variable open_cv_;
  bool open_ = false;
  size_t count_ = 0;
};

TEST(AlertStore, PublishBlocksWhenTheQueueIsFullAndResumes) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.queue_alerts = 4;
  auto store = AlertStore::Open(options);
  GateListener gate;
  store->AddListener(&gate);
  PublishMany(*store, 1);  // the writer takes it and waits in the listener
  for (int i = 0; i < 500 && gate.entered() == 0; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(gate.entered(), 1);
  PublishMany(*store, 4);  // fills the queue
  EXPECT_EQ(store->stats().publish_waits, 0u);
  auto blocked = std::async(std::launch::async, [&] { PublishMany(*store, 3); });
  EXPECT_EQ(blocked.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(store->stats().pending, 5u);
  gate.Open();
  EXPECT_EQ(blocked.wait_for(10s), std::future_status::ready);
  store->Flush();
  EXPECT_EQ(store->last_id(), 8u);
  EXPECT_EQ(store->stats().publish_waits, 1u);
  EXPECT_EQ(store->stats().pending, 0u);
}

TEST(AlertStore, ConcurrentPublishStoresEveryAlertOnce) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.queue_alerts = 256;
  options.max_batch_alerts = 100;
  auto store = AlertStore::Open(options);
  RecordingListener listener;
  store->AddListener(&listener);
  constexpr int kThreads = 4, kPerThread = 700;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      std::vector<Alert> batch;
      for (int i = 0; i < kPerThread; ++i) {
        batch.push_back(MakeAlert({.text = "t" + std::to_string(t) + "-" + std::to_string(i)}));
        if (batch.size() == static_cast<size_t>(1 + (i % 13))) store->Publish(batch);
      }
      store->Publish(batch);
    });
  }
  for (auto& thread : threads) thread.join();
  store->Flush();
  const std::vector<uint64_t> expected_ids = Range(1, kThreads * kPerThread);
  EXPECT_EQ(listener.ids(), expected_ids);
  const std::vector<uint64_t> stored = AllPages(*store, {.limit = 1000});
  EXPECT_EQ(stored, expected_ids);
  std::set<std::string> markers;
  for (uint64_t id : stored) {
    const std::string json = store->Get(id)->json;
    const size_t at = json.find("\"message\":\"") + 11;
    markers.insert(json.substr(at, json.find('"', at) - at));
  }
  EXPECT_EQ(markers.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(AlertStore, CheckpointStoreRoundTrip) {
  TempDir dir;
  {
    auto store = AlertStore::Open(TestOptions(dir));
    auto checkpoints = store->MakeCheckpointStore();
    std::string blob;
    EXPECT_FALSE(checkpoints->Load(&blob));
    checkpoints->Save(std::string("first\0blob", 10));
    ASSERT_TRUE(checkpoints->Load(&blob));
    EXPECT_EQ(blob, std::string("first\0blob", 10));
    checkpoints->Save("second");
  }
  auto store = AlertStore::Open(TestOptions(dir));
  std::string blob;
  ASSERT_TRUE(store->MakeCheckpointStore()->Load(&blob));
  EXPECT_EQ(blob, "second");
}

TEST(AlertStore, OpeningALockedStoreThrowsWithThePath) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  try {
    AlertStore::Open(TestOptions(dir));
    FAIL() << "opened twice";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(dir.db().string()), std::string::npos) << message;
    EXPECT_NE(message.find("lock"), std::string::npos) << message;
  }
}

TEST(AlertStore, OpeningAnUnusablePathThrows) {
  TempDir dir;
  fs::create_directories(dir.db().parent_path());
  { std::ofstream(dir.db()) << "not a directory"; }
  StoreOptions options = TestOptions(dir);
  options.path = dir.db() / "sub";
  EXPECT_THROW(AlertStore::Open(options), std::runtime_error);
}

TEST(AlertStore, EverySyncPolicyStoresAndReopens) {
  for (SyncPolicy policy : {SyncPolicy::kAlways, SyncPolicy::kBatch, SyncPolicy::kNone}) {
    TempDir dir;
    StoreOptions options = TestOptions(dir);
    options.sync = policy;
    size_t largest_batch = 0;
    {
      auto store = AlertStore::Open(options);
      store->SetCommitObserver(
          [&](double, size_t alerts) { largest_batch = std::max(largest_batch, alerts); });
      PublishMany(*store, 50);
      store->Flush();
      EXPECT_EQ(store->stats().alerts_committed, 50u);
    }
    if (policy == SyncPolicy::kAlways) {
      EXPECT_EQ(largest_batch, 1u);
    }
    auto store = AlertStore::Open(options);
    EXPECT_EQ(Ids(store->Query({.limit = 100}).alerts), Range(1, 50)) << SyncPolicyName(policy);
  }
}

TEST(AlertStore, FlushedAlertsSurviveAProcessThatDiesWithoutClosing) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.sync = SyncPolicy::kBatch;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto store = AlertStore::Open(options);
      PublishMany(*store, 10);
      PublishMany(*store, 3000);
      store->Flush();
      store.release();  // never closed
      ::_exit(0);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  for (int i = 0; i < 600; ++i) {
    if (::waitpid(child, &status, WNOHANG) == child) break;
    std::this_thread::sleep_for(100ms);
    if (i == 599) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      FAIL() << "child hung";
    }
  }
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto store = AlertStore::Open(options);
  EXPECT_EQ(store->last_id(), 3010u);
  EXPECT_EQ(AllPages(*store, {.limit = 1000}), Range(1, 3010));
  PublishMany(*store, 1);
  store->Flush();
  EXPECT_EQ(store->last_id(), 3011u);
}

TEST(AlertStore, StatsAndTickers) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  PublishMany(*store, 20);
  store->Flush();
  const StoreStats stats = store->stats();
  EXPECT_EQ(stats.alerts_committed, 20u);
  EXPECT_GE(stats.batches_committed, 1u);
  EXPECT_EQ(stats.write_errors, 0u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_GT(stats.live_bytes, 20u * 100);
  std::map<std::string, uint64_t> tickers;
  for (const auto& [name, value] : store->RocksDbTickers()) tickers[name] = value;
  EXPECT_GT(tickers.at("bytes_written"), stats.live_bytes);
  EXPECT_GE(tickers.at("wal_file_synced"), 1u);
  EXPECT_TRUE(tickers.count("block_cache_miss"));
  EXPECT_TRUE(tickers.count("stall_micros"));
}

// Issue 11 finding 3: a sender stamped its line 2000-01-01 (or far ahead);
// retention goes by when the store committed the alert, so the evidence
// stays for retention_age, however the message was dated.
TEST(AlertStore, RetentionGoesByCommitTimeNotByTheSendersClock) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.retention_age = 3600s;
  auto store = AlertStore::Open(options);
  const auto before = std::chrono::system_clock::now();
  PublishOne(*store, {.time_ns = kYear2000});
  PublishOne(*store, {.time_ns = ToNs(before) + 86400LL * 365 * kSecond});
  store->Flush();
  const auto after = std::chrono::system_clock::now();
  const std::optional<StoredAlert> stored = store->Get(1);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->time_ns, kYear2000);
  EXPECT_GE(stored->commit_ns, ToNs(before));
  EXPECT_LE(stored->commit_ns, ToNs(after));
  EXPECT_EQ(store->RunRetention(after + 56s), 0u);
  EXPECT_EQ(store->RunRetention(after + 3599s), 0u);
  EXPECT_TRUE(store->Get(1).has_value());
  EXPECT_TRUE(store->Get(2).has_value());
  EXPECT_EQ(store->RunRetention(after + 3601s), 2u);
  EXPECT_FALSE(store->Get(1).has_value());
}

// --- failures stay failed ------------------------------------------------------

enum class WalFault { kNone, kAppend, kSync };

// Fails the WAL's appends or syncs on demand (the rest of RocksDB's files work).
class FaultyWalFs : public rocksdb::FileSystemWrapper {
 public:
  FaultyWalFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyWalFs"; }
  void Set(WalFault fault) { fault_.store(fault); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, dbg);
    if (status.ok() && name.ends_with(".log")) {
      *result = std::make_unique<File>(std::move(*result), &fault_);
    }
    return status;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& file, const std::atomic<WalFault>* fault)
        : FSWritableFileOwnerWrapper(std::move(file)), fault_(fault) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kAppend) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kAppend) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kSync) return rocksdb::IOStatus::IOError("injected");
      return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kSync) return rocksdb::IOStatus::IOError("injected");
      return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

   private:
    const std::atomic<WalFault>* fault_;
  };

  std::atomic<WalFault> fault_{WalFault::kNone};
};

struct FaultCase {
  SyncPolicy policy;
  WalFault fault;
};

class StoreFailure : public ::testing::TestWithParam<FaultCase> {};

// A failed WAL write or sync: the batch is not announced, nothing after it is
// committed even once the disk works again, Publish blocks (backpressure)
// until shutdown, health() says why; a restart replays the WAL and resumes.
TEST_P(StoreFailure, IsStickyAnnouncesNothingAndARestartResumes) {
  const FaultCase fault = GetParam();
  TempDir dir;
  auto fs = std::make_shared<FaultyWalFs>();
  const std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StoreOptions options = TestOptions(dir);
  options.sync = fault.policy;
  options.env_for_test = env.get();
  {
    auto store = AlertStore::Open(options);
    RecordingListener listener(store.get());
    store->AddListener(&listener);
    PublishMany(*store, 10);
    store->Flush();
    ASSERT_EQ(listener.ids(), Range(1, 10));
    ASSERT_TRUE(store->health().ok);

    fs->Set(fault.fault);
    PublishMany(*store, 5);
    store->Flush();  // returns: the writer knows these are not stored
    const StoreHealth health = store->health();
    EXPECT_FALSE(health.ok);
    EXPECT_NE(health.error.find("injected"), std::string::npos) << health.error;
    EXPECT_EQ(listener.ids(), Range(1, 10));
    EXPECT_EQ(store->last_id(), 10u);
    EXPECT_FALSE(store->Get(11).has_value());
    EXPECT_EQ(AllPages(*store, {.limit = 100}), Range(1, 10));
    EXPECT_TRUE(store->stats().failed);
    EXPECT_GE(store->stats().write_errors, 1u);
    EXPECT_EQ(store->stats().not_stored, 5u);

    // The disk works again: still nothing is committed (a retry proves nothing).
    fs->Set(WalFault::kNone);
    auto blocked = std::async(std::launch::async, [&] { PublishMany(*store, 3); });
    EXPECT_EQ(blocked.wait_for(300ms), std::future_status::timeout) << "Publish must block";
    EXPECT_EQ(store->last_id(), 10u);
    EXPECT_FALSE(store->health().ok);
    EXPECT_THROW(store->MakeCheckpointStore()->Save("state"), std::runtime_error);
    store->BeginShutdown();  // workers may drain now
    ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(store->stats().not_stored, 8u);
    EXPECT_EQ(listener.ids(), Range(1, 10));
    EXPECT_EQ(listener.not_found(), 0);
  }
  auto store = AlertStore::Open(options);
  EXPECT_TRUE(store->health().ok);
  // What was announced is there; what reached the WAL before the failure may be too.
  const std::vector<uint64_t> ids = AllPages(*store, {.limit = 100});
  ASSERT_GE(ids.size(), 10u);
  EXPECT_LE(ids.size(), 15u);
  EXPECT_EQ(std::vector<uint64_t>(ids.begin(), ids.begin() + 10), Range(1, 10));
  const uint64_t before = store->last_id();
  EXPECT_EQ(before, ids.back());
  PublishMany(*store, 2);
  store->Flush();
  EXPECT_EQ(store->last_id(), before + 2);
  EXPECT_EQ(store->stats().alerts_committed, 2u);
}

INSTANTIATE_TEST_SUITE_P(Faults, StoreFailure,
                         ::testing::Values(FaultCase{SyncPolicy::kBatch, WalFault::kSync},
                                           FaultCase{SyncPolicy::kBatch, WalFault::kAppend},
                                           FaultCase{SyncPolicy::kAlways, WalFault::kSync},
                                           FaultCase{SyncPolicy::kNone, WalFault::kAppend}),
                         [](const auto& info) {
                           return std::string(SyncPolicyName(info.param.policy)) +
                                  (info.param.fault == WalFault::kSync ? "_sync" : "_append");
                         });

TEST(AlertStore, BeginShutdownChangesNothingOnAHealthyStore) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.queue_alerts = 4;
  auto store = AlertStore::Open(options);
  store->BeginShutdown();
  PublishMany(*store, 50);  // more than the queue holds: waits for room, loses nothing
  store->Flush();
  EXPECT_EQ(store->last_id(), 50u);
  EXPECT_EQ(store->stats().not_stored, 0u);
  EXPECT_TRUE(store->health().ok);
}

}  // namespace
}  // namespace gsoc::store
