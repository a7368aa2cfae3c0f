#include "engine/aggregate/aggregator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "engine/aggregate/aggregate_key.h"
#include "engine/util/time_format.h"
#include "tests/util/temp_dir.h"

namespace gsoc::aggregate {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'764'000'000 * kSecond;

class TestClock {
 public:
  void Advance(std::chrono::milliseconds by) { ns_ += by.count() * 1'000'000; }
  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(ns_.load()));
  }

 private:
  std::atomic<int64_t> ns_{kBase};
};

struct Hit {
  const rules::Rule* rule;
  std::string src_ip;
  std::string user;
  std::string host = "bastion";
};

// What the listener saw committed: every version, in id order.
struct Version {
  uint64_t id, key, replaces;
  uint32_t version;
  uint64_t count;
};

class Recorder : public store::CommitListener {
 public:
  void OnCommitted(std::span<const store::StoredAlert> alerts) override {
    std::lock_guard lock(mutex_);
    for (const store::StoredAlert& a : alerts) {
      Alert parsed;
      const bool aggregate = ParseAggregateAlert(a.json, &parsed);
      versions_.push_back(
          {a.id, a.aggregate_key, a.replaces, a.aggregate_version, aggregate ? parsed.count : 1});
    }
  }
  std::vector<Version> versions() const {
    std::lock_guard lock(mutex_);
    return versions_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Version> versions_;
};

class AggregatorTest : public ::testing::Test {
 protected:
  AggregatorTest() {
    rule_a_.id = "rule-a";
    rule_a_.title = "A";
    rule_b_.id = "rule-b";
    rule_b_.title = "B";
    rule_user_.id = "rule-user";
    rule_user_.aggregate_by = std::vector<std::string>{"user"};
    rule_alone_.id = "rule-alone";
    rule_alone_.aggregate_by = std::vector<std::string>{};
  }

  void OpenStore() {
    store::StoreOptions options;
    options.path = dir_ / "alerts.db";
    options.sync = store::SyncPolicy::kNone;
    options.retention_age = 0s;
    store_ = store::AlertStore::Open(options);
    store_->AddListener(&recorder_);
  }

  std::unique_ptr<Aggregator> MakeAggregator(AggregateOptions options = {}) {
    if (options.period == AggregateOptions().period) options.period = 60s;
    if (options.update_interval == AggregateOptions().update_interval) {
      options.update_interval = 5s;
    }
    options.clock_for_test = [this] { return clock_.now(); };
    auto aggregator = std::make_unique<Aggregator>(options, store_.get());
    store_->AddListener(aggregator.get());
    return aggregator;
  }

  // One batch of hits through the aggregator into the store, as the stage does.
  void AddBatch(Aggregator& aggregator, const std::vector<Hit>& hits) {
    EventBatch batch;
    std::vector<DetectionHit> detections;
    for (const Hit& hit : hits) {
      Event& event = batch.AddEvent();
      event.id = ++event_id_;
      event.event_time_ns = clock_.now().time_since_epoch().count();
      event.host = batch.arena().Copy(hit.host);
      const std::string raw = "Failed password for " + hit.user + " from " + hit.src_ip;
      event.raw = batch.arena().Copy(raw);
      batch.AddField(event, batch.arena().Copy("src_ip"), batch.arena().Copy(hit.src_ip));
      batch.AddField(event, batch.arena().Copy("user"), batch.arena().Copy(hit.user));
      detections.push_back({static_cast<uint32_t>(batch.size() - 1), hit.rule});
    }
    std::vector<Alert> alerts;
    aggregator.Add(batch, detections, agencies_, alerts);
    store_->Publish(alerts);
    store_->Flush();  // the ids of published versions are known before the next tick
  }

  void Tick(Aggregator& aggregator) {
    aggregator.Tick(clock_.now());
    store_->Flush();
  }

