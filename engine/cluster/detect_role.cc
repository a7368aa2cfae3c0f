#include "engine/cluster/detect_role.h"

#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <array>

#include "engine/cluster/ack_histogram.h"
#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/event_batch_codec.h"
#include "engine/cluster/hit_batch_codec.h"
#include "engine/cluster/partition_aggregator.h"
#include "engine/event/field_access.h"
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
// The same for the hits: the consumer thread's worker while it processes.
thread_local void* tls_worker = nullptr;

// A group field as engine/aggregate reads it (host and program from the
// header, the rest from the fields; empty: absent).
std::string_view AggregateFieldValue(const EventBatch& batch, const Event& event,
                                     std::string_view name) {
  if (name == "host") return event.host;
  if (name == "program") return event.program;
  for (const Field& field : batch.FieldsOf(event)) {
    if (field.name == name) return field.value;
  }
  return {};
}

}  // namespace

class DetectRole::Collector : public AlertSink, public HitSink, public DetectionAggregator {
 public:
  explicit Collector(DetectRole& role) : role_(role) {}
  void Publish(std::vector<Alert>& alerts) override {
    if (tls_alerts == nullptr) return;  // not called by a consumer thread: nothing to take
    for (Alert& alert : alerts) tls_alerts->push_back(std::move(alert));
    alerts.clear();
  }
  void OnHits(const correlate::CorrelationSet& correlations, const EventBatch& batch,
              std::span<const correlate::RuleHit> hits) override {
    if (tls_worker == nullptr) return;
    role_.EncodeHits(*static_cast<Worker*>(tls_worker), correlations, batch, hits);
  }
  void Add(const EventBatch& batch, std::span<const DetectionHit> hits,
           const std::vector<std::string>& agency_names, std::vector<Alert>& alerts) override {
    if (tls_worker == nullptr) return;
    role_.EncodeAggregationHits(*static_cast<Worker*>(tls_worker), batch, hits, agency_names,
                                alerts);
  }

 private:
  DetectRole& role_;
};

// One correlation input of a hit: where its group values are in `values`.
struct DetectRole::HitEntry {
  uint32_t partition = 0;
  uint32_t correlation = 0;  // index into CorrelationSet::rules
  uint32_t ref = 0;
  uint32_t event_index = 0;
  uint32_t values_begin = 0;
  uint32_t values_count = 0;
  bool has_value = false;
  std::string_view value;
};

// One aggregation hit: its partition, and its group values in `group`.
struct DetectRole::AggregationEntry {
  uint32_t partition = 0;
  uint32_t hit = 0;  // index into the stage's DetectionHit span
  uint32_t group_begin = 0;
  uint32_t group_count = 0;
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
  // Hits of the message being processed: entries, their group values, and
  // the encoded messages (partition, bytes), reused from message to message.
  std::vector<HitEntry> hit_entries;
  std::vector<std::string_view> hit_values;
  // HitPartitionSeed of each correlation of the set of the message being
  // processed (made again for each: a set reloaded at the same address must
  // not find the old ids' seeds): a hit's partition then hashes its group
  // only.
  std::vector<uint64_t> correlation_seeds;
  // Aggregation hits of the message being processed, the same way.
  std::vector<AggregationEntry> aggregation_entries;
  std::vector<std::pair<std::string_view, std::string_view>> aggregation_group;
  std::string aggregate_key;
  struct HitMessage {
    uint32_t partition = 0;
    bool aggregation = false;  // aggregation hits ("g-" ids), else correlation hits ("h-")
    size_t hits = 0;
    std::string bytes;
  };
  std::vector<HitMessage> hit_messages;
  size_t hit_message_count = 0;
  uint64_t sequence = 0;  // of the GSOC_EVENTS message being processed
  Clock::time_point publish_start;
  uint64_t duplicates_seen = 0;
  explicit Worker(EventBatchLimits limits) : decoder(limits) {}
};

