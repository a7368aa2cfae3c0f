#include "engine/cluster/correlate_role.h"

#include <spdlog/spdlog.h>

#include "engine/cluster/ack_histogram.h"
#include "engine/cluster/hits_consumer.h"

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

// The same for alert aggregation (max_open and max_bytes).
PartitionAggregatorOptions AggregatorShare(PartitionAggregatorOptions options,
                                           uint32_t partitions) {
  options.max_open = std::max<size_t>(1024, (options.max_open + partitions - 1) / partitions);
  options.max_bytes =
      std::max<uint64_t>(uint64_t{1} << 20, (options.max_bytes + partitions - 1) / partitions);
  return options;
}

}  // namespace

struct CorrelateRole::Partition {
  uint32_t id = 0;
  uint64_t epoch = 0;
  CheckpointFence fence;
  std::shared_ptr<const HitRouting> routing;  // the set it last ran: kept alive while it is bound
  std::unique_ptr<PartitionState> state;      // its correlator and aggregator
  std::unique_ptr<HitsConsumer> consumer;
  Clock::time_point consumer_retry{};
  uint64_t applied = 0;       // the last GSOC_HITS sequence fed
  uint64_t checkpointed = 0;  // the sequence the last saved checkpoint covers
  uint64_t replay_until = 0;  // GSOC_HITS' last sequence when gained: hits up to it are replays
  uint64_t server_pending = 0;
  bool dirty = false;    // changed since the last checkpoint (ticks)
  bool unacked = false;  // published output not acknowledged: never checkpoint past it
  Clock::time_point next_checkpoint{};
  Clock::time_point next_flush{};  // the next flush marker, at the earliest
};

CorrelateRole::CorrelateRole(JetStreamClient& client, CorrelateRoleOptions options, RuleSet rules)
    : client_(client),
      options_(std::move(options)),
      rules_(std::move(rules)),
      partition_options_(PartitionShare(options_.correlator, client.config().partitions)),
      aggregator_options_(AggregatorShare(options_.aggregator, client.config().partitions)),
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
  callbacks.on_loss = [this](uint32_t p, uint64_t epoch, bool lapsed) { OnLoss(p, epoch, lapsed); };
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

void CorrelateRole::OnLoss(uint32_t partition, uint64_t epoch, bool lapsed) {
  MutexLock lock(mutex_);
  uint64_t& lost = lost_[partition];
  lost = std::max(lost, epoch);
  commands_.push_back({false, partition, epoch});
  wake_.notify_all();
  // Never fed again once this returns (feeding one message is CPU work only).
  wake_.wait(lock, [&]() GSOC_REQUIRES(mutex_) { return feeding_ != partition; });
  // The role thread's last checkpoint of it, if it comes in time. Not for
  // a lapsed lease: another node may own it already (the checkpoint would
  // be fenced), and when JetStream is unavailable every lease lapses at
  // once: waiting for each would hold the lease thread a second a partition
  // and delay taking them back.
  if (lapsed) return;
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
      if (now >= partition->next_flush) RequestFlush(*partition);
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
  partition->state = std::make_unique<PartitionState>(
      client_.config().partitions, partition_options_, options_.agency_names, aggregator_options_);
  if (checkpoint.found && !checkpoint.data.empty()) {
    if (partition->state->Restore(*partition->routing, checkpoint.data, &error)) {
      restores_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The hits before it are not replayed: they may be gone from the stream.
      restore_failures_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error(
          "cluster correlate: partition {}: checkpoint of sequence {} refused by the correlator "
          "or aggregator: {}; its state starts empty there",
          p, checkpoint.hits_sequence, error);
      partition->state =
          std::make_unique<PartitionState>(client_.config().partitions, partition_options_,
                                           options_.agency_names, aggregator_options_);
    }
  }
  partition->applied = partition->checkpointed = checkpoint.found ? checkpoint.hits_sequence : 0;
  if (!client_.StreamLastSequence(kHitsStream, &partition->replay_until, &error)) {
    partition->replay_until = 0;
  }
  partition->next_checkpoint = Clock::now() + options_.checkpoint_interval;
  partition->next_flush = Clock::now() + options_.update_interval;
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
  if (const HitBatchKind kind = HitBatchKindOf(message.data);
      kind == HitBatchKind::kAggregation || kind == HitBatchKind::kFlush) {
    if (FeedAggregation(partition, message, kind)) Publish(partition);
    return;
  }
  CodecError codec_error;
  ReleaseDecodeBuffer(hits_buffer_);
  if (!DecodeHitBatch(message.data, hits_buffer_, &codec_error)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster correlate: GSOC_HITS message {} ({}) refused at byte {}: {}",
                 message.stream_sequence, message.subject, codec_error.offset, codec_error.reason);
    partition.applied = message.stream_sequence;
    return;
  }
  const std::shared_ptr<const HitRouting> routing = Routing();
  if (!Feeding(partition)) return;
  const PartitionCorrelatorCounters before = partition.state->correlator.counters();
  partition.state->correlator.Feed(*routing, hits_buffer_, output_);
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

