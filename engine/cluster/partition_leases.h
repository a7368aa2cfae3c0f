// Partition ownership for the correlate role: each correlate node owns a set
// of the P correlation partitions (cluster.partitions) through leases in the
// JetStream key-value bucket GSOC_LEASES (key layout and timings in
// engine/cluster/README.md, "Partition leases and checkpoints").
//
// - Liveness: every node puts member.<node> every lease_ttl / 4. The bucket's
//   TTL is lease_ttl, so a node that stops (kill -9) disappears from every
//   other node's view lease_ttl after its last heartbeat, and its leases
//   lapse at the same time; a clean Stop deletes it at once.
// - Assignment: AssignPartitions, a pure function of (P, living members), so
//   every node computes the same target without talking to the others.
// - Safety (never two owners): a node takes partition.<p> only by
//   compare-and-set (create, or update of a released value at its revision),
//   renews it by CAS on the revision it wrote last, and gives it up by
//   signalling the loss first and releasing (CAS) after. It trusts a lease
//   only until (send time of its last acknowledged renewal) + 3/4 lease_ttl,
//   while the server keeps it at least lease_ttl after that write.
// - Confirmation: nats-server before 2.9.21 (Debian 12 ships 2.9.10) may
//   accept two compare-and-sets on one key at once when they arrive
//   together (nats-server#4320: the check runs before the write is
//   replicated, not with it). A won CAS is therefore a claim: the gain is
//   signalled only after the stream leader, asked a request timeout later,
//   still has our write as the key's last; a node whose write was followed
//   by another gives up its claim silently (counted as yielded).
//
// Threading: Start runs one lease thread per manager; it alone talks to
// JetStream and runs the callbacks. The callbacks must return within
// lease_ttl / 4 (the loss callback stops the partition's processing before
// it returns: its release follows at once) and must not call Stop. owned(),
// Owns(), members() and the counters may be called from any thread. At most
// 1024 correlate members are tracked; each pass handles at most 1024 watch
// updates.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/jetstream.h"
#include "engine/cluster/jetstream_kv.h"
#include "engine/util/thread_annotations.h"

namespace gsoc {

inline constexpr std::string_view kLeaseBucket = "GSOC_LEASES";

// The owner (an index into `members`) of each of `partitions` partitions:
// balanced (every member owns floor(P/N) or ceil(P/N)) and deterministic for
// a member set (its order does not matter). Bounded-load rendezvous hashing:
// (member, partition) pairs by descending hash, each partition to the first
// member of its pairs with room left; a join or leave moves about P/N
// partitions plus a few (README: measured figures). Empty `members`: all -1.
std::vector<int> AssignPartitions(uint32_t partitions, std::span<const std::string> members);

// The partitions `member` owns in AssignPartitions(partitions, members), ascending.
std::vector<uint32_t> AssignedTo(uint32_t partitions, std::span<const std::string> members,
                                 std::string_view member);

struct PartitionLeaseOptions {
  std::string node;                           // this node's name (cluster.node)
  uint32_t partitions = 64;                   // cluster.partitions
  std::chrono::milliseconds lease_ttl{6000};  // cluster.lease_ttl_seconds
  std::chrono::milliseconds takeover{10000};  // cluster.takeover_seconds
  int replicas = 3;                           // the bucket's JetStream replicas
  // Partitions this node should own but does not hold yet are tried again
  // this often (their holder releases or its lease lapses).
  std::chrono::milliseconds acquire_poll{250};

  static PartitionLeaseOptions FromConfig(const ClusterConfig& config);
};

class PartitionLeaseManager {
 public:
  struct Callbacks {
    // The lease on `partition` is held (acquired by CAS at revision `epoch`,
    // the fencing token for its checkpoint). Runs on the lease thread.
    std::function<void(uint32_t partition, uint64_t epoch)> on_gain;
    // `partition` is no longer ours: stop processing it before returning.
    // Runs on the lease thread, before the lease is released (`lapsed`
    // false: a last checkpoint can still be saved under `epoch`), or as soon
    // as a renewal is refused or the lease's local validity runs out
    // (`lapsed` true: another node may own it already; do not wait on it).
    std::function<void(uint32_t partition, uint64_t epoch, bool lapsed)> on_loss;
  };

  struct Owned {
    std::vector<uint32_t> partitions;  // ascending
    uint64_t version = 0;              // +1 on every gain or loss
  };

  struct Counters {
    uint64_t gained = 0;          // partitions acquired (moves in)
    uint64_t lost = 0;            // partitions given up, refused or lapsed (moves out)
    uint64_t renew_failures = 0;  // renewals refused, or leases not renewed in time
    uint64_t takeovers_late = 0;  // a partition unowned by us longer than takeover
    uint64_t yielded = 0;         // claims won by CAS but overwritten by a concurrent one
  };

