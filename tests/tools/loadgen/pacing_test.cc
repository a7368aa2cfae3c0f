#include "tools/loadgen/pacing.h"

#include <gtest/gtest.h>

#include "tools/loadgen/workload.h"

namespace gsoc::loadgen {
namespace {

using std::chrono::milliseconds;

TEST(Pacer, AllowsRateTimesElapsed) {
  const Clock::time_point start = Clock::now();
  const Pacer pacer(1000, start);
  EXPECT_EQ(pacer.Allowed(start - milliseconds(5)), 0u);
  EXPECT_EQ(pacer.Allowed(start + milliseconds(1500)), 1500u);
  const Pacer fast(10'000'000, start);
  EXPECT_EQ(fast.Allowed(start + std::chrono::hours(24)), 864'000'000'000u);
  EXPECT_EQ(Pacer(0, start).Allowed(start), Pacer::kUnlimited);
}

TEST(Pacer, WaitForNextSleepsAboutOneTick) {
  const Clock::time_point start = Clock::now();
  const Pacer pacer(1'000'000, start);
  pacer.WaitForNext(pacer.Allowed(Clock::now()));
  EXPECT_LT(Clock::now() - start, milliseconds(50));
  EXPECT_GT(pacer.Allowed(Clock::now()), 500u);
}

TEST(SplitPlans, SplitsCountAndRateExactly) {
  Options options;
  options.rate = 20001;
  const auto plans = SplitPlans(options, 10001, 3, 4096, Clock::now());
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].count + plans[1].count + plans[2].count, 10001u);
  EXPECT_EQ(plans[0].rate + plans[1].rate + plans[2].rate, 20001u);
  EXPECT_EQ(plans[0].start_index, 0u);
  EXPECT_EQ(plans[1].start_index, plans[0].count);
  EXPECT_FALSE(plans[0].deadline);
}

TEST(SplitPlans, DurationMeansUnlimitedCountAndADeadline) {
  Options options;
  options.duration_s = 2.5;
  const Clock::time_point start = Clock::now();
  const auto plans = SplitPlans(options, Pacer::kUnlimited, 2, 1000, start);
  EXPECT_EQ(plans[1].count, Pacer::kUnlimited);
  EXPECT_EQ(plans[1].start_index, 500u);
  ASSERT_TRUE(plans[1].deadline);
  EXPECT_EQ(*plans[1].deadline - start, milliseconds(2500));
}

}  // namespace
}  // namespace gsoc::loadgen
