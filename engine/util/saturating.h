// Time arithmetic on values a message may choose (event times near the
// int64 limits): sums and differences clamp at the limits instead of
// overflowing.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace gsoc {

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

// A duration from config as nanoseconds, INT64_MAX beyond (~292 years): a
// setting of centuries means "never", not an overflow.
inline int64_t SaturatingNanos(std::chrono::seconds duration) {
  constexpr int64_t kPerSecond = 1'000'000'000;
  const int64_t seconds = duration.count();
  if (seconds > std::numeric_limits<int64_t>::max() / kPerSecond) {
    return std::numeric_limits<int64_t>::max();
  }
  if (seconds < std::numeric_limits<int64_t>::min() / kPerSecond) {
    return std::numeric_limits<int64_t>::min();
  }
  return seconds * kPerSecond;
}

}  // namespace gsoc
