// DetectRole: the detect role of a cluster node (engine/cluster/README.md).
//
// `consumers` threads each fetch event batch messages from the durable pull
// consumer "detect" of GSOC_EVENTS (work sharing with every other detect
// node), decode each into the thread's pooled EventBatch, run the node's
// DetectionStage on it (decoders and rules; no correlation, no
// aggregation, no local store), publish the hits of aggregating rules
// (alerts.aggregate: the aggregation runs in the correlate partitions) to
// gsoc.hits.<AggregationPartition(rule, aggregate key)> (Nats-Msg-Id
// "g-<sequence>-<partition>-<n>"), the hits correlations need to
// gsoc.hits.<partition> on GSOC_HITS (partition = HitPartition(correlation,
// group key) mod cluster.partitions; one message per partition and events
// message, Nats-Msg-Id "h-<sequence>-<partition>-<n>"), and its alerts to
// gsoc.alerts.<agency> on GSOC_ALERTS, each with its AlertIdentity, in
// messages of at most max_batch_bytes and kMaxAlertsPerMessage alerts whose
// Nats-Msg-Id is a digest of those identities. The events message is
// acknowledged only once JetStream acknowledged every alerts message made
// from it; so a node killed at any point loses nothing (the message is
// delivered again after the ack wait) and what it published twice is
// stored once (same identities, same message id).
//
// When the next stage is full (GSOC_ALERTS slow or refusing, the cluster
// electing a leader): the thread keeps resending the same messages and
// fetches nothing more; the events wait in GSOC_EVENTS (bounded by
// stream_max_bytes, where ingest nodes then wait). Undecodable input is
// refused (terminated, counted, logged), never redelivered forever.
//
// Threading: Create, Start, Stop on one thread (the daemon's); the consumer
// threads own their consumer, publisher, batch and buffers. Counters are
// atomics read by the metrics scrape.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/jetstream.h"
#include "engine/detect/detection_stage.h"
#include "engine/event/field_access.h"

namespace gsoc {

struct DetectRoleOptions {
  size_t consumers = 1;                   // consumer threads (cluster.detect_consumers)
  int fetch_messages = 8;                 // messages per fetch
  std::chrono::seconds ack_wait{10};      // redelivery after this without an ack
  std::vector<std::string> agency_names;  // the node's agency table (subjects, decode bounds)
  size_t listener_count = 0;              // the ingest nodes' listeners; 0: not checked
  // alerts.aggregate: enabled, its group_by and max_event_size. Enabled:
  // hits of rules that aggregate go to GSOC_HITS as aggregation hits.
  bool aggregate = false;
  std::vector<std::string> aggregate_group_by;
  size_t aggregate_max_event_bytes = 2048;
};

class DetectRole {
 public:
  // The stage runs `options.agency_names` and publishes nothing itself; the
  // caller swaps rule sets into stage() (RuleReloader) before Start.
  static std::unique_ptr<DetectRole> Create(JetStreamClient& client, DetectRoleOptions options,
                                            rules::Level min_level);
  ~DetectRole();  // Stop()
  DetectRole(const DetectRole&) = delete;
  DetectRole& operator=(const DetectRole&) = delete;

  DetectionStage& stage() { return *stage_; }
  void Start();
  // Finishes the message each thread is on (or leaves it to be redelivered
  // when its alerts cannot be acknowledged now) and joins the threads.
  void Stop();

  uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  uint64_t alerts_published() const { return alerts_.load(std::memory_order_relaxed); }
  uint64_t redeliveries() const { return redeliveries_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  // gsoc_cluster_detect_* and the shared cluster families; the role must
  // outlive the metrics server.
  std::vector<std::shared_ptr<prometheus::Collectable>> MakeCollectables();

 private:
  class Collector;
  struct Worker;
  struct HitEntry;
  struct AggregationEntry;
  DetectRole(JetStreamClient& client, DetectRoleOptions options);
  void Run(size_t index);
  Consumed Handle(Worker& worker, const ConsumedMessage& message);
  bool PublishAlerts(Worker& worker, uint64_t sequence);
  // Packs entries sorted by partition into the worker's hit messages.
  template <typename Encoder, typename Entry, typename ViewOf, typename TooLarge>
  void PackByPartition(Worker& worker, Encoder& encoder, bool aggregation,
                       std::span<const Entry> entries, ViewOf view_of, TooLarge too_large);
  // The hits of the batch being processed, encoded per partition (called by
  // the stage through the collector, on the consumer thread).
  void EncodeHits(Worker& worker, const correlate::CorrelationSet& correlations,
                  const EventBatch& batch, std::span<const correlate::RuleHit> hits);
  // The detection hits of aggregating rules, encoded per partition; the
  // others' alerts are appended to `alerts` (the stage's aggregator call).
  void EncodeAggregationHits(Worker& worker, const EventBatch& batch,
                             std::span<const DetectionHit> hits,
                             const std::vector<std::string>& agency_names,
                             std::vector<Alert>& alerts);
  bool PublishHits(Worker& worker, uint64_t sequence);
  FieldLookup ReadField(const EventBatch& batch, const Event& event, std::string_view name) const;
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  JetStreamClient& client_;
  const DetectRoleOptions options_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<DetectionStage> stage_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* ack_seconds_ = nullptr;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> messages_{0}, events_{0}, alerts_{0}, alert_messages_{0};
  std::atomic<uint64_t> redeliveries_{0}, refused_{0}, too_large_{0}, retries_{0};
  std::atomic<uint64_t> duplicates_{0}, fetch_errors_{0};
  std::atomic<uint64_t> hits_{0}, hit_messages_{0}, hits_too_large_{0}, hits_missing_group_{0};
  std::atomic<uint64_t> aggregation_hits_{0};
  std::atomic<uint64_t> hit_bytes_{0}, hit_raw_bytes_{0};  // as sent, and before compression
  std::atomic<uint64_t> pending_{0}, unacked_{0};
};

}  // namespace gsoc
