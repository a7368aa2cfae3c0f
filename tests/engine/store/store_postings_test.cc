// The index postings (engine/store/store_postings.h): their encoding, the
// writer's per-batch builder, and the store's queries, replaced versions,
// retention and format upgrade over them.
#include "engine/store/store_postings.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/store/store_format.h"
#include "tests/engine/store/store_test_util.h"

namespace gsoc::store {
namespace {

using namespace store_test;
using format::PostingIndex;

// Every posting of a column family: prefix -> postings (key id, ids) in key order.
struct Posting {
  uint64_t key_id;
  std::vector<uint64_t> ids;
};
std::map<std::string, std::vector<Posting>> PostingsOf(const fs::path& path,
                                                       const std::string& cf_name) {
  std::map<std::string, std::vector<Posting>> out;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {cf_name, {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path.string(), cfs, &handles, &raw).ok());
  if (raw == nullptr) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString();
      Posting posting{format::IdFromIndexKey(key), {}};
      EXPECT_TRUE(format::DecodePosting(posting.key_id, it->value().ToStringView(), posting.ids));
      out[key.substr(0, key.size() - 8)].push_back(std::move(posting));
    }
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  return out;
}

void SetFormatVersion(const fs::path& path, uint64_t version) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, path.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path.string(), cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "meta") {
      EXPECT_TRUE(
          db->Put(rocksdb::WriteOptions(), handles[i], "format_version", format::IdKey(version))
              .ok());
    }
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
}

TEST(StorePostings, PostingsRoundTrip) {
  const std::vector<uint64_t> ids = {5, 6, 300, 301, uint64_t{1} << 40, UINT64_MAX - 1};
  std::string gaps;
  format::EncodePostingGaps(gaps, ids);
  std::vector<uint64_t> decoded;
  ASSERT_TRUE(format::DecodePosting(5, gaps, decoded));
  EXPECT_EQ(decoded, ids);
  ASSERT_TRUE(format::DecodePosting(7, "", decoded));  // a per-alert entry of format 3
  EXPECT_EQ(decoded, std::vector<uint64_t>{7});
  EXPECT_FALSE(format::DecodePosting(5, std::string_view("\x01\x00", 2), decoded));  // gap 0
  EXPECT_TRUE(decoded.empty());
  EXPECT_FALSE(format::DecodePosting(5, "\x01\x80", decoded));           // truncated
  EXPECT_FALSE(format::DecodePosting(UINT64_MAX - 1, "\x02", decoded));  // past the end
}

TEST(StorePostings, ABatchBuildsOnePostingPerIndexAndValue) {
  format::PostingBatch batch;
  for (int round = 0; round < 2; ++round) {  // the second reuses the cleared buffers
    batch.Clear();
    const std::string a("a\0", 2), b("b\0", 2), high(1, '\3');
    batch.Add(PostingIndex::kRule, a, 10);
    batch.Add(PostingIndex::kAgency, a, 10);  // the same bytes in another index: its own
    batch.Add(PostingIndex::kLevel, high, 10);
    batch.Add(PostingIndex::kRule, b, 11);
    batch.Add(PostingIndex::kLevel, high, 11);
    batch.Add(PostingIndex::kRule, a, 12);
    batch.Add(PostingIndex::kRule, a, 12);  // an alert whose id and name are alike: once
    batch.Add(PostingIndex::kLevel, high, 300);
    std::map<std::pair<PostingIndex, std::string>, std::vector<uint64_t>> got;
    batch.ForEach([&](PostingIndex index, std::string_view key, std::string_view value) {
      std::vector<uint64_t> ids;
      EXPECT_TRUE(format::DecodePosting(format::IdFromIndexKey(key), value, ids));
      got[{index, std::string(key.substr(0, key.size() - 8))}] = ids;
    });
    EXPECT_EQ(batch.size(), 4u);
    EXPECT_EQ((got[{PostingIndex::kRule, a}]), (std::vector<uint64_t>{10, 12}));
    EXPECT_EQ((got[{PostingIndex::kRule, b}]), (std::vector<uint64_t>{11}));
    EXPECT_EQ((got[{PostingIndex::kAgency, a}]), (std::vector<uint64_t>{10}));
    EXPECT_EQ((got[{PostingIndex::kLevel, high}]), (std::vector<uint64_t>{10, 11, 300}));
  }
  // Many values (the table grows), then few again.
  batch.Clear();
  for (uint64_t id = 1; id <= 3000; ++id) {
    batch.Add(PostingIndex::kRule, format::NamePrefix("rule-" + std::to_string(id % 1000)), id);
  }
  size_t postings = 0;
  batch.ForEach([&](PostingIndex, std::string_view key, std::string_view value) {
    std::vector<uint64_t> ids;
    ASSERT_TRUE(format::DecodePosting(format::IdFromIndexKey(key), value, ids));
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[1], ids[0] + 1000);
    EXPECT_EQ(ids[2], ids[0] + 2000);
    ++postings;
  });
  EXPECT_EQ(postings, 1000u);
  batch.Clear();
  batch.Add(PostingIndex::kAgency, format::NamePrefix("mof"), 7);
  EXPECT_EQ(batch.size(), 1u);
}

