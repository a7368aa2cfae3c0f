// Stream framing for syslog over TCP (RFC 6587) and for JSON lines.
//
// Octet counting ("MSGLEN SP MSG") and non-transparent framing (trailer LF,
// or NUL) are detected per frame on the same stream: a frame starting with a
// digit followed by more digits and a space is octet-counted; anything else
// runs to the next LF or NUL. In kLinesOnly mode (JSON) only LF ends a frame.
//
// Zero-copy: Feed() reports frames as views into the bytes it was given and
// returns how many bytes it consumed. The caller keeps the unconsumed tail
// (shorter than max_message_size, unless the framer is discarding or stopped
// at max_frames) and presents it again, followed by new bytes, on the next
// call.
//
// Limits: a frame longer than max_message_size is discarded (the framer skips
// to its end, across calls) and reported through on_oversize. An octet count
// that is not 1-10 digits, is 0, or exceeds max_message_size is a fatal error:
// the caller closes the connection. A trailing CR before LF is stripped
// (CRLF senders), and empty frames are skipped.
//
// Threading: one framer per connection; no internal synchronization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gsoc {

enum class FramingMode : uint8_t { kSyslog, kLinesOnly };

enum class FrameError : uint8_t {
  kNone,
  kBadOctetCount,       // not 1-10 digits, or zero
  kOctetCountTooLarge,  // exceeds max_message_size
};

std::string_view FrameErrorName(FrameError error);

struct FeedResult {
  size_t consumed = 0;
  FrameError error = FrameError::kNone;
};

class StreamFramer {
 public:
  StreamFramer(FramingMode mode, size_t max_message_size)
      : mode_(mode), max_message_size_(max_message_size) {}

  // Calls on_frame(std::string_view) for each complete frame and
  // on_oversize() for each discarded frame. On error, stop using the stream.
  // After `max_frames` (>= 1) frames it stops: `consumed` ends after the
  // last one, and the rest (complete frames among it) is presented again.
  template <typename OnFrame, typename OnOversize>
  FeedResult Feed(std::string_view data, OnFrame&& on_frame, OnOversize&& on_oversize,
                  size_t max_frames = SIZE_MAX);

  // At end of stream: the unconsumed tail is a final non-transparent frame
  // without trailer (real senders omit the last newline). Returns it with CR
  // stripped, or empty if the tail is an incomplete octet-counted frame (then
  // *truncated is set) or the framer was discarding.
  std::string_view Finish(std::string_view tail, bool* truncated);

  size_t max_message_size() const { return max_message_size_; }

 private:
  FramingMode mode_;
  size_t max_message_size_;
  size_t discard_remaining_ = 0;  // octet-counted oversize frame bytes still to skip
  bool discarding_line_ = false;  // skipping to the next trailer
};

}  // namespace gsoc

#include "collectors/framing/stream_framer_inl.h"
