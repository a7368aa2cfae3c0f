// KeyWindow: per-type window semantics in event time, limits, memory and
// checkpoint form. Times are plain nanosecond integers; most tests use a
// timespan of 10 ns so boundaries are easy to read.
#include "engine/correlate/window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "tests/engine/correlate/window_test_util.h"

namespace gsoc::correlate {
namespace {

using namespace window_test;

// ---- event_count ----------------------------------------------------------

TEST(EventCountWindow, FiresWhenSomeWindowReachesTheCount) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  EXPECT_FALSE(h.Add(0));
  EXPECT_FALSE(h.Add(5));
  EXPECT_FALSE(h.Add(11));  // [1, 11] holds 5 and 11
  ASSERT_TRUE(h.Add(12));
  EXPECT_EQ(h.firing.window_start_ns, 5);
  EXPECT_EQ(h.firing.window_end_ns, 12);
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.value, 3);
  EXPECT_EQ(h.Times(), (Times{5, 11, 12}));
  EXPECT_TRUE(h.window.empty());  // consumed up to the window end
}

TEST(EventCountWindow, SlidesAcrossBoundaries) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  for (int64_t t : {0, 6, 12, 18}) EXPECT_FALSE(h.Add(t)) << t;
  ASSERT_TRUE(h.Add(20));
  EXPECT_EQ(h.Times(), (Times{12, 18, 20}));
  EXPECT_FALSE(h.Add(25));  // the next firing needs new inputs
  EXPECT_FALSE(h.Add(30));
  EXPECT_TRUE(h.Add(31));
  EXPECT_EQ(h.Times(), (Times{25, 30, 31}));
}

TEST(EventCountWindow, TieAtBoundaryIsInside) {
  Harness h(MakeRule(Type::kEventCount, Gte(2)));
  EXPECT_FALSE(h.Add(100));
  ASSERT_TRUE(h.Add(110));
  EXPECT_EQ(h.firing.window_start_ns, 100);
  EXPECT_EQ(h.firing.window_end_ns, 110);
}

TEST(EventCountWindow, OneNanosecondBeyondIsOutside) {
  Harness h(MakeRule(Type::kEventCount, Gte(2)));
  EXPECT_FALSE(h.Add(100));
  EXPECT_FALSE(h.Add(111));
  EXPECT_FALSE(h.Add(89));  // late, 11 before 100
}

TEST(EventCountWindow, OutOfOrderInputCompletesWindowBetweenEntries) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  EXPECT_FALSE(h.Add(0));
  EXPECT_FALSE(h.Add(9));
  EXPECT_FALSE(h.Add(25));
  ASSERT_TRUE(h.Add(5));
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 9);
  EXPECT_EQ(h.Times(), (Times{0, 5, 9}));
  EXPECT_EQ(h.Ids(), (std::vector<uint64_t>{1, 4, 2}));
  EXPECT_FALSE(h.window.empty());
  EXPECT_EQ(h.window.newest_ns(), 25);
  EXPECT_EQ(EntryCount(h.window), 1u);
}

TEST(EventCountWindow, OutOfOrderInputsArePlacedInTimeOrder) {
  Harness h(MakeRule(Type::kEventCount, Gte(4), 100));
  EXPECT_FALSE(h.Add(30));
  EXPECT_FALSE(h.Add(10));
  EXPECT_FALSE(h.Add(20));
  EXPECT_EQ(h.window.newest_ns(), 30);
  ASSERT_TRUE(h.Add(10));  // a tie goes after the entry already there
  EXPECT_EQ(h.Times(), (Times{10, 10, 20, 30}));
  EXPECT_EQ(h.Ids(), (std::vector<uint64_t>{2, 4, 3, 1}));
}

TEST(EventCountWindow, GtNeedsOneMore) {
  Harness h(MakeRule(Type::kEventCount, Gt(2)));
  EXPECT_FALSE(h.Add(0));
  EXPECT_FALSE(h.Add(1));
  EXPECT_TRUE(h.Add(2));
  EXPECT_EQ(h.firing.count, 3u);
}

TEST(EventCountWindow, UpperBoundDecidedAtClose) {
  Harness h(MakeRule(Type::kEventCount, Lt(3)));
  EXPECT_FALSE(h.Add(0));
  EXPECT_FALSE(h.Add(4));
  EXPECT_EQ(h.window.NextDeadline(h.rule), 11);
  EXPECT_FALSE(h.Advance(10));  // closes at 10: watermark must pass it
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 4);
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_TRUE(h.window.empty());
  EXPECT_EQ(h.window.NextDeadline(h.rule), kNoDeadline);
}