AlertSpec Varied(size_t i) {
  const char* rules[] = {"rule-a", "rule-b", "rule-c"};
  const char* names[] = {"", "brute", "scan"};
  const char* agencies[] = {"mof", "moh", ""};
  AlertSpec spec;
  spec.rule_id = rules[i % 3];
  spec.rule_name = names[(i / 3) % 3];
  spec.agency = agencies[(i / 2) % 3];
  spec.level = static_cast<rules::Level>((i * 7) % 5);
  spec.time_ns = kBase + static_cast<int64_t>((i * 37) % 400) * kSecond;
  return spec;
}

// The same alerts in large batches (postings of many ids, split wherever the
// writer cut the batches) and one per batch (one-id postings: the per-alert
// layout): every query, paged or not, both ways, gives the same ids in the
// same order.
TEST(StorePostings, QueriesAreTheSameInLargeBatchesAndOnePerAlert) {
  constexpr size_t kCount = 400;
  TempDir batched_dir, single_dir;
  auto batched = AlertStore::Open(TestOptions(batched_dir));
  auto single = AlertStore::Open(TestOptions(single_dir));
  std::vector<Alert> alerts;
  for (size_t i = 0; i < kCount; ++i) {
    alerts.push_back(MakeAlert(Varied(i)));
    if (alerts.size() == 150) batched->Publish(alerts);  // and batches of any size after it
    PublishOne(*single, Varied(i));
    single->Flush();
  }
  batched->Publish(alerts);
  batched->Flush();
  const std::vector<AlertFilter> filters = {
      {},
      {.rule = "rule-a"},
      {.rule = "brute"},
      {.agency = "moh"},
      {.min_level = rules::Level::kHigh},
      {.after_id = 120, .before_id = 333, .rule = "scan"},
      {.rule = "rule-b", .min_level = rules::Level::kMedium, .agency = "mof"},
      {.allowed_agencies = std::vector<std::string>{"mof", "moh"}},
  };
  auto compare = [&] {
    for (const AlertFilter& filter : filters) {
      for (bool newest_first : {false, true}) {
        for (size_t limit : {1, 7, 1000}) {
          const QueryRequest request{
              .filter = filter, .limit = limit, .newest_first = newest_first};
          const std::vector<uint64_t> want = AllPages(*single, request);
          EXPECT_FALSE(want.empty()) << filter.rule;
          EXPECT_EQ(AllPages(*batched, request), want)
              << "rule=" << filter.rule << " agency=" << filter.agency << " limit=" << limit
              << " newest_first=" << newest_first;
        }
      }
    }
  };
  compare();  // from the memtables
  batched.reset();
  single.reset();
  EXPECT_EQ(CountEntries(single_dir.db(), "by_level"), kCount);
  EXPECT_LT(CountEntries(batched_dir.db(), "by_level"), kCount / 10);
  // Reopened: the WAL recovery writes the memtables to table files, read
  // with their prefix bloom filters from here on.
  batched = AlertStore::Open(TestOptions(batched_dir));
  single = AlertStore::Open(TestOptions(single_dir));
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(batched_dir.db())) {
    tables += entry.path().extension() == ".sst";
  }
  EXPECT_GE(tables, 4u);  // alerts and the three posting indexes at least
  compare();
}

