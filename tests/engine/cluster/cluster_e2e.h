// Helpers the end-to-end cluster tests share (detect_store_roles_test.cc,
// correlate_role_test.cc): gsocd configs for each role on a NatsCluster,
// the alerts a store serves, multisets of them, stream state.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/gsocd_harness.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {

inline constexpr char kNoAggregation[] = "alerts: {aggregate: {enabled: false}}\n";

void Send(uint16_t port, std::string_view data);
// "nats://...:p1, nats://...:p2, ..." for a YAML list.
std::string Servers(const NatsCluster& cluster);
// The cluster section of one node (16 KiB messages, 3 replicas, 64 partitions).
std::string ClusterSection(const NatsCluster& cluster, const std::string& node,
                           const std::string& roles, const std::string& extra = "");
GsocdConfig IngestConfig(const NatsCluster& cluster);
// A detect node on the shipped pack, without listeners (it reads GSOC_EVENTS).
GsocdConfig DetectConfig(const Gsocd& node, const NatsCluster& cluster,
                         const std::string& extra = "");
GsocdConfig StoreConfig(const NatsCluster& cluster, const std::string& node);

struct StoredAlert {
  uint64_t id = 0;
  std::string kind;
  std::string key;     // rule, agency, count, fields, first raw line
  std::string window;  // rule, group, window start and end, count
};

// Every alert the store's API serves, oldest first.
std::vector<StoredAlert> StoredAlerts(Gsocd& gsocd);
std::map<std::string, size_t> Multiset(const std::vector<StoredAlert>& alerts);
// The same, keyed by StoredAlert::window.
std::map<std::string, size_t> WindowMultiset(const std::vector<StoredAlert>& alerts);
// What differs between two multisets, for the failure message.
std::string Difference(const std::map<std::string, size_t>& want,
                       const std::map<std::string, size_t>& got);

uint64_t StreamMessages(const NatsCluster& cluster, std::string_view stream);
// A message the killed node held comes back only after the consumer's
// ack_wait, so a drained stream is waited for, not assumed.
uint64_t WaitStreamDrained(const NatsCluster& cluster, std::string_view stream,
                           std::chrono::seconds timeout);
double Seconds(Clock::time_point since);

}  // namespace gsoc::e2e
