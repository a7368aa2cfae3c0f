// LiveHub: fans committed alerts out to live stream subscribers (SSE).
//
// It is a CommitListener of the AlertStore: OnCommitted (store writer
// thread) appends the alerts to a ring of recent alerts, bounded in alerts
// and in bytes (the oldest leave first; a reader who needs them reads the
// store), and wakes the subscribers; it never blocks on a subscriber.
//
// Resume without gap or duplicate: a subscriber that last saw id N calls
// Subscribe, then reads everything after N: ReadAfter serves from the ring
// when it still holds id N+1, and otherwise says so, and the subscriber
// reads the missing range from the store (AlertReader::Query with after_id)
// before coming back to the hub. Because alerts enter the ring only after
// they are committed, and in id order, "store up to id M, then hub after M"
// has neither gap nor duplicate.
//
// Threading: all methods are thread-safe (one mutex; each call copies out
// what it returns; a notification is a callback that must only post work).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/triage/triage_types.h"

namespace gsoc::api {

class LiveHub : public store::CommitListener {
 public:
  static constexpr size_t kDefaultRingBytes = 64 << 20;
  explicit LiveHub(size_t ring_alerts = 65536, size_t ring_bytes = kDefaultRingBytes);

  void OnCommitted(std::span<const store::StoredAlert> alerts) override;

  // A subscription: `notify` is called (from the committing thread, without
  // the hub's lock held) whenever new alerts arrive; it must only post work.
  // A commit in flight may still call it once after the Subscription is
  // destroyed, so it must not own or dereference the subscriber directly
  // (capture a weak_ptr, or a guard that the subscriber disarms).
  class Subscription {
   public:
    virtual ~Subscription() = default;  // unsubscribes
  };
  std::unique_ptr<Subscription> Subscribe(std::function<void()> notify);

  enum class ReadStatus { kOk, kTooOld };
  // Appends to `out` up to `max` alerts with id > after_id, in id order.
  // kTooOld when the ring no longer holds after_id + 1 (read the store first).
  ReadStatus ReadAfter(uint64_t after_id, size_t max, std::vector<store::StoredAlert>& out) const;

  // Triage changes for the streams' `event: triage`: live only (not
  // resumed), in a ring of kTriageRingEvents; a stream that falls further
  // behind skips to the newest (and should re-read the alerts it shows).
  struct TriageEvent {
    uint64_t seq = 0;
    std::string agency;
    triage::TriageState state;
  };
  static constexpr size_t kTriageRingEvents = 8192;
  void PublishTriage(std::string agency, const triage::TriageState& state);
  // Appends events with seq > after_seq (at most `max`); returns the newest seq.
  uint64_t ReadTriageAfter(uint64_t after_seq, size_t max, std::vector<TriageEvent>& out) const;

  uint64_t last_id() const;   // newest id seen (0 before any)
  size_t ring_bytes() const;  // bytes the ring holds now (gauge)

 private:
  struct Subscriber;
  mutable std::mutex mutex_;
  const size_t capacity_;
  const size_t capacity_bytes_;
  std::deque<store::StoredAlert> ring_;
  size_t bytes_ = 0;  // AlertBytes of what ring_ holds
  uint64_t last_id_ = 0;
  std::vector<Subscriber*> subscribers_;
  std::deque<TriageEvent> triage_ring_;
  uint64_t triage_seq_ = 0;
  void NotifyAll(std::unique_lock<std::mutex>& lock);
  friend struct Subscriber;
};

}  // namespace gsoc::api
