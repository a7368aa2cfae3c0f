// Deterministic alert identity in a cluster (engine/cluster/README.md).
//
// An alert's identity is a 128-bit FNV-1a digest of what makes it that
// alert: the rule id, the kind, the key (agency and group-by values), the
// window, and the input's position (the GSOC_EVENTS stream sequence of the
// message the hit came from and the event's index in it). A detect node that
// processes the same message again (redelivery after a crash, a replay)
// produces the same identities, so the alert is stored once: the identities
// make the Nats-Msg-Id of an alerts message (JetStream dedups within its
// duplicate window), and the store role checks them again (IdentityWindow).
// Pure functions and a single-threaded window; no allocation per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <unordered_set>

#include "engine/alert/alert.h"

namespace gsoc {

struct AlertIdentity {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const AlertIdentity&) const = default;
  // 32 lower-case hex digits, high first.
  std::string Text() const;
};

struct AlertIdentityHash {
  size_t operator()(const AlertIdentity& identity) const {
    return static_cast<size_t>(identity.low ^ (identity.high * 0x9e3779b97f4a7c15ULL));
  }
};

// Where the input of an alert lies in GSOC_EVENTS.
struct InputPosition {
  uint64_t stream_sequence = 0;  // of the events message
  uint32_t event_index = 0;      // the event's index in that message
};

// The identity of `alert` produced from the input at `position`. Fields,
// contributing raw lines, count and the id are not part of it; a version of
// an aggregate (aggregate_key != 0) adds its key, version and opening.
AlertIdentity ComputeAlertIdentity(const Alert& alert, InputPosition position);

// The Nats-Msg-Id of an alerts message: a digest of the identities it
// carries, in order ("a-" + 32 hex digits). The same alerts make the same id.
std::string AlertMessageId(std::span<const AlertIdentity> identities);

// The store role's own dedup beyond JetStream's duplicate window: the
// identities of the most recent alerts stored, first in first out, bounded
// by `max_count` (and so in bytes: kBytesPerEntry each, an estimate).
class IdentityWindow {
 public:
  static constexpr size_t kBytesPerEntry = 64;  // deque slot + hash node, estimated
  explicit IdentityWindow(size_t max_count) : max_count_(max_count) {}

  bool Contains(const AlertIdentity& identity) const { return set_.count(identity) != 0; }
  // Adds `identity` (evicting the oldest beyond max_count); false when it was
  // already there.
  bool Insert(const AlertIdentity& identity);
  size_t size() const { return order_.size(); }
  size_t bytes() const { return order_.size() * kBytesPerEntry; }
  size_t max_count() const { return max_count_; }

 private:
  size_t max_count_;
  std::deque<AlertIdentity> order_;
  std::unordered_set<AlertIdentity, AlertIdentityHash> set_;
};

}  // namespace gsoc
