// ConnectionLimits: per-listener caps on open connections, in total and per
// peer address. Called once per accept and once per close (never per event),
// from any io thread; a mutex guards the per-peer map.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "engine/metrics/counters.h"

namespace gsoc {

class ConnectionLimits {
 public:
  ConnectionLimits(size_t max_total, size_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}

  // Takes a slot for `address`, or says which limit refused it.
  std::optional<RejectReason> TryAcquire(const std::array<uint8_t, 16>& address);
  void Release(const std::array<uint8_t, 16>& address);
  size_t total() const;

 private:
  const size_t max_total_;
  const size_t max_per_peer_;
  mutable std::mutex mutex_;
  size_t total_ = 0;
  std::map<std::array<uint8_t, 16>, size_t> per_peer_;
};

}  // namespace gsoc
