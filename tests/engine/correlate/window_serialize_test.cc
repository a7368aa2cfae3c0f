// KeyWindow checkpoint form: round trips, truncated and hostile input.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "engine/correlate/window.h"
#include "tests/engine/correlate/window_test_util.h"

namespace gsoc::correlate {
namespace {

using namespace window_test;

struct Step {
  int64_t time = 0;
  uint32_t ref = 0;
  uint64_t hash = 0;
  double number = 0;
};

struct SerializeCase {
  const char* name;
  CorrelationRule rule;
  std::vector<Step> before, after;
  int64_t watermark;
};

std::vector<SerializeCase> SerializeCases() {
  return {
      {"event_count", MakeRule(Type::kEventCount, Gte(3)), {{0}, {5}}, {{9}, {20}}, 100},
      {"event_count_lt", MakeRule(Type::kEventCount, Lt(3)), {{0}, {5}}, {{9}, {20}}, 100},
      {"value_count",
       MakeRule(Type::kValueCount, Gte(3)),
       {{0, 0, 1}, {1, 0, 2}},
       {{2, 0, 2}, {3, 0, 3}},
       100},
      {"value_sum",
       MakeRule(Type::kValueSum, Gte(10)),
       {{0, 0, 0, 4.5}, {1, 0, 0, 2.25}},
       {{2, 0, 0, 3.25}},
       100},
      {"value_avg",
       MakeRule(Type::kValueAvg, Lt(3)),
       {{0, 0, 0, 1}, {1, 0, 0, 2}},
       {{2, 0, 0, 4}},
       100},
      {"value_median",
       MakeRule(Type::kValueMedian, Lt(3)),
       {{0, 0, 0, 1}, {1, 0, 0, 2}},
       {{2, 0, 0, 40}},
       100},
      {"temporal", MakeRule(Type::kTemporal, {}, 10, 3), {{0, 0}, {1, 2}}, {{2, 1}}, 100},
      {"temporal_ordered",
       MakeRule(Type::kTemporalOrdered, {}, 10, 3),
       {{0, 0}, {1, 1}},
       {{2, 2}},
       100},
      {"absent", AbsentRule(), {{0, 0}}, {{3, 1}}, 100},
  };
}

struct Outcome {
  bool fired;
  int64_t start, end;
  uint64_t count;
  double value;
  std::vector<uint64_t> ids;
  bool operator==(const Outcome&) const = default;
};

std::vector<Outcome> Continue(Harness& h, const std::vector<Step>& steps, int64_t watermark) {
  std::vector<Outcome> outcomes;
  auto record = [&](bool fired) {
    outcomes.push_back(fired ? Outcome{true, h.firing.window_start_ns, h.firing.window_end_ns,
                                       h.firing.count, h.firing.value, h.Ids()}
                             : Outcome{false, 0, 0, 0, 0, {}});
  };
  for (const Step& s : steps) record(h.Add(s.time, s.ref, s.hash, s.number));
  record(h.Advance(watermark));
  return outcomes;
}

TEST(WindowSerialize, RoundTripMidWindowForEveryType) {
  for (const SerializeCase& c : SerializeCases()) {
    Harness original(c.rule);
    for (const Step& s : c.before) original.Add(s.time, s.ref, s.hash, s.number);
    std::string blob;
    original.window.Serialize(blob);
    blob += "tail";
    Harness restored(c.rule);
    restored.next_id = original.next_id;
    std::string_view in = blob;
    ASSERT_TRUE(restored.window.Deserialize(in)) << c.name;
    EXPECT_EQ(in, "tail") << c.name;
    std::string again;
    restored.window.Serialize(again);
    EXPECT_EQ(again + "tail", blob) << c.name;
    EXPECT_EQ(restored.window.newest_ns(), original.window.newest_ns()) << c.name;
    EXPECT_EQ(restored.window.NextDeadline(c.rule), original.window.NextDeadline(c.rule));
    const std::vector<Outcome> expected = Continue(original, c.after, c.watermark);
    EXPECT_EQ(Continue(restored, c.after, c.watermark), expected) << c.name;
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(), [](auto& o) { return o.fired; }))
        << c.name;
  }
}