  std::vector<store::StoredAlert> Stored() const {
    std::vector<store::StoredAlert> all;
    store::QueryRequest request;
    request.limit = 10'000;
    for (;;) {
      store::QueryResult page = store_->Query(request);
      for (auto& a : page.alerts) all.push_back(std::move(a));
      if (page.next_cursor == 0) return all;
      request.filter.after_id = page.next_cursor;
    }
  }

  gsoc::test::TempDir dir_{"aggregate"};
  TestClock clock_;
  Recorder recorder_;
  std::unique_ptr<store::AlertStore> store_;
  std::vector<std::string> agencies_{"mof"};
  rules::Rule rule_a_, rule_b_, rule_user_, rule_alone_;
  uint64_t event_id_ = 0;
};

std::string GroupText(const Alert& alert) {
  std::string text = alert.rule.id;
  for (const auto& [name, value] : alert.group) text += "|" + name + "=" + value;
  return text;
}

// The aggregate counts equal an independent count of the hits, the store
// holds one record per aggregate (its newest version), and every version a
// listener saw has a higher id than the one it replaced.
TEST_F(AggregatorTest, CountsEqualAnIndependentCountOfHits) {
  OpenStore();
  auto aggregator = MakeAggregator();
  std::mt19937 random(7);
  std::map<std::string, uint64_t> expected;  // rule|host|src_ip|user -> hits
  size_t total = 0;
  for (int batch = 0; batch < 300; ++batch) {
    std::vector<Hit> hits;
    for (int i = 0; i < 64; ++i) {
      Hit hit{random() % 2 ? &rule_a_ : &rule_b_, "198.51.100." + std::to_string(random() % 20),
              "user" + std::to_string(random() % 5), random() % 2 ? "web1" : "bastion"};
      expected[hit.rule->id + "|src_ip=" + hit.src_ip + "|user=" + hit.user +
               "|host=" + hit.host] += 1;
      hits.push_back(hit);
    }
    total += hits.size();
    AddBatch(*aggregator, hits);
    clock_.Advance(1s);  // 300 s: five periods of 60 s
    Tick(*aggregator);
  }
  aggregator->Stop();
  store_->Flush();

  std::map<std::string, uint64_t> counted;
  std::set<uint64_t> keys;
  const std::vector<store::StoredAlert> stored = Stored();
  for (const store::StoredAlert& a : stored) {
    Alert alert;
    ASSERT_TRUE(ParseAggregateAlert(a.json, &alert)) << a.json;
    counted[GroupText(alert)] += alert.count;
    EXPECT_LE(alert.events.size(), 10u);
    EXPECT_GE(alert.events.size(), std::min<uint64_t>(alert.count, 10));
  }
  EXPECT_EQ(counted, expected);
  const AggregatorStats stats = aggregator->stats();
  EXPECT_EQ(stats.hits, total);
  EXPECT_EQ(stats.opened, stored.size());  // one record per aggregate
  EXPECT_EQ(stats.opened + stats.aggregated, total);
  EXPECT_EQ(stats.closed, stats.opened);
  EXPECT_EQ(stats.open, 0u);
  EXPECT_EQ(stats.overflow, 0u);
  EXPECT_LT(stored.size() * 5, total);  // 400 keys, 5 periods, 19,200 hits
  std::printf("[aggregate] %zu hits -> %zu stored alerts (%llu versions published)\n", total,
              stored.size(), static_cast<unsigned long long>(stats.opened + stats.updated));

  // Versions: ids increase; each replaces the previous version of its key.
  std::map<uint64_t, Version> newest;  // key -> newest version seen
  uint64_t previous_id = 0;
  for (const Version& v : recorder_.versions()) {
    EXPECT_GT(v.id, previous_id);
    previous_id = v.id;
    ASSERT_NE(v.key, 0u);
    auto it = newest.find(v.key);
    if (v.version == 0) {
      EXPECT_EQ(v.replaces, 0u);
    } else {
      ASSERT_NE(it, newest.end());
      EXPECT_EQ(v.replaces, it->second.id);
      EXPECT_EQ(v.version, it->second.version + 1);
      EXPECT_GT(v.count, it->second.count);
      EXPECT_FALSE(store_->Get(v.replaces).has_value()) << "replaced record still stored";
    }
    newest[v.key] = v;
  }
  EXPECT_EQ(store_->stats().replaced, stats.updated);
}

// The tick visits only what is due: a grown aggregate's next version comes
// once update_interval since its last version passed, not before; one that
// did not grow is left alone until its period ends; both close at their end.
TEST_F(AggregatorTest, VersionsComeWhenTheIntervalPassedAndAggregatesCloseAtTheirEnd) {
  OpenStore();
  auto aggregator = MakeAggregator();  // period 60 s, update_interval 5 s
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_a_, "10.0.0.2", "root"}});
  clock_.Advance(1s);
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}});  // 10.0.0.1 grows
  const auto stats = [&] { return aggregator->stats(); };
  Tick(*aggregator);  // 1 s
  EXPECT_EQ(stats().updated, 0u);
  clock_.Advance(3s);
  Tick(*aggregator);  // 4 s
  EXPECT_EQ(stats().updated, 0u);
  clock_.Advance(1s);
  Tick(*aggregator);  // 5 s: version 1 of 10.0.0.1
  EXPECT_EQ(stats().updated, 1u);
  clock_.Advance(1s);
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}});  // grows again at 6 s
  for (int second = 7; second <= 59; ++second) {
    clock_.Advance(1s);
    Tick(*aggregator);
    if (second == 9) {
      EXPECT_EQ(stats().updated, 1u);  // 4 s after version 1
    }
  }
  EXPECT_EQ(stats().updated, 2u);  // version 2 at 10 s
  EXPECT_EQ(stats().closed, 0u);
  EXPECT_EQ(stats().open, 2u);
  clock_.Advance(1s);
  Tick(*aggregator);  // 60 s: both periods end
  EXPECT_EQ(stats().closed, 2u);
  EXPECT_EQ(stats().open, 0u);
  EXPECT_EQ(stats().updated, 2u);
  std::map<std::string, uint64_t> counts;
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    ASSERT_TRUE(ParseAggregateAlert(a.json, &alert));
    counts[GroupText(alert)] = alert.count;
  }
  EXPECT_EQ(counts["rule-a|src_ip=10.0.0.1|user=root|host=bastion"], 3u);
  EXPECT_EQ(counts["rule-a|src_ip=10.0.0.2|user=root|host=bastion"], 1u);
}

