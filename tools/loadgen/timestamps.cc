#include "tools/loadgen/timestamps.h"

#include <chrono>
#include <cstring>

namespace gsoc::loadgen {
namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char* Put(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// `value` as exactly `width` decimal digits (zero-padded).
char* Put(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "hh:mm:ss"
char* Put(char* out, const struct tm& tm) {
  return Put(Put(Put(Put(Put(out, tm.tm_hour, 2), ":"), tm.tm_min, 2), ":"), tm.tm_sec, 2);
}

}  // namespace

TimestampSet::TimestampSet(time_t seconds, int millis) : seconds_(seconds) {
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  const std::string_view month = kMonths[tm.tm_mon % 12];
  const int year = (tm.tm_year + 1900) % 10000;
  // "Mmm dd hh:mm:ss"
  char* p = Put(rfc3164_, month);
  *p++ = ' ';
  p = tm.tm_mday < 10 ? Put(Put(p, " "), tm.tm_mday, 1) : Put(p, tm.tm_mday, 2);
  Put(Put(p, " "), tm);
  // "yyyy-mm-ddThh:mm:ss.mmmZ"
  p = Put(Put(Put(Put(Put(rfc3339_, year, 4), "-"), tm.tm_mon + 1, 2), "-"), tm.tm_mday, 2);
  p = Put(Put(p, "T"), tm);
  Put(Put(Put(p, "."), millis % 1000, 3), "Z");
  // "dd/Mmm/yyyy:hh:mm:ss +0000"
  p = Put(Put(Put(Put(Put(clf_, tm.tm_mday, 2), "/"), month), "/"), year, 4);
  Put(Put(Put(p, ":"), tm), " +0000");
}

TimestampSet TimestampSet::Now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return TimestampSet(static_cast<time_t>(ms / 1000), static_cast<int>(ms % 1000));
}

std::string_view TimestampSet::Get(TimestampKind kind) const {
  switch (kind) {
    case TimestampKind::kRfc3164:
      return {rfc3164_, 15};
    case TimestampKind::kRfc3339:
      return {rfc3339_, 24};
    case TimestampKind::kClf:
      return {clf_, 26};
  }
  return {};
}

}  // namespace gsoc::loadgen
