#include "engine/cluster/partition_leases.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "engine/metrics/metrics_server.h"
#include "engine/util/hash.h"

namespace gsoc {
namespace {

// How long Start waits for the lease bucket while the cluster has no leader.
constexpr std::chrono::milliseconds kOpenBucketWait{15000};

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kMemberPrefix = "member.";
constexpr std::string_view kFreeValue = "-";  // a released lease
constexpr milliseconds kMaxWait{100};         // the loop looks at stop_ this often
constexpr size_t kMaxWatchBatch = 1024;       // updates handled per pass
// Making the watch again: request timeouts it may take (a stream lookup, the
// consumer, its first delivery; 2.3 measured while a server died). Leases are
// trusted for 6 (3/4 lease_ttl) after a renewal, renewed every 2.
constexpr int kWatchStartRequests = 4;
constexpr size_t kMaxMembers = 1024;  // correlate nodes tracked (P x N pairs to assign)
constexpr int64_t kLeaseBucketBytes = int64_t{16} << 20;
constexpr int32_t kLeaseValueBytes = 256;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<int> AssignPartitions(uint32_t partitions, std::span<const std::string> members) {
  std::vector<int> owner(partitions, -1);
  const size_t n = members.size();
  if (n == 0 || partitions == 0) return owner;
  struct Pair {
    uint64_t score;
    uint32_t member;
    uint32_t partition;
  };
  std::vector<Pair> pairs;
  pairs.reserve(static_cast<size_t>(partitions) * n);
  for (uint32_t m = 0; m < n; ++m) {
    const uint64_t member_hash = Fnv1a(members[m]);
    for (uint32_t p = 0; p < partitions; ++p) {
      pairs.push_back({SplitMix(member_hash ^ SplitMix(p)), m, p});
    }
  }
  // Ties (rare) by name, so the input order never matters.
  std::sort(pairs.begin(), pairs.end(), [&](const Pair& a, const Pair& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.partition != b.partition) return a.partition < b.partition;
    return members[a.member] < members[b.member];
  });
  const uint32_t base = partitions / static_cast<uint32_t>(n);
  const uint32_t extra = partitions % static_cast<uint32_t>(n);  // members owning base + 1
  std::vector<uint32_t> count(n, 0);
  uint32_t at_ceiling = 0, assigned = 0;
  for (const Pair& pair : pairs) {
    if (owner[pair.partition] != -1) continue;
    uint32_t& c = count[pair.member];
    if (c > base || (c == base && at_ceiling >= extra)) continue;  // full
    owner[pair.partition] = static_cast<int>(pair.member);
    if (++c == base + 1) ++at_ceiling;
    if (++assigned == partitions) break;
  }
  return owner;
}

std::vector<uint32_t> AssignedTo(uint32_t partitions, std::span<const std::string> members,
                                 std::string_view member) {
  std::vector<uint32_t> out;
  const auto it = std::find(members.begin(), members.end(), member);
  if (it == members.end()) return out;
  const int index = static_cast<int>(it - members.begin());
  const std::vector<int> owner = AssignPartitions(partitions, members);
  for (uint32_t p = 0; p < partitions; ++p) {
    if (owner[p] == index) out.push_back(p);
  }
  return out;
}

PartitionLeaseOptions PartitionLeaseOptions::FromConfig(const ClusterConfig& config) {
  PartitionLeaseOptions options;
  options.node = config.node;
  options.partitions = config.partitions;
  options.lease_ttl = config.lease_ttl;
  options.takeover = config.takeover;
  options.replicas = config.replicas;
  return options;
}

// ---------------------------------------------------------------------------

PartitionLeaseManager::PartitionLeaseManager(PartitionLeaseOptions options, Callbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      lease_value_(options_.node + " " + KvIncarnation()),
      renew_every_(options_.lease_ttl / 4),
      trust_for_(options_.lease_ttl * 3 / 4) {}

std::unique_ptr<PartitionLeaseManager> PartitionLeaseManager::Start(JetStreamClient& client,
                                                                    PartitionLeaseOptions options,
                                                                    Callbacks callbacks,
                                                                    std::string* error) {
  std::unique_ptr<PartitionLeaseManager> manager(
      new PartitionLeaseManager(std::move(options), std::move(callbacks)));
  const PartitionLeaseOptions& o = manager->options_;
  KvBucketSpec spec;
  spec.name = std::string(kLeaseBucket);
  spec.ttl = o.lease_ttl;
  spec.max_bytes = kLeaseBucketBytes;
  spec.max_value_bytes = kLeaseValueBytes;
  spec.replicas = o.replicas;
  spec.request_timeout = KvRequestTimeout(o.lease_ttl);
  // A node may start while JetStream elects leaders (a server just died):
  // wait for the bucket as long as a connect does, not only a takeover.
  manager->bucket_ = KvBucket::Open(client, spec, std::max(o.takeover, kOpenBucketWait), error);
  if (!manager->bucket_) return nullptr;
  PartitionLeaseManager* self = manager.get();
  manager->thread_ = std::thread([self] { self->Run(); });
  return manager;
}

PartitionLeaseManager::~PartitionLeaseManager() { Stop(); }

void PartitionLeaseManager::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PartitionLeaseManager::AbandonForTest() {
  abandon_.store(true);
  Stop();
}

std::string PartitionLeaseManager::LeaseKey(uint32_t partition) const {
  return "partition." + std::to_string(partition);
}

std::string PartitionLeaseManager::MemberKey() const {
  return std::string(kMemberPrefix) + options_.node;
}

void PartitionLeaseManager::Run() {
  while (Step()) {
  }
  ShutDown(!abandon_.load());
}

bool PartitionLeaseManager::Step() {
  if (stop_.load()) return false;
  // The watch only when no lease could lapse while it is made (else after
  // the renewals below, on a later pass): it runs before DropExpired, and a
  // lapse it hid would reach the loss callback late (two owners for a while).
  if (!watch_ && Available() &&
      LeasesOutlast(kWatchStartRequests * bucket_->spec().request_timeout))
    RestartWatch();
  DropExpired();
  Clock::time_point now = Clock::now();
  if (now >= heartbeat_due_ && Available()) Heartbeat();
  // Our own heartbeats come back through the watch: when they stop coming,
  // the watch is stuck (its server died) and is made again.
  if (watch_ && heartbeat_revision_ > heartbeat_observed_ &&
      Clock::now() - unobserved_since_ > 2 * renew_every_ + kMaxWait) {
    spdlog::warn("cluster: lease watch of {} stopped delivering; watching again", options_.node);
    watch_.reset();
  }
  UpdateTarget();
  if (initial_seen_) {
    std::vector<uint32_t> give_up;
    for (const auto& [partition, held] : held_) {
      if (!std::binary_search(target_.begin(), target_.end(), partition)) {
        give_up.push_back(partition);
      }
    }
    // Renewals first: they keep what is ours, releases and acquisitions
    // can wait. Each of those calls KeepHeld before its own request.
    KeepHeld();
    for (uint32_t partition : give_up) Release(partition);
    if (Clock::now() >= acquire_due_ && held_.size() < target_.size()) {
      for (uint32_t partition : target_) {
        if (stop_.load()) break;
        if (held_.count(partition) == 0) TryAcquire(partition);
      }
      acquire_due_ = Clock::now() + options_.acquire_poll;
    }
    ConfirmClaims();
    now = Clock::now();
    for (auto& [partition, wanted] : wanted_since_) {
      if (!wanted.second && now - wanted.first > options_.takeover) {
        wanted.second = true;
        takeovers_late_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("cluster: {} has not taken partition {} within takeover_seconds ({})",
                     options_.node, partition, last_unavailable_);
      }
    }
  }
  // Wait for membership news until the next thing is due.
  Clock::time_point next = std::min(heartbeat_due_, Clock::now() + kMaxWait);
  for (const auto& [partition, held] : held_) {
    next =
        std::min(next, held.confirmed ? held.renew_due : std::min(held.renew_due, held.confirm_at));
  }
  if (initial_seen_ && held_.size() < target_.size()) next = std::min(next, acquire_due_);
  const auto wait = std::chrono::duration_cast<milliseconds>(next - Clock::now());
  DrainWatch(std::max(wait, milliseconds(1)));
  return true;
}

bool PartitionLeaseManager::LeasesOutlast(Clock::duration span) const {
  const Clock::time_point limit = Clock::now() + span;
  return std::all_of(held_.begin(), held_.end(),
                     [&](const auto& entry) { return entry.second.valid_until > limit; });
}

void PartitionLeaseManager::RestartWatch() {
  std::string error;
  watch_ = KvWatch::Start(*bucket_, std::string(kMemberPrefix) + ">", &error);
  if (!watch_) {
    Unavailable(error);
    return;
  }
  unobserved_since_ = Clock::now();  // its first values must include our last heartbeat
}

void PartitionLeaseManager::DrainWatch(milliseconds wait) {
  if (!watch_) {
    std::this_thread::sleep_for(std::min(wait, kMaxWait));
    return;
  }
  KvEntry entry;
  for (size_t i = 0; i < kMaxWatchBatch; ++i) {
    bool initial_done = false;
    const KvStatus status = watch_->Next(i == 0 ? wait : milliseconds(1), &entry, &initial_done);
    if (status == KvStatus::kNotFound) return;  // nothing more now
    if (status != KvStatus::kOk) {
      watch_.reset();
      return;
    }
    if (initial_done) {
      initial_seen_ = true;
      continue;
    }
    if (!entry.key.starts_with(kMemberPrefix)) continue;
    const std::string member = entry.key.substr(kMemberPrefix.size());
    if (entry.deleted) {
      seen_.erase(member);
      continue;
    }
    // How long ago the server stored it (its clock against ours): a watch
    // made again delivers old heartbeats, which must not look fresh.
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const auto age = std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(
        std::clamp<int64_t>(now_ns - entry.created_unix_ns, 0,
                            std::chrono::nanoseconds(options_.lease_ttl).count())));
    if (seen_.size() >= kMaxMembers && seen_.count(member) == 0) {
      spdlog::error("cluster: more than {} correlate members; {} is ignored", kMaxMembers, member);
      continue;
    }
    seen_[member] = Clock::now() - age;
    if (member == options_.node) {
      if (entry.value == lease_value_) {
        heartbeat_observed_ = std::max(heartbeat_observed_, entry.revision);
      } else if (entry.revision > heartbeat_revision_) {
        spdlog::error(
            "cluster: another process heartbeats as node '{}' ({}); node names must "
            "be unique",
            options_.node, entry.value);
      }
    }
  }
}

void PartitionLeaseManager::Heartbeat() {
  const Clock::time_point sent = Clock::now();
  uint64_t revision = 0;
  std::string error;
  if (bucket_->Put(MemberKey(), lease_value_, &revision, &error) != KvStatus::kOk) {
    heartbeat_due_ = Clock::now() + options_.acquire_poll;
    Unavailable(error);
    return;
  }
  if (heartbeat_observed_ >= heartbeat_revision_) unobserved_since_ = sent;  // the first unseen
  heartbeat_revision_ = revision;
  heartbeat_due_ = sent + renew_every_;
}

void PartitionLeaseManager::UpdateTarget() {
  const Clock::time_point now = Clock::now();
  std::vector<std::string> living{options_.node};
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (now - it->second >= options_.lease_ttl) {
      it = seen_.erase(it);  // dead: forgotten (its key has expired too)
      continue;
    }
    if (it->first != options_.node) living.push_back(it->first);
    ++it;
  }
  std::sort(living.begin(), living.end());
  if (living == living_) return;
  living_ = std::move(living);
  target_ = AssignedTo(options_.partitions, living_, options_.node);
  acquire_due_ = now;  // try what is new to us at once
  std::map<uint32_t, std::pair<Clock::time_point, bool>> wanted;
  for (uint32_t partition : target_) {
    const auto it = wanted_since_.find(partition);
    if (held_.count(partition) != 0) {
      wanted[partition] = {Clock::time_point::max(), true};
    } else {
      wanted[partition] = it != wanted_since_.end() ? it->second : std::make_pair(now, false);
    }
  }
  wanted_since_ = std::move(wanted);
  MutexLock lock(mutex_);
  members_ = living_;
}