// The decode buffers are decoded into in place (wire::ItemReuse::kReused)
// and keep the largest texts each place ever held: before a decode, one
// holding more than kMaxDecodeBufferBytes is freed (a hits message
// decompresses to at most 1 MiB; ordinary traffic keeps far less).
template <typename Hit>
void CorrelateRole::ReleaseDecodeBuffer(std::vector<Hit>& buffer) {
  if (ReleaseIfOver(buffer, kMaxDecodeBufferBytes)) {
    decode_buffer_releases_.fetch_add(1, std::memory_order_relaxed);
  }
}

// Aggregation hits and flush markers into the partition's aggregator; true
// when it made something to publish.
bool CorrelateRole::FeedAggregation(Partition& partition, const ConsumedMessage& message,
                                    HitBatchKind kind) {
  CodecError codec_error;
  if (kind != HitBatchKind::kFlush) ReleaseDecodeBuffer(aggregation_buffer_);
  const bool decoded =
      kind == HitBatchKind::kFlush
          ? DecodeFlushMarker(message.data, &codec_error)
          : DecodeAggregationHitBatch(message.data, aggregation_buffer_, &codec_error);
  if (!decoded) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster correlate: GSOC_HITS message {} ({}) refused at byte {}: {}",
                 message.stream_sequence, message.subject, codec_error.offset, codec_error.reason);
    partition.applied = message.stream_sequence;
    return false;
  }
  if (!Feeding(partition)) return false;
  PartitionAggregator& aggregator = partition.state->aggregator;
  const PartitionAggregatorStats before = aggregator.stats();
  if (kind == HitBatchKind::kFlush) {
    aggregator.Flush(output_.alerts);
  } else {
    aggregator.Feed(aggregation_buffer_, output_.alerts);
  }
  DoneFeeding();
  const PartitionAggregatorStats after = aggregator.stats();
  aggregation_hits_.fetch_add(after.hits - before.hits, std::memory_order_relaxed);
  flushes_.fetch_add(after.flushes - before.flushes, std::memory_order_relaxed);
  aggregates_opened_.fetch_add(after.opened - before.opened, std::memory_order_relaxed);
  aggregates_updated_.fetch_add(after.updated - before.updated, std::memory_order_relaxed);
  aggregates_closed_.fetch_add(after.closed - before.closed, std::memory_order_relaxed);
  aggregates_overflow_.fetch_add(after.overflow - before.overflow, std::memory_order_relaxed);
  partition.applied = message.stream_sequence;
  partition.dirty = true;
  hit_messages_.fetch_add(1, std::memory_order_relaxed);
  if (message.stream_sequence <= partition.replay_until) {
    replayed_.fetch_add(after.hits - before.hits, std::memory_order_relaxed);
  }
  return !output_.alerts.empty();
}

// The marker's id names the partition and the last sequence fed: asked
// again (by this node, or by a new owner replaying to the same point)
// within JetStream's duplicate window, it is stored once. Either way the
// versions are made where a marker lies in the stream.
void CorrelateRole::RequestFlush(Partition& partition) {
  partition.next_flush = Clock::now() + options_.update_interval;
  if (partition.unacked || !partition.state->aggregator.grown() || Lost(partition)) return;
  static const std::string kMarker = EncodeFlushMarker();
  const std::string msg_id =
      "f-" + std::to_string(partition.id) + "-" + std::to_string(partition.applied);
  std::string error;
  if (!publisher_->Publish(HitsSubject(partition.id), kMarker, msg_id, kPublishWait, &error)) {
    retries_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster correlate: flush marker for partition {}: {}; next time", partition.id,
                 error);
    return;
  }
  // Not acknowledged in time: resent by the next wait (same id), or asked
  // again after update_interval.
  if (!publisher_->WaitForAcks(kAckRound, &error)) retries_.fetch_add(1, std::memory_order_relaxed);
  flush_markers_.fetch_add(1, std::memory_order_relaxed);
}

void CorrelateRole::CountChains(const Partition& partition,
                                const PartitionCorrelatorCounters& before) {
  const PartitionCorrelatorCounters& after = partition.state->correlator.counters();
  unknown_.fetch_add(after.unknown - before.unknown, std::memory_order_relaxed);
  chain_missing_.fetch_add(after.chain_missing - before.chain_missing, std::memory_order_relaxed);
}

void CorrelateRole::TickAll() {
  const int64_t now = WallNowNs();
  uint64_t keys = 0, open = 0, bytes = 0, sources = 0;
  for (auto& [id, partition] : partitions_) {
    if (partition->unacked) continue;
    const std::shared_ptr<const HitRouting> routing = Routing();
    if (!Feeding(*partition)) continue;
    const PartitionCorrelatorCounters before = partition->state->correlator.counters();
    partition->state->correlator.Tick(*routing, now, output_);
    DoneFeeding();
    CountChains(*partition, before);
    if (!output_.alerts.empty() || !output_.chained.empty()) {
      partition->dirty = true;
      Publish(*partition);
    }
    keys += partition->state->correlator.stats().live_keys;
    const PartitionAggregatorStats aggregates = partition->state->aggregator.stats();
    open += aggregates.open;
    bytes += aggregates.bytes;
    sources += aggregates.sources;
  }
  live_keys_.store(keys, std::memory_order_relaxed);
  aggregates_open_.store(open, std::memory_order_relaxed);
  aggregates_bytes_.store(bytes, std::memory_order_relaxed);
  aggregate_sources_.store(sources, std::memory_order_relaxed);
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
  partition.state->Checkpoint(buffer_);
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

}  // namespace gsoc
