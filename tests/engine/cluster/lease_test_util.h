// Correlate nodes for the lease and checkpoint tests: lease managers on a
// real nats-server cluster, an ownership ledger fed by their callbacks, and
// a sampler that checks continuously that no partition has two owners.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/jetstream.h"
#include "engine/cluster/partition_leases.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {

using Clock = std::chrono::steady_clock;

// The cluster's URLs starting with server `first`, so nodes spread over servers.
ClusterConfig LeaseConfig(const NatsCluster& cluster, size_t first);

// Who owns each partition by the callbacks: a gain must find the partition
// unowned, a loss must find it owned by the loser. Anything else is a
// violation (two owners at once, or a loss never gained).
class OwnershipLedger {
 public:
  explicit OwnershipLedger(uint32_t partitions);
  PartitionLeaseManager::Callbacks For(int node, std::chrono::milliseconds loss_delay = {});
  // A node killed: what it owned is nobody's (call after AbandonForTest).
  void Forget(int node);
  int violations() const { return violations_.load(); }
  std::string report() const;
  uint64_t gains() const { return gains_.load(); }

 private:
  void Violation(std::string text);
  std::vector<std::atomic<int>> owner_;
  std::atomic<int> violations_{0};
  std::atomic<uint64_t> gains_{0};
  mutable std::mutex mutex_;
  std::string report_;
};

struct LeaseNode {
  int id = 0;
  std::unique_ptr<JetStreamClient> client;
  std::unique_ptr<PartitionLeaseManager> leases;
};

// Samples owned() of every registered manager in a loop. A sample counts
// when no manager's version changed during it: then every set held for the
// whole sample, and an overlap is two owners at the same moment.
class OwnershipSampler {
 public:
  OwnershipSampler();
  ~OwnershipSampler();
  void Add(PartitionLeaseManager* manager);
  void Remove(PartitionLeaseManager* manager);
  int violations() const { return violations_.load(); }
  uint64_t conclusive() const { return conclusive_.load(); }
  std::string report() const;

 private:
  void Run();
  mutable std::mutex mutex_;
  std::vector<PartitionLeaseManager*> managers_;
  std::string report_;
  std::atomic<bool> stop_{false};
  std::atomic<int> violations_{0};
  std::atomic<uint64_t> conclusive_{0};
  std::thread thread_;
};

// Connects to the cluster (first URL `server`) and starts a lease manager.
std::unique_ptr<LeaseNode> StartLeaseNode(const NatsCluster& cluster, size_t server,
                                          const std::string& name,
                                          const PartitionLeaseOptions& base,
                                          PartitionLeaseManager::Callbacks callbacks, int id);

// True when `nodes` own all `partitions` once, each floor(P/N) or ceil(P/N),
// and each sees all of them as members; `why` says what is off otherwise.
bool Balanced(const std::vector<LeaseNode*>& nodes, uint32_t partitions, std::string* why);
// Waits up to `timeout` for Balanced; the time it took, or -1 s.
std::chrono::milliseconds WaitBalanced(const std::vector<LeaseNode*>& nodes, uint32_t partitions,
                                       std::chrono::milliseconds timeout, std::string* why);

}  // namespace gsoc::e2e
