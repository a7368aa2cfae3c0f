#include "engine/cluster/store_role.h"

#include <spdlog/spdlog.h>

#include "engine/aggregate/aggregator.h"
#include "engine/metrics/metrics_server.h"
#include "engine/util/hash.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kFetchWait{1};
constexpr std::chrono::seconds kLagInterval{1};
constexpr std::chrono::milliseconds kErrorPause{250};
constexpr size_t kRebuildPage = 1000;
constexpr uint64_t kCheckSeed = 0x636865636b6167ull;  // "checkag"

// The aggregate's rule, agency and group, hashed apart from its key: two
// aggregates whose keys hash alike are not taken for one another.
uint64_t AggregateCheck(const Alert& alert) {
  std::string bytes;
  bytes.append(alert.rule.id).push_back('\0');
  bytes.append(alert.agency).push_back('\0');
  for (const auto& [name, value] : alert.group) {
    bytes.append(name).push_back('=');
    bytes.append(value).push_back('\0');
  }
  return HashBytes(bytes, kCheckSeed);
}

}  // namespace

bool AggregateIndex::Resolve(Alert& alert, uint64_t id) {
  const uint64_t check = AggregateCheck(alert);
  const auto found = records_.find(alert.aggregate_key);
  const bool same = found != records_.end() && found->second.check == check &&
                    found->second.opened_ns == alert.aggregate_opened_ns;
  if (same && alert.aggregate_version <= found->second.version) return false;  // superseded
  alert.replaces = same ? found->second.id : 0;
  Put(alert.aggregate_key, {id, alert.aggregate_version, alert.aggregate_opened_ns, check, 0});
  return true;
}

void AggregateIndex::Recall(const Alert& alert, uint64_t id) {
  if (records_.count(alert.aggregate_key) != 0 || records_.size() >= max_count_) return;
  Put(alert.aggregate_key,
      {id, alert.aggregate_version, alert.aggregate_opened_ns, AggregateCheck(alert), 0});
}

void AggregateIndex::Put(uint64_t key, const Record& record) {
  if (max_count_ == 0) return;
  Record& slot = records_[key];
  slot = record;
  slot.serial = ++serial_;
  order_.emplace_back(key, slot.serial);
  while (records_.size() > max_count_ || order_.size() > 2 * max_count_) {
    const auto [oldest, serial] = order_.front();
    order_.pop_front();
    const auto it = records_.find(oldest);
    if (it != records_.end() && it->second.serial == serial) records_.erase(it);
  }
}

std::unique_ptr<StoreRole> StoreRole::Create(JetStreamClient& client, store::AlertStore& store,
                                             StoreRoleOptions options) {
  return std::unique_ptr<StoreRole>(new StoreRole(client, store, std::move(options)));
}

StoreRole::~StoreRole() { Stop(); }

std::string StoreRole::DurableName(std::string_view node) {
  std::string name(node);
  for (char& c : name) c = c == '.' ? '_' : c;  // NATS durable names take no '.'
  return name;
}

void StoreRole::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StoreRole::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

// The identities of the alerts in the messages up to the store's last id,
// newest back to dedup_count identities (or rebuild_max_messages), inserted
// oldest first as they were when consumed.
void StoreRole::RebuildWindow() {
  const uint64_t last_id = store_.last_id();
  if (last_id < kMaxAlertsPerMessage || options_.dedup_count == 0) return;
  const uint64_t last_sequence = last_id / kMaxAlertsPerMessage;
  std::vector<std::vector<AlertIdentity>> messages;  // newest first
  size_t identities = 0;
  std::string data, error;
  for (uint64_t sequence = last_sequence;
       sequence >= 1 && messages.size() < options_.rebuild_max_messages &&
       identities < options_.dedup_count && !stopping();
       --sequence) {
    const int found = client_.GetMessage(kAlertsStream, sequence, &data, &error);
    if (found < 0) {
      spdlog::warn("cluster store: rebuilding the dedup window: {}; retrying", error);
      std::this_thread::sleep_for(kErrorPause);
      ++sequence;  // the same one again
      continue;
    }
    if (found == 0) break;  // older messages are gone (stream limits)
    CodecError codec_error;
    if (!DecodeAlertBatch(data, decoded_, &codec_error)) continue;  // refused when consumed too
    std::vector<AlertIdentity> ids;
    for (size_t i = 0; i < decoded_.size(); ++i) {
      if (AlertId(sequence, i) <= last_id) ids.push_back(decoded_[i].identity);
    }
    identities += ids.size();
    messages.push_back(std::move(ids));
  }
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    for (const AlertIdentity& identity : *it) window_.Insert(identity);
  }
  rebuilt_.store(window_.size(), std::memory_order_relaxed);
  window_size_.store(window_.size(), std::memory_order_relaxed);
  spdlog::info("cluster store: dedup window rebuilt from {} GSOC_ALERTS messages ({} alerts)",
               messages.size(), window_.size());
}

