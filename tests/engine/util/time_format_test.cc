#include "engine/util/time_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace gsoc {
namespace {

namespace chr = std::chrono;

// DaysFromCivil is constexpr: a few anchors at compile time.
static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(1969, 12, 31) == -1);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);
static_assert(DaysFromCivil(2000, 2, 29) == 11016);

// Reference: std::chrono's calendar (an independent implementation).
int64_t ReferenceDays(int64_t year, unsigned month, unsigned day) {
  const chr::year_month_day ymd{chr::year(static_cast<int>(year)), chr::month(month),
                                chr::day(day)};
  return chr::sys_days(ymd).time_since_epoch().count();
}

std::string Format(int64_t nanos) {
  char out[32];
  return std::string(FormatRfc3339Millis(nanos, out));
}

TEST(TimeFormatTest, DaysFromCivilKnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  EXPECT_EQ(DaysFromCivil(1600, 3, 1), ReferenceDays(1600, 3, 1));
  EXPECT_EQ(DaysFromCivil(2000, 2, 29), ReferenceDays(2000, 2, 29));
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
  EXPECT_EQ(DaysFromCivil(2038, 1, 19), 24855);
  EXPECT_EQ(DaysFromCivil(0, 3, 1), ReferenceDays(0, 3, 1));
  EXPECT_EQ(DaysFromCivil(-1, 12, 31), ReferenceDays(-1, 12, 31));
  EXPECT_EQ(DaysFromCivil(-400, 2, 29), ReferenceDays(-400, 2, 29));
}

TEST(TimeFormatTest, DaysFromCivilMatchesReferenceForEveryDayOfManyYears) {
  for (int64_t year = 1599; year <= 2401; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      const unsigned days = DaysInMonth(year, month);
      for (unsigned day = 1; day <= days; ++day) {
        ASSERT_EQ(DaysFromCivil(year, month, day), ReferenceDays(year, month, day))
            << year << "-" << month << "-" << day;
      }
    }
  }
}

TEST(TimeFormatTest, DaysInMonth) {
  EXPECT_EQ(DaysInMonth(2023, 1), 31u);
  EXPECT_EQ(DaysInMonth(2023, 2), 28u);
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);  // divisible by 100
  EXPECT_EQ(DaysInMonth(2000, 2), 29u);  // divisible by 400
  EXPECT_EQ(DaysInMonth(2100, 2), 28u);
  EXPECT_EQ(DaysInMonth(1600, 2), 29u);
  EXPECT_EQ(DaysInMonth(-4, 2), 29u);  // proleptic: year -4 is leap
  EXPECT_EQ(DaysInMonth(-100, 2), 28u);
  EXPECT_EQ(DaysInMonth(2023, 4), 30u);
  EXPECT_EQ(DaysInMonth(2023, 6), 30u);
  EXPECT_EQ(DaysInMonth(2023, 9), 30u);
  EXPECT_EQ(DaysInMonth(2023, 11), 30u);
  EXPECT_EQ(DaysInMonth(2023, 7), 31u);
  EXPECT_EQ(DaysInMonth(2023, 8), 31u);
  EXPECT_EQ(DaysInMonth(2023, 12), 31u);
  EXPECT_EQ(DaysInMonth(2023, 0), 0u);
  EXPECT_EQ(DaysInMonth(2023, 13), 0u);
  // Agrees with the reference for every month over four centuries.
  for (int64_t year = 1800; year <= 2200; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      const auto last = chr::year_month_day_last(chr::year(static_cast<int>(year)),
                                                 chr::month_day_last(chr::month(month)));
      ASSERT_EQ(DaysInMonth(year, month), static_cast<unsigned>(last.day()))
          << year << " " << month;
    }
  }
}

