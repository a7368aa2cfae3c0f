// Builds one syslog message (RFC 3164 or RFC 5424 header + body) and records
// where its timestamps are, so a MessageBuffer can patch them later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/loadgen/timestamps.h"

namespace gsoc::loadgen {

enum class HeaderStyle : uint8_t { kRfc3164, kRfc5424 };

struct TimestampSlot {
  uint64_t offset = 0;  // byte offset of the timestamp in the message
  TimestampKind kind = TimestampKind::kRfc3164;
};

struct RenderedMessage {
  std::string text;
  std::vector<TimestampSlot> slots;
};

// Who logs the message: PRI parts, APP-NAME/TAG and PID (0 = none).
struct Origin {
  int facility = 1;
  int severity = 6;
  std::string_view app;
  uint32_t pid = 0;
};

class MessageWriter {
 public:
  MessageWriter(HeaderStyle style, std::string_view hostname, const TimestampSet& now)
      : style_(style), hostname_(hostname), now_(now) {}

  // Starts a new message with the header for `origin`.
  void Begin(const Origin& origin);
  // Starts a new message with "<PRI>TIMESTAMP HOSTNAME " (RFC 3164, no tag).
  void BeginUntagged(int facility, int severity);
  MessageWriter& Text(std::string_view text);
  MessageWriter& Number(uint64_t value);
  MessageWriter& PaddedNumber(uint64_t value, int width);  // zero-padded
  MessageWriter& Timestamp(TimestampKind kind);
  RenderedMessage Take();

 private:
  HeaderStyle style_;
  std::string_view hostname_;
  const TimestampSet& now_;
  RenderedMessage message_;
};

}  // namespace gsoc::loadgen
