// Rate pacing on an absolute schedule: by time t after start, rate * t
// messages may have been sent. Senders send what is allowed, then sleep to
// the next 1 ms tick (or to the next message at low rates), so bursts are
// small and the long-run rate is exact with no drift.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace gsoc::loadgen {

using Clock = std::chrono::steady_clock;

class Pacer {
 public:
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
  static constexpr std::chrono::microseconds kTick{1000};

  // rate: messages per second; 0 = unlimited.
  Pacer(uint64_t rate, Clock::time_point start) : rate_(rate), start_(start) {}

  bool limited() const { return rate_ != 0; }
  // Messages that may have been sent by `now`, in total.
  uint64_t Allowed(Clock::time_point now) const;
  // Sleeps until the next tick or until message number `sent` + 1 is due.
  void WaitForNext(uint64_t sent) const;

 private:
  uint64_t rate_;
  Clock::time_point start_;
};

}  // namespace gsoc::loadgen