void ExpectCivilMatchesReference(int64_t nanos) {
  const CivilTime t = CivilFromNanos(nanos);
  const auto tp = chr::sys_time<chr::nanoseconds>(chr::nanoseconds(nanos));
  const auto day = chr::floor<chr::days>(tp);
  const chr::year_month_day ymd(day);
  const chr::hh_mm_ss<chr::nanoseconds> hms(tp - day);
  ASSERT_EQ(t.year, static_cast<int>(ymd.year())) << nanos;
  ASSERT_EQ(t.month, static_cast<unsigned>(ymd.month())) << nanos;
  ASSERT_EQ(t.day, static_cast<unsigned>(ymd.day())) << nanos;
  ASSERT_EQ(t.hour, static_cast<unsigned>(hms.hours().count())) << nanos;
  ASSERT_EQ(t.minute, static_cast<unsigned>(hms.minutes().count())) << nanos;
  ASSERT_EQ(t.second, static_cast<unsigned>(hms.seconds().count())) << nanos;
  ASSERT_EQ(t.nanos, static_cast<unsigned>(hms.subseconds().count())) << nanos;
  // And back: the civil fields reproduce the instant exactly.
  const int64_t seconds =
      DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
  ASSERT_EQ(seconds * 1'000'000'000 + t.nanos, nanos);
}

TEST(TimeFormatTest, CivilFromNanosRoundTripOverRandomInstants) {
  std::mt19937_64 rng(20240229);
  // Between 1680 and 2260 (inside the int64 nanosecond range), both sides of 1970.
  const int64_t lo = DaysFromCivil(1680, 1, 1) * 86400 * kNanosPerSecond;
  const int64_t hi = DaysFromCivil(2260, 1, 1) * 86400 * kNanosPerSecond;
  std::uniform_int_distribution<int64_t> any(lo, hi);
  int negative = 0;
  for (int i = 0; i < 200000; ++i) {
    const int64_t nanos = any(rng);
    negative += nanos < 0;
    ExpectCivilMatchesReference(nanos);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(negative, 1000);
}

TEST(TimeFormatTest, CivilFromNanosAroundDayAndLeapBoundaries) {
  std::vector<int64_t> days = {0,
                               -1,
                               DaysFromCivil(1969, 1, 1),
                               DaysFromCivil(1900, 2, 28),
                               DaysFromCivil(1900, 3, 1),
                               DaysFromCivil(1904, 2, 29),
                               DaysFromCivil(1968, 2, 29),
                               DaysFromCivil(2000, 2, 29),
                               DaysFromCivil(2000, 3, 1),
                               DaysFromCivil(2024, 2, 29),
                               DaysFromCivil(2024, 12, 31),
                               DaysFromCivil(2100, 3, 1),
                               DaysFromCivil(1700, 2, 28),
                               DaysFromCivil(1700, 3, 1)};
  for (int64_t day : days) {
    const int64_t start = day * 86400 * kNanosPerSecond;
    for (int64_t delta : {int64_t{-1}, int64_t{0}, int64_t{1}, kNanosPerSecond - 1, kNanosPerSecond,
                          86400 * kNanosPerSecond - 1}) {
      ExpectCivilMatchesReference(start + delta);
      if (HasFatalFailure()) return;
    }
  }
  const CivilTime leap = CivilFromNanos(DaysFromCivil(2000, 2, 29) * 86400 * kNanosPerSecond);
  EXPECT_EQ(leap.year, 2000);
  EXPECT_EQ(leap.month, 2u);
  EXPECT_EQ(leap.day, 29u);
  const CivilTime before = CivilFromNanos(-1);
  EXPECT_EQ(before.year, 1969);
  EXPECT_EQ(before.month, 12u);
  EXPECT_EQ(before.day, 31u);
  EXPECT_EQ(before.hour, 23u);
  EXPECT_EQ(before.minute, 59u);
  EXPECT_EQ(before.second, 59u);
  EXPECT_EQ(before.nanos, 999'999'999u);
}

TEST(TimeFormatTest, CivilFromNanosAtTheEndsOfTheInt64Range) {
  // Any int64 is a possible event_time_ns; the extremes must not overflow.
  const CivilTime min = CivilFromNanos(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(min.year, 1677);
  EXPECT_EQ(min.month, 9u);
  EXPECT_EQ(min.day, 21u);
  EXPECT_EQ(min.hour, 0u);
  EXPECT_EQ(min.minute, 12u);
  EXPECT_EQ(min.second, 43u);
  EXPECT_EQ(min.nanos, 145'224'192u);
  const CivilTime max = CivilFromNanos(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(max.year, 2262);
  EXPECT_EQ(max.month, 4u);
  EXPECT_EQ(max.day, 11u);
  EXPECT_EQ(max.hour, 23u);
  EXPECT_EQ(max.minute, 47u);
  EXPECT_EQ(max.second, 16u);
  EXPECT_EQ(max.nanos, 854'775'807u);
}

TEST(TimeFormatTest, FormatRfc3339MillisExactStrings) {
  EXPECT_EQ(Format(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Format(1), "1970-01-01T00:00:00.000Z");  // truncates, not rounds
  EXPECT_EQ(Format(999'999), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Format(1'000'000), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(Format(999'999'999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(Format(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(Format(-1'000'000'000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(Format(-86400 * kNanosPerSecond), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(Format(951782400123456789), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(Format(1709210096789000000), "2024-02-29T12:34:56.789Z");
  EXPECT_EQ(Format(-2208988799999999995), "1900-01-01T00:00:00.000Z");
  EXPECT_EQ(Format(4102444799999000000), "2099-12-31T23:59:59.999Z");
  EXPECT_EQ(Format(1065910455003000000), "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(Format(std::numeric_limits<int64_t>::max()), "2262-04-11T23:47:16.854Z");
  EXPECT_EQ(Format(std::numeric_limits<int64_t>::min()), "1677-09-21T00:12:43.145Z");
}

TEST(TimeFormatTest, FormatIsAlways24CharsAndReturnsTheBuffer) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(std::numeric_limits<int64_t>::min() / 2,
                                             std::numeric_limits<int64_t>::max() / 2);
  for (int i = 0; i < 10000; ++i) {
    char out[32];
    const std::string_view text = FormatRfc3339Millis(any(rng), out);
    ASSERT_EQ(text.size(), 24u) << text;
    ASSERT_EQ(text.data(), out);
    ASSERT_EQ(text[4], '-');
    ASSERT_EQ(text[10], 'T');
    ASSERT_EQ(text[19], '.');
    ASSERT_EQ(text[23], 'Z');
  }
}

// The digits are written by hand; the printf form is the reference.
TEST(TimeFormatTest, FormatEqualsThePrintfFormOverTheWholeRange) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> any(std::numeric_limits<int64_t>::min(),
                                             std::numeric_limits<int64_t>::max());
  for (int i = 0; i < 100000; ++i) {
    const int64_t nanos = any(rng);
    const CivilTime t = CivilFromNanos(nanos);
    char want[64];
    std::snprintf(want, sizeof want, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                  static_cast<long long>(t.year), t.month, t.day, t.hour, t.minute, t.second,
                  t.nanos / 1'000'000);
    ASSERT_EQ(Format(nanos), want) << nanos;
  }
}

}  // namespace
}  // namespace gsoc
