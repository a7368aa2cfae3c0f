#include "tools/loadgen/message_buffer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gsoc::loadgen {

size_t AppendFramed(Framing framing, std::string_view message, std::string& out) {
  if (framing == Framing::kOctet) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, message.size());
    out.append(digits, result.ptr).push_back(' ');
  }
  const size_t offset = out.size();
  out.append(message);
  if (framing == Framing::kLf) {
    std::replace_if(
        out.begin() + static_cast<std::ptrdiff_t>(offset), out.end(),
        [](char c) { return c == '\n' || c == '\r'; }, ' ');
    out.push_back('\n');
  }
  return offset;
}

void MessageBuffer::Reserve(size_t messages, size_t bytes) {
  data_.reserve(bytes);
  frame_starts_.reserve(messages + 1);
  payload_starts_.reserve(messages);
}

void MessageBuffer::Add(const RenderedMessage& message) {
  const size_t offset = AppendFramed(framing_, message.text, data_);
  payload_starts_.push_back(offset);
  frame_starts_.push_back(data_.size());
  for (const TimestampSlot& slot : message.slots) {
    slots_.push_back(TimestampSlot{offset + slot.offset, slot.kind});
  }
}

std::string_view MessageBuffer::Payload(size_t i) const {
  const uint64_t end = frame_starts_[i + 1] - (framing_ == Framing::kLf ? 1 : 0);
  return std::string_view(data_).substr(payload_starts_[i], end - payload_starts_[i]);
}

size_t MessageBuffer::MessagesWithin(size_t first, size_t max_messages, size_t max_bytes) const {
  const size_t last = std::min(size(), first + max_messages);
  const uint64_t limit = frame_starts_[first] + max_bytes;
  if (frame_starts_[last] <= limit) return last - first;
  const auto it =
      std::upper_bound(frame_starts_.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                       frame_starts_.begin() + static_cast<std::ptrdiff_t>(last), limit);
  const auto n = static_cast<size_t>(it - frame_starts_.begin()) - 1 - first;
  return std::max<size_t>(n, 1);
}

void MessageBuffer::PatchTimestamps(const TimestampSet& now) {
  for (const TimestampSlot& slot : slots_) {
    const std::string_view text = now.Get(slot.kind);
    std::memcpy(data_.data() + slot.offset, text.data(), text.size());
  }
}

}  // namespace gsoc::loadgen