void PartitionLeaseManager::DropExpired() {
  // Once more after every loss: its callback takes time too.
  for (;;) {
    const Clock::time_point limit = Clock::now() + bucket_->spec().request_timeout;
    const auto expired = std::find_if(held_.begin(), held_.end(), [&](const auto& entry) {
      return entry.second.valid_until <= limit;
    });
    if (expired == held_.end()) return;
    const uint32_t partition = expired->first;
    spdlog::warn("cluster: {} lost partition {}: its lease was not renewed in time ({})",
                 options_.node, partition, last_unavailable_);
    renew_failures_.fetch_add(1, std::memory_order_relaxed);
    Lose(partition, /*lapsed=*/true);
    held_.erase(partition);
  }
}

void PartitionLeaseManager::KeepHeld() {
  DropExpired();
  std::vector<uint32_t> due;
  const Clock::time_point now = Clock::now();
  for (const auto& [partition, held] : held_) {
    if (now >= held.renew_due) due.push_back(partition);
  }
  for (uint32_t partition : due) {
    if (held_.count(partition) != 0) Renew(partition);
  }
}

void PartitionLeaseManager::Claim(uint32_t partition, uint64_t revision, Clock::time_point sent) {
  Held& held = held_[partition];
  held.epoch = revision;
  held.revision = revision;
  held.valid_until = sent + trust_for_;
  held.renew_due = sent + renew_every_;
  held.confirmed = false;
  // A concurrent write accepted with ours is applied within the time its
  // sender waits for the acknowledgement: a request timeout.
  held.confirm_at = Clock::now() + bucket_->spec().request_timeout;
  if (auto it = wanted_since_.find(partition); it != wanted_since_.end()) {
    it->second = {Clock::time_point::max(), true};  // held: not late any more
  }
}

