#include "engine/util/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace gsoc {

bool ParseIpAddress(std::string_view text, IpBytes& out, bool* is_v4) {
  char buffer[INET6_ADDRSTRLEN + 1];  // inet_pton wants a terminated string
  if (text.empty() || text.size() >= sizeof(buffer)) return false;
  // inet_pton stops at a NUL: "1.2.3.4\0junk" is not an address.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  const bool v4 = text.find(':') == std::string_view::npos;
  if (v4) {
    uint8_t quad[4];
    if (inet_pton(AF_INET, buffer, quad) != 1) return false;
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, quad, 4);
  } else if (inet_pton(AF_INET6, buffer, out.data()) != 1) {
    return false;
  }
  if (is_v4 != nullptr) *is_v4 = v4;
  return true;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  Cidr cidr;
  bool is_v4 = false;
  if (!ParseIpAddress(text.substr(0, slash), cidr.bytes, &is_v4)) return std::nullopt;
  const int max_length = is_v4 ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || digits.front() < '0' || digits.front() > '9') {
      return std::nullopt;  // from_chars would take "-0"
    }
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (length > max_length) return std::nullopt;
  }
  cidr.prefix_length = static_cast<uint8_t>(is_v4 ? length + 96 : length);
  for (int bit = cidr.prefix_length; bit < 128; ++bit) {  // Contains compares whole bytes
    cidr.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return cidr;
}

bool Cidr::Contains(const IpBytes& address) const {
  const int full_bytes = prefix_length / 8;
  if (std::memcmp(address.data(), bytes.data(), full_bytes) != 0) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (address[full_bytes] & mask) == bytes[full_bytes];
}

}  // namespace gsoc