TEST_F(AggregatorTest, RuleAttributeChoosesTheGroupFieldsAndAnEmptyListAlertsEveryHit) {
  OpenStore();
  auto aggregator = MakeAggregator();
  AddBatch(*aggregator, {{&rule_user_, "10.0.0.1", "root"},
                         {&rule_user_, "10.0.0.2", "root"},
                         {&rule_user_, "10.0.0.3", "admin"},
                         {&rule_alone_, "10.0.0.1", "root"},
                         {&rule_alone_, "10.0.0.1", "root"}});
  clock_.Advance(61s);
  Tick(*aggregator);
  std::map<std::string, uint64_t> counts;
  size_t plain = 0;
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    if (ParseAggregateAlert(a.json, &alert)) {
      counts[GroupText(alert)] = alert.count;
    } else {
      EXPECT_EQ(a.rule_id, "rule-alone");
      ++plain;
    }
  }
  EXPECT_EQ(counts, (std::map<std::string, uint64_t>{{"rule-user|user=root", 2},
                                                     {"rule-user|user=admin", 1}}));
  EXPECT_EQ(plain, 2u);
}

TEST_F(AggregatorTest, BeyondMaxOpenAHitIsAnAlertOfItsOwnNeverDropped) {
  OpenStore();
  AggregateOptions options;
  options.max_open = 2;
  auto aggregator = MakeAggregator(options);
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_a_, "10.0.0.2", "root"}});
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.3", "root"}});
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}});
  EXPECT_EQ(aggregator->stats().overflow, 1u);
  EXPECT_EQ(aggregator->stats().open, 2u);
  aggregator->Stop();
  uint64_t hits = 0;
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    hits += ParseAggregateAlert(a.json, &alert) ? alert.count : 1;
  }
  EXPECT_EQ(hits, 4u);
}

