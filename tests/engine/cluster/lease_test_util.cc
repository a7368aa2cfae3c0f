#include "tests/engine/cluster/lease_test_util.h"

#include <algorithm>
#include <set>

namespace gsoc::e2e {

ClusterConfig LeaseConfig(const NatsCluster& cluster, size_t first) {
  ClusterConfig config;
  config.enabled = true;
  std::vector<std::string> urls = cluster.Urls();
  std::rotate(urls.begin(), urls.begin() + static_cast<long>(first % urls.size()), urls.end());
  config.servers = urls;
  config.replicas = 3;
  return config;
}

OwnershipLedger::OwnershipLedger(uint32_t partitions) : owner_(partitions) {
  for (auto& owner : owner_) owner.store(-1);
}

PartitionLeaseManager::Callbacks OwnershipLedger::For(int node,
                                                      std::chrono::milliseconds loss_delay) {
  PartitionLeaseManager::Callbacks callbacks;
  callbacks.on_gain = [this, node](uint32_t partition, uint64_t epoch) {
    gains_.fetch_add(1);
    int expected = -1;
    if (!owner_[partition].compare_exchange_strong(expected, node)) {
      Violation("node " + std::to_string(node) + " gained partition " + std::to_string(partition) +
                " (epoch " + std::to_string(epoch) + ") while node " + std::to_string(expected) +
                " owned it");
    }
  };
  callbacks.on_loss = [this, node, loss_delay](uint32_t partition, uint64_t, bool) {
    // A correlator takes a moment to stop: the release must wait for it.
    if (loss_delay.count() > 0) std::this_thread::sleep_for(loss_delay);
    int expected = node;
    if (!owner_[partition].compare_exchange_strong(expected, -1)) {
      Violation("node " + std::to_string(node) + " lost partition " + std::to_string(partition) +
                " owned by node " + std::to_string(expected));
    }
  };
  return callbacks;
}

void OwnershipLedger::Forget(int node) {
  for (auto& owner : owner_) {
    int expected = node;
    owner.compare_exchange_strong(expected, -1);
  }
}

void OwnershipLedger::Violation(std::string text) {
  violations_.fetch_add(1);
  std::lock_guard lock(mutex_);
  if (report_.size() < 4096) report_ += text + "\n";
}

std::string OwnershipLedger::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

// ---------------------------------------------------------------------------

OwnershipSampler::OwnershipSampler() : thread_([this] { Run(); }) {}

OwnershipSampler::~OwnershipSampler() {
  stop_.store(true);
  thread_.join();
}

void OwnershipSampler::Add(PartitionLeaseManager* manager) {
  std::lock_guard lock(mutex_);
  managers_.push_back(manager);
}

void OwnershipSampler::Remove(PartitionLeaseManager* manager) {
  std::lock_guard lock(mutex_);
  managers_.erase(std::remove(managers_.begin(), managers_.end(), manager), managers_.end());
}

std::string OwnershipSampler::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

void OwnershipSampler::Run() {
  while (!stop_.load()) {
    {
      std::lock_guard lock(mutex_);  // managers stay while sampled
      std::vector<PartitionLeaseManager::Owned> sets;
      for (PartitionLeaseManager* manager : managers_) sets.push_back(manager->owned());
      std::vector<bool> steady;
      bool all_steady = true;
      for (size_t i = 0; i < managers_.size(); ++i) {
        steady.push_back(managers_[i]->version() == sets[i].version);
        all_steady = all_steady && steady.back();
      }
      for (size_t i = 0; i < sets.size(); ++i) {
        for (size_t j = i + 1; j < sets.size(); ++j) {
          if (!steady[i] || !steady[j]) continue;
          std::vector<uint32_t> both;
          std::set_intersection(sets[i].partitions.begin(), sets[i].partitions.end(),
                                sets[j].partitions.begin(), sets[j].partitions.end(),
                                std::back_inserter(both));
          if (!both.empty()) {
            violations_.fetch_add(1);
            if (report_.size() < 4096) {
              report_ += "managers " + std::to_string(i) + " and " + std::to_string(j) +
                         " both own partition " + std::to_string(both.front()) + "\n";
            }
          }
        }
      }
      if (all_steady && sets.size() > 1) conclusive_.fetch_add(1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// ---------------------------------------------------------------------------

std::unique_ptr<LeaseNode> StartLeaseNode(const NatsCluster& cluster, size_t server,
                                          const std::string& name,
                                          const PartitionLeaseOptions& base,
                                          PartitionLeaseManager::Callbacks callbacks, int id) {
  auto node = std::make_unique<LeaseNode>();
  node->id = id;
  std::string error;
  node->client =
      JetStreamClient::Connect(LeaseConfig(cluster, server), std::chrono::seconds(15), &error);
  if (!node->client) {
    ADD_FAILURE() << name << ": " << error;
    return nullptr;
  }
  PartitionLeaseOptions options = base;
  options.node = name;
  node->leases = PartitionLeaseManager::Start(*node->client, options, std::move(callbacks), &error);
  if (!node->leases) {
    ADD_FAILURE() << name << ": " << error;
    return nullptr;
  }
  return node;
}

bool Balanced(const std::vector<LeaseNode*>& nodes, uint32_t partitions, std::string* why) {
  std::vector<int> owners(partitions, 0);
  const size_t n = nodes.size();
  for (LeaseNode* node : nodes) {
    const auto owned = node->leases->owned();
    const size_t count = owned.partitions.size();
    if (count < partitions / n || count > (partitions + n - 1) / n) {
      *why = "node " + std::to_string(node->id) + " owns " + std::to_string(count);
      return false;
    }
    if (node->leases->members().size() != n) {
      *why = "node " + std::to_string(node->id) + " sees " +
             std::to_string(node->leases->members().size()) + " members";
      return false;
    }
    for (uint32_t partition : owned.partitions) ++owners[partition];
  }
  for (uint32_t p = 0; p < partitions; ++p) {
    if (owners[p] != 1) {
      *why = "partition " + std::to_string(p) + " has " + std::to_string(owners[p]) + " owners";
      return false;
    }
  }
  return true;
}

std::chrono::milliseconds WaitBalanced(const std::vector<LeaseNode*>& nodes, uint32_t partitions,
                                       std::chrono::milliseconds timeout, std::string* why) {
  const Clock::time_point start = Clock::now();
  while (!Balanced(nodes, partitions, why)) {
    if (Clock::now() - start > timeout) return std::chrono::milliseconds(-1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace gsoc::e2e