// The newest version of each aggregate this store holds, from its newest
// alerts back (aggregate_count of them at most): the same index a replica
// that never stopped has, as far as the bound reaches.
void StoreRole::RebuildAggregates() {
  store::QueryRequest request;
  request.limit = kRebuildPage;
  request.newest_first = true;
  size_t read = 0;
  while (read < options_.aggregate_count && !stopping()) {
    const store::QueryResult page = store_.Query(request);
    for (const store::StoredAlert& stored : page.alerts) {
      ++read;
      Alert alert;
      if (stored.json.find("\"aggregate\":{") == std::string::npos ||
          !aggregate::ParseAggregateAlert(stored.json, &alert)) {
        continue;
      }
      aggregates_.Recall(alert, stored.id);
    }
    if (page.next_cursor == 0) break;
    request.filter.before_id = page.next_cursor;
  }
  aggregates_known_.store(aggregates_.size(), std::memory_order_relaxed);
  if (aggregates_.size() != 0) {
    spdlog::info("cluster store: {} aggregates' newest versions recalled from {} stored alerts",
                 aggregates_.size(), read);
  }
}

bool StoreRole::CheckStreamNotBehind() {
  const uint64_t last_sequence = store_.last_id() / kMaxAlertsPerMessage;
  if (last_sequence == 0) return true;
  std::string error;
  uint64_t stream_last = 0;
  while (!client_.StreamLastSequence(kAlertsStream, &stream_last, &error)) {
    if (stopping()) return true;
    spdlog::warn("cluster store: {}; retrying", error);
    std::this_thread::sleep_for(kErrorPause);
  }
  if (stream_last >= last_sequence) return true;
  behind_.store(1, std::memory_order_relaxed);
  spdlog::error(
      "cluster store: GSOC_ALERTS ends at message {} but this store holds alerts of message {}: "
      "the stream was recreated, and its new messages would get ids this store already used. "
      "Nothing is consumed; start this store node with an empty data dir",
      stream_last, last_sequence);
  return false;
}

void StoreRole::Run() {
  if (!CheckStreamNotBehind()) {
    failed_ = true;
    stopped_for_good_.store(true, std::memory_order_relaxed);
  }
  if (!failed_) RebuildWindow();
  if (!failed_) RebuildAggregates();
  const std::string durable = DurableName(options_.node);
  std::unique_ptr<PullConsumer> consumer;
  std::string error;
  Clock::time_point next_lag = Clock::now();
  while (!stopping()) {
    if (failed_) {  // nothing more is acknowledged until a restart
      std::this_thread::sleep_for(kErrorPause);
      continue;
    }
    if (!consumer) {
      consumer = PullConsumer::Create(client_, kAlertsStream, "gsoc.alerts.>", durable,
                                      options_.ack_wait, std::chrono::seconds(5), &error,
                                      /*max_ack_pending=*/1);
      if (!consumer) {
        fetch_errors_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("cluster store: {}; retrying", error);
        std::this_thread::sleep_for(kErrorPause);
        continue;
      }
    }
    const int fetched = consumer->Fetch(
        1, kFetchWait, [this](const ConsumedMessage& message) { return Handle(message); }, &error);
    if (fetched < 0) {
      fetch_errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster store: {}", error);
      std::this_thread::sleep_for(kErrorPause);
    }
    if (Clock::now() >= next_lag) {
      next_lag = Clock::now() + kLagInterval;
      uint64_t pending = 0, unacked = 0;
      if (consumer->Lag(&pending, &unacked, &error)) {
        pending_.store(pending, std::memory_order_relaxed);
        unacked_.store(unacked, std::memory_order_relaxed);
      }
    }
  }
}

