#include "tools/loadgen/message_writer.h"

#include <charconv>
#include <utility>

namespace gsoc::loadgen {

void MessageWriter::Begin(const Origin& origin) {
  message_ = RenderedMessage{};
  Text("<").Number(static_cast<uint64_t>(origin.facility * 8 + origin.severity)).Text(">");
  if (style_ == HeaderStyle::kRfc5424) {
    Text("1 ").Timestamp(TimestampKind::kRfc3339).Text(" ").Text(hostname_).Text(" ");
    Text(origin.app).Text(" ");
    if (origin.pid != 0) {
      Number(origin.pid);
    } else {
      Text("-");
    }
    Text(" - - ");
    return;
  }
  Timestamp(TimestampKind::kRfc3164).Text(" ").Text(hostname_).Text(" ").Text(origin.app);
  if (origin.pid != 0) Text("[").Number(origin.pid).Text("]");
  Text(": ");
}

void MessageWriter::BeginUntagged(int facility, int severity) {
  message_ = RenderedMessage{};
  Text("<").Number(static_cast<uint64_t>(facility * 8 + severity)).Text(">");
  Timestamp(TimestampKind::kRfc3164).Text(" ").Text(hostname_).Text(" ");
}

MessageWriter& MessageWriter::Text(std::string_view text) {
  message_.text.append(text);
  return *this;
}

MessageWriter& MessageWriter::Number(uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  message_.text.append(digits, result.ptr);
  return *this;
}

MessageWriter& MessageWriter::PaddedNumber(uint64_t value, int width) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  const auto length = static_cast<int>(result.ptr - digits);
  if (length < width) message_.text.append(static_cast<size_t>(width - length), '0');
  message_.text.append(digits, result.ptr);
  return *this;
}

MessageWriter& MessageWriter::Timestamp(TimestampKind kind) {
  message_.slots.push_back(TimestampSlot{message_.text.size(), kind});
  return Text(now_.Get(kind));
}

RenderedMessage MessageWriter::Take() { return std::exchange(message_, RenderedMessage{}); }

}  // namespace gsoc::loadgen
