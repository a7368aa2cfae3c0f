// Template implementation of StreamFramer::Feed (included by stream_framer.h).
#pragma once

#include <cstring>
#include <string_view>

namespace gsoc {
namespace framing_detail {

inline constexpr size_t kMaxOctetDigits = 10;

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Finds the next trailer (LF, and NUL in syslog mode) at or after an offset.
// The position of the next LF and of the next NUL are remembered, so a stream
// of NUL-terminated frames does not rescan the whole buffer for an LF at every
// frame (and vice versa): every byte is scanned at most once per trailer kind.
class TrailerScanner {
 public:
  TrailerScanner(const char* begin, size_t size, bool nul_too)
      : begin_(begin), size_(size), nul_too_(nul_too) {}

  // Offset of the next trailer at or after `from`, or size() when none.
  size_t Next(size_t from) {
    if (lf_ < from || lf_ == kUnknown) lf_ = Find(from, '\n');
    if (!nul_too_) return lf_;
    if (nul_ < from || nul_ == kUnknown) nul_ = Find(from, '\0');
    return lf_ < nul_ ? lf_ : nul_;
  }

 private:
  static constexpr size_t kUnknown = static_cast<size_t>(-1);
  size_t Find(size_t from, char c) const {
    if (from >= size_) return size_;
    const void* hit = std::memchr(begin_ + from, c, size_ - from);
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - begin_) : size_;
  }

  const char* begin_;
  size_t size_;
  bool nul_too_;
  size_t lf_ = kUnknown;
  size_t nul_ = kUnknown;
};

// True when a frame that has `length` bytes so far and no trailer yet can
// still end within the limit: at most max bytes, or max + 1 when the last is
// a CR that an LF would strip.
inline bool TailCanFit(const char* tail, size_t length, size_t max) {
  return length <= max || (length == max + 1 && tail[length - 1] == '\r');
}

}  // namespace framing_detail

template <typename OnFrame, typename OnOversize>
FeedResult StreamFramer::Feed(std::string_view data, OnFrame&& on_frame, OnOversize&& on_oversize,
                              size_t max_frames) {
  using framing_detail::IsDigit;
  const char* const base = data.data();
  const size_t size = data.size();
  const bool syslog = mode_ == FramingMode::kSyslog;
  framing_detail::TrailerScanner scanner(base, size, syslog);
  size_t pos = 0;

  // Rest of an oversize frame whose length is known (kept for completeness:
  // octet counts above the limit are errors, so this stays 0 today).
  if (discard_remaining_ > 0) {
    const size_t skip = discard_remaining_ < size ? discard_remaining_ : size;
    discard_remaining_ -= skip;
    pos = skip;
    if (discard_remaining_ > 0) return {size, FrameError::kNone};
  }
  // Rest of an oversize non-transparent frame: skip to its trailer.
  if (discarding_line_) {
    const size_t trailer = scanner.Next(pos);
    if (trailer == size) return {size, FrameError::kNone};
    discarding_line_ = false;
    pos = trailer + 1;
  }

  while (pos < size) {
    if (syslog && IsDigit(base[pos])) {
      // Octet counting is "MSGLEN SP MSG"; a digit run followed by anything
      // else starts a non-transparent frame (e.g. a timestamp without PRI).
      size_t end = pos + 1;
      while (end < size && IsDigit(base[end])) ++end;
      const size_t digits = end - pos;
      if (end == size) {
        // Cannot tell yet; short runs wait, long ones are checked below as a
        // non-transparent tail (they are never a valid count).
        if (digits <= framing_detail::kMaxOctetDigits) return {pos, FrameError::kNone};
      } else if (base[end] == ' ') {
        if (digits > framing_detail::kMaxOctetDigits) return {pos, FrameError::kBadOctetCount};
        uint64_t count = 0;
        for (size_t i = pos; i < end; ++i)
          count = count * 10 + static_cast<uint64_t>(base[i] - '0');
        if (count == 0) return {pos, FrameError::kBadOctetCount};
        if (count > max_message_size_) return {pos, FrameError::kOctetCountTooLarge};
        const size_t body = end + 1;
        if (size - body < count) return {pos, FrameError::kNone};  // incomplete
        on_frame(std::string_view(base + body, static_cast<size_t>(count)));
        pos = body + static_cast<size_t>(count);
        if (--max_frames == 0) return {pos, FrameError::kNone};
        continue;
      }
    }

    // Non-transparent frame: runs to the next trailer.
    const size_t trailer = scanner.Next(pos);
    if (trailer == size) {
      if (framing_detail::TailCanFit(base + pos, size - pos, max_message_size_)) {
        return {pos, FrameError::kNone};
      }
      // Oversize and still no trailer: drop what we have, skip to the trailer.
      on_oversize();
      discarding_line_ = true;
      return {size, FrameError::kNone};
    }
    size_t length = trailer - pos;
    if (length > 0 && base[trailer] == '\n' && base[trailer - 1] == '\r') --length;
    if (length > max_message_size_) {
      on_oversize();
    } else if (length > 0) {
      on_frame(std::string_view(base + pos, length));
      if (--max_frames == 0) return {trailer + 1, FrameError::kNone};
    }
    pos = trailer + 1;
  }
  return {pos, FrameError::kNone};
}

}  // namespace gsoc
