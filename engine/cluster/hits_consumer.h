// HitsConsumer: the messages of one subject of a stream (a correlation
// partition's gsoc.hits.<p> on GSOC_HITS), in stream order, from a given
// sequence on: a JetStream ordered consumer (ephemeral, no acks, flow
// control and heartbeats; libnats recreates it at the next sequence when a
// message is missed or its server dies). Progress is the caller's: the
// correlate role's checkpoint names the last sequence it covers, and a new
// owner starts after it.
//
// When the caller is slow (its next stage, GSOC_ALERTS, is full): messages
// wait in this process up to `max_pending_messages` and
// `max_pending_bytes`; the server's flow control holds the rest. Beyond the
// bound libnats drops them as a slow consumer and the ordered consumer
// starts again at the first one missing (so nothing is skipped).
//
// Threading: one thread uses a consumer (libnats delivers on its own).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/cluster/jetstream.h"

struct __natsMsg;

namespace gsoc {

class HitsConsumer {
 public:
  // Starts delivery of `subject` on `stream` at `start_sequence` (1: from
  // the first message). Null with `error` when JetStream cannot create it
  // now (no leader: the caller retries).
  static std::unique_ptr<HitsConsumer> Create(JetStreamClient& client, std::string_view stream,
                                              std::string_view subject, uint64_t start_sequence,
                                              int max_pending_messages, int max_pending_bytes,
                                              std::string* error);
  ~HitsConsumer();
  HitsConsumer(const HitsConsumer&) = delete;
  HitsConsumer& operator=(const HitsConsumer&) = delete;

  // Messages delivered to this process and not taken yet (no wait).
  int Waiting() const;
  // The next message, waiting up to `timeout` (> 0): true with `out` (valid
  // until the next call or destruction) and the messages of the subject
  // after it the server still holds (`server_pending`); false on timeout or
  // error (`error` set on error only).
  bool Next(std::chrono::milliseconds timeout, ConsumedMessage* out, uint64_t* server_pending,
            std::string* error);

 private:
  HitsConsumer() = default;
  __natsSubscription* subscription_ = nullptr;
  __natsMsg* current_ = nullptr;
  std::string decoded_;  // current_'s payload when it was compressed
};

}  // namespace gsoc
