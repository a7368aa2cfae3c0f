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
#include "tests/engine/store/store_test_util.h"

namespace gsoc::store {
namespace {

using namespace store_test;

TEST(StoreFormat, RecordsCarryTheCommitTimeAndOlderVersionsRead) {
  const format::RecordView record{kBase,
                                  kBase + 7,
                                  rules::Level::kHigh,
                                  AlertKind::kCorrelation,
                                  "rule-1",
                                  "name",
                                  "mof",
                                  "\x01\x02"
                                  "detail"};
  std::string bytes;
  format::EncodeRecord(bytes, record);
  EXPECT_EQ(bytes[0], 3);
  format::RecordView read;
  ASSERT_TRUE(format::DecodeRecord(bytes, &read));
  EXPECT_EQ(read.time_ns, kBase);
  EXPECT_EQ(read.commit_ns, kBase + 7);
  EXPECT_EQ(read.level, rules::Level::kHigh);
  EXPECT_EQ(read.kind, AlertKind::kCorrelation);
  EXPECT_EQ(read.rule_id, "rule-1");
  EXPECT_EQ(read.agency, "mof");
  EXPECT_EQ(read.body, record.body);
  EXPECT_FALSE(read.body_is_json);
  // A record 2: the same head, the alert's JSON as the body.
  std::string v2 = bytes;
  v2[0] = 2;
  ASSERT_TRUE(format::DecodeRecord(v2, &read));
  EXPECT_EQ(read.commit_ns, kBase + 7);
  EXPECT_TRUE(read.body_is_json);
  // A record 1: record 2 without commit_ns; its alert time stands in.
  std::string v1 = bytes.substr(0, 9) + bytes.substr(17);
  v1[0] = 1;
  ASSERT_TRUE(format::DecodeRecord(v1, &read));
  EXPECT_EQ(read.time_ns, kBase);
  EXPECT_EQ(read.commit_ns, kBase);
  EXPECT_EQ(read.rule_name, "name");
  EXPECT_EQ(read.body, record.body);
  EXPECT_TRUE(read.body_is_json);
  for (size_t size = 0; size < 20; ++size) {
    EXPECT_FALSE(format::DecodeRecord(std::string_view(bytes).substr(0, size), &read)) << size;
  }
  v1[0] = 4;
  EXPECT_FALSE(format::DecodeRecord(v1, &read));
}

TEST(SyncPolicy, NamesRoundTrip) {
  for (SyncPolicy policy : {SyncPolicy::kAlways, SyncPolicy::kBatch, SyncPolicy::kNone}) {
    EXPECT_EQ(ParseSyncPolicy(SyncPolicyName(policy)), policy);
  }
  EXPECT_FALSE(ParseSyncPolicy("sometimes"));
}

// q: an ASCII case-insensitive substring, checked against a naive search
// over needles and texts made of a small alphabet (many partial matches,
// repeats, needles at both ends, longer than the text).
TEST(AlertFilter, TextSearchAgreesWithNaiveSearch) {
  auto fold = [](std::string text) {
    for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return text;
  };
  const std::string alphabet = "aAbB\"{:";
  uint64_t seed = 12345;
  auto next = [&](size_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>((seed >> 33) % bound);
  };
  auto random_text = [&](size_t length) {
    std::string text;
    for (size_t i = 0; i < length; ++i) text += alphabet[next(alphabet.size())];
    return text;
  };
  for (int round = 0; round < 5000; ++round) {
    const std::string text = random_text(next(40));
    const std::string needle = random_text(1 + next(6));
    StoredAlert alert{1,   kBase, kBase, rules::Level::kLow, AlertKind::kDetection, "r",
                      "r", "a",   text};
    const bool expected = fold(text).find(fold(needle)) != std::string::npos;
    EXPECT_EQ(AlertFilter{.q = needle}.Matches(alert), expected)
        << "text '" << text << "' needle '" << needle << "'";
  }
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

// The store keeps the binary detail and renders JSON when read: what the
// API reads back is, byte for byte, what listeners saw and what the alert
// renders to, for every member an alert can carry.
TEST(AlertStore, ReadBackJsonIsWhatListenersSawAndTheAlertRenders) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  class JsonListener : public CommitListener {
   public:
    void OnCommitted(std::span<const StoredAlert> alerts) override {
      std::lock_guard lock(mutex);
      for (const StoredAlert& alert : alerts) json[alert.id] = alert.json;
    }
    std::mutex mutex;
    std::map<uint64_t, std::string> json;
  } listener;
  store->AddListener(&listener);
  std::vector<Alert> alerts;
  alerts.push_back(MakeAlert({.rule_name = "named", .text = "quote \" and \\ and \x01"}));
  Alert correlation =
      MakeAlert({.level = rules::Level::kCritical, .kind = AlertKind::kCorrelation});
  correlation.group = {{"src_ip", "10.1.2.3"}, {"user", "root"}};
  correlation.correlation_type = "event_count";
  correlation.value = 7.25;
  correlation.condition = "gte 5";
  correlation.suppressed = 2;
  correlation.events = {{11, kBase, "Failed password for root"}, {12, kBase + 1, ""}};
  alerts.push_back(correlation);
  Alert aggregate = MakeAlert({.agency = ""});
  aggregate.aggregate_key = 0xabc;
  aggregate.aggregate_version = 3;
  aggregate.aggregate_opened_ns = kBase;
  aggregate.aggregate_closes_ns = kBase + kSecond;
  aggregate.count = 9;
  alerts.push_back(aggregate);
  std::vector<std::string> want;
  for (size_t i = 0; i < alerts.size(); ++i) {
    Alert copy = alerts[i];
    copy.id = i + 1;
    want.emplace_back();
    AppendAlertJson(want.back(), copy);
  }
  store->Publish(alerts);
  store->Flush();
  for (uint64_t id = 1; id <= want.size(); ++id) {
    const std::optional<StoredAlert> read = store->Get(id);
    ASSERT_TRUE(read) << id;
    EXPECT_EQ(read->json, want[id - 1]);
    std::lock_guard lock(listener.mutex);
    EXPECT_EQ(listener.json[id], want[id - 1]);
  }
  const QueryResult all = store->Query({.filter = {.q = "FAILED PASSWORD"}});
  ASSERT_EQ(Ids(all.alerts), std::vector<uint64_t>{2});
  EXPECT_EQ(all.alerts[0].json, want[1]);
}

// A store written before records 3 (format 2: the alert's JSON in the
// record) opens, serves its records as they are, and adds records 3.
TEST(AlertStore, AFormat2StoreIsReadAsItIsAndUpgraded) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  {
    auto store = AlertStore::Open(options);
    PublishOne(*store, {.rule_id = "old"});
    store->Flush();
  }
  const std::string old_json = R"({"id":"1","written":"by format 2"})";
  {
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options.path.string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), options.path.string(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto cf = [&](const std::string& name) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) return handles[i];
      }
      return handles[0];
    };
    std::string record;
    format::EncodeRecord(record, {kBase, kBase, rules::Level::kMedium, AlertKind::kDetection, "old",
                                  "", "mof", old_json});
    record[0] = format::kRecordVersionJson;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cf("alerts"), format::IdKey(1), record).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cf("meta"), "format_version",
                        format::IdKey(format::kFormatVersionJson))
                    .ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  }
  auto store = AlertStore::Open(options);
  ASSERT_TRUE(store->Get(1));
  EXPECT_EQ(store->Get(1)->json, old_json);
  PublishOne(*store, {.rule_id = "new"});
  store->Flush();
  ASSERT_TRUE(store->Get(2));
  EXPECT_TRUE(store->Get(2)->json.starts_with(R"({"id":"2",)"));
  EXPECT_EQ(Ids(store->Query({.filter = {.rule = "old"}}).alerts), std::vector<uint64_t>{1});
  store.reset();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {"meta", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), options.path.string(), cfs, &handles, &raw)
          .ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string version;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), handles[1], "format_version", &version).ok());
  EXPECT_EQ(version, format::IdKey(format::kFormatVersion));
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
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
