// Correlation state bounded in bytes (issue 11 finding 6): long group-by
// values are truncated (marked, and kept distinct by a hash), each rule's
// keys are bounded in bytes as well as in count, the checkpoint follows, and
// eviction takes the least advanced key, never a brute force in progress.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/correlate/correlator.h"

namespace gsoc::correlate {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'700'000'000 * kSecond;

CorrelationSet Brute(int64_t gte = 5) {
  CorrelationRule rule;
  rule.id = rule.name = rule.title = "brute";
  rule.type = CorrelationType::kEventCount;
  RuleRef ref;
  ref.written = ref.name = "failure";
  rule.refs.push_back(ref);
  rule.group_by = {"user"};
  rule.group_fields = {{"user"}};
  rule.timespan_ns = 600 * kSecond;
  rule.condition.gte = static_cast<double>(gte);
  rule.fingerprint = "brute";
  CorrelationSet set;
  set.rules = {rule};
  set.detection_routes = {{{0, 0}}};
  set.correlation_routes.resize(1);
  set.correlation_silenced = {false};
  set.detection_silenced = {true};
  return set;
}

// A batch of failures for `users`, one a second from `first_second`.
class Batch {
 public:
  void Add(uint64_t id, double seconds, const std::string& user) {
    Event& event = batch_.AddEvent();
    event.id = id;
    event.event_time_ns = kBase + static_cast<int64_t>(seconds * kSecond);
    event.host = batch_.arena().Copy("h");
    event.raw = batch_.arena().Copy("Failed password for " + user + " from 192.0.2.1");
    event.message = event.raw;
    batch_.AddField(event, batch_.arena().Copy("user"), batch_.arena().Copy(user));
    hits_.push_back({static_cast<uint32_t>(batch_.size() - 1), 0});
  }
  const EventBatch& batch() const { return batch_; }
  const std::vector<RuleHit>& hits() const { return hits_; }

 private:
  EventBatch batch_;
  std::vector<RuleHit> hits_;
};

// Finding 6: 3,000 failures, each for a unique 60 KB user name.
TEST(StateBoundsTest, UniqueHugeGroupValuesKeepStateAndCheckpointSmall) {
  CorrelatorOptions options;  // the defaults of deploy/gsoc.yaml
  Correlator correlator(options, {"mof"});
  const CorrelationSet set = Brute();
  std::vector<Alert> alerts;
  for (int b = 0; b < 30; ++b) {
    Batch batch;
    for (int i = 0; i < 100; ++i) {
      const int n = b * 100 + i;
      batch.Add(n + 1, n * 0.01, std::string(60 * 1024 - 8, 'u') + std::to_string(100000 + n));
    }
    correlator.Process(set, batch.batch(), batch.hits(), alerts);
  }
  const CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.live_keys, 3000u);  // still distinct: the hash keeps them apart
  std::string checkpoint;
  correlator.Checkpoint(checkpoint);
  std::printf("3000 unique 60 KB users: state %llu bytes, checkpoint %zu bytes\n",
              static_cast<unsigned long long>(stats.state_bytes), checkpoint.size());
  // Key bytes are bounded by max_value_bytes (256): ~600 bytes a key all
  // told, against 180 MB before; the checkpoint's raw lines by
  // max_raw_line_bytes (4 KiB each), against 230 MB before.
  EXPECT_LT(stats.state_bytes, 4u << 20);
  EXPECT_LT(checkpoint.size(), 16u << 20);
  // Restored, the same state.
  Correlator restored(options, {"mof"});
  std::string error;
  ASSERT_TRUE(restored.Restore(set, checkpoint, &error)) << error;
  EXPECT_EQ(restored.stats().live_keys, 3000u);
}

// A truncated value is marked in the alert, and two long values that share
// their first bytes stay two keys.
TEST(StateBoundsTest, LongGroupValueIsTruncatedMarkedAndDistinct) {
  CorrelatorOptions options;
  options.max_value_bytes = 64;
  Correlator correlator(options, {"mof"});
  const CorrelationSet set = Brute(3);
  const std::string common(200, 'a');
  Batch batch;
  for (int i = 0; i < 3; ++i) batch.Add(i + 1, i, common + "x");
  for (int i = 0; i < 2; ++i) batch.Add(i + 10, i, common + "y");
  std::vector<Alert> alerts;
  correlator.Process(set, batch.batch(), batch.hits(), alerts);
  ASSERT_EQ(alerts.size(), 1u);  // "...y" has only two
  ASSERT_EQ(alerts[0].group.size(), 1u);
  const std::string& value = alerts[0].group[0].second;
  EXPECT_EQ(value.size(), 64u);
  EXPECT_EQ(value.substr(0, 44), common.substr(0, 44));
  EXPECT_EQ(value.substr(44, 4), "...#");
  EXPECT_EQ(correlator.stats().live_keys, 1u);  // "...x" fired and was consumed; "...y" waits
}

// The per-rule byte bound evicts like the key-count bound.
TEST(StateBoundsTest, RuleStateIsBoundedInBytes) {
  CorrelatorOptions options;
  options.shards = 1;
  options.max_bytes_per_rule = 64 * 1024;
  Correlator correlator(options, {"mof"});
  const CorrelationSet set = Brute();
  std::vector<Alert> alerts;
  Batch batch;
  for (int i = 0; i < 5000; ++i) batch.Add(i + 1, i * 0.001, "user-" + std::to_string(i));
  correlator.Process(set, batch.batch(), batch.hits(), alerts);
  const CorrelatorStats stats = correlator.stats();
  EXPECT_GT(stats.evicted, 4000u);
  // The bound is on live keys; the table's index (load <= 0.8, powers of
  // two) and slot chunks add at most half again, the source and its
  // deadline heap a few KB.
  EXPECT_LT(stats.state_bytes, 64u * 1024 * 3 / 2 + 8 * 1024);
}

// A flood of unique keys at max_keys_per_rule evicts flood keys (one entry,
// least advanced), not the brute force in progress.
TEST(StateBoundsTest, FloodOfUniqueKeysDoesNotEvictABruteForceInProgress) {
  CorrelatorOptions options;
  options.shards = 1;
  options.max_keys_per_rule = 100;
  Correlator correlator(options, {"mof"});
  const CorrelationSet set = Brute();
  std::vector<Alert> alerts;
  uint64_t id = 1;
  Batch start;
  for (int i = 0; i < 4; ++i) start.Add(id++, i, "victim");
  correlator.Process(set, start.batch(), start.hits(), alerts);
  for (int round = 0; round < 10; ++round) {
    Batch flood;
    for (int i = 0; i < 500; ++i, ++id) flood.Add(id, 5 + round, "flood-" + std::to_string(id));
    correlator.Process(set, flood.batch(), flood.hits(), alerts);
  }
  EXPECT_GE(correlator.stats().evicted, 4900u);
  Batch last;
  last.Add(id++, 20, "victim");
  correlator.Process(set, last.batch(), last.hits(), alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].group[0].second, "victim");
  EXPECT_EQ(alerts[0].count, 5u);
}

}  // namespace
}  // namespace gsoc::correlate
