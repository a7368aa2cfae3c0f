#include "collectors/listener/connection_limits.h"

namespace gsoc {

std::optional<RejectReason> ConnectionLimits::TryAcquire(const std::array<uint8_t, 16>& address,
                                                         uint16_t agency) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return RejectReason::kMaxConnections;
  if (agency >= per_agency_.size()) per_agency_.resize(size_t{agency} + 1, 0);
  if (per_agency_[agency] >= max_per_agency_) return RejectReason::kMaxConnectionsPerAgency;
  size_t& count = per_peer_[address];
  if (count >= max_per_peer_) return RejectReason::kMaxConnectionsPerPeer;
  ++count;
  ++per_agency_[agency];
  ++total_;
  return std::nullopt;
}

void ConnectionLimits::Release(const std::array<uint8_t, 16>& address, uint16_t agency) {
  std::lock_guard lock(mutex_);
  auto it = per_peer_.find(address);
  if (it == per_peer_.end()) return;
  if (--it->second == 0) per_peer_.erase(it);
  if (agency < per_agency_.size() && per_agency_[agency] > 0) --per_agency_[agency];
  --total_;
}

std::optional<RejectReason> ConnectionLimits::MoveAgency(uint16_t from, uint16_t to) {
  std::lock_guard lock(mutex_);
  if (from == to) return std::nullopt;
  if (to >= per_agency_.size()) per_agency_.resize(size_t{to} + 1, 0);
  if (per_agency_[to] >= max_per_agency_) return RejectReason::kMaxConnectionsPerAgency;
  ++per_agency_[to];
  if (from < per_agency_.size() && per_agency_[from] > 0) --per_agency_[from];
  return std::nullopt;
}

size_t ConnectionLimits::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

size_t ConnectionLimits::agency_total(uint16_t agency) const {
  std::lock_guard lock(mutex_);
  return agency < per_agency_.size() ? per_agency_[agency] : 0;
}

}  // namespace gsoc
