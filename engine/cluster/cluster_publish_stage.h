// ClusterPublishStage: the ingest role's last pipeline stage. It publishes
// every batch the listeners parsed to GSOC_EVENTS (subject by agency), in
// messages of at most cluster.max_batch_bytes, and returns only when
// JetStream has acknowledged all of them.
//
// When the next stage is full (JetStream slow, a server electing a leader,
// the stream at stream_max_bytes, the cluster unreachable): Process keeps
// retrying the same messages (same Nats-Msg-Id, so nothing is stored twice)
// and does not return; the pipeline queue fills and TCP listeners stop
// reading, so backpressure reaches the senders and nothing accepted is lost.
// UDP is best effort, as on a single node. An event too large for one
// message is dropped and counted (events_too_large).
//
// Threading: Process runs on every worker; each call takes one publisher
// slot (a BatchPublisher with its encoder) from a pool of one per worker.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/event_batch_codec.h"
#include "engine/cluster/jetstream.h"
#include "engine/pipeline/pipeline.h"
#include "engine/util/thread_annotations.h"

namespace gsoc {

class ClusterPublishStage : public Stage {
 public:
  // `client` must outlive the stage; one publisher per worker is made now.
  // Null with `error` when a publisher cannot be made.
  static std::unique_ptr<ClusterPublishStage> Create(JetStreamClient& client,
                                                     std::vector<std::string> agency_names,
                                                     size_t workers, std::string* error);

  void Process(EventBatch& batch) override;

  uint64_t messages_published() const { return messages_.load(std::memory_order_relaxed); }
  uint64_t events_published() const { return events_.load(std::memory_order_relaxed); }
  uint64_t bytes_published() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t raw_bytes_published() const { return raw_bytes_.load(std::memory_order_relaxed); }
  uint64_t events_too_large() const { return too_large_.load(std::memory_order_relaxed); }
  uint64_t publish_retries() const { return retries_.load(std::memory_order_relaxed); }
  // gsoc_cluster_* counters (engine/cluster/README.md), read at scrape time;
  // the stage must outlive the metrics server.
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  struct Slot {
    std::unique_ptr<BatchPublisher> publisher;
    EventBatchEncoder encoder;
    std::string buffer;
  };
  ClusterPublishStage(JetStreamClient& client, std::vector<std::string> agency_names)
      : client_(client), agency_names_(std::move(agency_names)) {}
  std::unique_ptr<Slot> TakeSlot() GSOC_EXCLUDES(mutex_);
  void GiveSlot(std::unique_ptr<Slot> slot) GSOC_EXCLUDES(mutex_);
  // Publishes events [first, end) (one agency) until all are sent.
  void PublishRun(Slot& slot, const EventBatch& batch, size_t first, size_t end);
  void PublishUntilSent(Slot& slot, const std::string& subject, const std::string& msg_id);
  void WaitUntilAcked(Slot& slot);

  JetStreamClient& client_;
  const std::vector<std::string> agency_names_;
  Mutex mutex_;
  std::condition_variable_any slot_free_;
  std::vector<std::unique_ptr<Slot>> free_ GSOC_GUARDED_BY(mutex_);
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> bytes_{0};      // as sent
  std::atomic<uint64_t> raw_bytes_{0};  // before compression
  std::atomic<uint64_t> too_large_{0};
  std::atomic<uint64_t> retries_{0};
};

}  // namespace gsoc
