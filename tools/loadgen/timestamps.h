// Fixed-width timestamps, so rendered messages can be patched in place (and
// octet counts stay valid) when the second changes. All times are UTC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace gsoc::loadgen {

enum class TimestampKind : uint8_t {
  kRfc3164,  // "Mmm dd hh:mm:ss" (day space-padded), 15 bytes
  kRfc3339,  // "yyyy-mm-ddThh:mm:ss.mmmZ", 24 bytes
  kClf,      // nginx/Apache "dd/Mmm/yyyy:hh:mm:ss +0000", 26 bytes
};

constexpr size_t TimestampWidth(TimestampKind kind) {
  switch (kind) {
    case TimestampKind::kRfc3164:
      return 15;
    case TimestampKind::kRfc3339:
      return 24;
    case TimestampKind::kClf:
      return 26;
  }
  return 0;
}

// A wall-clock instant, rendered in all kinds at once.
class TimestampSet {
 public:
  TimestampSet() = default;
  TimestampSet(time_t seconds, int millis);

  static TimestampSet Now();

  std::string_view Get(TimestampKind kind) const;
  time_t seconds() const { return seconds_; }

 private:
  time_t seconds_ = 0;
  char rfc3164_[16] = {};
  char rfc3339_[25] = {};
  char clf_[27] = {};
};

}  // namespace gsoc::loadgen
