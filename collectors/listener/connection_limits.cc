#include "collectors/listener/connection_limits.h"

namespace gsoc {

std::optional<RejectReason> ConnectionLimits::TryAcquire(const std::array<uint8_t, 16>& address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return RejectReason::kMaxConnections;
  size_t& count = per_peer_[address];
  if (count >= max_per_peer_) return RejectReason::kMaxConnectionsPerPeer;
  ++count;
  ++total_;
  return std::nullopt;
}

void ConnectionLimits::Release(const std::array<uint8_t, 16>& address) {
  std::lock_guard lock(mutex_);
  auto it = per_peer_.find(address);
  if (it == per_peer_.end()) return;
  if (--it->second == 0) per_peer_.erase(it);
  --total_;
}

size_t ConnectionLimits::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace gsoc