Consumed StoreRole::Handle(const ConsumedMessage& message) {
  if (stopping() || failed_) return Consumed::kLater;
  if (message.deliveries > 1) redeliveries_.fetch_add(1, std::memory_order_relaxed);
  CodecError codec_error;
  if (!DecodeAlertBatch(message.data, decoded_, &codec_error)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster store: GSOC_ALERTS message {} ({}) refused at byte {}: {}",
                 message.stream_sequence, message.subject, codec_error.offset, codec_error.reason);
    return Consumed::kRefuse;
  }
  if (message.stream_sequence == 0 ||
      message.stream_sequence > UINT64_MAX / kMaxAlertsPerMessage - 1) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster store: GSOC_ALERTS message without a usable stream sequence ({})",
                 message.stream_sequence);
    return Consumed::kRefuse;
  }
  const uint64_t last_id = store_.last_id();
  batch_.clear();
  uint64_t duplicates = 0, already = 0, superseded = 0, replaced = 0;
  for (size_t i = 0; i < decoded_.size(); ++i) {
    const uint64_t id = AlertId(message.stream_sequence, i);
    if (id <= last_id) {  // stored before this delivery: a redelivery
      window_.Insert(decoded_[i].identity);
      ++already;
      continue;
    }
    if (!window_.Insert(decoded_[i].identity)) {
      ++duplicates;
      continue;
    }
    Alert& alert = decoded_[i].alert;
    if (alert.aggregate_key != 0) {
      alert.replaces = 0;  // this store's ids, not the sender's
      if (!aggregates_.Resolve(alert, id)) {
        ++superseded;
        continue;
      }
      if (alert.replaces != 0) ++replaced;
    }
    decoded_[i].alert.id = id;
    batch_.push_back(std::move(decoded_[i].alert));
  }
  const size_t count = batch_.size();
  if (count != 0) {
    store_.Publish(batch_);
    store_.Flush();
    if (const store::StoreHealth health = store_.health(); !health.ok) {
      failed_ = true;
      spdlog::error(
          "cluster store: the alert store failed ({}); GSOC_ALERTS message {} is not "
          "acknowledged, and no later one until a restart",
          health.error, message.stream_sequence);
      return Consumed::kLater;
    }
  }
  window_size_.store(window_.size(), std::memory_order_relaxed);
  messages_.fetch_add(1, std::memory_order_relaxed);
  stored_.fetch_add(count, std::memory_order_relaxed);
  deduplicated_.fetch_add(duplicates, std::memory_order_relaxed);
  already_stored_.fetch_add(already, std::memory_order_relaxed);
  superseded_.fetch_add(superseded, std::memory_order_relaxed);
  replaced_.fetch_add(replaced, std::memory_order_relaxed);
  aggregates_known_.store(aggregates_.size(), std::memory_order_relaxed);
  return Consumed::kAck;
}

std::vector<std::shared_ptr<prometheus::Collectable>> StoreRole::MakeCollectables() {
  auto collectable = std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    const auto sample = [](const char* name, const char* help, MetricType type,
                           const std::atomic<uint64_t>& v) {
      return SingleSample(name, help, type, static_cast<double>(v.load(std::memory_order_relaxed)));
    };
    return std::vector<prometheus::MetricFamily>{
        sample("gsoc_cluster_store_messages_total",
               "GSOC_ALERTS messages stored and acknowledged by this store node",
               MetricType::Counter, messages_),
        sample("gsoc_cluster_store_alerts_total", "Alerts written into the local store",
               MetricType::Counter, stored_),
        sample("gsoc_cluster_alerts_deduplicated_total",
               "Alerts not stored: their cluster identity was stored before (store dedup window)",
               MetricType::Counter, deduplicated_),
        sample("gsoc_cluster_store_already_stored_total",
               "Alerts of redelivered messages that were stored before (id not above the last)",
               MetricType::Counter, already_stored_),
        sample("gsoc_cluster_store_redeliveries_total",
               "GSOC_ALERTS messages delivered again to this store node", MetricType::Counter,
               redeliveries_),
        sample("gsoc_cluster_store_refused_total",
               "GSOC_ALERTS messages refused as undecodable (terminated)", MetricType::Counter,
               refused_),
        sample("gsoc_cluster_store_fetch_errors_total", "Fetches that failed (retried)",
               MetricType::Counter, fetch_errors_),
        sample("gsoc_cluster_store_consumer_pending",
               "GSOC_ALERTS messages not yet delivered to this store node (its lag)",
               MetricType::Gauge, pending_),
        sample("gsoc_cluster_store_consumer_unacked",
               "GSOC_ALERTS messages delivered to this store node and not yet acked",
               MetricType::Gauge, unacked_),
        sample("gsoc_cluster_store_dedup_window_alerts", "Identities in the store's dedup window",
               MetricType::Gauge, window_size_),
        sample("gsoc_cluster_store_stream_behind",
               "1: GSOC_ALERTS ends before this store's last alert (recreated); the role "
               "consumes nothing",
               MetricType::Gauge, behind_),
        sample("gsoc_cluster_store_aggregate_versions_replacing_total",
               "Aggregate versions stored in place of their previous version (replaces "
               "resolved to this store's id; the store deleted that record)",
               MetricType::Counter, replaced_),
        sample("gsoc_cluster_store_aggregate_versions_superseded_total",
               "Aggregate versions dropped: a version at least as new was stored",
               MetricType::Counter, superseded_),
        sample("gsoc_cluster_store_aggregates_known",
               "Aggregates whose newest version's id is kept", MetricType::Gauge,
               aggregates_known_),
        sample("gsoc_cluster_store_dedup_window_rebuilt",
               "Identities read back from GSOC_ALERTS into the window at start", MetricType::Gauge,
               rebuilt_),
    };
  });
  return {collectable};
}

}  // namespace gsoc
