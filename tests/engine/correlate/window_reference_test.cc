// KeyWindow against a brute-force reference, and its limits and memory.
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

struct Reference {
  struct Input {
    int64_t time;
    uint32_t ref;
    uint64_t hash;
    double number;
  };

  double Evaluate(const std::vector<Input>& set) const {
    std::set<uint64_t> distinct;
    double sum = 0;
    for (const Input& in : set) {
      distinct.insert(rule.type == Type::kValueCount ? in.hash : in.ref);
      sum += in.number;
    }
    switch (rule.type) {
      case Type::kEventCount:
        return static_cast<double>(set.size());
      case Type::kValueSum:
        return sum;
      case Type::kValueAvg:
        return sum / static_cast<double>(set.size());
      case Type::kValueMedian: {
        std::vector<double> numbers;
        for (const Input& in : set) numbers.push_back(in.number);
        std::sort(numbers.begin(), numbers.end());
        const size_t n = numbers.size();
        return n % 2 == 1 ? numbers[n / 2] : (numbers[n / 2 - 1] + numbers[n / 2]) / 2;
      }
      case Type::kTemporalOrdered: {
        size_t step = 0;
        int64_t previous = INT64_MIN;
        for (; step < rule.refs.size(); ++step) {
          auto next = std::find_if(set.begin(), set.end(), [&](const Input& in) {
            return in.ref == step && in.time >= previous;
          });
          if (next == set.end()) break;
          previous = next->time;
        }
        return static_cast<double>(step);
      }
      default:
        return static_cast<double>(distinct.size());
    }
  }

  std::optional<std::pair<int64_t, int64_t>> Add(const Input& input) {
    const auto by_time = [](const Input& a, const Input& b) { return a.time < b.time; };
    all.insert(std::upper_bound(all.begin(), all.end(), input, by_time), input);
    CountCondition condition = rule.condition;
    if (condition.empty()) condition.gte = static_cast<double>(rule.refs.size());
    for (int64_t s = input.time - 10; s <= input.time; ++s) {
      std::vector<Input> set;
      size_t last = 0;
      for (size_t i = 0; i < all.size(); ++i)
        if (all[i].time >= s && all[i].time <= s + 10) set.push_back(all[i]), last = i;
      if (!condition.Holds(Evaluate(set))) continue;
      const std::pair<int64_t, int64_t> window{set.front().time, set.back().time};
      all.erase(all.begin(), all.begin() + static_cast<ptrdiff_t>(last) + 1);
      return window;
    }
    return std::nullopt;
  }

  CorrelationRule rule;
  std::vector<Input> all;
};

TEST(WindowReference, LowerBoundTypesAgreeWithBruteForce) {
  const CorrelationRule rules[] = {
      MakeRule(Type::kEventCount, Gte(4)),         MakeRule(Type::kValueCount, Gte(3)),
      MakeRule(Type::kValueSum, Gte(12)),          MakeRule(Type::kValueAvg, Gt(6)),
      MakeRule(Type::kTemporal, {}, 10, 3),        MakeRule(Type::kTemporal, Gte(2), 10, 4),
      MakeRule(Type::kTemporalOrdered, {}, 10, 3), MakeRule(Type::kValueMedian, Gte(6)),
  };
  std::mt19937_64 random(3);
  int firings = 0;
  for (const CorrelationRule& rule : rules) {
    for (int round = 0; round < 400; ++round) {
      Harness h(rule);
      Reference reference{rule, {}};
      int64_t newest = 0;
      for (int i = 0; i < 40; ++i) {
        const Reference::Input in{
            std::max<int64_t>(0, newest + static_cast<int64_t>(random() % 14) - 10),
            static_cast<uint32_t>(random() % rule.refs.size()), random() % 4,
            static_cast<double>(random() % 11) - 2};
        newest = std::max(newest, in.time);
        const auto expected = reference.Add(in);
        const bool fired = h.Add(in.time, in.ref, in.hash, in.number);
        ASSERT_EQ(fired, expected.has_value())
            << CorrelationTypeName(rule.type) << " round " << round << " input " << i;
        if (!fired) continue;
        ++firings;
        // The ordered type reports the chain's span, and value_count /
        // temporal thin repeats (window.h): compare their decisions only, up
        // to the first firing.
        if (rule.type == Type::kTemporalOrdered || rule.type == Type::kValueCount ||
            rule.type == Type::kTemporal)
          break;
        EXPECT_EQ(h.firing.window_start_ns, expected->first);
        EXPECT_EQ(h.firing.window_end_ns, expected->second);
      }
    }
  }
  EXPECT_GT(firings, 500);
}