// Every key hashes alike here: a hit whose key differs from the open
// aggregate's under that hash is an alert of its own, never joined to it.
TEST_F(AggregatorTest, AHashCollisionNeverJoinsAnotherAggregate) {
  OpenStore();
  AggregateOptions options;
  options.key_hash_for_test = [](std::string_view) { return uint64_t{7}; };
  auto aggregator = MakeAggregator(options);
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"},
                         {&rule_a_, "10.0.0.2", "root"},
                         {&rule_b_, "10.0.0.1", "root"},
                         {&rule_a_, "10.0.0.1", "root"}});
  const AggregatorStats stats = aggregator->stats();
  EXPECT_EQ(stats.opened, 1u);
  EXPECT_EQ(stats.aggregated, 1u);
  EXPECT_EQ(stats.collisions, 2u);
  aggregator->Stop();
  std::map<std::string, uint64_t> counts;  // group -> count
  std::set<std::string> plain;             // rule and source of the alerts of their own
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    if (ParseAggregateAlert(a.json, &alert)) {
      counts[GroupText(alert)] += alert.count;
    } else {
      plain.insert(a.rule_id + (a.json.find("10.0.0.2") != std::string::npos ? "@2" : "@1"));
    }
  }
  EXPECT_EQ(
      counts,
      (std::map<std::string, uint64_t>{{"rule-a|src_ip=10.0.0.1|user=root|host=bastion", 2}}));
  EXPECT_EQ(plain, (std::set<std::string>{"rule-a@2", "rule-b@1"}));
}

// The key's hash is stored (aggregate.key) and resumed, and the cluster's
// PartitionAggregator makes it from the same bytes: its value for a hit
// never changes, whatever the aggregator does to find it faster.
TEST_F(AggregatorTest, TheKeyHashOfAHitIsStable) {
  using namespace std::string_literals;
  EXPECT_EQ(AggregateKeyHash("rule-a\0mof\0src_ip=10.0.0.1\0user=root\0host=bastion\0"s),
            0xf92fafbe7632860full);
  OpenStore();
  auto aggregator = MakeAggregator();
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_user_, "10.0.0.2", "admin"}});
  std::map<std::string, uint64_t> keys;  // group -> aggregate.key
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    ASSERT_TRUE(ParseAggregateAlert(a.json, &alert));
    keys[GroupText(alert)] = alert.aggregate_key;
    EXPECT_EQ(alert.aggregate_key, AggregateKeyHash(AggregateKeyOf(alert)));
  }
  EXPECT_EQ(keys, (std::map<std::string, uint64_t>{
                      {"rule-a|src_ip=10.0.0.1|user=root|host=bastion", 0xf92fafbe7632860full},
                      {"rule-user|user=admin", 0xc8f10253b1059a6cull}}));
}

