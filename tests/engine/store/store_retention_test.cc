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

#include "engine/store/alert_store.h"
#include "engine/store/store_format.h"
#include "tests/engine/store/store_test_util.h"

namespace gsoc::store {
namespace {

using namespace store_test;

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

}  // namespace
}  // namespace gsoc::store
