// The `cluster:` section: how this gsocd node joins a NATS JetStream cluster
// (engine/cluster/README.md). Absent section = a single node, unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config_reader.h"

namespace gsoc {

enum class ClusterRole : uint8_t { kIngest, kDetect, kCorrelate, kStore };
inline constexpr size_t kClusterRoleCount = 4;

std::string_view ClusterRoleName(ClusterRole role);

struct ClusterTlsConfig {
  std::filesystem::path ca;           // verifies the servers; empty = system store
  std::filesystem::path certificate;  // client certificate (mutual TLS), with private_key
  std::filesystem::path private_key;
  bool enabled() const { return !ca.empty() || !certificate.empty(); }
};

// Correlation partitions P when the config names none. Every detect node
// publishes one hits message per partition its events message's hits fall
// in, and JetStream's cost follows the message count: 16 partitions carried
// the shipped pack's hits in ~4x fewer messages than 64 and doubled the
// cluster's events/s (bench/README.md "Cluster"), while still spreading the
// correlation over up to 16 correlate nodes.
inline constexpr uint32_t kDefaultPartitions = 16;

struct ClusterConfig {
  bool enabled = false;               // the section is present
  std::string node;                   // this node's name, unique in the cluster (default: hostname)
  std::vector<std::string> servers;   // nats://host:port or tls://host:port
  std::filesystem::path credentials;  // a NATS .creds file (JWT + nkey seed)
  std::string nkey;                   // public nkey, with nkey_seed
  std::filesystem::path nkey_seed;    // file holding the nkey seed
  ClusterTlsConfig tls;
  int replicas = 3;                          // stream replicas (JetStream allows 1-5)
  uint32_t partitions = kDefaultPartitions;  // correlation partitions P
  std::vector<ClusterRole> roles{ClusterRole::kIngest, ClusterRole::kDetect,
                                 ClusterRole::kCorrelate, ClusterRole::kStore};
  size_t max_batch_bytes = 512 * 1024;  // one NATS message (below max_payload, 1 MiB)
  size_t max_inflight_batches = 64;     // published, not yet acknowledged
  bool compress = true;  // compression: lz4 (batches LZ4-compressed when it pays) or none
  uint64_t stream_max_bytes = uint64_t{8} << 30;  // each stream; full: publishes wait
  // Correlate role: a correlate node renews its heartbeat and leases every
  // lease_ttl / 4; one that stops is dead, and its leases lapse, lease_ttl
  // after its last renewal. Its partitions move within takeover.
  std::chrono::seconds lease_ttl{6};
  std::chrono::seconds takeover{10};
  // Detect role: consumer threads; 0 = one per core, at least 2
  // (DetectConsumerThreads).
  size_t detect_consumers = 0;
  // Correlate role: each owned partition is checkpointed this often.
  std::chrono::milliseconds checkpoint_interval{10000};
  // The ingest nodes' listener names, in their config order: a detect node
  // (which has no listeners of its own) resolves decoder filters by them.
  std::vector<std::string> listeners;

  bool HasRole(ClusterRole role) const;
};

// Reads the section's values into `out` (out.enabled = the node is defined
// and not null) and reports every problem through `reader`. Does not refuse
// roles that are not built (the registered section does that).
void ReadClusterConfig(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out);

// The detect role's consumer threads: detect_consumers, or with 0 one per
// core and at least 2. A consumer thread waits for JetStream to acknowledge
// the hits and alerts of each events message before it fetches more; a
// second thread works meanwhile (bench/README.md "Cluster": one thread left
// a 2-core node idle for ~a quarter of a run).
size_t DetectConsumerThreads(const ClusterConfig& config);

// The roles this build of gsocd can run in a cluster; a config naming any
// other is refused at load.
std::vector<ClusterRole> BuiltClusterRoles();

}  // namespace gsoc