// gsocd died (no Stop): the next one continues the open aggregates from
// their stored versions; hits that were never published are lost, the
// published counts are not.
TEST_F(AggregatorTest, ResumeContinuesTheOpenAggregatesAfterACrash) {
  OpenStore();
  {
    auto aggregator = MakeAggregator();
    AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_a_, "10.0.0.2", "root"}});
    clock_.Advance(1s);
    AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_a_, "10.0.0.1", "root"}});
    clock_.Advance(5s);
    Tick(*aggregator);                                        // version 1 of 10.0.0.1 with count 3
    AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}});  // never published: lost
    store_.reset();  // the store closes; the aggregator dies without Stop
  }
  OpenStore();
  auto aggregator = MakeAggregator();
  EXPECT_EQ(aggregator->Resume(*store_), 2u);
  AddBatch(*aggregator, {{&rule_a_, "10.0.0.1", "root"}, {&rule_a_, "10.0.0.2", "root"}});
  EXPECT_EQ(aggregator->stats().opened, 0u) << "a resumed aggregate must not open anew";
  EXPECT_EQ(aggregator->stats().collisions, 0u) << "a resumed aggregate keeps its key's bytes";
  aggregator->Stop();
  std::map<std::string, std::pair<uint64_t, uint32_t>> stored;  // group -> count, version
  for (const store::StoredAlert& a : Stored()) {
    Alert alert;
    ASSERT_TRUE(ParseAggregateAlert(a.json, &alert));
    stored[GroupText(alert)] = {alert.count, alert.aggregate_version};
  }
  EXPECT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored["rule-a|src_ip=10.0.0.1|user=root|host=bastion"],
            (std::pair<uint64_t, uint32_t>{4, 2}));
  EXPECT_EQ(stored["rule-a|src_ip=10.0.0.2|user=root|host=bastion"],
            (std::pair<uint64_t, uint32_t>{2, 1}));

  // Past the period nothing is resumed.
  store_.reset();
  OpenStore();
  clock_.Advance(120s);
  auto later = MakeAggregator();
  EXPECT_EQ(later->Resume(*store_), 0u);
}

TEST(ParseAggregateAlert, ReadsBackWhatAppendAlertJsonWrote) {
  Alert alert;
  alert.id = 42;
  alert.time_ns = kBase + 123'000'000;
  alert.rule = {"rid", "rname", "Title \"quoted\"", rules::Level::kHigh, {"attack.t1110", "x"}};
  alert.agency = "mof";
  alert.group = {{"src_ip", "203.0.113.7"}, {"user", "root"}};
  alert.window_start_ns = kBase;
  alert.window_end_ns = kBase + 5 * kSecond;
  alert.count = 17;
  alert.fields = {{"src_ip", "203.0.113.7"}, {"message", "a\nb"}};
  alert.events = {{9, kBase, "line one"}, {10, kBase + kSecond, "line \x01 two"}};
  alert.aggregate_key = 0xfedcba9876543210ull;
  alert.aggregate_version = 3;
  alert.aggregate_opened_ns = kBase;
  alert.aggregate_closes_ns = kBase + 600 * kSecond;
  alert.replaces = 41;
  std::string json;
  AppendAlertJson(json, alert);
  Alert read;
  ASSERT_TRUE(ParseAggregateAlert(json, &read)) << json;
  EXPECT_EQ(read.time_ns, alert.time_ns);
  EXPECT_EQ(read.rule.id, "rid");
  EXPECT_EQ(read.rule.title, alert.rule.title);
  EXPECT_EQ(read.rule.level, rules::Level::kHigh);
  EXPECT_EQ(read.rule.tags, alert.rule.tags);
  EXPECT_EQ(read.agency, "mof");
  EXPECT_EQ(read.group, alert.group);
  EXPECT_EQ(read.window_start_ns, alert.window_start_ns);
  EXPECT_EQ(read.window_end_ns, alert.window_end_ns);
  EXPECT_EQ(read.count, 17u);
  EXPECT_EQ(read.fields, alert.fields);
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[1].raw, alert.events[1].raw);
  EXPECT_EQ(read.events[1].id, 10u);
  EXPECT_EQ(read.aggregate_key, alert.aggregate_key);
  EXPECT_EQ(read.aggregate_version, 3u);
  EXPECT_EQ(read.aggregate_closes_ns, alert.aggregate_closes_ns);
  EXPECT_EQ(read.replaces, 41u);
  std::string again;
  read.id = 42;
  AppendAlertJson(again, read);
  EXPECT_EQ(again, json);
  alert.aggregate_key = 0;
  json.clear();
  AppendAlertJson(json, alert);
  EXPECT_FALSE(ParseAggregateAlert(json, &read));
}

}  // namespace
}  // namespace gsoc::aggregate
