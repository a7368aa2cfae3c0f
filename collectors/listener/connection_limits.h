// ConnectionLimits: per-listener caps on open connections, in total, per
// agency and per peer address, so that one agency (or one of its hosts)
// cannot take every slot. Called once per accept and once per close (never
// per event), from any io thread; a mutex guards the maps.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/metrics/counters.h"

namespace gsoc {

class ConnectionLimits {
 public:
  ConnectionLimits(size_t max_total, size_t max_per_peer, size_t max_per_agency = SIZE_MAX)
      : max_total_(max_total), max_per_peer_(max_per_peer), max_per_agency_(max_per_agency) {}

  // Takes a slot for `address` of `agency`, or says which limit refused it
  // (checked in the order total, agency, peer).
  std::optional<RejectReason> TryAcquire(const std::array<uint8_t, 16>& address,
                                         uint16_t agency = 0);
  void Release(const std::array<uint8_t, 16>& address, uint16_t agency = 0);
  // Moves one slot from agency `from` to `to` (a TLS client certificate
  // named the agency after the accept), or says why `to` has no room.
  std::optional<RejectReason> MoveAgency(uint16_t from, uint16_t to);
  size_t total() const;
  size_t agency_total(uint16_t agency) const;

 private:
  const size_t max_total_;
  const size_t max_per_peer_;
  const size_t max_per_agency_;
  mutable std::mutex mutex_;
  size_t total_ = 0;                                    // guarded by mutex_
  std::vector<size_t> per_agency_;                      // guarded by mutex_; by agency index
  std::map<std::array<uint8_t, 16>, size_t> per_peer_;  // guarded by mutex_
};

}  // namespace gsoc