TEST(EventCountWindow, UpperBoundNextEntryBeginsNextWindow) {
  Harness h(MakeRule(Type::kEventCount, Lt(3)));
  for (int64_t t : {0, 4, 10, 15, 16, 17}) EXPECT_FALSE(h.Add(t));  // 10: tie, inside
  EXPECT_FALSE(h.Advance(11));                                      // [0, 10] holds 3
  EXPECT_EQ(h.window.NextDeadline(h.rule), 26);
  EXPECT_FALSE(h.Advance(26));  // [15, 25] holds 3
  EXPECT_TRUE(h.window.empty());
  EXPECT_FALSE(h.Add(30));
  EXPECT_FALSE(h.Add(41));
  ASSERT_TRUE(h.Advance(100));  // [30, 40] holds 1
  EXPECT_EQ(h.Times(), (Times{30}));
  ASSERT_TRUE(h.Advance(100));  // then [41, 51]
  EXPECT_EQ(h.Times(), (Times{41}));
  EXPECT_FALSE(h.Advance(100));
}

TEST(EventCountWindow, LateInputMovesOpenUpperBoundWindowBack) {
  Harness h(MakeRule(Type::kEventCount, Lt(3)));
  EXPECT_FALSE(h.Add(5));
  EXPECT_FALSE(h.Add(14));
  EXPECT_FALSE(h.Add(2));  // now [2, 12]
  EXPECT_EQ(h.window.NextDeadline(h.rule), 13);
  ASSERT_TRUE(h.Advance(13));
  EXPECT_EQ(h.Times(), (Times{2, 5}));
}

struct OperatorCase {
  CountCondition condition;
  int inputs;
  bool fires;
};

TEST(EventCountWindow, EveryOperatorAndRange) {
  const OperatorCase cases[] = {
      {Gt(2), 2, false},
      {Gt(2), 3, true},
      {Gte(3), 2, false},
      {Gte(3), 3, true},
      {Lt(3), 2, true},
      {Lt(3), 3, false},
      {Lte(3), 3, true},
      {Lte(3), 4, false},
      {Eq(3), 3, true},
      {Eq(3), 2, false},
      {Eq(3), 4, false},
      {Neq(3), 2, true},
      {Neq(3), 3, false},
      {Cond(1, {}, {}, 3), 1, false},
      {Cond(1, {}, {}, 3), 2, true},
      {Cond(1, {}, {}, 3), 3, true},
      {Cond(1, {}, {}, 3), 4, false},
  };
  for (const OperatorCase& c : cases) {
    Harness h(MakeRule(Type::kEventCount, c.condition));
    bool fired = false;
    for (int i = 0; i < c.inputs; ++i) fired |= h.Add(i);
    if (c.condition.HasUpperBound()) {
      EXPECT_FALSE(fired) << c.condition.ToString();
      fired = h.Advance(1000);
    }
    EXPECT_EQ(fired, c.fires) << c.condition.ToString() << " with " << c.inputs;
    if (fired) {
      EXPECT_EQ(h.firing.count, static_cast<uint64_t>(c.inputs));
    }
  }
}

TEST(EventCountWindow, AdvanceDropsWhatNoFutureWindowCanHold) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  EXPECT_FALSE(h.Add(0));
  EXPECT_FALSE(h.Add(5));
  EXPECT_EQ(h.window.NextDeadline(h.rule), 11);
  EXPECT_FALSE(h.Advance(10));
  EXPECT_EQ(EntryCount(h.window), 2u);
  EXPECT_FALSE(h.Advance(11));  // a future input >= 11 cannot share a window with 0
  EXPECT_EQ(EntryCount(h.window), 1u);
  EXPECT_EQ(h.window.NextDeadline(h.rule), 16);
  EXPECT_FALSE(h.Add(12));
  EXPECT_TRUE(h.Add(13));  // 5, 12, 13
  EXPECT_FALSE(h.Add(50));
  EXPECT_FALSE(h.Advance(100));
  EXPECT_TRUE(h.window.empty());
  EXPECT_EQ(h.window.HeapBytes(), 0u);
}

TEST(EventCountWindow, KeepsOnlyWhatTheConditionNeeds) {
  Harness h(MakeRule(Type::kEventCount, Gte(3)));
  for (int64_t t = 0; t < 200; t += 20) EXPECT_FALSE(h.Add(t));
  EXPECT_EQ(EntryCount(h.window), 4u);  // 2N-2
  EXPECT_EQ(h.dropped, 0u);             // not a limit drop
  EXPECT_EQ(h.window.newest_ns(), 180);
}

