// Pre-rendered, pre-framed messages in one contiguous buffer, so senders
// write many messages per syscall. Timestamps are patched in place once per
// second (they are fixed-width, so octet counts stay valid).
//
// Threading: a buffer with timestamps belongs to one sender thread; one
// without (plain --file replay) may be shared read-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/loadgen/message_writer.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/timestamps.h"

namespace gsoc::loadgen {

// Appends `message` to `out` framed: "LEN SP MSG", "MSG LF" or bare MSG.
// LF framing replaces embedded CR/LF bytes by spaces. Returns the offset of
// the message text in `out`.
size_t AppendFramed(Framing framing, std::string_view message, std::string& out);

class MessageBuffer {
 public:
  explicit MessageBuffer(Framing framing) : framing_(framing) { frame_starts_.push_back(0); }

  void Add(const RenderedMessage& message);
  void Reserve(size_t messages, size_t bytes);

  size_t size() const { return payload_starts_.size(); }
  bool empty() const { return payload_starts_.empty(); }
  Framing framing() const { return framing_; }
  bool has_timestamps() const { return !slots_.empty(); }

  // Framed bytes of messages [first, last).
  std::string_view Frames(size_t first, size_t last) const {
    return std::string_view(data_).substr(frame_starts_[first],
                                          frame_starts_[last] - frame_starts_[first]);
  }
  // Message `i` without framing.
  std::string_view Payload(size_t i) const;
  // Largest n <= max_messages (at least 1) so that Frames(first, first + n)
  // fits in max_bytes.
  size_t MessagesWithin(size_t first, size_t max_messages, size_t max_bytes) const;

  // Rewrites every timestamp; cheap enough to call once per second.
  void PatchTimestamps(const TimestampSet& now);

 private:
  Framing framing_;
  std::string data_;
  std::vector<uint64_t> frame_starts_;    // size() + 1 entries
  std::vector<uint64_t> payload_starts_;  // size() entries
  std::vector<TimestampSlot> slots_;      // offsets into data_
};

}  // namespace gsoc::loadgen
