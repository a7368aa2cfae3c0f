#include "collectors/agency/agency_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace gsoc {

namespace {

bool ParseAddress(const std::string& text, std::array<uint8_t, 16>& out, bool* is_v4) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out = {};
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    *is_v4 = true;
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    *is_v4 = false;
    return true;
  }
  return false;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  Cidr cidr;
  bool is_v4 = false;
  if (!ParseAddress(address, cidr.bytes, &is_v4)) return std::nullopt;
  const int max_length = is_v4 ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || digits.front() < '0' || digits.front() > '9') {
      return std::nullopt;  // from_chars would take "-0"
    }
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
      return std::nullopt;
    }
    if (length < 0 || length > max_length) return std::nullopt;
  }
  cidr.prefix_length = static_cast<uint8_t>(is_v4 ? length + 96 : length);
  // Clear host bits so Contains can compare whole bytes.
  for (int bit = cidr.prefix_length; bit < 128; ++bit) {
    cidr.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return cidr;
}

bool Cidr::Contains(const std::array<uint8_t, 16>& address) const {
  const int full_bytes = prefix_length / 8;
  if (std::memcmp(address.data(), bytes.data(), full_bytes) != 0) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (address[full_bytes] & mask) == bytes[full_bytes];
}

AgencyTable::AgencyTable(const std::vector<AgencyDefinition>& agencies, bool allow_unknown)
    : allow_unknown_(allow_unknown) {
  names_.push_back("unknown");
  for (const auto& agency : agencies) {
    const auto index = static_cast<uint16_t>(names_.size());
    names_.push_back(agency.name);
    for (const auto& cidr : agency.cidrs) entries_.push_back({cidr, index});
    for (const auto& identity : agency.certificates) identities_.emplace(Lower(identity), index);
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.cidr.prefix_length > b.cidr.prefix_length;
  });
}

uint16_t AgencyTable::Lookup(const PeerAddress& peer) const {
  for (const Entry& entry : entries_) {
    if (entry.cidr.Contains(peer.bytes)) return entry.agency;
  }
  return allow_unknown_ ? kUnknown : kNone;
}

uint16_t AgencyTable::LookupIdentity(const std::vector<std::string>& names,
                                     std::string* matched) const {
  for (const std::string& name : names) {
    const auto it = identities_.find(Lower(name));
    if (it == identities_.end()) continue;
    if (matched != nullptr) *matched = name;
    return it->second;
  }
  return kNone;
}

}  // namespace gsoc