// The trimmed event_count window agrees with one that keeps everything, for
// inputs up to `timespan` older than the newest.
TEST(EventCountWindow, TrimmedStateIsExactForLateInputs) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 300; ++round) {
    const int need = 2 + round % 4;
    Harness h(MakeRule(Type::kEventCount, Gte(need)));
    std::vector<int64_t> all;  // the reference keeps every entry
    int64_t newest = 0;
    for (int i = 0; i < 60; ++i) {
      const int64_t t = std::max<int64_t>(0, newest + static_cast<int64_t>(random() % 16) - 10);
      newest = std::max(newest, t);
      all.insert(std::upper_bound(all.begin(), all.end(), t), t);
      std::optional<std::pair<int64_t, int64_t>> expected;
      for (int64_t s = t - 10; s <= t && !expected; ++s) {
        const auto lo = std::lower_bound(all.begin(), all.end(), s);
        const auto hi = std::upper_bound(all.begin(), all.end(), s + 10);
        if (hi - lo >= need) {
          expected = std::pair{*lo, *(hi - 1)};
          all.erase(all.begin(), hi);
        }
      }
      ASSERT_EQ(h.Add(t), expected.has_value()) << "round " << round << " input " << i;
      if (expected) {
        EXPECT_EQ(h.firing.window_start_ns, expected->first);
        EXPECT_EQ(h.firing.window_end_ns, expected->second);
      }
    }
  }
}

TEST(EventCountWindow, ContributorsCappedKeepNewest) {
  Harness h(MakeRule(Type::kEventCount, Gte(5)));
  h.max_contributors = 2;
  for (int64_t t : {1, 2, 3, 4}) EXPECT_FALSE(h.Add(t));
  ASSERT_TRUE(h.Add(5));
  EXPECT_EQ(h.firing.count, 5u);
  EXPECT_EQ(h.Times(), (Times{4, 5}));
  h.max_contributors = 0;
  for (int64_t t : {11, 12, 13, 14}) EXPECT_FALSE(h.Add(t));
  ASSERT_TRUE(h.Add(15));
  EXPECT_TRUE(h.firing.contributors.empty());
}

// ---- value_count ------------------------------------------------------------

TEST(ValueCountWindow, CountsDistinctValues) {
  Harness h(MakeRule(Type::kValueCount, Gte(3)));
  EXPECT_FALSE(h.Value(0, 1));
  EXPECT_FALSE(h.Value(1, 1));
  EXPECT_FALSE(h.Value(2, 2));
  EXPECT_FALSE(h.Value(3, 2));
  ASSERT_TRUE(h.Value(4, 3));
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.value, 3);
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 4);
}

TEST(ValueCountWindow, BoundaryTieInsideOneBeyondOutside) {
  Harness inside(MakeRule(Type::kValueCount, Gte(2)));
  EXPECT_FALSE(inside.Value(0, 1));
  EXPECT_TRUE(inside.Value(10, 2));
  Harness outside(MakeRule(Type::kValueCount, Gte(2)));
  EXPECT_FALSE(outside.Value(0, 1));
  EXPECT_FALSE(outside.Value(11, 2));
  EXPECT_FALSE(outside.Value(20, 2));  // [11, 21] holds value 2 twice
  EXPECT_EQ(outside.firing.count, 0u);
}

TEST(ValueCountWindow, SlidesAndOutOfOrder) {
  Harness h(MakeRule(Type::kValueCount, Gte(3)));
  EXPECT_FALSE(h.Value(0, 1));
  EXPECT_FALSE(h.Value(9, 2));
  EXPECT_FALSE(h.Value(25, 3));
  EXPECT_FALSE(h.Value(6, 2));  // repeat: still 2 distinct
  ASSERT_TRUE(h.Value(5, 3));   // late: the earliest window is [-4, 6]
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 6);
  EXPECT_EQ(h.Times(), (Times{0, 5, 6}));
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.window.newest_ns(), 25);
}

TEST(ValueCountWindow, LateInputBetweenTwoWindowsCountsEachSeparately) {
  Harness h(MakeRule(Type::kValueCount, Gte(3)));
  EXPECT_FALSE(h.Value(0, 1));
  EXPECT_FALSE(h.Value(20, 2));
  EXPECT_FALSE(h.Value(10, 3));  // [0, 10] and [10, 20] hold 2 values each
  EXPECT_TRUE(h.Value(15, 1));   // [10, 20]: 3, 2, 1
  EXPECT_EQ(h.Times(), (Times{10, 15, 20}));
}