DetectRole::DetectRole(JetStreamClient& client, DetectRoleOptions options)
    : client_(client),
      options_(std::move(options)),
      collector_(std::make_unique<Collector>(*this)),
      registry_(std::make_shared<prometheus::Registry>()) {
  ack_seconds_ =
      AddAckSecondsHistogram(*registry_, "gsoc_cluster_alert_publish_ack_seconds",
                             "From publishing the alerts of one GSOC_EVENTS message to JetStream "
                             "acknowledging all of them");
}

std::unique_ptr<DetectRole> DetectRole::Create(JetStreamClient& client, DetectRoleOptions options,
                                               rules::Level min_level) {
  std::unique_ptr<DetectRole> role(new DetectRole(client, std::move(options)));
  role->stage_ = std::make_unique<DetectionStage>(nullptr, role->collector_.get(),
                                                  role->options_.agency_names, nullptr);
  // Aggregation runs in the correlate partitions (README "Aggregation"):
  // the stage hands this role the hits of aggregating rules.
  role->stage_->SetAlertPolicy(min_level,
                               role->options_.aggregate ? role->collector_.get() : nullptr);
  role->stage_->SetHitSink(role->collector_.get());
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
  worker.hit_message_count = 0;
  worker.hit_entries.clear();
  worker.hit_values.clear();
  tls_alerts = &worker.alerts;
  tls_worker = &worker;
  worker.sequence = message.stream_sequence;
  stage_->Process(worker.batch);
  tls_alerts = nullptr;
  tls_worker = nullptr;
  worker.publish_start = Clock::now();
  if (!PublishHits(worker, message.stream_sequence) ||
      !PublishAlerts(worker, message.stream_sequence)) {
    return Consumed::kLater;
  }
  messages_.fetch_add(1, std::memory_order_relaxed);
  events_.fetch_add(worker.batch.size(), std::memory_order_relaxed);
  return Consumed::kAck;
}

// The field a correlation's group_by[g] is read from for inputs of refs[ref]
// (the alias mapping), as the Correlator reads it; `agency` from the table.
FieldLookup DetectRole::ReadField(const EventBatch& batch, const Event& event,
                                  std::string_view name) const {
  FieldLookup found = GetField(batch, event, name);
  if (!found.present && name == "agency" && event.agency < options_.agency_names.size()) {
    found = {true, options_.agency_names[event.agency]};
  }
  return found;
}

// Packs `entries` (sorted by partition) into worker.hit_messages with
// `encoder`: one message per partition, another when one is full.
// `view_of(entry)` is what to add; an entry too large for an empty message
// is counted, reported through `too_large(entry)` and dropped.
template <typename Encoder, typename Entry, typename ViewOf, typename TooLarge>
void DetectRole::PackByPartition(Worker& worker, Encoder& encoder, bool aggregation,
                                 std::span<const Entry> entries, ViewOf view_of,
                                 TooLarge too_large) {
  const size_t max_bytes = client_.config().max_batch_bytes;
  std::string* out = nullptr;
  uint32_t open_partition = UINT32_MAX;
  const auto finish = [&] {
    if (out != nullptr && encoder.count() != 0) {
      encoder.Finish(*out);
      worker.hit_messages[worker.hit_message_count].hits = encoder.count();
      ++worker.hit_message_count;
    }
    out = nullptr;
  };
  const auto begin = [&](uint32_t partition) {
    if (worker.hit_messages.size() <= worker.hit_message_count) worker.hit_messages.emplace_back();
    auto& slot = worker.hit_messages[worker.hit_message_count];
    slot.partition = partition;
    slot.aggregation = aggregation;
    out = &slot.bytes;
    encoder.Begin(*out);
    open_partition = partition;
  };
  for (const Entry& entry : entries) {
    const auto view = view_of(entry);
    if (entry.partition != open_partition) {
      finish();
      begin(entry.partition);
    }
    if (encoder.Add(view, max_bytes, *out)) continue;
    finish();  // full: the next message of this partition
    begin(entry.partition);
    if (!encoder.Add(view, max_bytes, *out)) {
      hits_too_large_.fetch_add(1, std::memory_order_relaxed);
      too_large(entry);
    }
  }
  finish();
}