  // Opens (creates) GSOC_LEASES and starts the lease thread. `client` must
  // outlive the manager. Null with `error` when the bucket cannot be opened
  // (e.g. it exists with another TTL).
  static std::unique_ptr<PartitionLeaseManager> Start(JetStreamClient& client,
                                                      PartitionLeaseOptions options,
                                                      Callbacks callbacks, std::string* error);
  ~PartitionLeaseManager();  // Stop()
  PartitionLeaseManager(const PartitionLeaseManager&) = delete;
  PartitionLeaseManager& operator=(const PartitionLeaseManager&) = delete;

  // Clean shutdown: the loss callback and release of every held partition,
  // then member.<node> deleted, so the others take over at once. Idempotent.
  void Stop() GSOC_EXCLUDES(mutex_);
  // As kill -9: the thread ends with nothing released and no callback; the
  // leases lapse after lease_ttl.
  void AbandonForTest() GSOC_EXCLUDES(mutex_);

  Owned owned() const GSOC_EXCLUDES(mutex_);
  uint64_t version() const GSOC_EXCLUDES(mutex_);
  // True when `partition` is held and its lease is still valid locally (the
  // lease thread may be late: this checks the clock itself).
  bool Owns(uint32_t partition, uint64_t* epoch = nullptr) const GSOC_EXCLUDES(mutex_);
  // The living members as this node sees them, sorted.
  std::vector<std::string> members() const GSOC_EXCLUDES(mutex_);
  Counters counters() const;
  // gsoc_cluster_partition_* counters (README); the manager must outlive
  // the metrics server.
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Held {
    uint64_t epoch = 0;     // revision of the acquiring write
    uint64_t revision = 0;  // revision of our last write (the next CAS expects it)
    Clock::time_point valid_until;
    Clock::time_point renew_due;
    bool confirmed = false;        // gained (signalled), not only claimed
    Clock::time_point confirm_at;  // claimed: when to ask the stream leader
  };
  struct Shared {
    uint64_t epoch = 0;
    Clock::time_point valid_until;
  };

  PartitionLeaseManager(PartitionLeaseOptions options, Callbacks callbacks);
  void Run();
  bool Step();  // one pass; false when stopping
  void RestartWatch();
  // True when every held lease stays trusted for `span` more: making the
  // watch again takes several requests (0.86 s, 2.3 request timeouts, while
  // a server died), and no lease may lapse unnoticed meanwhile.
  bool LeasesOutlast(Clock::duration span) const;
  void DrainWatch(std::chrono::milliseconds wait);
  void Heartbeat();
  void UpdateTarget();
  // Every lease that could lapse before one more request returns is lost
  // now. Runs before every request to the bucket.
  void DropExpired();
  // DropExpired, then the renewals that are due: before any request that
  // is not a renewal, so no number of releases or acquisitions in a row
  // delays what keeps the held leases.
  void KeepHeld();
  void Release(uint32_t partition);
  void Renew(uint32_t partition);
  void TryAcquire(uint32_t partition);
  void Claim(uint32_t partition, uint64_t revision, Clock::time_point sent);
  // Claims whose confirmation is due: gained when our write is still the
  // key's last at the stream leader, dropped when another followed it.
  void ConfirmClaims();
  void Gain(uint32_t partition);
  // Callback (for a gained partition; a claim ends silently); the caller
  // releases or not, and erases it from held_.
  void Lose(uint32_t partition, bool lapsed);
  void Unavailable(const std::string& error);
  void ShutDown(bool release);
  bool Available() const { return Clock::now() >= backoff_until_; }
  std::string LeaseKey(uint32_t partition) const;
  std::string MemberKey() const;

  const PartitionLeaseOptions options_;
  const Callbacks callbacks_;
  const std::string lease_value_;  // "<node> <incarnation>"
  const std::chrono::milliseconds renew_every_;
  const std::chrono::milliseconds trust_for_;
  std::unique_ptr<KvBucket> bucket_;

  // Lease thread only.
  std::unique_ptr<KvWatch> watch_;
  bool initial_seen_ = false;
  std::map<std::string, Clock::time_point> seen_;  // member -> last heartbeat
  std::vector<std::string> living_;
  std::vector<uint32_t> target_;
  std::map<uint32_t, Held> held_;
  // Partitions of target_ not held: since when, and whether counted late.
  std::map<uint32_t, std::pair<Clock::time_point, bool>> wanted_since_;
  Clock::time_point heartbeat_due_{};
  Clock::time_point acquire_due_{};
  Clock::time_point backoff_until_{};
  uint64_t heartbeat_revision_ = 0;       // our last acknowledged heartbeat
  uint64_t heartbeat_observed_ = 0;       // the latest of ours the watch delivered
  Clock::time_point unobserved_since_{};  // sent: the oldest heartbeat the watch has not shown
  std::string last_unavailable_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> abandon_{false};
  std::atomic<uint64_t> gained_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> renew_failures_{0};
  std::atomic<uint64_t> takeovers_late_{0};
  std::atomic<uint64_t> yielded_{0};

  mutable Mutex mutex_;
  std::map<uint32_t, Shared> owned_ GSOC_GUARDED_BY(mutex_);
  uint64_t version_ GSOC_GUARDED_BY(mutex_) = 0;
  std::vector<std::string> members_ GSOC_GUARDED_BY(mutex_);
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace gsoc
