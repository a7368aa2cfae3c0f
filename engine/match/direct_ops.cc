#include "engine/match/direct_ops.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace gsoc::match::internal {

bool ParseIpAddress(std::string_view text, std::array<uint8_t, 16>* out) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  if (text.find(':') == std::string_view::npos) {
    uint8_t v4[4];
    if (inet_pton(AF_INET, buffer, v4) != 1) return false;
    out->fill(0);
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, buffer, out->data()) == 1;
}

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool CompareNumber(rules::MatchOp op, std::string_view field_value, double number) {
  double value = 0;
  if (!ParseNumber(field_value, &value)) return false;
  switch (op) {
    case rules::MatchOp::kLt:
      return value < number;
    case rules::MatchOp::kLte:
      return value <= number;
    case rules::MatchOp::kGt:
      return value > number;
    case rules::MatchOp::kGte:
      return value >= number;
    default:
      return false;
  }
}

}  // namespace gsoc::match::internal
