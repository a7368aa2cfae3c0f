// The one IP address and CIDR parser: agencies, listener addresses, Sigma
// `|cidr` rules, indicator lists and matching all use it.
//
// Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one
// comparison serves both families. Parsing never allocates (event fields are
// parsed on the hot path). Pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gsoc {

using IpBytes = std::array<uint8_t, 16>;

// Parses a bare IPv4 (dotted quad) or IPv6 address, no prefix and no zone.
// `is_v4` (optional) tells which family the text was.
bool ParseIpAddress(std::string_view text, IpBytes& out, bool* is_v4 = nullptr);

struct Cidr {
  IpBytes bytes{};            // host bits cleared
  uint8_t prefix_length = 0;  // in the 128-bit space (IPv4 /n is 96 + n)

  // "10.1.0.0/16", "2001:db8::/32", or a bare address (full length).
  static std::optional<Cidr> Parse(std::string_view text);
  bool Contains(const IpBytes& address) const;
  bool operator==(const Cidr&) const = default;
};

}  // namespace gsoc