void PartitionLeaseManager::ConfirmClaims() {
  std::vector<uint32_t> due;
  const Clock::time_point now = Clock::now();
  for (const auto& [partition, held] : held_) {
    if (!held.confirmed && now >= held.confirm_at) due.push_back(partition);
  }
  for (uint32_t partition : due) {
    KeepHeld();  // may end the claim: it lapses like a lease
    if (stop_.load() || !Available()) return;
    if (held_.count(partition) == 0) continue;
    uint64_t last = 0;
    std::string error;
    const KvStatus status = bucket_->LeaderRevision(LeaseKey(partition), &last, &error);
    Held& held = held_.at(partition);
    if (status == KvStatus::kUnavailable) {
      held.confirm_at = Clock::now() + options_.acquire_poll;
      Unavailable(error);
      return;
    }
    if (status == KvStatus::kOk && last == held.revision) {
      Gain(partition);
      continue;
    }
    // Another write followed ours: nats-server accepted both CAS (#4320),
    // and the later one holds the key. Or the claim expired meanwhile.
    // Ours never gained, so nothing stops.
    if (status == KvStatus::kOk) {
      yielded_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn(
          "cluster: {} yields partition {}: its write (revision {}) was followed by revision "
          "{} (two compare-and-sets accepted at once, nats-server#4320)",
          options_.node, partition, held.revision, last);
    }
    held_.erase(partition);
    if (auto it = wanted_since_.find(partition); it != wanted_since_.end()) {
      it->second = {Clock::now(), false};
    }
  }
}

