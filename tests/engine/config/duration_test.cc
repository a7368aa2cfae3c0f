#include "engine/config/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace gsoc {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, ValidWithUnits) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(ParseDuration("90d"), milliseconds(90LL * 86'400'000));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(ParseDuration("10m"), std::chrono::minutes(10));
  EXPECT_EQ(ParseDuration("24h"), std::chrono::hours(24));
}

TEST(ParseDurationTest, PlainNumberIsSeconds) {
  EXPECT_EQ(ParseDuration("45"), milliseconds(45'000));
  EXPECT_EQ(ParseDuration("0"), milliseconds(0));
}

TEST(ParseDurationTest, SurroundingAndInnerSpacesAreAccepted) {
  EXPECT_EQ(ParseDuration(" 10s "), milliseconds(10'000));
  EXPECT_EQ(ParseDuration("10 s"), milliseconds(10'000));
}

TEST(ParseDurationTest, Invalid) {
  for (const char* text : {"", " ", "s", "ms", "-5s", "+5s", "5x", "5sec", "5S", "1.5s", "5 s x",
                           "5ms5", "five", "0x10s", "s5"}) {
    EXPECT_FALSE(ParseDuration(text).has_value()) << "'" << text << "'";
  }
}

TEST(ParseDurationTest, Overflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ParseDuration("9223372036854775807ms"), milliseconds(kMax));
  EXPECT_FALSE(ParseDuration("9223372036854775808ms"));   // > INT64_MAX ms
  EXPECT_FALSE(ParseDuration("18446744073709551615ms"));  // UINT64_MAX
  EXPECT_FALSE(ParseDuration("18446744073709551616ms"));  // not even a uint64
  EXPECT_FALSE(ParseDuration("99999999999999999999999s"));
  EXPECT_EQ(ParseDuration("106751991167d"), milliseconds(106751991167LL * 86'400'000));
  EXPECT_FALSE(ParseDuration("106751991168d"));  // fits uint64, not int64
  EXPECT_FALSE(ParseDuration("213503982335d"));  // overflows uint64 in the multiply
  EXPECT_FALSE(ParseDuration("9223372036854776s"));
  EXPECT_FALSE(ParseDuration("9223372036854776"));  // default unit: seconds
}

TEST(ParseSizeTest, Valid) {
  EXPECT_EQ(ParseSize("65536"), 65536u);
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("100B"), 100u);
  EXPECT_EQ(ParseSize("64KiB"), 65536u);
  EXPECT_EQ(ParseSize("1MiB"), 1048576u);
  EXPECT_EQ(ParseSize("4MiB"), 4u * 1024 * 1024);
  EXPECT_EQ(ParseSize("2GiB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(ParseSize("1KB"), 1000u);
  EXPECT_EQ(ParseSize("10MB"), 10'000'000u);
  EXPECT_EQ(ParseSize("3GB"), 3'000'000'000ull);
  EXPECT_EQ(ParseSize(" 64 KiB "), 65536u);
}

TEST(ParseSizeTest, Invalid) {
  for (const char* text : {"", "KiB", "-1", "+1", "1.5MiB", "64K", "64kib", "64Kib", "64 KiB x",
                           "1TiB", "ten", "64iB", "64KiBB"}) {
    EXPECT_FALSE(ParseSize(text).has_value()) << "'" << text << "'";
  }
}

TEST(ParseSizeTest, Overflow) {
  EXPECT_EQ(ParseSize("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(ParseSize("18446744073709551616"));
  EXPECT_EQ(ParseSize("17179869183GiB"), 17179869183ull << 30);
  EXPECT_FALSE(ParseSize("17179869184GiB"));  // exactly 2^64
  EXPECT_FALSE(ParseSize("18446744073709551615KiB"));
  EXPECT_EQ(ParseSize("18446744073709551B"), 18446744073709551ull);
  EXPECT_FALSE(ParseSize("18446744073709552GB"));
}

TEST(ParseUtcOffsetTest, Valid) {
  EXPECT_EQ(ParseUtcOffset("UTC"), 0);
  EXPECT_EQ(ParseUtcOffset("utc"), 0);
  EXPECT_EQ(ParseUtcOffset("Z"), 0);
  EXPECT_EQ(ParseUtcOffset("+07:00"), 7 * 3600);
  EXPECT_EQ(ParseUtcOffset("+0700"), 7 * 3600);
  EXPECT_EQ(ParseUtcOffset("+07"), 7 * 3600);
  EXPECT_EQ(ParseUtcOffset("-0530"), -(5 * 3600 + 30 * 60));
  EXPECT_EQ(ParseUtcOffset("-05:30"), -(5 * 3600 + 30 * 60));
  EXPECT_EQ(ParseUtcOffset("+05:45"), 5 * 3600 + 45 * 60);
  EXPECT_EQ(ParseUtcOffset("+14:00"), 14 * 3600);
  EXPECT_EQ(ParseUtcOffset("-12:00"), -12 * 3600);
  EXPECT_EQ(ParseUtcOffset("+00:00"), 0);
}

TEST(ParseUtcOffsetTest, Invalid) {
  for (const char* text :
       {"", "GMT", "Europe/Paris", "07:00", "+7", "+7:00", "+07:0", "+070", "+15:00", "+05:60",
        "+0a:00", "++07:00", "+07:00:00", "+", "-", "utc+7", "Asia/Ho_Chi_Minh"}) {
    EXPECT_FALSE(ParseUtcOffset(text).has_value()) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace gsoc
