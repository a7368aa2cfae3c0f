#include "engine/util/time_format.h"

#include <cstdio>

namespace gsoc {

namespace {
constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

CivilTime CivilFromNanos(int64_t nanos) {
  const int64_t seconds = FloorDiv(nanos, kNanosPerSecond);
  const int64_t days = FloorDiv(seconds, kSecondsPerDay);
  const int64_t second_of_day = seconds - days * kSecondsPerDay;
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  CivilTime civil{};
  civil.day = doy - (153 * mp + 2) / 5 + 1;
  civil.month = mp < 10 ? mp + 3 : mp - 9;
  civil.year = static_cast<int64_t>(yoe) + era * 400 + (civil.month <= 2);
  civil.hour = static_cast<unsigned>(second_of_day / 3600);
  civil.minute = static_cast<unsigned>(second_of_day % 3600 / 60);
  civil.second = static_cast<unsigned>(second_of_day % 60);
  // nanos % kNanosPerSecond, made non-negative: seconds * kNanosPerSecond
  // would overflow for instants before 1677-09-21T00:12:44Z.
  const int64_t sub_second = nanos % kNanosPerSecond;
  civil.nanos = static_cast<unsigned>(sub_second < 0 ? sub_second + kNanosPerSecond : sub_second);
  return civil;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

namespace {
char* PutDigits(char* out, unsigned value, int digits) {
  for (int i = digits - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  return out + digits;
}
}  // namespace

// Digits by hand: this runs for every alert and event written as JSON, and
// snprintf was 4% of the alert store's CPU. Years outside 0..9999 (not
// RFC 3339) keep the general form.
std::string_view FormatRfc3339Millis(int64_t nanos, char (&out)[32]) {
  const CivilTime t = CivilFromNanos(nanos);
  if (t.year < 0 || t.year > 9999) {
    const int n = std::snprintf(out, sizeof(out), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                                static_cast<long long>(t.year), t.month, t.day, t.hour, t.minute,
                                t.second, t.nanos / 1'000'000);
    return {out, n > 0 ? static_cast<size_t>(n) : 0};
  }
  char* p = PutDigits(out, static_cast<unsigned>(t.year), 4);
  *p++ = '-';
  p = PutDigits(p, t.month, 2);
  *p++ = '-';
  p = PutDigits(p, t.day, 2);
  *p++ = 'T';
  p = PutDigits(p, t.hour, 2);
  *p++ = ':';
  p = PutDigits(p, t.minute, 2);
  *p++ = ':';
  p = PutDigits(p, t.second, 2);
  *p++ = '.';
  p = PutDigits(p, t.nanos / 1'000'000, 3);
  *p++ = 'Z';
  return {out, static_cast<size_t>(p - out)};
}

}  // namespace gsoc