TEST(WindowSerialize, EmptyRoundTrip) {
  KeyWindow window;
  std::string blob;
  window.Serialize(blob);
  std::string_view in = blob;
  KeyWindow restored;
  ASSERT_TRUE(restored.Deserialize(in));
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(restored.empty());
  EXPECT_EQ(restored.HeapBytes(), 0u);
}

TEST(WindowSerialize, TruncatedInputRejectedAndNothingChanges) {
  Harness h(MakeRule(Type::kValueCount, Gte(10)));
  for (int64_t t = 0; t < 5; ++t) h.Value(t, t);
  std::string blob;
  h.window.Serialize(blob);
  Harness target(MakeRule(Type::kEventCount, Gte(10)));
  target.Add(77);
  std::string before;
  target.window.Serialize(before);
  for (size_t length = 0; length < blob.size(); ++length) {
    std::string_view in(blob.data(), length);
    EXPECT_FALSE(target.window.Deserialize(in)) << length;
    EXPECT_EQ(in.size(), length);
  }
  std::string after;
  target.window.Serialize(after);
  EXPECT_EQ(after, before);
}

TEST(WindowSerialize, GarbageHeadersRejected) {
  Harness h(MakeRule(Type::kEventCount, Gte(10)));
  h.Add(5);
  h.Add(6);
  std::string good;
  h.window.Serialize(good);
  auto rejects = [](std::string blob) {
    KeyWindow window;
    std::string_view in = blob;
    return !window.Deserialize(in);
  };
  std::string bad = good;
  bad[0] = 2;  // version
  EXPECT_TRUE(rejects(bad));
  bad = good;
  bad[1] = 2;  // entry width
  EXPECT_TRUE(rejects(bad));
  bad = good;
  bad[2] = bad[3] = bad[4] = bad[5] = '\xff';  // absurd count
  EXPECT_TRUE(rejects(bad));
  bad = good;
  bad[1] = 1;  // 2 x 16 bytes read as 24-byte entries: too short
  EXPECT_TRUE(rejects(bad));
  bad = good;
  bad[6 + 7] = '\x7f';  // first time far in the future: unsorted
  EXPECT_TRUE(rejects(bad));
  EXPECT_FALSE(rejects(good));
}

TEST(WindowSerialize, RandomBytesNeverCrash) {
  std::mt19937_64 random(11);
  const CorrelationRule rules[] = {MakeRule(Type::kEventCount, Gte(3)),
                                   MakeRule(Type::kTemporalOrdered, {}, 10, 3), AbsentRule(),
                                   MakeRule(Type::kValueAvg, Lt(3))};
  Harness seed(MakeRule(Type::kTemporal, {}, 10, 3));
  for (int64_t t = 0; t < 6; ++t) seed.Add(t * 3, static_cast<uint32_t>(t % 2));
  std::string valid;
  seed.window.Serialize(valid);
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string blob;
    if (round % 2 == 0) {
      blob.resize(random() % 80);
      for (char& c : blob) c = static_cast<char>(random());
      if (round % 4 == 0 && blob.size() >= 2)
        blob[0] = 1, blob[1] = static_cast<char>(random() % 2);
    } else {
      blob = valid;
      for (int flips = 1 + random() % 3; flips > 0; --flips)
        blob[random() % blob.size()] = static_cast<char>(random());
    }
    KeyWindow window;
    std::string_view in = blob;
    if (!window.Deserialize(in)) continue;
    ++accepted;
    std::string again;
    window.Serialize(again);
    EXPECT_EQ(again, blob.substr(0, blob.size() - in.size()));
    Harness h(rules[round % 4]);
    h.window = std::move(window);
    h.Add(static_cast<int64_t>(random() % 50), static_cast<uint32_t>(random() % 3));
    h.Advance(static_cast<int64_t>(random() % 100));
    h.window.NextDeadline(h.rule);
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace gsoc::correlate
