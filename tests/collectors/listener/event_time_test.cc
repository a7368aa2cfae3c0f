// The event-time policy (ResolveEventTime, collectors/listener/listener.h):
// a message time no further ahead of receive time than max_clock_skew is
// kept, one further ahead is replaced and reported, a missing one takes the
// receive time; times and skews at the int64 limits (a message may write
// any year, an operator may set a skew of centuries) neither overflow nor
// flip the answer.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "collectors/listener/listener.h"
#include "engine/util/saturating.h"

namespace gsoc {
namespace {

constexpr int64_t kReceived = 1'765'000'000'000'000'000;  // 2025-12-06
constexpr int64_t kDay = 86'400LL * 1'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct Outcome {
  bool ahead;
  int64_t event_time_ns;
};

Outcome Resolve(bool has_time, int64_t message_time, int64_t skew) {
  Event event;
  event.receive_time_ns = kReceived;
  event.has_message_time = has_time;
  event.event_time_ns = message_time;
  const bool ahead = ResolveEventTime(event, skew);
  return {ahead, event.event_time_ns};
}

TEST(EventTime, WithinTheSkewTheMessageTimeIsKept) {
  const Outcome ahead_a_little = Resolve(true, kReceived + kDay, kDay);
  EXPECT_FALSE(ahead_a_little.ahead);
  EXPECT_EQ(ahead_a_little.event_time_ns, kReceived + kDay);
  const Outcome past = Resolve(true, kReceived - 400 * kDay, kDay);
  EXPECT_FALSE(past.ahead);
  EXPECT_EQ(past.event_time_ns, kReceived - 400 * kDay);
}

TEST(EventTime, BeyondTheSkewTheReceiveTimeIsTakenAndReported) {
  const Outcome ahead = Resolve(true, kReceived + kDay + 1, kDay);
  EXPECT_TRUE(ahead.ahead);
  EXPECT_EQ(ahead.event_time_ns, kReceived);
  const Outcome none = Resolve(false, 0, kDay);
  EXPECT_FALSE(none.ahead);  // no time is not a time ahead
  EXPECT_EQ(none.event_time_ns, kReceived);
}

TEST(EventTime, LimitsNeitherOverflowNorFlipTheAnswer) {
  // The largest time a message can give is ahead of any day's skew.
  EXPECT_TRUE(Resolve(true, kMax, kDay).ahead);
  EXPECT_FALSE(Resolve(true, kMin, kDay).ahead);
  // A skew of centuries: receive time + skew is past INT64_MAX; nothing is
  // ahead of it, not even the largest time.
  const int64_t centuries = SaturatingNanos(std::chrono::hours(24 * 365 * 300));
  EXPECT_EQ(centuries, kMax);
  EXPECT_FALSE(Resolve(true, kReceived + 100 * 365 * kDay, centuries).ahead);
  const Outcome largest = Resolve(true, kMax, centuries);
  EXPECT_FALSE(largest.ahead);
  EXPECT_EQ(largest.event_time_ns, kMax);
}

TEST(EventTime, SecondsBecomeNanosecondsUpToTheLimit) {
  EXPECT_EQ(SaturatingNanos(std::chrono::seconds(86'400)), kDay);
  EXPECT_EQ(SaturatingNanos(std::chrono::seconds(kMax / 1'000'000'000)),
            kMax / 1'000'000'000 * 1'000'000'000);
  EXPECT_EQ(SaturatingNanos(std::chrono::seconds(kMax / 1'000'000'000 + 1)), kMax);
  EXPECT_EQ(SaturatingNanos(std::chrono::seconds(0)), 0);
}

}  // namespace
}  // namespace gsoc