void PartitionLeaseManager::Gain(uint32_t partition) {
  Held& held = held_.at(partition);
  held.confirmed = true;
  gained_.fetch_add(1, std::memory_order_relaxed);
  {
    MutexLock lock(mutex_);
    owned_[partition] = {held.epoch, held.valid_until};
    ++version_;
  }
  if (callbacks_.on_gain) callbacks_.on_gain(partition, held.epoch);
}

void PartitionLeaseManager::Lose(uint32_t partition, bool lapsed) {
  const Held& held = held_.at(partition);
  if (auto it = wanted_since_.find(partition); it != wanted_since_.end()) {
    it->second = {Clock::now(), false};
  }
  if (!held.confirmed) return;  // a claim: never signalled
  {
    MutexLock lock(mutex_);
    owned_.erase(partition);
    ++version_;
  }
  lost_.fetch_add(1, std::memory_order_relaxed);
  if (callbacks_.on_loss) callbacks_.on_loss(partition, held.epoch, lapsed);
}

void PartitionLeaseManager::Release(uint32_t partition) {
  KeepHeld();  // may have lost it meanwhile
  if (held_.count(partition) == 0) return;
  const Held held = held_.at(partition);
  Lose(partition, /*lapsed=*/false);  // processing stops before anyone else may take it
  held_.erase(partition);
  DropExpired();  // the callback took time
  if (!Available() || Clock::now() + bucket_->spec().request_timeout >= held.valid_until) {
    return;  // it lapses by itself
  }
  std::string error;
  const KvStatus status =
      bucket_->Update(LeaseKey(partition), kFreeValue, held.revision, nullptr, &error);
  if (status == KvStatus::kUnavailable) Unavailable(error);
}