void DetectRole::EncodeHits(Worker& worker, const correlate::CorrelationSet& correlations,
                            const EventBatch& batch, std::span<const correlate::RuleHit> hits) {
  const std::span<const Event> events = batch.events();
  const uint32_t partitions = client_.config().partitions;
  worker.correlation_seeds.clear();
  for (const correlate::CorrelationRule& rule : correlations.rules)
    worker.correlation_seeds.push_back(HitPartitionSeed(rule.id));
  for (const correlate::RuleHit& hit : hits) {
    if (hit.rule_index >= correlations.detection_routes.size()) continue;
    const Event& event = events[hit.event_index];
    for (const correlate::Route& route : correlations.detection_routes[hit.rule_index]) {
      const correlate::CorrelationRule& rule = correlations.rules[route.rule];
      HitEntry entry;
      entry.correlation = route.rule;
      entry.ref = route.ref;
      entry.event_index = hit.event_index;
      entry.values_begin = static_cast<uint32_t>(worker.hit_values.size());
      bool complete = true;
      for (size_t g = 0; g < rule.group_by.size() && complete; ++g) {
        const std::string& name =
            g < rule.group_fields.size() && route.ref < rule.group_fields[g].size()
                ? rule.group_fields[g][route.ref]
                : rule.group_by[g];
        const FieldLookup value = ReadField(batch, event, name);
        complete = value.present;
        if (complete) worker.hit_values.push_back(value.value);
      }
      if (!complete) {  // the Correlator skips it too (missing group)
        worker.hit_values.resize(entry.values_begin);
        hits_missing_group_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      entry.values_count = static_cast<uint32_t>(worker.hit_values.size() - entry.values_begin);
      if (!rule.field.empty()) {
        const FieldLookup value = ReadField(batch, event, rule.field);
        entry.has_value = value.present;
        entry.value = value.value;
      }
      entry.partition = HitPartitionFrom(worker.correlation_seeds[route.rule],
                                         std::span<const std::string_view>(worker.hit_values)
                                             .subspan(entry.values_begin, entry.values_count),
                                         partitions);
      worker.hit_entries.push_back(entry);
    }
  }
  // One message per partition (more when one is full), in hit order within it.
  std::stable_sort(worker.hit_entries.begin(), worker.hit_entries.end(),
                   [](const HitEntry& a, const HitEntry& b) { return a.partition < b.partition; });
  HitBatchEncoder encoder;
  PackByPartition(
      worker, encoder, /*aggregation=*/false, std::span<const HitEntry>(worker.hit_entries),
      [&](const HitEntry& entry) {
        const correlate::CorrelationRule& rule = correlations.rules[entry.correlation];
        const Event& event = events[entry.event_index];
        HitView view;
        view.correlation = rule.id;
        view.ref = entry.ref;
        view.rule = entry.ref < rule.refs.size() ? std::string_view(rule.refs[entry.ref].written)
                                                 : std::string_view();
        view.group = std::span<const std::string_view>(worker.hit_values)
                         .subspan(entry.values_begin, entry.values_count);
        view.has_value = entry.has_value;
        view.value = entry.value;
        view.agency = event.agency < options_.agency_names.size()
                          ? std::string_view(options_.agency_names[event.agency])
                          : std::string_view();
        view.host = event.host;
        view.event_time_ns = event.event_time_ns;
        view.event_id = event.id;
        view.stream_sequence = worker.sequence;
        view.event_index = entry.event_index;
        view.raw = event.raw;
        return view;
      },
      [&](const HitEntry& entry) {
        spdlog::warn("cluster detect: a hit of correlation {} exceeds max_batch_bytes; dropped",
                     correlations.rules[entry.correlation].id);
      });
}

void DetectRole::EncodeAggregationHits(Worker& worker, const EventBatch& batch,
                                       std::span<const DetectionHit> hits,
                                       const std::vector<std::string>& agency_names,
                                       std::vector<Alert>& alerts) {
  static const std::string kUnknown = "unknown";  // as engine/aggregate names it
  const std::span<const Event> events = batch.events();
  const uint32_t partitions = client_.config().partitions;
  worker.aggregation_entries.clear();
  worker.aggregation_group.clear();
  // The last rules' HitPartitionSeed (a batch's hits come from few rules).
  struct Seeded {
    const rules::Rule* rule = nullptr;
    uint64_t seed = 0;
  };
  std::array<Seeded, 8> seeds{};
  size_t next_seed = 0;
  const auto seed_of = [&](const rules::Rule& rule) {
    for (const Seeded& s : seeds) {
      if (s.rule == &rule) return s.seed;
    }
    seeds[next_seed] = {&rule, HitPartitionSeed(rule.id)};
    const uint64_t seed = seeds[next_seed].seed;
    next_seed = (next_seed + 1) % seeds.size();
    return seed;
  };
  for (uint32_t i = 0; i < hits.size(); ++i) {
    const rules::Rule& rule = *hits[i].rule;
    const Event& event = events[hits[i].event_index];
    const std::string& agency =
        event.agency < agency_names.size() ? agency_names[event.agency] : kUnknown;
    if (rule.aggregate_by && rule.aggregate_by->empty()) {  // every hit an alert of its own
      alerts.push_back(MakeDetectionAlert(rule, batch, event, agency));
      continue;
    }
    AggregationEntry entry;
    entry.hit = i;
    entry.group_begin = static_cast<uint32_t>(worker.aggregation_group.size());
    worker.aggregate_key.clear();
    AppendAggregateKey(worker.aggregate_key, rule.id, agency);
    for (const std::string& name :
         rule.aggregate_by ? *rule.aggregate_by : options_.aggregate_group_by) {
      const std::string_view value = AggregateFieldValue(batch, event, name);
      if (value.empty()) continue;
      worker.aggregation_group.emplace_back(name, value);
      AppendAggregateKeyValue(worker.aggregate_key, name, value);
    }
    entry.group_count = static_cast<uint32_t>(worker.aggregation_group.size() - entry.group_begin);
    entry.partition = AggregationPartitionFrom(seed_of(rule), worker.aggregate_key, partitions);
    worker.aggregation_entries.push_back(entry);
  }
  std::stable_sort(worker.aggregation_entries.begin(), worker.aggregation_entries.end(),
                   [](const AggregationEntry& a, const AggregationEntry& b) {
                     return a.partition < b.partition;
                   });
  AggregationHitEncoder encoder;
  PackByPartition(
      worker, encoder, /*aggregation=*/true,
      std::span<const AggregationEntry>(worker.aggregation_entries),
      [&](const AggregationEntry& entry) {
        const rules::Rule& rule = *hits[entry.hit].rule;
        const uint32_t index = hits[entry.hit].event_index;
        const Event& event = events[index];
        AggregationHitView view;
        view.rule_id = rule.id;
        view.rule_name = rule.name;
        view.rule_title = rule.title;
        view.level = static_cast<uint8_t>(rule.level);
        view.revision = rule.revision;
        view.tags = rule.tags;
        view.agency = event.agency < agency_names.size()
                          ? std::string_view(agency_names[event.agency])
                          : std::string_view(kUnknown);
        view.group =
            std::span<const std::pair<std::string_view, std::string_view>>(worker.aggregation_group)
                .subspan(entry.group_begin, entry.group_count);
        view.host = event.host;
        view.program = event.program;
        view.fields = batch.FieldsOf(event);
        view.event_time_ns = event.event_time_ns;
        view.event_id = event.id;
        view.stream_sequence = worker.sequence;
        view.event_index = index;
        view.raw = event.raw.substr(0, options_.aggregate_max_event_bytes);
        return view;
      },
      [&](const AggregationEntry& entry) {
        spdlog::warn("cluster detect: a hit of rule {} exceeds max_batch_bytes; dropped",
                     hits[entry.hit].rule->id);
      });
}

bool DetectRole::PublishHits(Worker& worker, uint64_t sequence) {
  std::string error;
  uint32_t previous = UINT32_MAX;
  bool previous_aggregation = false;
  size_t part = 0;  // the n-th message of one partition (and kind)
  for (size_t i = 0; i < worker.hit_message_count; ++i) {
    const Worker::HitMessage& message = worker.hit_messages[i];
    const uint32_t partition = message.partition;
    part = partition == previous && message.aggregation == previous_aggregation ? part + 1 : 0;
    previous = partition;
    previous_aggregation = message.aggregation;
    const std::string subject = HitsSubject(partition);
    const std::string msg_id = (message.aggregation ? "g-" : "h-") + std::to_string(sequence) +
                               "-" + std::to_string(partition) + "-" + std::to_string(part);
    const uint64_t sent_before = worker.publisher->sent_bytes();
    while (!worker.publisher->Publish(subject, message.bytes, msg_id, kPublishWait, &error)) {
      if (stopping()) return false;
      retries_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster detect: publishing hits to {} failed, retrying: {}", subject, error);
    }
    hit_messages_.fetch_add(1, std::memory_order_relaxed);
    hit_bytes_.fetch_add(worker.publisher->sent_bytes() - sent_before, std::memory_order_relaxed);
    hit_raw_bytes_.fetch_add(message.bytes.size(), std::memory_order_relaxed);
    (message.aggregation ? aggregation_hits_ : hits_)
        .fetch_add(message.hits, std::memory_order_relaxed);
  }
  return true;
}

bool DetectRole::PublishAlerts(Worker& worker, uint64_t sequence) {
  if (worker.alerts.empty() && worker.hit_message_count == 0) return true;
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
  ack_seconds_->Observe(std::chrono::duration<double>(Clock::now() - worker.publish_start).count());
  const uint64_t duplicates = worker.publisher->duplicates();
  duplicates_.fetch_add(duplicates - worker.duplicates_seen, std::memory_order_relaxed);
  worker.duplicates_seen = duplicates;
  return true;
}

std::vector<std::shared_ptr<prometheus::Collectable>> DetectRole::MakeCollectables() {
  auto counters = std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    constexpr auto gauge = GaugeSample;
    std::vector<prometheus::MetricFamily> families{
        counter("gsoc_cluster_detect_messages_total",
                "GSOC_EVENTS messages processed and acknowledged by this detect node", messages_),
        counter("gsoc_cluster_detect_events_total", "Events in those messages", events_),
        counter("gsoc_cluster_detect_refused_total",
                "GSOC_EVENTS messages refused as undecodable (terminated, not redelivered)",
                refused_),
        counter("gsoc_cluster_alerts_published_total",
                "Alerts sent to GSOC_ALERTS (the events message is acked after all are)", alerts_),
        counter("gsoc_cluster_alert_messages_published_total",
                "Alerts messages sent to GSOC_ALERTS", alert_messages_),
        counter("gsoc_cluster_alerts_too_large_total",
                "Alerts dropped because one alone exceeds cluster.max_batch_bytes", too_large_),
        counter("gsoc_cluster_alert_publish_retries_total",
                "Alert publishes or ack waits that failed and were retried", retries_),
        counter("gsoc_cluster_alert_messages_duplicate_total",
                "Alerts messages JetStream acknowledged as duplicates (Nats-Msg-Id seen)",
                duplicates_),
        counter("gsoc_cluster_hits_published_total",
                "Correlation inputs (hit x correlation) sent to GSOC_HITS", hits_),
        counter("gsoc_cluster_hit_messages_published_total", "Hits messages sent to GSOC_HITS",
                hit_messages_),
        counter("gsoc_cluster_hit_bytes_published_total",
                "Bytes of those hits messages, as sent (compressed when cluster.compression is "
                "lz4)",
                hit_bytes_),
        counter("gsoc_cluster_hit_raw_bytes_published_total",
                "Bytes of those hits messages' payloads before compression", hit_raw_bytes_),
        counter("gsoc_cluster_aggregation_hits_published_total",
                "Detection hits of aggregating rules sent to GSOC_HITS (alerts.aggregate; the "
                "correlate partitions aggregate them)",
                aggregation_hits_),
        counter("gsoc_cluster_hits_too_large_total",
                "Hits dropped because one alone exceeds cluster.max_batch_bytes", hits_too_large_),
        counter("gsoc_cluster_hits_missing_group_total",
                "Hits not published: the event lacks a group-by field of the correlation (the "
                "Correlator skips them too)",
                hits_missing_group_),
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
