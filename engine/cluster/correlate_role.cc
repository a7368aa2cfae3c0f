#include "engine/cluster/correlate_role.h"

#include <spdlog/spdlog.h>

#include "engine/cluster/ack_histogram.h"
#include "engine/cluster/hits_consumer.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::chrono::seconds kPublishWait{5};
constexpr milliseconds kAckRound{500};  // then checks for a loss or Stop
constexpr milliseconds kIdleWait{5};    // nothing waiting in any partition
constexpr milliseconds kErrorPause{250};
constexpr milliseconds kRetryGain{1000};  // no checkpoint answer or no consumer yet
constexpr milliseconds kLossHandoff{1000};
constexpr std::chrono::seconds kTickEvery{1};  // as CorrelationService
constexpr std::chrono::seconds kRestoreWait{5};
constexpr int kMessagesPerTurn = 16;  // per partition, then the next one

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The node's budgets divided among the partitions (a node owning them all
// has a single node's).
correlate::CorrelatorOptions PartitionShare(correlate::CorrelatorOptions options,
                                            uint32_t partitions) {
  const auto share = [partitions](size_t value, size_t floor) {
    return value == 0 ? 0 : std::max(floor, (value + partitions - 1) / partitions);
  };
  options.max_keys_per_rule = share(options.max_keys_per_rule, 1024);
  options.max_bytes_per_rule = share(options.max_bytes_per_rule, size_t{1} << 20);
  options.raw_cache_bytes = share(options.raw_cache_bytes, size_t{256} << 10);
  options.max_sources = share(options.max_sources, 1024);
  options.shards = 1;  // one thread: shards would only split the raw cache
  return options;
}

}  // namespace

struct CorrelateRole::Partition {
  uint32_t id = 0;
  uint64_t epoch = 0;
  CheckpointFence fence;
  std::shared_ptr<const HitRouting> routing;  // the set it last ran: kept alive while it is bound
  std::unique_ptr<PartitionCorrelator> correlator;
  std::unique_ptr<HitsConsumer> consumer;
  Clock::time_point consumer_retry{};
  uint64_t applied = 0;       // the last GSOC_HITS sequence fed
  uint64_t checkpointed = 0;  // the sequence the last saved checkpoint covers
  uint64_t replay_until = 0;  // GSOC_HITS' last sequence when gained: hits up to it are replays
  uint64_t server_pending = 0;
  bool dirty = false;    // changed since the last checkpoint (ticks)
  bool unacked = false;  // published output not acknowledged: never checkpoint past it
  Clock::time_point next_checkpoint{};
};

CorrelateRole::CorrelateRole(JetStreamClient& client, CorrelateRoleOptions options, RuleSet rules)
    : client_(client),
      options_(std::move(options)),
      rules_(std::move(rules)),
      partition_options_(PartitionShare(options_.correlator, client.config().partitions)),
      registry_(std::make_shared<prometheus::Registry>()) {
  ack_seconds_ =
      AddAckSecondsHistogram(*registry_, "gsoc_cluster_correlation_alert_publish_ack_seconds",
                             "From publishing the correlation alerts and chained hits of one hits "
                             "message (or tick) to JetStream acknowledging all of them");
}

std::unique_ptr<CorrelateRole> CorrelateRole::Create(JetStreamClient& client,
                                                     CorrelateRoleOptions options, RuleSet rules) {
  return std::unique_ptr<CorrelateRole>(
      new CorrelateRole(client, std::move(options), std::move(rules)));
}

CorrelateRole::~CorrelateRole() { Stop(); }

