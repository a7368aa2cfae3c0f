#include "engine/api/live_hub.h"

#include <algorithm>

namespace gsoc::api {

// One registered notify callback. The callback itself is shared so that
// OnCommitted can call it outside the lock even while the subscription is
// being destroyed (see Subscribe in live_hub.h).
struct LiveHub::Subscriber : Subscription {
  Subscriber(LiveHub& owner, std::function<void()> callback)
      : hub(owner), notify(std::make_shared<const std::function<void()>>(std::move(callback))) {}
  ~Subscriber() override {
    std::lock_guard lock(hub.mutex_);
    std::erase(hub.subscribers_, this);
  }

  LiveHub& hub;
  std::shared_ptr<const std::function<void()>> notify;
};

namespace {
// What one ring entry costs: its strings and the entry itself.
size_t AlertBytes(const store::StoredAlert& alert) {
  return sizeof(alert) + alert.json.size() + alert.rule_id.size() + alert.rule_name.size() +
         alert.agency.size();
}
}  // namespace

LiveHub::LiveHub(size_t ring_alerts, size_t ring_bytes)
    : capacity_(ring_alerts), capacity_bytes_(ring_bytes) {}

void LiveHub::OnCommitted(std::span<const store::StoredAlert> alerts) {
  std::vector<std::shared_ptr<const std::function<void()>>> to_notify;
  {
    std::lock_guard lock(mutex_);
    bool added = false;
    for (const store::StoredAlert& alert : alerts) {
      if (alert.id <= last_id_) continue;  // ids only grow; ignore a replay
      last_id_ = alert.id;
      added = true;
      const size_t size = AlertBytes(alert);
      if (capacity_ == 0 || size > capacity_bytes_) {  // too big to keep: readers use the store
        bytes_ = 0;
        ring_.clear();  // the ring must stay contiguous in ids
        continue;
      }
      while (!ring_.empty() && (ring_.size() == capacity_ || bytes_ + size > capacity_bytes_)) {
        bytes_ -= AlertBytes(ring_.front());
        ring_.pop_front();
      }
      ring_.push_back(alert);
      bytes_ += size;
    }
    if (!added) return;
    to_notify.reserve(subscribers_.size());
    for (const Subscriber* subscriber : subscribers_) to_notify.push_back(subscriber->notify);
  }
  for (const auto& notify : to_notify) (*notify)();
}

std::unique_ptr<LiveHub::Subscription> LiveHub::Subscribe(std::function<void()> notify) {
  auto subscriber = std::make_unique<Subscriber>(*this, std::move(notify));
  std::lock_guard lock(mutex_);
  subscribers_.push_back(subscriber.get());
  return subscriber;
}

LiveHub::ReadStatus LiveHub::ReadAfter(uint64_t after_id, size_t max,
                                       std::vector<store::StoredAlert>& out) const {
  std::lock_guard lock(mutex_);
  if (after_id >= last_id_) return ReadStatus::kOk;  // nothing newer yet
  // The ring must still hold the alert right after `after_id`; when its
  // oldest alert is newer than that (evicted, or never seen: a resume from
  // before the hub started), the caller reads the store first.
  if (ring_.empty() || ring_.front().id > after_id + 1) return ReadStatus::kTooOld;
  auto first =
      std::upper_bound(ring_.begin(), ring_.end(), after_id,
                       [](uint64_t id, const store::StoredAlert& alert) { return id < alert.id; });
  for (auto it = first; it != ring_.end() && max > 0; ++it, --max) out.push_back(*it);
  return ReadStatus::kOk;
}

void LiveHub::NotifyAll(std::unique_lock<std::mutex>& lock) {
  std::vector<std::shared_ptr<const std::function<void()>>> to_notify;
  to_notify.reserve(subscribers_.size());
  for (const Subscriber* subscriber : subscribers_) to_notify.push_back(subscriber->notify);
  lock.unlock();
  for (const auto& notify : to_notify) (*notify)();
}

void LiveHub::PublishTriage(std::string agency, const triage::TriageState& state) {
  std::unique_lock lock(mutex_);
  if (triage_ring_.size() == kTriageRingEvents) triage_ring_.pop_front();
  triage_ring_.push_back({++triage_seq_, std::move(agency), state});
  NotifyAll(lock);
}

uint64_t LiveHub::ReadTriageAfter(uint64_t after_seq, size_t max,
                                  std::vector<TriageEvent>& out) const {
  std::lock_guard lock(mutex_);
  for (const TriageEvent& event : triage_ring_) {
    if (max == 0) break;
    if (event.seq <= after_seq) continue;
    out.push_back(event);
    --max;
  }
  return triage_seq_;
}

size_t LiveHub::ring_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

uint64_t LiveHub::last_id() const {
  std::lock_guard lock(mutex_);
  return last_id_;
}

}  // namespace gsoc::api
