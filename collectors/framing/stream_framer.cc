#include "collectors/framing/stream_framer.h"

namespace gsoc {

std::string_view FrameErrorName(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "none";
    case FrameError::kBadOctetCount:
      return "bad_octet_count";
    case FrameError::kOctetCountTooLarge:
      return "octet_count_too_large";
  }
  return "unknown";
}

std::string_view StreamFramer::Finish(std::string_view tail, bool* truncated) {
  if (truncated != nullptr) *truncated = false;
  const bool was_discarding = discarding_line_ || discard_remaining_ > 0;
  discarding_line_ = false;
  discard_remaining_ = 0;
  if (was_discarding || tail.empty()) return {};

  if (mode_ == FramingMode::kSyslog && framing_detail::IsDigit(tail.front())) {
    size_t end = 1;
    while (end < tail.size() && framing_detail::IsDigit(tail[end])) ++end;
    if (end < tail.size() && tail[end] == ' ' && end <= framing_detail::kMaxOctetDigits) {
      // "MSGLEN SP" and fewer bytes than announced: the sender was cut off.
      if (truncated != nullptr) *truncated = true;
      return {};
    }
  }
  if (tail.back() == '\r') tail.remove_suffix(1);
  if (tail.size() > max_message_size_) return {};
  return tail;
}

}  // namespace gsoc