bool CorrelateRole::Start(std::string* error) {
  const ClusterConfig& config = client_.config();
  CheckpointOptions checkpoint_options;
  checkpoint_options.replicas = config.replicas;
  // JetStream reserves the bound on every server, with the streams': a
  // cluster sized for smaller streams gets a smaller bucket (README).
  checkpoint_options.bucket_max_bytes = std::min<int64_t>(
      checkpoint_options.bucket_max_bytes, static_cast<int64_t>(config.stream_max_bytes));
  checkpoints_ =
      PartitionCheckpointStore::Open(client_, checkpoint_options, std::chrono::seconds(30), error);
  if (!checkpoints_) return false;
  started_.store(true);
  thread_ = std::thread([this] { Run(); });
  PartitionLeaseManager::Callbacks callbacks;
  callbacks.on_gain = [this](uint32_t p, uint64_t epoch) { OnGain(p, epoch); };
  callbacks.on_loss = [this](uint32_t p, uint64_t epoch) { OnLoss(p, epoch); };
  leases_ = PartitionLeaseManager::Start(client_, PartitionLeaseOptions::FromConfig(config),
                                         std::move(callbacks), error);
  if (!leases_) {
    Stop();
    return false;
  }
  return true;
}

void CorrelateRole::Stop() {
  if (!started_.exchange(false)) return;
  draining_.store(true, std::memory_order_relaxed);
  // Each held partition's loss first: the role thread checkpoints it and
  // the lease is released, so the others take over at once.
  if (leases_) leases_->Stop();
  stop_.store(true, std::memory_order_relaxed);
  {
    MutexLock lock(mutex_);
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

// ---- lease thread -------------------------------------------------------------

void CorrelateRole::OnGain(uint32_t partition, uint64_t epoch) {
  MutexLock lock(mutex_);
  commands_.push_back({true, partition, epoch});
  wake_.notify_all();
}

void CorrelateRole::OnLoss(uint32_t partition, uint64_t epoch) {
  MutexLock lock(mutex_);
  uint64_t& lost = lost_[partition];
  lost = std::max(lost, epoch);
  commands_.push_back({false, partition, epoch});
  wake_.notify_all();
  // Never fed again once this returns (feeding one message is CPU work only).
  wake_.wait(lock, [&]() GSOC_REQUIRES(mutex_) { return feeding_ != partition; });
  // The role thread's last checkpoint of it, if it comes in time.
  wake_.wait_for(lock, kLossHandoff, [&]() GSOC_REQUIRES(mutex_) {
    const auto handed = handed_.find(partition);
    return stopping() || (handed != handed_.end() && handed->second >= epoch);
  });
}

// ---- role thread --------------------------------------------------------------

bool CorrelateRole::Lost(const Partition& partition) {
  MutexLock lock(mutex_);
  const auto lost = lost_.find(partition.id);
  return lost != lost_.end() && lost->second >= partition.epoch;
}

bool CorrelateRole::Feeding(const Partition& partition) {
  MutexLock lock(mutex_);
  const auto lost = lost_.find(partition.id);
  if (lost != lost_.end() && lost->second >= partition.epoch) return false;
  feeding_ = partition.id;
  return true;
}

void CorrelateRole::DoneFeeding() {
  MutexLock lock(mutex_);
  feeding_ = -1;
  wake_.notify_all();
}

std::shared_ptr<const HitRouting> CorrelateRole::Routing() {
  std::shared_ptr<const correlate::CorrelationSet> set = rules_();
  if (!set) set = std::make_shared<const correlate::CorrelationSet>();
  if (!routing_ || &routing_->loaded() != set.get()) {
    routing_ = std::make_shared<const HitRouting>(std::move(set));
  }
  return routing_;
}

void CorrelateRole::Run() {
  std::string error;
  while (!stopping()) {
    if (!publisher_) {
      publisher_ = BatchPublisher::Create(client_, &error);
      if (!publisher_) {
        spdlog::warn("cluster correlate: {}; retrying", error);
        std::this_thread::sleep_for(kErrorPause);
        continue;
      }
    }
    RunCommands();
    bool busy = false;
    uint64_t lag = 0;
    for (auto& [id, partition] : partitions_) {
      if (stopping()) break;  // a consumer made again may take seconds each
      busy |= ReadSome(*partition);
      lag += partition->server_pending;
    }
    const Clock::time_point now = Clock::now();
    if (now >= next_tick_) {
      next_tick_ = now + kTickEvery;
      TickAll();
    }
    for (auto& [id, partition] : partitions_) {
      if (now >= partition->next_checkpoint) SaveCheckpoint(*partition);
    }
    lag_.store(lag, std::memory_order_relaxed);
    owned_.store(partitions_.size(), std::memory_order_relaxed);
    if (!busy) {
      MutexLock lock(mutex_);
      wake_.wait_for(lock, kIdleWait,
                     [&]() GSOC_REQUIRES(mutex_) { return !commands_.empty() || stopping(); });
    }
  }
  // A clean stop: whatever is still held is checkpointed.
  while (!partitions_.empty()) Drop(partitions_.begin()->first, /*checkpoint=*/true);
  owned_.store(0, std::memory_order_relaxed);
}

void CorrelateRole::RunCommands() {
  std::deque<Command> commands;
  {
    MutexLock lock(mutex_);
    commands.swap(commands_);
  }
  // Gains that could not complete, once their pause is over, before the rest.
  const Clock::time_point now = Clock::now();
  std::vector<std::pair<Command, Clock::time_point>> waiting;
  for (auto& [command, due] : retry_) {
    if (due <= now) {
      commands.push_front(command);
    } else {
      waiting.emplace_back(command, due);
    }
  }
  retry_.swap(waiting);
  for (const Command& command : commands) {
    if (command.gain) {
      Gain(command.partition, command.epoch);
      continue;
    }
    const auto found = partitions_.find(command.partition);
    if (found != partitions_.end() && found->second->epoch <= command.epoch) {
      Drop(command.partition, /*checkpoint=*/true);
    }
    MutexLock lock(mutex_);
    uint64_t& handed = handed_[command.partition];
    handed = std::max(handed, command.epoch);
    wake_.notify_all();
  }
}

void CorrelateRole::Gain(uint32_t p, uint64_t epoch) {
  {
    MutexLock lock(mutex_);
    const auto lost = lost_.find(p);
    if (lost != lost_.end() && lost->second >= epoch) return;  // lost again meanwhile
  }
  if (partitions_.count(p) != 0) Drop(p, /*checkpoint=*/false);  // an older epoch's
  PartitionCheckpoint checkpoint;
  CheckpointFence fence;
  std::string error;
  const CheckpointStatus status =
      checkpoints_->Restore(p, epoch, kRestoreWait, &checkpoint, &fence, &error);
  if (status == CheckpointStatus::kFenced) {
    spdlog::warn("cluster correlate: partition {} at epoch {}: {}; not taken", p, epoch, error);
    return;
  }
  if (status != CheckpointStatus::kOk) {
    restore_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("cluster correlate: partition {}: checkpoint {}: {}; trying again", p,
                  CheckpointStatusName(status), error);
    retry_.emplace_back(Command{true, p, epoch}, Clock::now() + kRetryGain);
    return;
  }
  auto partition = std::make_unique<Partition>();
  partition->id = p;
  partition->epoch = epoch;
  partition->fence = fence;
  partition->routing = Routing();
  partition->correlator = std::make_unique<PartitionCorrelator>(
      client_.config().partitions, partition_options_, options_.agency_names);
  if (checkpoint.found && !checkpoint.data.empty()) {
    if (partition->correlator->Restore(*partition->routing, checkpoint.data, &error)) {
      restores_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The hits before it are not replayed: they may be gone from the stream.
      restore_failures_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error(
          "cluster correlate: partition {}: checkpoint of sequence {} refused by the correlator: "
          "{}; its state starts empty there",
          p, checkpoint.hits_sequence, error);
    }
  }
  partition->applied = partition->checkpointed = checkpoint.found ? checkpoint.hits_sequence : 0;
  if (!client_.StreamLastSequence(kHitsStream, &partition->replay_until, &error)) {
    partition->replay_until = 0;
  }
  partition->next_checkpoint = Clock::now() + options_.checkpoint_interval;
  spdlog::info("cluster correlate: partition {} gained at epoch {}, from sequence {}{}", p, epoch,
               partition->applied + 1, checkpoint.found ? " (checkpoint)" : "");
  partitions_[p] = std::move(partition);
}

void CorrelateRole::Drop(uint32_t p, bool checkpoint) {
  const auto found = partitions_.find(p);
  if (found == partitions_.end()) return;
  if (checkpoint) SaveCheckpoint(*found->second);
  partitions_.erase(found);
}

bool CorrelateRole::OpenConsumer(Partition& partition) {
  if (draining_.load(std::memory_order_relaxed) || stopping() ||
      Clock::now() < partition.consumer_retry) {
    return false;
  }
  std::string error;
  partition.consumer =
      HitsConsumer::Create(client_, kHitsStream, HitsSubject(partition.id), partition.applied + 1,
                           options_.max_pending_messages, options_.max_pending_bytes, &error);
  if (partition.consumer) return true;
  consumer_errors_.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("cluster correlate: partition {}: {}; retrying", partition.id, error);
  partition.consumer_retry = Clock::now() + kRetryGain;
  return false;
}

bool CorrelateRole::ReadSome(Partition& partition) {
  if (!partition.consumer && !OpenConsumer(partition)) return false;
  if (Lost(partition)) return false;  // its loss is queued
  std::string error;
  ConsumedMessage message;
  int handled = 0;
  while (handled < kMessagesPerTurn && partition.consumer->Waiting() > 0 && !stopping()) {
    uint64_t server_pending = 0;
    if (!partition.consumer->Next(milliseconds(1), &message, &server_pending, &error)) {
      if (error.empty()) break;
      // Start again after the last sequence fed: nothing skipped, nothing twice.
      consumer_errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster correlate: partition {}: {}; consuming again from sequence {}",
                   partition.id, error, partition.applied + 1);
      partition.consumer.reset();
      break;
    }
    Handle(partition, message, server_pending);
    ++handled;
    if (partition.unacked) break;  // lost or stopping while publishing
  }
  return handled > 0;
}

void CorrelateRole::Handle(Partition& partition, const ConsumedMessage& message,
                           uint64_t server_pending) {
  partition.server_pending = server_pending;
  if (message.stream_sequence != 0 && message.stream_sequence <= partition.applied) return;
  CodecError codec_error;
  if (!DecodeHitBatch(message.data, hits_buffer_, &codec_error)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster correlate: GSOC_HITS message {} ({}) refused at byte {}: {}",
                 message.stream_sequence, message.subject, codec_error.offset, codec_error.reason);
    partition.applied = message.stream_sequence;
    return;
  }
  const std::shared_ptr<const HitRouting> routing = Routing();
  if (!Feeding(partition)) return;
  const PartitionCorrelatorCounters before = partition.correlator->counters();
  partition.correlator->Feed(*routing, hits_buffer_, output_);
  DoneFeeding();
  CountChains(partition, before);
  partition.routing = routing;
  partition.applied = message.stream_sequence;
  partition.dirty = true;
  const size_t n = hits_buffer_.size();
  hits_.fetch_add(n, std::memory_order_relaxed);
  hit_messages_.fetch_add(1, std::memory_order_relaxed);
  if (message.stream_sequence <= partition.replay_until) {
    replayed_.fetch_add(n, std::memory_order_relaxed);
  }
  Publish(partition);
}