TEST(ValueCountWindow, RepeatsAreThinnedYetExact) {
  Harness h(MakeRule(Type::kValueCount, Gte(3), 100));
  for (int64_t t = 0; t < 1000; ++t) EXPECT_FALSE(h.Value(t, 42));
  EXPECT_LE(EntryCount(h.window), 22u);
  EXPECT_EQ(h.dropped, 0u);
  EXPECT_FALSE(h.Value(500, 7));  // late, amid the repeats
  ASSERT_TRUE(h.Value(420, 8));   // 42 is still seen between 420 and 500
  EXPECT_EQ(h.firing.count, 3u);
}

TEST(ValueCountWindow, UpperBoundAtClose) {
  Harness h(MakeRule(Type::kValueCount, Lte(2)));
  EXPECT_FALSE(h.Value(0, 1));
  EXPECT_FALSE(h.Value(3, 1));
  EXPECT_FALSE(h.Value(5, 2));
  EXPECT_FALSE(h.Value(20, 1));
  EXPECT_FALSE(h.Value(21, 2));
  EXPECT_FALSE(h.Value(22, 3));
  ASSERT_TRUE(h.Advance(1000));
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_EQ(h.Times(), (Times{0, 3, 5}));  // every entry kept until close
  EXPECT_FALSE(h.Advance(1000));           // 3 distinct in [20, 30]
}

// ---- value_sum / value_avg ---------------------------------------------------

TEST(ValueSumWindow, SumsNumbersInWindow) {
  Harness h(MakeRule(Type::kValueSum, Gte(100)));
  EXPECT_FALSE(h.Number(0, 40));
  EXPECT_FALSE(h.Number(5, 50));
  EXPECT_FALSE(h.Number(11, 5));  // [1, 11]: 55
  ASSERT_TRUE(h.Number(12, 50));  // [5, 12]: 105
  EXPECT_EQ(h.firing.value, 105);
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.window_start_ns, 5);
}

TEST(ValueSumWindow, BoundaryAndOutOfOrder) {
  Harness h(MakeRule(Type::kValueSum, Gt(99)));
  EXPECT_FALSE(h.Number(0, 60));
  EXPECT_FALSE(h.Number(11, 40));
  EXPECT_FALSE(h.Number(30, 50));
  ASSERT_TRUE(h.Number(10, 40));  // late: [0, 10] = 100
  EXPECT_EQ(h.firing.value, 100);
  EXPECT_EQ(h.Times(), (Times{0, 10}));
}

TEST(ValueSumWindow, WindowHoldingASubsetCounts) {
  Harness h(MakeRule(Type::kValueSum, Gte(10)));
  EXPECT_FALSE(h.Number(0, -5));
  ASSERT_TRUE(h.Number(5, 12));  // [0, 10] sums 7, but [1, 11] holds 12 alone
  EXPECT_EQ(h.firing.value, 12);
  EXPECT_EQ(h.Times(), (Times{5}));
}

TEST(ValueSumWindow, RangeDecidedAtClose) {
  Harness h(MakeRule(Type::kValueSum, Cond({}, 10, {}, 20)));
  EXPECT_FALSE(h.Number(0, 8));
  EXPECT_FALSE(h.Number(10, 8));
  EXPECT_FALSE(h.Number(11, 100));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.value, 16);
  EXPECT_FALSE(h.Advance(100));  // [11, 21] sums 100
}

TEST(ValueAvgWindow, AveragesNumbers) {
  Harness h(MakeRule(Type::kValueAvg, Gte(10)));
  EXPECT_FALSE(h.Number(0, 4));
  EXPECT_FALSE(h.Number(1, 8));
  ASSERT_TRUE(h.Number(2, 18));
  EXPECT_EQ(h.firing.value, 10);
  EXPECT_EQ(h.firing.count, 3u);
}

TEST(ValueAvgWindow, HigherAverageInNarrowerWindow) {
  Harness h(MakeRule(Type::kValueAvg, Gt(10)));
  EXPECT_FALSE(h.Number(0, 1));
  ASSERT_TRUE(h.Number(10, 15));  // [0, 10] averages 8; [1, 11] holds 15
  EXPECT_EQ(h.firing.value, 15);
  EXPECT_EQ(h.firing.count, 1u);
  EXPECT_EQ(h.firing.window_start_ns, 10);
}

