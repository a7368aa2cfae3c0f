#include "engine/cluster/detect_role.h"

#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/event_batch_codec.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kDurable = "detect";
constexpr std::chrono::seconds kFetchWait{1};
constexpr std::chrono::seconds kPublishWait{5};
constexpr std::chrono::seconds kAckWait{2};  // a round: resends, then checks for Stop
constexpr std::chrono::seconds kLagInterval{1};
constexpr std::chrono::milliseconds kErrorPause{250};

// The alerts DetectionStage::Process hands its sink go to the vector of the
// thread that called it (each consumer thread processes its own batch).
thread_local std::vector<Alert>* tls_alerts = nullptr;

}  // namespace

class DetectRole::Collector : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    if (tls_alerts == nullptr) return;  // not called by a consumer thread: nothing to take
    for (Alert& alert : alerts) tls_alerts->push_back(std::move(alert));
    alerts.clear();
  }
};

struct DetectRole::Worker {
  std::unique_ptr<PullConsumer> consumer;
  std::unique_ptr<BatchPublisher> publisher;
  EventBatchDecoder decoder;
  EventBatch batch;  // pooled: cleared, never freed, between messages
  std::vector<Alert> alerts;
  std::vector<ClusterAlert> out;
  std::vector<AlertIdentity> identities;
  std::string buffer;
  uint64_t duplicates_seen = 0;
  explicit Worker(EventBatchLimits limits) : decoder(limits) {}
};

DetectRole::DetectRole(JetStreamClient& client, DetectRoleOptions options)
    : client_(client),
      options_(std::move(options)),
      collector_(std::make_unique<Collector>()),
      registry_(std::make_shared<prometheus::Registry>()) {
  ack_seconds_ = &prometheus::BuildHistogram()
                      .Name("gsoc_cluster_alert_publish_ack_seconds")
                      .Help(
                          "From publishing the alerts of one GSOC_EVENTS message to JetStream "
                          "acknowledging all of them")
                      .Register(*registry_)
                      .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                                                       0.01, 0.025, 0.05, 0.1, 0.25,
                                                                       0.5, 1, 2.5, 5, 10});
}

std::unique_ptr<DetectRole> DetectRole::Create(JetStreamClient& client, DetectRoleOptions options,
                                               rules::Level min_level) {
  std::unique_ptr<DetectRole> role(new DetectRole(client, std::move(options)));
  role->stage_ = std::make_unique<DetectionStage>(nullptr, role->collector_.get(),
                                                  role->options_.agency_names, nullptr);
  role->stage_->SetAlertPolicy(min_level, nullptr);  // aggregation: README "Aggregation"
  return role;
}

DetectRole::~DetectRole() { Stop(); }

void DetectRole::Start() {
  for (size_t i = 0; i < std::max<size_t>(1, options_.consumers); ++i) {
    threads_.emplace_back([this, i] { Run(i); });
  }
}

void DetectRole::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void DetectRole::Run(size_t index) {
  EventBatchLimits limits;
  limits.agency_count = static_cast<uint32_t>(options_.agency_names.size());
  if (options_.listener_count != 0) limits.listener_count = options_.listener_count;
  Worker worker(limits);
  std::string error;
  Clock::time_point next_lag = Clock::now();
  while (!stopping()) {
    if (!worker.publisher) worker.publisher = BatchPublisher::Create(client_, &error);
    if (worker.publisher && !worker.consumer) {
      worker.consumer = PullConsumer::Create(client_, kEventsStream, "gsoc.events.>", kDurable,
                                             options_.ack_wait, std::chrono::seconds(5), &error);
    }
    if (!worker.publisher || !worker.consumer) {
      fetch_errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster detect {}: {}; retrying", index, error);
      std::this_thread::sleep_for(kErrorPause);
      continue;
    }
    const int fetched = worker.consumer->Fetch(
        options_.fetch_messages, kFetchWait,
        [&](const ConsumedMessage& message) { return Handle(worker, message); }, &error);
    if (fetched < 0) {
      fetch_errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster detect {}: {}", index, error);
      std::this_thread::sleep_for(kErrorPause);
    }
    if (index == 0 && Clock::now() >= next_lag) {  // one thread asks for the shared consumer
      next_lag = Clock::now() + kLagInterval;
      uint64_t pending = 0, unacked = 0;
      if (worker.consumer->Lag(&pending, &unacked, &error)) {
        pending_.store(pending, std::memory_order_relaxed);
        unacked_.store(unacked, std::memory_order_relaxed);
      }
    }
  }
}

Consumed DetectRole::Handle(Worker& worker, const ConsumedMessage& message) {
  if (stopping()) return Consumed::kLater;
  if (message.deliveries > 1) redeliveries_.fetch_add(1, std::memory_order_relaxed);
  worker.batch.Clear();
  CodecError codec_error;
  if (!worker.decoder.Decode(message.data, worker.batch, &codec_error)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster detect: GSOC_EVENTS message {} ({}) refused at byte {}: {}",
                 message.stream_sequence, message.subject, codec_error.offset, codec_error.reason);
    return Consumed::kRefuse;
  }
  worker.alerts.clear();
  tls_alerts = &worker.alerts;
  stage_->Process(worker.batch);
  tls_alerts = nullptr;
  if (!PublishAlerts(worker, message.stream_sequence)) return Consumed::kLater;
  messages_.fetch_add(1, std::memory_order_relaxed);
  events_.fetch_add(worker.batch.size(), std::memory_order_relaxed);
  return Consumed::kAck;
}