void CorrelateRole::CountChains(const Partition& partition,
                                const PartitionCorrelatorCounters& before) {
  const PartitionCorrelatorCounters& after = partition.correlator->counters();
  unknown_.fetch_add(after.unknown - before.unknown, std::memory_order_relaxed);
  chain_missing_.fetch_add(after.chain_missing - before.chain_missing, std::memory_order_relaxed);
}

void CorrelateRole::TickAll() {
  const int64_t now = WallNowNs();
  uint64_t keys = 0;
  for (auto& [id, partition] : partitions_) {
    if (partition->unacked) continue;
    const std::shared_ptr<const HitRouting> routing = Routing();
    if (!Feeding(*partition)) continue;
    const PartitionCorrelatorCounters before = partition->correlator->counters();
    partition->correlator->Tick(*routing, now, output_);
    DoneFeeding();
    CountChains(*partition, before);
    if (!output_.alerts.empty() || !output_.chained.empty()) {
      partition->dirty = true;
      Publish(*partition);
    }
    keys += partition->correlator->stats().live_keys;
  }
  live_keys_.store(keys, std::memory_order_relaxed);
}

// Sends the output of the last message (or tick) of `partition` and waits
// until JetStream acknowledged all of it; false (the partition is then
// marked unacked: never checkpointed again) when it was lost or the role
// stops meanwhile.
bool CorrelateRole::Publish(Partition& partition) {
  if (output_.alerts.empty() && output_.chained.empty()) return true;
  const Clock::time_point start = Clock::now();
  std::string error;
  const auto give_up = [&] { return stopping() || Lost(partition); };
  const auto send = [&](const std::string& subject, std::string_view data,
                        const std::string& msg_id) {
    while (!publisher_->Publish(subject, data, msg_id, kPublishWait, &error)) {
      if (give_up()) return false;
      retries_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("cluster correlate: publishing to {} failed, retrying: {}", subject, error);
    }
    return true;
  };
  bool sent = true;
  for (const ChainedHit& chained : output_.chained) {
    if (!(sent = send(HitsSubject(chained.partition), chained.bytes, chained.msg_id))) break;
    chained_.fetch_add(1, std::memory_order_relaxed);
  }
  const std::span<const ClusterAlert> all(output_.alerts);
  for (size_t first = 0; sent && first < all.size();) {
    size_t end = first + 1;  // one agency, one subject
    while (end < all.size() && all[end].alert.agency == all[first].alert.agency) ++end;
    const size_t n =
        EncodeAlertBatch(all.first(end), first, client_.config().max_batch_bytes, buffer_);
    if (n == 0) {
      spdlog::warn("cluster correlate: an alert of rule {} exceeds max_batch_bytes; dropped",
                   all[first].alert.rule.id);
      ++first;
      continue;
    }
    identities_.clear();
    for (size_t i = first; i < first + n; ++i) identities_.push_back(all[i].identity);
    const std::string& agency = all[first].alert.agency;
    // No agency (a firing fed by none, e.g. a chain): a subject token still.
    if (!(sent = send(AlertsSubject(agency.empty() ? "none" : agency), buffer_,
                      AlertMessageId(identities_)))) {
      break;
    }
    alert_messages_.fetch_add(1, std::memory_order_relaxed);
    alerts_.fetch_add(n, std::memory_order_relaxed);
    first += n;
  }
  output_.Clear();
  while (sent && !publisher_->WaitForAcks(kAckRound, &error)) {
    if (give_up()) sent = false;
    retries_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!sent) {
    partition.unacked = true;
    return false;
  }
  ack_seconds_->Observe(std::chrono::duration<double>(Clock::now() - start).count());
  const uint64_t duplicates = publisher_->duplicates();
  duplicates_.fetch_add(duplicates - duplicates_seen_, std::memory_order_relaxed);
  duplicates_seen_ = duplicates;
  return true;
}

