#include "tools/loadgen/send_loop.h"

#include <algorithm>
#include <ctime>
#include <thread>

namespace gsoc::loadgen {
namespace {

time_t CoarseWallSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

class TimestampPatcher {
 public:
  TimestampPatcher(MessageBuffer& buffer, bool enabled)
      : buffer_(buffer), enabled_(enabled && buffer.has_timestamps()) {}

  void Tick() {
    if (!enabled_) return;
    const time_t now = CoarseWallSeconds();
    if (now == last_second_) return;
    last_second_ = now;
    buffer_.PatchTimestamps(TimestampSet::Now());
  }

 private:
  MessageBuffer& buffer_;
  bool enabled_;
  time_t last_second_ = 0;
};

// Messages this connection may have sent by `now` (count, rate and deadline).
uint64_t Quota(const SendPlan& plan, const Pacer& pacer, Clock::time_point now) {
  const Clock::time_point until = plan.deadline ? std::min(now, *plan.deadline) : now;
  return std::min(plan.count, pacer.Allowed(until));
}

// --reconnect-every: what the current connection may still take.
struct ConnectionBudget {
  uint64_t every = 0;  // messages per connection; 0: unlimited
  uint64_t sent = 0;   // on the current connection

  bool exhausted() const { return every != 0 && sent == every; }
  uint64_t Limit(uint64_t available) const {
    return every == 0 ? available : std::min(available, every - sent);
  }
};

// Closes and reopens the channel, timing it. False on failure (recorded).
bool Reconnect(Channel& channel, SendStats& stats) {
  const Clock::time_point begin = Clock::now();
  if (!channel.Reconnect()) {
    stats.failed = true;
    stats.error = channel.error();
    return false;
  }
  stats.reconnect_time += Clock::now() - begin;
  ++stats.reconnects;
  return true;
}

// --handshakes: connections instead of messages, paced and counted alike.
SendStats RunReconnectLoop(Channel& channel, const SendPlan& plan, const std::atomic<bool>& stop) {
  SendStats stats;
  const Pacer pacer(plan.rate, plan.start);
  std::this_thread::sleep_until(plan.start);
  while (!stop.load(std::memory_order_relaxed) && stats.reconnects < plan.count) {
    const Clock::time_point now = Clock::now();
    if (plan.deadline && now >= *plan.deadline) break;
    if (stats.reconnects >= Quota(plan, pacer, now)) {
      pacer.WaitForNext(stats.reconnects);
      continue;
    }
    if (!Reconnect(channel, stats)) break;
  }
  stats.finished = Clock::now();
  return stats;
}

}  // namespace

SendStats RunSendLoop(Channel& channel, MessageBuffer& buffer, const SendPlan& plan,
                      const std::atomic<bool>& stop) {
  if (plan.handshakes) return RunReconnectLoop(channel, plan, stop);
  SendStats stats;
  const Pacer pacer(plan.rate, plan.start);
  TimestampPatcher patcher(buffer, plan.patch_timestamps);
  std::this_thread::sleep_until(plan.start);
  size_t index = buffer.empty() ? 0 : plan.start_index % buffer.size();
  ConnectionBudget budget{plan.reconnect_every};
  while (!buffer.empty() && !stop.load(std::memory_order_relaxed)) {
    const Clock::time_point now = Clock::now();
    const uint64_t quota = Quota(plan, pacer, now);
    const bool past_deadline = plan.deadline && now >= *plan.deadline;
    if (stats.messages >= plan.count) break;
    if (past_deadline && (!pacer.limited() || stats.messages >= quota)) break;
    if (stats.messages >= quota) {
      pacer.WaitForNext(stats.messages);
      continue;
    }
    if (budget.exhausted()) {
      if (!Reconnect(channel, stats)) break;
      budget.sent = 0;
    }
    patcher.Tick();
    const uint64_t available =
        budget.Limit(std::min<uint64_t>(quota - stats.messages, buffer.size() - index));
    const size_t n = channel.BatchSize(buffer, index, available);
    if (!channel.Send(buffer, index, index + n)) {
      stats.failed = true;
      stats.error = channel.error();
      break;
    }
    stats.messages += n;
    budget.sent += n;
    stats.bytes += buffer.Frames(index, index + n).size();
    index = (index + n) % buffer.size();
  }
  stats.finished = Clock::now();
  return stats;
}

}  // namespace gsoc::loadgen
