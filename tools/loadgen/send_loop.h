// The per-connection send loop: cycles through a MessageBuffer from a start
// index, in batches, paced, until its message count, the deadline or a stop
// request; patches timestamps when the wall-clock second changes. With
// reconnect_every it closes and reconnects after that many messages; with
// handshakes it sends nothing and only reconnects (count and rate then count
// connections).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "tools/loadgen/channel.h"
#include "tools/loadgen/message_buffer.h"
#include "tools/loadgen/pacing.h"

namespace gsoc::loadgen {

struct SendPlan {
  size_t start_index = 0;              // first message (cycles through the buffer)
  uint64_t count = Pacer::kUnlimited;  // messages for this connection
  uint64_t rate = 0;                   // messages/s for this connection; 0 = unlimited
  Clock::time_point start;
  std::optional<Clock::time_point> deadline;
  bool patch_timestamps = false;  // the buffer is owned by this thread
  uint64_t reconnect_every = 0;   // messages per connection; 0: one connection
  bool handshakes = false;        // reconnect only, send nothing
};

struct SendStats {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t reconnects = 0;           // connections opened after the first one
  Clock::duration reconnect_time{};  // time spent in them (close, connect, handshake)
  Clock::time_point finished;
  bool failed = false;
  std::string error;
};

// `buffer` is const unless plan.patch_timestamps (then only this thread uses it).
SendStats RunSendLoop(Channel& channel, MessageBuffer& buffer, const SendPlan& plan,
                      const std::atomic<bool>& stop);

}  // namespace gsoc::loadgen