void PartitionLeaseManager::Renew(uint32_t partition) {
  DropExpired();
  if (!Available() || held_.count(partition) == 0) return;
  Held& held = held_.at(partition);
  const Clock::time_point sent = Clock::now();
  uint64_t revision = 0;
  std::string error;
  const KvStatus status =
      bucket_->Update(LeaseKey(partition), lease_value_, held.revision, &revision, &error);
  if (status == KvStatus::kOk) {
    held.revision = revision;
    held.valid_until = sent + trust_for_;
    held.renew_due = sent + renew_every_;
    if (!held.confirmed) return;
    MutexLock lock(mutex_);
    owned_[partition].valid_until = held.valid_until;
    return;
  }
  renew_failures_.fetch_add(1, std::memory_order_relaxed);
  if (status == KvStatus::kUnavailable) {
    held.renew_due = Clock::now() + options_.acquire_poll;
    Unavailable(error);
    return;
  }
  // Refused. A renewal of ours whose acknowledgement was lost moved the
  // revision too: then the value is still ours, and we renew again at once
  // from its revision (the lease stays trusted only as long as before).
  const uint64_t written = held.revision;
  DropExpired();  // before the next request too (it may drop this one)
  if (held_.count(partition) == 0) return;
  KvEntry entry;
  std::string ignored;
  if (bucket_->Get(LeaseKey(partition), &entry, &ignored) == KvStatus::kOk &&
      entry.value == lease_value_ && entry.revision > written) {
    held_.at(partition).revision = entry.revision;
    held_.at(partition).renew_due = Clock::now();
    return;
  }
  // Someone else holds it now, or it lapsed.
  spdlog::warn("cluster: {} lost partition {}: renewal refused ({})", options_.node, partition,
               error);
  Lose(partition, /*lapsed=*/true);
  held_.erase(partition);
}

void PartitionLeaseManager::TryAcquire(uint32_t partition) {
  KeepHeld();
  if (!Available()) return;
  const std::string key = LeaseKey(partition);
  Clock::time_point sent = Clock::now();
  uint64_t revision = 0;
  std::string error;
  KvStatus status = bucket_->Create(key, lease_value_, &revision, &error);
  if (status == KvStatus::kConflict) {
    KvEntry entry;
    DropExpired();  // before every request, as KeepHeld before the first
    status = bucket_->Get(key, &entry, &error);
    if (status == KvStatus::kNotFound) return;  // lapsed just now: the next poll takes it
    if (status == KvStatus::kOk) {
      // Released: take it at the revision read. Anyone else's: wait for
      // release or lapse. Ours from a write whose acknowledgement was lost
      // too: that write may have landed after another node confirmed its
      // own claim, which then loses the lease only at its next renewal.
      if (entry.value != kFreeValue) return;
      DropExpired();
      sent = Clock::now();
      status = bucket_->Update(key, lease_value_, entry.revision, &revision, &error);
      if (status == KvStatus::kConflict) return;  // someone was faster
    }
  }
  if (status == KvStatus::kOk) {
    Claim(partition, revision, sent);
    return;
  }
  if (status == KvStatus::kUnavailable) Unavailable(error);
}

