// AgencyTable: which agency a peer address belongs to (longest CIDR match).
//
// Built once from the config; immutable afterwards, so any thread may call
// Lookup concurrently. Index 0 is always the `unknown` agency; configured
// agencies follow in config order. Lookup is per connection (TCP) or per
// datagram source change (UDP), not per event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/event/event.h"
#include "engine/util/ip_address.h"

namespace gsoc {

struct AgencyDefinition {
  std::string name;
  std::vector<Cidr> cidrs;
  // TLS client certificate identities (subject CN or a subjectAltName) that
  // belong to this agency; on a syslog_tls listener with client_ca they
  // decide the agency, before any CIDR.
  std::vector<std::string> certificates = {};
};

class AgencyTable {
 public:
  static constexpr uint16_t kUnknown = 0;
  static constexpr uint16_t kNone = UINT16_MAX;

  AgencyTable(const std::vector<AgencyDefinition>& agencies, bool allow_unknown);

  // The agency index of `peer`, kUnknown if it is in no agency and unknown
  // peers are allowed, kNone if it must be refused.
  uint16_t Lookup(const PeerAddress& peer) const;
  // The agency of a verified client certificate: the first of its names
  // (CN, SANs) configured under some agency's `certificates` (compared
  // case-insensitively), or kNone. `matched` receives that name.
  uint16_t LookupIdentity(const std::vector<std::string>& names, std::string* matched) const;

  size_t size() const { return names_.size(); }
  const std::string& name(uint16_t index) const { return names_[index]; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  struct Entry {
    Cidr cidr;
    uint16_t agency;
  };
  std::vector<Entry> entries_;                            // longest prefix first
  std::unordered_map<std::string, uint16_t> identities_;  // lower-case name -> agency
  std::vector<std::string> names_;
  bool allow_unknown_;
};

}  // namespace gsoc