void CorrelateRole::SaveCheckpoint(Partition& partition) {
  partition.next_checkpoint = Clock::now() + options_.checkpoint_interval;
  if (partition.unacked) return;  // its last output may be lost: the next owner replays it
  if (!partition.dirty && partition.applied == partition.checkpointed) return;
  partition.correlator->Checkpoint(buffer_);
  std::string error;
  const CheckpointStatus status =
      checkpoints_->Save(partition.fence, buffer_, partition.applied, &error);
  if (status == CheckpointStatus::kOk) {
    checkpoint_saves_.fetch_add(1, std::memory_order_relaxed);
    checkpoint_bytes_.fetch_add(buffer_.size(), std::memory_order_relaxed);
    partition.checkpointed = partition.applied;
    partition.dirty = false;
    return;
  }
  checkpoint_failures_.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("cluster correlate: checkpoint of partition {} at sequence {}: {}: {}", partition.id,
               partition.applied, CheckpointStatusName(status), error);
  if (status == CheckpointStatus::kFenced) {
    // A newer owner holds it: stop feeding it now (the lease manager learns
    // of the loss on its own).
    MutexLock lock(mutex_);
    uint64_t& lost = lost_[partition.id];
    lost = std::max(lost, partition.epoch);
  }
}

std::vector<std::shared_ptr<prometheus::Collectable>> CorrelateRole::MakeCollectables() {
  auto counters = std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    constexpr auto gauge = GaugeSample;
    return std::vector<prometheus::MetricFamily>{
        counter("gsoc_cluster_correlate_hits_total",
                "Hits fed to this node's partition correlators", hits_),
        counter("gsoc_cluster_correlate_hit_messages_total", "GSOC_HITS messages consumed",
                hit_messages_),
        counter("gsoc_cluster_correlate_hits_replayed_total",
                "Hits fed after gaining a partition that were published before (replayed after "
                "its checkpoint)",
                replayed_),
        counter("gsoc_cluster_correlate_refused_total",
                "GSOC_HITS messages refused as undecodable (skipped)", refused_),
        counter("gsoc_cluster_correlate_hits_unknown_total",
                "Hits of a correlation or ref this node's rule set does not have (skipped)",
                unknown_),
        counter("gsoc_cluster_correlate_chain_missing_group_total",
                "Chained inputs not sent: the firing's group lacks a group-by field of the "
                "chained correlation",
                chain_missing_),
        counter("gsoc_cluster_correlation_alerts_published_total",
                "Correlation alerts sent to GSOC_ALERTS (the next hits are read once they are "
                "acknowledged)",
                alerts_),
        counter("gsoc_cluster_correlation_alert_messages_published_total",
                "Correlation alerts messages sent to GSOC_ALERTS", alert_messages_),
        counter("gsoc_cluster_correlate_chained_hits_total",
                "Chained correlation inputs sent to GSOC_HITS", chained_),
        counter("gsoc_cluster_correlate_publish_retries_total",
                "Publishes or ack waits of the correlate role that failed and were retried",
                retries_),
        counter("gsoc_cluster_correlation_alert_messages_duplicate_total",
                "Messages of the correlate role JetStream acknowledged as duplicates (a replay)",
                duplicates_),
        counter("gsoc_cluster_correlate_checkpoint_saves_total",
                "Partition checkpoints saved by the correlate role", checkpoint_saves_),
        counter("gsoc_cluster_correlate_checkpoint_bytes_total", "Bytes of those checkpoints",
                checkpoint_bytes_),
        counter("gsoc_cluster_correlate_checkpoint_failures_total",
                "Partition checkpoint saves that failed (fenced, too large, no answer)",
                checkpoint_failures_),
        counter("gsoc_cluster_correlate_restores_total",
                "Partitions gained whose checkpoint was restored", restores_),
        counter("gsoc_cluster_correlate_restore_failures_total",
                "Checkpoint restores that failed (retried; or refused by the correlator: the "
                "partition then starts empty at its sequence)",
                restore_failures_),
        counter("gsoc_cluster_correlate_consumer_errors_total",
                "Hits consumers that could not be made or failed (made again)", consumer_errors_),
        gauge("gsoc_cluster_correlate_consumer_lag",
              "GSOC_HITS messages of the owned partitions not yet delivered to this node", lag_),
        gauge("gsoc_cluster_correlate_partitions_active",
              "Partitions this node's role thread feeds now", owned_),
        gauge("gsoc_cluster_correlate_live_keys", "Correlation keys held by the owned partitions",
              live_keys_),
    };
  });
  std::vector<std::shared_ptr<prometheus::Collectable>> out{counters, registry_};
  if (leases_) out.push_back(leases_->MakeCollectable());
  if (checkpoints_) out.push_back(checkpoints_->MakeCollectable());
  return out;
}

}  // namespace gsoc