// A cluster store node keeps the ids it is given: sparse, far apart ids
// (multi-byte gaps) in one posting, found and paged both ways.
TEST(StorePostings, GivenSparseIdsAreIndexedAndPaged) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.ids_given = true;
  auto store = AlertStore::Open(options);
  auto given = [](uint64_t id, const char* rule) {
    Alert alert = MakeAlert({.rule_id = rule});
    alert.id = id;
    return alert;
  };
  constexpr uint64_t kFar = uint64_t{1} << 40;
  std::vector<Alert> first = {given(10, "r-a"), given(11, "r-b"), given(50, "r-a"),
                              given(100'000, "r-a")};
  store->Publish(first);
  store->Flush();
  std::vector<Alert> second = {given(100'001, "r-b"), given(kFar, "r-a")};
  store->Publish(second);
  store->Flush();
  const std::vector<uint64_t> all = {10, 50, 100'000, kFar};
  for (size_t limit : {1, 3, 100}) {
    EXPECT_EQ(AllPages(*store, {.filter = {.rule = "r-a"}, .limit = limit}), all);
    EXPECT_EQ(AllPages(*store, {.filter = {.rule = "r-a"}, .limit = limit, .newest_first = true}),
              std::vector<uint64_t>(all.rbegin(), all.rend()));
  }
  EXPECT_EQ(Ids(store->Query({.filter = {.after_id = 50, .rule = "r-a"}}).alerts),
            (std::vector<uint64_t>{100'000, kFar}));
  EXPECT_EQ(
      Ids(store->Query({.filter = {.before_id = 100'000, .rule = "r-a"}, .newest_first = true})
              .alerts),
      (std::vector<uint64_t>{50, 10}));
  EXPECT_EQ(Ids(store->Query({.filter = {.rule = "r-b"}}).alerts),
            (std::vector<uint64_t>{11, 100'001}));
}

Alert AggregateVersion(const std::string& rule, uint64_t replaces) {
  Alert alert = MakeAlert({.rule_id = rule, .level = rules::Level::kHigh});
  alert.aggregate_key = 99;
  alert.replaces = replaces;
  return alert;
}

// A replaced version's id stays in its posting (the posting is one key for
// its batch) until retention's next run drops it: queries skip it meanwhile,
// whatever the direction, page size or index, and return the same after.
TEST(StorePostings, AReplacedVersionInAPostingIsSkippedThenPurged) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));  // retention limits off: purges still run
  std::vector<Alert> first = {AggregateVersion("agg", 0),
                              MakeAlert({.rule_id = "agg", .level = rules::Level::kHigh}),
                              MakeAlert({.rule_id = "other", .level = rules::Level::kHigh})};
  store->Publish(first);  // ids 1-3, one batch
  store->Flush();
  std::vector<Alert> second = {AggregateVersion("agg", 1),
                               MakeAlert({.rule_id = "agg", .level = rules::Level::kHigh})};
  store->Publish(second);  // ids 4-5
  store->Flush();
  EXPECT_FALSE(store->Get(1));
  EXPECT_EQ(store->stats().replaced, 1u);
  auto check_queries = [&] {
    for (const AlertFilter& filter :
         {AlertFilter{.rule = "agg"}, AlertFilter{.min_level = rules::Level::kHigh},
          AlertFilter{.agency = "mof"}, AlertFilter{}}) {
      std::vector<uint64_t> want =
          filter.rule == "agg" ? std::vector<uint64_t>{2, 4, 5} : std::vector<uint64_t>{2, 3, 4, 5};
      for (size_t limit : {1, 2, 100}) {
        EXPECT_EQ(AllPages(*store, {.filter = filter, .limit = limit}), want);
        std::reverse(want.begin(), want.end());
        EXPECT_EQ(AllPages(*store, {.filter = filter, .limit = limit, .newest_first = true}), want);
        std::reverse(want.begin(), want.end());
      }
    }
  };
  check_queries();  // 1 is still in its postings here: skipped
  EXPECT_EQ(store->RunRetention(std::chrono::system_clock::now()), 0u);
  check_queries();
  store.reset();
  // Purged: the posting {1, 2} is now {2}, keyed by 2; level and agency alike.
  const auto rule = PostingsOf(dir.db(), "by_rule").at(format::NamePrefix("agg"));
  ASSERT_EQ(rule.size(), 2u);
  EXPECT_EQ(rule[0].key_id, 2u);
  EXPECT_EQ(rule[0].ids, (std::vector<uint64_t>{2}));
  EXPECT_EQ(rule[1].ids, (std::vector<uint64_t>{4, 5}));
  const auto level = PostingsOf(dir.db(), "by_level").at(format::LevelPrefix(rules::Level::kHigh));
  ASSERT_EQ(level.size(), 2u);
  EXPECT_EQ(level[0].ids, (std::vector<uint64_t>{2, 3}));
  const auto agency = PostingsOf(dir.db(), "by_agency").at(format::NamePrefix("mof"));
  ASSERT_EQ(agency.size(), 2u);
  EXPECT_EQ(agency[0].ids, (std::vector<uint64_t>{2, 3}));
}

// Many versions replaced across many batches are purged in one run: each
// posting then holds exactly its live ids.
TEST(StorePostings, ReplacedVersionsAcrossBatchesArePurgedFromEachPosting) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  uint64_t previous = 0;
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Alert> alerts = {AggregateVersion("agg", previous),
                                 MakeAlert({.rule_id = "agg", .level = rules::Level::kHigh})};
    store->Publish(alerts);
    store->Flush();
    previous = store->last_id() - 1;  // the version just committed
  }
  EXPECT_EQ(store->stats().replaced, 19u);
  EXPECT_EQ(store->RunRetention(std::chrono::system_clock::now()), 0u);
  std::set<uint64_t> live;
  for (uint64_t id = 1; id <= store->last_id(); ++id) {
    if (store->Get(id)) live.insert(id);
  }
  EXPECT_EQ(live.size(), 21u);  // 20 fillers and the newest version
  store.reset();
  for (const char* cf : {"by_rule", "by_level", "by_agency"}) {
    std::set<uint64_t> indexed;
    for (const auto& [prefix, postings] : PostingsOf(dir.db(), cf)) {
      for (const Posting& posting : postings) {
        EXPECT_EQ(posting.ids.front(), posting.key_id);
        indexed.insert(posting.ids.begin(), posting.ids.end());
      }
    }
    EXPECT_EQ(indexed, live) << cf;
  }
}

// Retention drops what it deletes from the postings (a posting split by the
// cut keeps its live ids under the first of them) and removes the postings
// left with only replaced versions' ids.
TEST(StorePostings, RetentionRemovesPostings) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  uint64_t live_bytes = 0;
  {
    auto store = AlertStore::Open(options);
    std::vector<Alert> v1 = {AggregateVersion("agg", 0)};
    store->Publish(v1);  // id 1
    store->Flush();
    std::vector<Alert> v2 = {AggregateVersion("agg", 1)};
    store->Publish(v2);  // id 2, replaces 1
    store->Flush();
    std::vector<Alert> alerts;
    for (size_t i = 0; i < 300; ++i) alerts.push_back(MakeAlert(Varied(i)));
    store->Publish(alerts);  // ids 3-302, in one or a few batches
    store->Flush();
    live_bytes = store->stats().live_bytes;
  }
  options.retention_bytes = live_bytes / 2;
  auto store = AlertStore::Open(options);
  const uint64_t deleted = store->RunRetention(std::chrono::system_clock::now());
  EXPECT_GT(deleted, 100u);
  EXPECT_LT(deleted, 200u);
  std::set<uint64_t> live;
  for (uint64_t id = 1; id <= 302; ++id) {
    if (store->Get(id)) live.insert(id);
  }
  EXPECT_EQ(live.size(), 301 - deleted);  // 1 was replaced
  EXPECT_FALSE(live.count(2));
  // What each prefix's postings should hold: its live alerts' ids.
  std::map<std::string, std::set<uint64_t>> want_rule, want_level;
  for (uint64_t id : live) {
    const StoredAlert alert = *store->Get(id);
    want_rule[format::NamePrefix(alert.rule_id)].insert(id);
    if (!alert.rule_name.empty()) want_rule[format::NamePrefix(alert.rule_name)].insert(id);
    want_level[format::LevelPrefix(alert.level)].insert(id);
  }
  store.reset();
  auto check = [](const std::map<std::string, std::vector<Posting>>& postings,
                  const std::map<std::string, std::set<uint64_t>>& want) {
    std::map<std::string, std::set<uint64_t>> got;
    for (const auto& [prefix, list] : postings) {
      for (const Posting& posting : list) {
        EXPECT_FALSE(posting.ids.empty());
        EXPECT_EQ(posting.ids.front(), posting.key_id);
        got[prefix].insert(posting.ids.begin(), posting.ids.end());
      }
    }
    EXPECT_EQ(got, want);
  };
  check(PostingsOf(dir.db(), "by_rule"), want_rule);  // no "agg" left: 1 dead, 2 deleted
  check(PostingsOf(dir.db(), "by_level"), want_level);
}

// A store of format 3 (one index entry per alert) reads its entries as
// one-id postings and is marked format 4; a format this gsoc does not know
// is refused.
TEST(StorePostings, AFormat3StoreIsUpgradedAndAnUnknownFormatRefused) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  {
    auto store = AlertStore::Open(options);
    for (int i = 0; i < 3; ++i) {
      PublishOne(*store, {.rule_id = "r"});
      store->Flush();  // one alert a batch: the bytes of per-alert entries
    }
  }
  SetFormatVersion(dir.db(), format::kFormatVersionPerAlertIndex);
  {
    auto store = AlertStore::Open(options);
    PublishMany(*store, 50, {.rule_id = "r"});
    store->Flush();
    EXPECT_EQ(AllPages(*store, {.filter = {.rule = "r"}, .limit = 7}), Range(1, 53));
    std::vector<uint64_t> newest = Range(1, 53);
    std::reverse(newest.begin(), newest.end());
    EXPECT_EQ(AllPages(*store, {.filter = {.rule = "r"}, .limit = 7, .newest_first = true}),
              newest);
  }
  SetFormatVersion(dir.db(), format::kFormatVersion + 1);
  EXPECT_THROW(AlertStore::Open(options), std::runtime_error);
}

}  // namespace
}  // namespace gsoc::store
