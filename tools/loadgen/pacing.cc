#include "tools/loadgen/pacing.h"

#include <algorithm>
#include <thread>

namespace gsoc::loadgen {

uint64_t Pacer::Allowed(Clock::time_point now) const {
  if (rate_ == 0) return kUnlimited;
  if (now <= start_) return 0;
  const auto elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_);
  const auto product = static_cast<unsigned __int128>(elapsed_ns.count()) * rate_;
  return static_cast<uint64_t>(product / 1'000'000'000u);
}

void Pacer::WaitForNext(uint64_t sent) const {
  if (rate_ == 0) return;
  const Clock::time_point now = Clock::now();
  const auto since_start = std::max(now - start_, Clock::duration::zero());
  const auto next_tick = start_ + (since_start / kTick + 1) * kTick;
  // Time at which message `sent + 1` becomes allowed (ceil, in ns).
  const auto due_ns =
      (static_cast<unsigned __int128>(sent + 1) * 1'000'000'000u + rate_ - 1) / rate_;
  const auto due = start_ + std::chrono::nanoseconds(static_cast<int64_t>(due_ns));
  // Wake at least every 50 ms so deadlines and Ctrl-C are noticed at low rates.
  const auto capped_due = std::min<Clock::time_point>(due, now + std::chrono::milliseconds(50));
  std::this_thread::sleep_until(std::max<Clock::time_point>(next_tick, capped_due));
}

}  // namespace gsoc::loadgen