TEST(ValueAvgWindow, UpperBoundAtClose) {
  Harness h(MakeRule(Type::kValueAvg, Lt(5)));
  EXPECT_FALSE(h.Number(0, 2));
  EXPECT_FALSE(h.Number(4, 6));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.value, 4);
  EXPECT_EQ(h.firing.count, 2u);
}

// value_median: the median of the window's numbers (percentile 50; an even
// count takes the mean of the two middle ones). Unlike the average, one
// outlier does not move it: "a host's typical transfer stayed under 50".
TEST(ValueMedianWindow, MedianIgnoresOneOutlier) {
  Harness h(MakeRule(Type::kValueMedian, Lt(50)));
  EXPECT_FALSE(h.Number(0, 10));
  EXPECT_FALSE(h.Number(1, 20));
  EXPECT_FALSE(h.Number(2, 100000));  // average 33343, median 20
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.value, 20);
  EXPECT_EQ(h.firing.count, 3u);
  Harness avg(MakeRule(Type::kValueAvg, Lt(50)));
  EXPECT_FALSE(avg.Number(0, 10));
  EXPECT_FALSE(avg.Number(1, 20));
  EXPECT_FALSE(avg.Number(2, 100000));
  EXPECT_FALSE(avg.Advance(11));
}

TEST(ValueMedianWindow, EvenCountTakesTheMeanOfTheMiddleTwo) {
  Harness h(MakeRule(Type::kValueMedian, Gte(15)));
  EXPECT_FALSE(h.Number(0, 10));
  ASSERT_TRUE(h.Number(1, 20));  // [0, 1]: 10 20 -> 15
  EXPECT_EQ(h.firing.value, 15);
  EXPECT_EQ(h.firing.count, 2u);
}

TEST(ValueMedianWindow, UpperBoundAtClose) {
  Harness h(MakeRule(Type::kValueMedian, Lt(5)));
  EXPECT_FALSE(h.Number(0, 1));
  EXPECT_FALSE(h.Number(3, 2));
  EXPECT_FALSE(h.Number(4, 1000));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.value, 2);
  EXPECT_EQ(h.firing.count, 3u);
}

// ---- value_percentile -------------------------------------------------------------

// The specification's example: a computer spawned a process image that makes
// up at most 1% of its process starts in 24 h (`field: image`, `lte: 1`).
// 99 starts of one image and 1 of another: the rare one is 1%.
TEST(ValuePercentileWindow, SpecExampleFindsTheRareValueAtClose) {
  Harness h(MakeRule(Type::kValuePercentile, Lte(1), 1000));
  constexpr uint64_t kSvchost = 11, kRare = 22;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(h.Value(i, kSvchost));
  EXPECT_FALSE(h.Value(50, kRare));  // never from Add, whatever the share so far
  for (int i = 51; i < 100; ++i) EXPECT_FALSE(h.Value(i, kSvchost));
  EXPECT_FALSE(h.Advance(1000));  // the window [0, 1000] is still open
  ASSERT_TRUE(h.Advance(1001));
  EXPECT_DOUBLE_EQ(h.firing.value, 1.0);
  EXPECT_EQ(h.firing.count, 1u);
  EXPECT_EQ(h.Times(), Times{50});  // only the rare value's event
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 99);
  EXPECT_TRUE(h.window.empty());
}

TEST(ValuePercentileWindow, TwoPercentIsNotOnePercent) {
  Harness h(MakeRule(Type::kValuePercentile, Lte(1), 1000));
  for (int i = 0; i < 98; ++i) h.Value(i, 11);
  h.Value(98, 22);
  h.Value(99, 22);  // 2%
  EXPECT_FALSE(h.Advance(2000));
  EXPECT_TRUE(h.window.empty());  // judged and gone
}

// Several rare values: the alert names the smallest share and carries the
// events of every qualifying value.
TEST(ValuePercentileWindow, EveryQualifyingValueContributes) {
  Harness h(MakeRule(Type::kValuePercentile, Lt(10), 100));
  for (int i = 0; i < 17; ++i) h.Value(i, 1);  // 85%
  h.Value(20, 2);
  h.Value(21, 2);  // 10%: not < 10
  h.Value(30, 3);  // 5%
  ASSERT_TRUE(h.Advance(101));
  EXPECT_DOUBLE_EQ(h.firing.value, 5.0);
  EXPECT_EQ(h.firing.count, 1u);
  EXPECT_EQ(h.Times(), Times{30});
  Harness wide(MakeRule(Type::kValuePercentile, Lte(10), 100));
  for (int i = 0; i < 17; ++i) wide.Value(i, 1);
  wide.Value(20, 2);
  wide.Value(21, 2);
  wide.Value(30, 3);
  ASSERT_TRUE(wide.Advance(101));
  EXPECT_DOUBLE_EQ(wide.firing.value, 5.0);
  EXPECT_EQ(wide.firing.count, 3u);
  EXPECT_EQ(wide.Times(), (Times{20, 21, 30}));
}

