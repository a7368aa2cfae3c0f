#include "engine/cluster/cluster_publish_stage.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "engine/metrics/metrics_server.h"

namespace gsoc {
namespace {

constexpr std::chrono::seconds kPublishWait{5};
constexpr std::chrono::seconds kAckWait{10};

}  // namespace

std::unique_ptr<ClusterPublishStage> ClusterPublishStage::Create(
    JetStreamClient& client, std::vector<std::string> agency_names, size_t workers,
    std::string* error) {
  std::unique_ptr<ClusterPublishStage> stage(
      new ClusterPublishStage(client, std::move(agency_names)));
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
    auto slot = std::make_unique<Slot>();
    slot->publisher = BatchPublisher::Create(client, error);
    if (!slot->publisher) return nullptr;
    stage->GiveSlot(std::move(slot));
  }
  return stage;
}

std::unique_ptr<ClusterPublishStage::Slot> ClusterPublishStage::TakeSlot() {
  MutexLock lock(mutex_);
  while (free_.empty()) slot_free_.wait(lock);
  std::unique_ptr<Slot> slot = std::move(free_.back());
  free_.pop_back();
  return slot;
}

void ClusterPublishStage::GiveSlot(std::unique_ptr<Slot> slot) {
  {
    MutexLock lock(mutex_);
    free_.push_back(std::move(slot));
  }
  slot_free_.notify_one();
}

void ClusterPublishStage::Process(EventBatch& batch) {
  std::unique_ptr<Slot> slot = TakeSlot();
  const std::span<const Event> events = batch.events();
  for (size_t first = 0; first < events.size();) {
    size_t end = first + 1;  // a run of one agency: one subject
    while (end < events.size() && events[end].agency == events[first].agency) ++end;
    PublishRun(*slot, batch, first, end);
    first = end;
  }
  WaitUntilAcked(*slot);
  GiveSlot(std::move(slot));
}

void ClusterPublishStage::PublishRun(Slot& slot, const EventBatch& batch, size_t first,
                                     size_t end) {
  const uint16_t agency = batch.events()[first].agency;
  const std::string subject =
      EventsSubject(agency < agency_names_.size() ? agency_names_[agency] : "unknown");
  while (first < end) {
    const size_t n =
        slot.encoder.Encode(batch, first, end, client_.config().max_batch_bytes, slot.buffer);
    if (n == 0) {  // one event larger than a message (or with too many fields)
      too_large_.fetch_add(1, std::memory_order_relaxed);
      ++first;
      continue;
    }
    // Event ids are unique per node and increase across restarts: with the
    // node's name they make the dedup key of the message.
    const uint64_t sent_before = slot.publisher->sent_bytes();
    PublishUntilSent(slot, subject,
                     client_.config().node + "/" + std::to_string(batch.events()[first].id));
    messages_.fetch_add(1, std::memory_order_relaxed);
    events_.fetch_add(n, std::memory_order_relaxed);
    raw_bytes_.fetch_add(slot.buffer.size(), std::memory_order_relaxed);
    bytes_.fetch_add(slot.publisher->sent_bytes() - sent_before, std::memory_order_relaxed);
    first += n;
  }
}

void ClusterPublishStage::PublishUntilSent(Slot& slot, const std::string& subject,
                                           const std::string& msg_id) {
  std::string error;
  while (!slot.publisher->Publish(subject, slot.buffer, msg_id, kPublishWait, &error)) {
    retries_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster: publishing to {} failed, retrying: {}", subject, error);
  }
}

std::shared_ptr<prometheus::Collectable> ClusterPublishStage::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    return std::vector<prometheus::MetricFamily>{
        counter("gsoc_cluster_published_messages_total",
                "Event batch messages JetStream acknowledged (GSOC_EVENTS)", messages_published()),
        counter("gsoc_cluster_published_events_total",
                "Events in the messages JetStream acknowledged", events_published()),
        counter("gsoc_cluster_published_bytes_total",
                "Bytes of the event batch messages JetStream acknowledged, as sent "
                "(compressed when cluster.compression is lz4)",
                bytes_published()),
        counter("gsoc_cluster_published_raw_bytes_total",
                "Bytes of those messages' payloads before compression", raw_bytes_published()),
        counter("gsoc_cluster_events_too_large_total",
                "Events dropped because one alone exceeds cluster.max_batch_bytes",
                events_too_large()),
        counter("gsoc_cluster_publish_retries_total",
                "Publish or ack waits that failed and were retried (the batch is kept)",
                publish_retries()),
    };
  });
}

void ClusterPublishStage::WaitUntilAcked(Slot& slot) {
  std::string error;
  while (!slot.publisher->WaitForAcks(kAckWait, &error)) {
    retries_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster: waiting for JetStream acks: {}", error);
  }
}

}  // namespace gsoc