bool DetectRole::PublishAlerts(Worker& worker, uint64_t sequence) {
  if (worker.alerts.empty()) return true;
  // Each alert's input position: the stage reports alerts in event order, so
  // one forward walk over the batch finds every alert's event by its id.
  const std::span<const Event> events = worker.batch.events();
  worker.out.clear();
  size_t cursor = 0;
  for (Alert& alert : worker.alerts) {
    if (!alert.events.empty()) {
      size_t at = cursor;
      while (at < events.size() && events[at].id != alert.events.front().id) ++at;
      if (at < events.size()) cursor = at;
    }
    const InputPosition position{sequence, static_cast<uint32_t>(cursor)};
    worker.out.push_back({ComputeAlertIdentity(alert, position), std::move(alert)});
  }
  const Clock::time_point start = Clock::now();
  const std::span<const ClusterAlert> all(worker.out);
  std::string error;
  for (size_t first = 0; first < all.size();) {
    size_t end = first + 1;  // one agency, one subject
    while (end < all.size() && all[end].alert.agency == all[first].alert.agency) ++end;
    const size_t n =
        EncodeAlertBatch(all.first(end), first, client_.config().max_batch_bytes, worker.buffer);
    if (n == 0) {
      too_large_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster detect: an alert of rule {} exceeds max_batch_bytes; dropped",
                   all[first].alert.rule.id);
      ++first;
      continue;
    }
    worker.identities.clear();
    for (size_t i = first; i < first + n; ++i) worker.identities.push_back(all[i].identity);
    const std::string subject = AlertsSubject(all[first].alert.agency);
    const std::string msg_id = AlertMessageId(worker.identities);
    while (!worker.publisher->Publish(subject, worker.buffer, msg_id, kPublishWait, &error)) {
      if (stopping()) return false;
      retries_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster detect: publishing alerts to {} failed, retrying: {}", subject, error);
    }
    alert_messages_.fetch_add(1, std::memory_order_relaxed);
    alerts_.fetch_add(n, std::memory_order_relaxed);
    first += n;
  }
  while (!worker.publisher->WaitForAcks(kAckWait, &error)) {
    if (stopping()) return false;
    retries_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster detect: waiting for alert acks: {}", error);
  }
  ack_seconds_->Observe(std::chrono::duration<double>(Clock::now() - start).count());
  const uint64_t duplicates = worker.publisher->duplicates();
  duplicates_.fetch_add(duplicates - worker.duplicates_seen, std::memory_order_relaxed);
  worker.duplicates_seen = duplicates;
  return true;
}

std::vector<std::shared_ptr<prometheus::Collectable>> DetectRole::MakeCollectables() {
  auto counters = std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    const auto counter = [](const char* name, const char* help, const std::atomic<uint64_t>& v) {
      return SingleSample(name, help, MetricType::Counter,
                          static_cast<double>(v.load(std::memory_order_relaxed)));
    };
    const auto gauge = [](const char* name, const char* help, const std::atomic<uint64_t>& v) {
      return SingleSample(name, help, MetricType::Gauge,
                          static_cast<double>(v.load(std::memory_order_relaxed)));
    };
    std::vector<prometheus::MetricFamily> families{
        counter("gsoc_cluster_detect_messages_total",
                "GSOC_EVENTS messages processed and acknowledged by this detect node", messages_),
        counter("gsoc_cluster_detect_events_total", "Events in those messages", events_),
        counter("gsoc_cluster_detect_refused_total",
                "GSOC_EVENTS messages refused as undecodable (terminated, not redelivered)",
                refused_),
        counter("gsoc_cluster_alerts_published_total",
                "Alerts published to GSOC_ALERTS and acknowledged", alerts_),
        counter("gsoc_cluster_alert_messages_published_total",
                "Alerts messages published to GSOC_ALERTS and acknowledged", alert_messages_),
        counter("gsoc_cluster_alerts_too_large_total",
                "Alerts dropped because one alone exceeds cluster.max_batch_bytes", too_large_),
        counter("gsoc_cluster_alert_publish_retries_total",
                "Alert publishes or ack waits that failed and were retried", retries_),
        counter("gsoc_cluster_alert_messages_duplicate_total",
                "Alerts messages JetStream acknowledged as duplicates (Nats-Msg-Id seen)",
                duplicates_),
        counter("gsoc_cluster_detect_fetch_errors_total",
                "Fetches from a consumer that failed (retried)", fetch_errors_),
    };
    families.push_back(counter("gsoc_cluster_detect_redeliveries_total",
                               "GSOC_EVENTS messages delivered again (a detect node died or did "
                               "not ack in time)",
                               redeliveries_));
    families.push_back(gauge("gsoc_cluster_detect_consumer_pending",
                             "GSOC_EVENTS messages not yet delivered to the detect consumer "
                             "(its lag; asked every second)",
                             pending_));
    families.push_back(gauge("gsoc_cluster_detect_consumer_unacked",
                             "GSOC_EVENTS messages delivered to detect nodes and not yet acked",
                             unacked_));
    return families;
  });
  return {counters, registry_};
}

}  // namespace gsoc
