// Fuzzes StreamFramer the way a TCP session drives it: the input is split
// into reads whose sizes come from the data, each read is appended to the
// unconsumed tail, and Finish() runs at EOF. Checks: every frame fits the
// limit and lies inside the buffer given, consumed <= given, the tail never
// grows past the limit (+ octet-count header), and the frames do not depend on
// how the stream was split (compared with feeding everything at once).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/framing/stream_framer.h"

namespace {

constexpr size_t kMaxMessage = 64;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Run {
  std::vector<std::string> frames;
  size_t oversize = 0;
  gsoc::FrameError error = gsoc::FrameError::kNone;
};

// Feeds `stream` in reads of sizes taken from `sizes` (cycled; empty = at once).
Run Drive(gsoc::FramingMode mode, std::string_view stream, std::string_view sizes) {
  Run run;
  gsoc::StreamFramer framer(mode, kMaxMessage);
  std::string buffer;
  size_t offset = 0, size_index = 0;
  while (offset < stream.size()) {
    size_t n = stream.size() - offset;
    if (!sizes.empty()) {
      n = std::min<size_t>(n, 1 + static_cast<uint8_t>(sizes[size_index++ % sizes.size()]) % 97);
    }
    buffer.append(stream.substr(offset, n));
    offset += n;
    const char* begin = buffer.data();
    const char* end = begin + buffer.size();
    const gsoc::FeedResult result = framer.Feed(
        buffer,
        [&](std::string_view frame) {
          Check(!frame.empty());
          Check(frame.size() <= kMaxMessage);
          Check(frame.data() >= begin && frame.data() + frame.size() <= end);
          run.frames.emplace_back(frame);
        },
        [&] { ++run.oversize; });
    Check(result.consumed <= buffer.size());
    if (result.error != gsoc::FrameError::kNone) {
      run.error = result.error;
      Check(!gsoc::FrameErrorName(result.error).empty());
      return run;
    }
    buffer.erase(0, result.consumed);
    // 10 digits + SP + a whole max-size octet-counted frame minus one byte.
    Check(buffer.size() <= kMaxMessage + 11);
  }
  bool truncated = false;
  const std::string_view last = framer.Finish(buffer, &truncated);
  Check(last.size() <= kMaxMessage);
  Check(!(truncated && !last.empty()));
  if (!last.empty()) run.frames.emplace_back(last);
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: how many of the following bytes drive the read sizes.
  const size_t control = std::min<size_t>(data[0] % 16, size - 1);
  const std::string_view sizes(reinterpret_cast<const char*>(data) + 1, control);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1 + control,
                                size - 1 - control);
  for (gsoc::FramingMode mode : {gsoc::FramingMode::kSyslog, gsoc::FramingMode::kLinesOnly}) {
    const Run chunked = Drive(mode, stream, sizes);
    const Run whole = Drive(mode, stream, {});
    const Run bytewise = Drive(mode, stream, std::string_view("\0", 1));
    // Long digit runs that reach the limit before their end is seen may be
    // discarded (chunked) instead of rejected (whole); compare only when
    // neither run saw an error.
    if (chunked.error == gsoc::FrameError::kNone && whole.error == gsoc::FrameError::kNone &&
        bytewise.error == gsoc::FrameError::kNone) {
      Check(chunked.frames == whole.frames);
      Check(bytewise.frames == whole.frames);
      Check(chunked.oversize == whole.oversize);
    }
    if (mode == gsoc::FramingMode::kLinesOnly) Check(whole.error == gsoc::FrameError::kNone);
  }
  return 0;
}