void PartitionLeaseManager::Unavailable(const std::string& error) {
  backoff_until_ = Clock::now() + options_.acquire_poll;
  if (error != last_unavailable_) {
    spdlog::warn("cluster: lease bucket unavailable for {}: {}", options_.node, error);
    last_unavailable_ = error;
  }
}

void PartitionLeaseManager::ShutDown(bool release) {
  if (release) {
    backoff_until_ = {};
    std::vector<uint32_t> partitions;
    for (const auto& [partition, held] : held_) partitions.push_back(partition);
    for (uint32_t partition : partitions) Release(partition);
    std::string error;
    if (bucket_->Purge(MemberKey(), &error) != KvStatus::kOk) {
      spdlog::warn("cluster: {} could not remove its membership: {}", options_.node, error);
    }
  }
  held_.clear();
  watch_.reset();
  MutexLock lock(mutex_);
  if (!owned_.empty()) ++version_;
  owned_.clear();  // abandoned: the process is gone, so is what it owned
  members_.clear();
}

PartitionLeaseManager::Owned PartitionLeaseManager::owned() const {
  Owned out;
  MutexLock lock(mutex_);
  out.version = version_;
  out.partitions.reserve(owned_.size());
  for (const auto& [partition, shared] : owned_) out.partitions.push_back(partition);
  return out;
}

uint64_t PartitionLeaseManager::version() const {
  MutexLock lock(mutex_);
  return version_;
}

bool PartitionLeaseManager::Owns(uint32_t partition, uint64_t* epoch) const {
  MutexLock lock(mutex_);
  const auto it = owned_.find(partition);
  if (it == owned_.end() || Clock::now() >= it->second.valid_until) return false;
  if (epoch != nullptr) *epoch = it->second.epoch;
  return true;
}

std::vector<std::string> PartitionLeaseManager::members() const {
  MutexLock lock(mutex_);
  return members_;
}

PartitionLeaseManager::Counters PartitionLeaseManager::counters() const {
  Counters out;
  out.gained = gained_.load(std::memory_order_relaxed);
  out.lost = lost_.load(std::memory_order_relaxed);
  out.renew_failures = renew_failures_.load(std::memory_order_relaxed);
  out.takeovers_late = takeovers_late_.load(std::memory_order_relaxed);
  out.yielded = yielded_.load(std::memory_order_relaxed);
  return out;
}

std::shared_ptr<prometheus::Collectable> PartitionLeaseManager::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    const Counters c = counters();
    const double owned_now = static_cast<double>(owned().partitions.size());
    const double members_now = static_cast<double>(members().size());
    return std::vector<prometheus::MetricFamily>{
        counter("gsoc_cluster_partitions_gained_total",
                "Correlation partitions this node acquired the lease of (moves in)", c.gained),
        counter("gsoc_cluster_partitions_lost_total",
                "Correlation partitions this node gave up, was refused or let lapse (moves out)",
                c.lost),
        counter("gsoc_cluster_lease_renew_failures_total",
                "Lease renewals refused, or leases not renewed in time (lapsed)", c.renew_failures),
        counter("gsoc_cluster_partition_takeovers_late_total",
                "Partitions this node should own but did not within cluster.takeover_seconds",
                c.takeovers_late),
        counter("gsoc_cluster_lease_claims_yielded_total",
                "Partition leases won by compare-and-set but overwritten by a concurrent write "
                "the server also accepted (nats-server#4320), and so not taken",
                c.yielded),
        SingleSample("gsoc_cluster_partitions_owned", "Correlation partitions this node owns now",
                     MetricType::Gauge, owned_now),
        SingleSample("gsoc_cluster_correlate_members",
                     "Living correlate nodes as this node sees them", MetricType::Gauge,
                     members_now),
    };
  });
}

}  // namespace gsoc