// A lower bound ("one image is at least 90% of the starts") is judged on the
// whole window too: the first event alone (100% so far) fires nothing.
TEST(ValuePercentileWindow, LowerBoundIsJudgedAtCloseNotOnTheFirstEvent) {
  Harness h(MakeRule(Type::kValuePercentile, Gte(90), 10));
  EXPECT_FALSE(h.Value(0, 7));
  EXPECT_FALSE(h.Value(1, 8));
  EXPECT_FALSE(h.Value(2, 9));
  EXPECT_FALSE(h.Advance(11));  // each 33%
  EXPECT_EQ(h.window.NextDeadline(h.rule), kNoDeadline);
  for (int i = 20; i < 29; ++i) EXPECT_FALSE(h.Value(i, 7));
  EXPECT_FALSE(h.Value(29, 8));  // 9 of 10 are 7: 90%
  ASSERT_TRUE(h.Advance(31));
  EXPECT_DOUBLE_EQ(h.firing.value, 90.0);
  EXPECT_EQ(h.firing.count, 9u);
}

// Bounded like every key: at most max_entries values (24 bytes each); the
// oldest go first and are counted.
TEST(ValuePercentileWindow, KeepsAtMostMaxEntries) {
  Harness h(MakeRule(Type::kValuePercentile, Lte(1), 1000000));
  h.limits.max_entries = 64;
  for (int i = 0; i < 1000; ++i) h.Value(i, static_cast<uint64_t>(i));
  EXPECT_EQ(EntryCount(h.window), 64u);
  EXPECT_EQ(h.dropped, 1000u - 64u);
  EXPECT_LE(h.window.HeapBytes(), 65u * 24u);
}

// ---- temporal ---------------------------------------------------------------------

TEST(TemporalWindow, AllRefsWithinTimespan) {
  Harness h(MakeRule(Type::kTemporal, {}, 10, 3));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(5, 1));
  EXPECT_FALSE(h.Add(11, 2));  // 0 left the window
  EXPECT_FALSE(h.Add(11, 1));
  ASSERT_TRUE(h.Add(15, 0));  // [5, 15]
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.window_start_ns, 5);
  EXPECT_EQ(h.firing.window_end_ns, 15);
  EXPECT_EQ(h.Times(), (Times{5, 11, 11, 15}));
}

TEST(TemporalWindow, BoundaryTieAndOutOfOrder) {
  Harness h(MakeRule(Type::kTemporal, {}, 10, 2));
  EXPECT_FALSE(h.Add(10, 1));
  ASSERT_TRUE(h.Add(0, 0));  // late, exactly timespan earlier
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_FALSE(h.Add(100, 0));
  EXPECT_FALSE(h.Add(89, 1));
}

TEST(TemporalWindow, LateInputBetweenTwoWindowsDoesNotFire) {
  Harness h(MakeRule(Type::kTemporal, {}, 10, 3));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(20, 2));
  EXPECT_FALSE(h.Add(10, 1));
  EXPECT_TRUE(h.Add(12, 0));
}

TEST(TemporalWindow, WithCondition) {
  Harness h(MakeRule(Type::kTemporal, Gte(2), 10, 3));
  EXPECT_FALSE(h.Add(0, 2));
  EXPECT_FALSE(h.Add(1, 2));
  ASSERT_TRUE(h.Add(2, 0));
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_EQ(h.firing.value, 2);
}

TEST(TemporalWindow, UpperBoundConditionAtClose) {
  Harness h(MakeRule(Type::kTemporal, Lt(2), 10, 3));
  EXPECT_FALSE(h.Add(0, 1));
  EXPECT_FALSE(h.Add(3, 1));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.count, 1u);
}

TEST(TemporalWindow, RefOutOfRangeIgnored) {
  Harness h(MakeRule(Type::kTemporal, {}, 10, 2));
  EXPECT_FALSE(h.Add(0, 5));
  EXPECT_TRUE(h.window.empty());
}

// ---- temporal_ordered -----------------------------------------------------------------