// ---- limits and memory --------------------------------------------------------------------

TEST(WindowLimitsTest, MaxEntriesDropsOldestAndCounts) {
  Harness h(MakeRule(Type::kValueSum, Gte(1000)));
  h.limits.max_entries = 3;
  for (int64_t t = 1; t <= 5; ++t) EXPECT_FALSE(h.Number(t, 1));
  EXPECT_EQ(h.dropped, 2u);
  EXPECT_EQ(EntryCount(h.window), 3u);
  EXPECT_EQ(h.window.NextDeadline(h.rule), 3 + 10 + 1);
  EXPECT_EQ(h.window.newest_ns(), 5);
}

TEST(WindowLimitsTest, UpperBoundWindowIsBoundedToo) {
  Harness h(MakeRule(Type::kEventCount, Lt(100)));
  h.limits.max_entries = 4;
  for (int64_t t = 0; t < 10; ++t) EXPECT_FALSE(h.Add(t));
  EXPECT_EQ(h.dropped, 6u);
  ASSERT_TRUE(h.Advance(100));
  EXPECT_EQ(h.Times(), (Times{6, 7, 8, 9}));
}

TEST(WindowMemory, SmallForEventCount) {
  static_assert(sizeof(KeyWindow) <= 24);
  Harness h(MakeRule(Type::kEventCount, Gte(10), 1000));
  EXPECT_EQ(h.window.HeapBytes(), 0u);
  h.Add(1);
  const size_t one = h.window.HeapBytes();
  for (int64_t t = 2; t <= 5; ++t) h.Add(t);
  const size_t five = h.window.HeapBytes();
  std::cout << "sizeof(KeyWindow)=" << sizeof(KeyWindow) << " event_count heap: 1 entry=" << one
            << " 5 entries=" << five << "\n";
  EXPECT_LE(one, 40u);
  EXPECT_LE(five, 6 * 16u);
  Harness wide(MakeRule(Type::kValueCount, Gte(10), 1000));
  wide.Value(1, 1);
  EXPECT_EQ(wide.window.HeapBytes(), 24u);
}

// A firing empties the window of a key that goes on receiving inputs: its
// block stays (no malloc per refill); expiry gives it back.
TEST(WindowMemory, AFiringKeepsASmallBlockAndExpiryFreesIt) {
  Harness h(MakeRule(Type::kEventCount, Gte(3), 1000));
  EXPECT_FALSE(h.Add(1));
  EXPECT_FALSE(h.Add(2));
  ASSERT_TRUE(h.Add(3));
  EXPECT_TRUE(h.window.empty());
  const size_t kept = h.window.HeapBytes();
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, 256u);
  EXPECT_FALSE(h.Add(4));
  EXPECT_EQ(h.window.HeapBytes(), kept);
  EXPECT_FALSE(h.Advance(5000));
  EXPECT_TRUE(h.window.empty());
  EXPECT_EQ(h.window.HeapBytes(), 0u);
}

TEST(WindowMemory, CopyAndMoveKeepState) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  h.Add(0);
  h.Add(1);
  KeyWindow copy = h.window;
  KeyWindow moved = std::move(copy);
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
  WindowFiring firing;
  uint64_t dropped = 0;
  EXPECT_TRUE(moved.Add(h.rule, {2, 9}, h.limits, 10, &firing, &dropped));
  EXPECT_EQ(firing.count, 3u);
  EXPECT_EQ(EntryCount(h.window), 2u);  // the original is untouched
}

// ---- checkpoint form ----------------------------------------------------------------------------

}  // namespace
}  // namespace gsoc::correlate
