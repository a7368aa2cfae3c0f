#include "collectors/agency/agency_table.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "engine/util/ascii.h"

namespace gsoc {

namespace {}  // namespace

AgencyTable::AgencyTable(const std::vector<AgencyDefinition>& agencies, bool allow_unknown)
    : allow_unknown_(allow_unknown) {
  names_.push_back("unknown");
  for (const auto& agency : agencies) {
    const auto index = static_cast<uint16_t>(names_.size());
    names_.push_back(agency.name);
    for (const auto& cidr : agency.cidrs) entries_.push_back({cidr, index});
    for (const auto& identity : agency.certificates)
      identities_.emplace(AsciiLower(identity), index);
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
    const auto it = identities_.find(AsciiLower(name));
    if (it == identities_.end()) continue;
    if (matched != nullptr) *matched = name;
    return it->second;
  }
  return kNone;
}

}  // namespace gsoc