TEST(TemporalOrderedWindow, WrongOrderDoesNotFireRightOrderDoes) {
  Harness h(MakeRule(Type::kTemporalOrdered, {}, 10, 3));
  EXPECT_FALSE(h.Add(0, 2));
  EXPECT_FALSE(h.Add(1, 1));
  EXPECT_FALSE(h.Add(2, 0));  // C, B, A
  EXPECT_FALSE(h.Add(3, 2));  // A, C
  EXPECT_FALSE(h.Add(4, 1));  // A, B (the C before B does not count)
  ASSERT_TRUE(h.Add(5, 2));
  EXPECT_EQ(h.firing.window_start_ns, 2);
  EXPECT_EQ(h.firing.window_end_ns, 5);
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.Times(), (Times{2, 3, 4, 5}));
}

TEST(TemporalOrderedWindow, TiesCountAsOrdered) {
  Harness h(MakeRule(Type::kTemporalOrdered, {}, 10, 3));
  EXPECT_FALSE(h.Add(5, 2));
  EXPECT_FALSE(h.Add(5, 0));
  ASSERT_TRUE(h.Add(5, 1));
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.window_start_ns, 5);
  EXPECT_EQ(h.firing.window_end_ns, 5);
}

TEST(TemporalOrderedWindow, TimespanBoundary) {
  Harness in(MakeRule(Type::kTemporalOrdered, {}, 10, 2));
  EXPECT_FALSE(in.Add(0, 0));
  EXPECT_TRUE(in.Add(10, 1));
  Harness out(MakeRule(Type::kTemporalOrdered, {}, 10, 2));
  EXPECT_FALSE(out.Add(0, 0));
  EXPECT_FALSE(out.Add(11, 1));
  EXPECT_TRUE(out.Add(11, 0) || out.Add(12, 1));
  EXPECT_EQ(out.firing.window_start_ns, 11);
}

TEST(TemporalOrderedWindow, OutOfOrderMiddleStepCompletesChain) {
  Harness h(MakeRule(Type::kTemporalOrdered, {}, 10, 3));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(10, 2));
  EXPECT_FALSE(h.Add(30, 0));
  ASSERT_TRUE(h.Add(5, 1));
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 10);
  EXPECT_EQ(h.window.newest_ns(), 30);
}

TEST(TemporalOrderedWindow, LateFirstStepStillOrderedByTime) {
  Harness h(MakeRule(Type::kTemporalOrdered, {}, 10, 2));
  EXPECT_FALSE(h.Add(8, 1));
  ASSERT_TRUE(h.Add(3, 0));  // arrives after B but happened before it
}

TEST(TemporalOrderedWindow, ConditionCountsPrefixInOrder) {
  Harness h(MakeRule(Type::kTemporalOrdered, Gte(2), 10, 3));
  EXPECT_FALSE(h.Add(0, 1));
  EXPECT_FALSE(h.Add(1, 2));
  EXPECT_FALSE(h.Add(2, 0));  // B, C, A: only "A" is a prefix
  ASSERT_TRUE(h.Add(3, 1));
  EXPECT_EQ(h.firing.count, 2u);
}

// Successful logins from one address within one second: each repeat of a
// step at a time already held is left out, so the window does not grow with
// them (and every add does not rescan them), and the chain still fires, with
// the first of the repeats as its contributor.
TEST(TemporalOrderedWindow, RepeatsOfAStepAtOneTimeKeepOneEntry) {
  Harness h(MakeRule(Type::kTemporalOrdered, {}, 10, 3));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(h.Add(7, 1));  // ids 1..1000
  EXPECT_EQ(EntryCount(h.window), 1u);
  EXPECT_FALSE(h.Add(5, 0));  // id 1001: A at 5, B at 7
  EXPECT_FALSE(h.Add(5, 0));  // a repeat of A
  EXPECT_FALSE(h.Add(7, 0));  // A at 7 too: a new (time, step)
  EXPECT_EQ(EntryCount(h.window), 3u);
  ASSERT_TRUE(h.Add(9, 2));  // id 1004
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.firing.window_start_ns, 7);  // the latest start: A, B (a tie), C
  EXPECT_EQ(h.Ids(), (std::vector<uint64_t>{1, 1003, 1004}));
}

TEST(TemporalOrderedWindow, UpperBoundAtClose) {
  Harness h(MakeRule(Type::kTemporalOrdered, Lt(3), 10, 3));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(1, 2));
  EXPECT_FALSE(h.Add(2, 1));
  ASSERT_TRUE(h.Advance(11));  // A, C, B: prefix A, B
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_FALSE(h.Add(20, 0));
  EXPECT_FALSE(h.Add(21, 1));
  EXPECT_FALSE(h.Add(22, 2));
  EXPECT_FALSE(h.Advance(100));
}

