// Civil-time helpers shared by parsers and outputs (no locale, no tz database,
// no allocation): days <-> civil dates and RFC 3339 formatting.
#pragma once

#include <cstdint>
#include <string_view>

namespace gsoc {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
constexpr int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilTime {
  int64_t year;
  unsigned month, day, hour, minute, second;
  unsigned nanos;
};

CivilTime CivilFromNanos(int64_t nanos_since_epoch);

// Days in `month` of `year`.
unsigned DaysInMonth(int64_t year, unsigned month);

// Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars) to out; returns the view.
std::string_view FormatRfc3339Millis(int64_t nanos_since_epoch, char (&out)[32]);

}  // namespace gsoc