// ---- absent ----------------------------------------------------------------------------

TEST(AbsentWindow, FiresAfterDeadline) {
  Harness h(AbsentRule());
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(3, 1));
  EXPECT_EQ(h.window.NextDeadline(h.rule), 11);
  EXPECT_FALSE(h.Advance(10));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.window_end_ns, 10);
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_EQ(h.Times(), (Times{0, 3}));
  EXPECT_TRUE(h.window.empty());
  EXPECT_FALSE(h.Advance(100));
}

TEST(AbsentWindow, CancelledByLastStep) {
  Harness h(AbsentRule());
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(3, 1));
  EXPECT_FALSE(h.Add(10, 2));  // at the deadline: inside
  EXPECT_FALSE(h.Advance(100));
  EXPECT_TRUE(h.window.empty());
}

TEST(AbsentWindow, LastStepArrivingOutOfOrderBeforeDeadlineCancels) {
  Harness h(AbsentRule());
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(3, 1));
  EXPECT_FALSE(h.Advance(5));
  EXPECT_FALSE(h.Add(12, 0));
  EXPECT_FALSE(h.Add(6, 2));  // late
  EXPECT_FALSE(h.Advance(11));
  EXPECT_FALSE(h.Advance(100));
}

TEST(AbsentWindow, LastStepOutsideDoesNotCancel) {
  Harness before(AbsentRule());
  EXPECT_FALSE(before.Add(0, 0));
  EXPECT_FALSE(before.Add(1, 2));  // before the chain's last step
  EXPECT_FALSE(before.Add(3, 1));
  EXPECT_TRUE(before.Advance(11));
  Harness after(AbsentRule());
  EXPECT_FALSE(after.Add(0, 0));
  EXPECT_FALSE(after.Add(3, 1));
  EXPECT_FALSE(after.Add(11, 2));  // one ns after the deadline
  EXPECT_TRUE(after.Advance(11));
}

TEST(AbsentWindow, IncompleteChainDoesNotFire) {
  Harness h(AbsentRule());
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(11, 1));  // too late for the chain from 0
  EXPECT_FALSE(h.Advance(1000));
  Harness order(AbsentRule());
  EXPECT_FALSE(order.Add(0, 1));
  EXPECT_FALSE(order.Add(1, 0));  // B before A
  EXPECT_FALSE(order.Advance(1000));
}

TEST(AbsentWindow, ChainStepsAtTheDeadlineAndTiesAreInside) {
  Harness h(AbsentRule(4));  // A, B, C, absent D
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(10, 2));  // C arrives before B, at the same time
  EXPECT_FALSE(h.Add(10, 1));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.count, 3u);
  EXPECT_EQ(h.Ids(), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(h.window.empty());
}

TEST(AbsentWindow, EveryPendingWindowFiresInTurn) {
  Harness h(AbsentRule(2));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(5, 0));
  EXPECT_FALSE(h.Add(13, 1));  // cancels the one from 5 only
  ASSERT_TRUE(h.Advance(100));
  EXPECT_EQ(h.Times(), (Times{0}));
  EXPECT_FALSE(h.Advance(100));
  Harness two(AbsentRule(2));
  EXPECT_FALSE(two.Add(0, 0));
  EXPECT_FALSE(two.Add(5, 0));
  ASSERT_TRUE(two.Advance(16));
  EXPECT_EQ(two.firing.window_start_ns, 0);
  ASSERT_TRUE(two.Advance(16));
  EXPECT_EQ(two.firing.window_start_ns, 5);
  EXPECT_FALSE(two.Advance(16));
}

// Repeats of a step at one time are one entry (window.h): the pending window
// they would have opened again, over the same span, fires once. Kept
// repeats used to fire it twice (contributors 1 3, then 2 4).
TEST(AbsentWindow, RepeatsAtOneTimeFireTheirWindowOnce) {
  Harness h(AbsentRule());
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(0, 0));
  EXPECT_FALSE(h.Add(3, 1));
  EXPECT_FALSE(h.Add(3, 1));
  ASSERT_TRUE(h.Advance(11));
  EXPECT_EQ(h.firing.window_start_ns, 0);
  EXPECT_EQ(h.firing.count, 2u);
  EXPECT_EQ(h.Times(), (Times{0, 3}));
  EXPECT_FALSE(h.Advance(100));
}

// ---- against a brute-force reference ----------------------------------------------------

// Keeps every input and tries every window [s, s + 10] containing the new
// input, earliest first; consumes up to the firing window's last entry.
}  // namespace
}  // namespace gsoc::correlate
