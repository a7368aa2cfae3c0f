// What `gsocctl cluster status` shows, collected from JetStream alone (no
// node is asked): the living nodes and their roles (GSOC_NODES), the
// correlate members and the owner of every partition (GSOC_LEASES), the
// state of the three streams and of their consumers. A library function so
// that it is testable without gsocctl; gsocctl renders it.
//
// Everything read is untrusted (any client allowed to write the buckets
// wrote it): every list is bounded (nodes and members kMaxStatusNodes,
// partitions kMaxStatusPartitions, consumers kMaxStatusConsumers per
// stream, problems kMaxStatusProblems), records are parsed with their
// bounds (ParseNodeRecord), and strings are kept as bytes for the printer
// to escape. What could not be read is a problem in the status, not a
// failure, unless nothing could be (the cluster is not reachable).
//
// Threading: CollectClusterStatus uses the client from the calling thread
// only; the pure functions below are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/jetstream.h"
#include "engine/cluster/node_registry.h"

namespace gsoc {

inline constexpr size_t kMaxStatusNodes = 1024;
inline constexpr uint32_t kMaxStatusPartitions = 4096;
inline constexpr size_t kMaxStatusConsumers = 4096;
inline constexpr size_t kMaxStatusProblems = 64;
inline constexpr size_t kMaxStatusPeers = 16;
// Partition lease keys listed (names only) to find ours among any P's.
inline constexpr size_t kMaxStatusLeaseKeys = 16384;

struct ClusterStatusOptions {
  uint32_t partitions = kDefaultPartitions;  // P whose owners are checked (1-4096)
  std::chrono::milliseconds timeout{5000};   // each request at most
};

// node.<name> of GSOC_NODES.
struct NodeStatus {
  std::string key_name;  // <name> of the key
  bool valid = false;    // the value parsed; otherwise `problem` says why
  std::string problem;
  NodeRecord record;   // valid only
  int64_t age_ms = 0;  // since its last put (server's clock against ours)
};

// member.<node> of GSOC_LEASES: a correlate node's heartbeat.
struct MemberStatus {
  std::string node;
  std::string value;  // "<node> <incarnation>"
  int64_t age_ms = 0;
};

struct PartitionStatus {
  bool held = false;          // partition.<p> names a holder
  bool released = false;      // "-": given up, nobody took it yet
  std::string owner;          // the holder's node name
  std::string incarnation;    // and its incarnation
  bool owner_member = false;  // its member.<owner> heartbeat is of that incarnation
  int64_t age_ms = 0;         // since the holder's last renewal
};

struct StreamPeerStatus {
  std::string name;
  bool current = false;
  bool offline = false;
  uint64_t lag = 0;       // operations behind the leader
  int64_t active_ms = 0;  // since it was last seen
};

struct StreamStatus {
  std::string name;
  bool found = false;  // otherwise `problem` says why
  std::string problem;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  int64_t max_bytes = 0;
  int replicas = 0;
  int64_t consumers = 0;                // as the stream counts them (ephemeral included)
  std::string leader;                   // empty: no leader (or a single server)
  std::vector<StreamPeerStatus> peers;  // the other replicas, at most kMaxStatusPeers
  // Consumers without a durable name (the correlate role's per-partition
  // ordered readers of GSOC_HITS, kvStore watches): counted, not listed.
  uint64_t ephemeral_consumers = 0;
  uint64_t ephemeral_pending = 0;  // their num_pending summed
};

// A durable consumer of one of the streams (detect's on GSOC_EVENTS, each
// store node's on GSOC_ALERTS).
struct ConsumerStatus {
  std::string stream;
  std::string name;
  uint64_t pending = 0;             // stream messages not yet delivered to it (the lag)
  uint64_t ack_pending = 0;         // delivered, not yet acknowledged
  uint64_t redelivered = 0;         // delivered more than once and still unacknowledged
  uint64_t waiting = 0;             // pull requests waiting
  uint64_t delivered_sequence = 0;  // stream sequence last delivered
  uint64_t ack_floor = 0;           // stream sequence acknowledged up to
};

struct ClusterStatus {
  std::string server;  // the server that answered
  uint32_t partitions = 0;
  bool nodes_bucket = false;               // GSOC_NODES exists
  bool leases_bucket = false;              // GSOC_LEASES exists
  std::vector<NodeStatus> nodes;           // by key name
  std::vector<MemberStatus> members;       // by node
  std::vector<PartitionStatus> partition;  // index = partition, `partitions` of them
  // partition.<p> keys with p >= partitions or not a number: another P on
  // some node (cluster.partitions must be equal everywhere), or garbage.
  std::vector<std::string> stray_partition_keys;
  std::vector<StreamStatus> streams;      // GSOC_EVENTS, GSOC_ALERTS, GSOC_HITS
  std::vector<ConsumerStatus> consumers;  // by stream, then name
  std::vector<std::string> problems;      // what could not be read, at most kMaxStatusProblems
  bool truncated = false;                 // some list hit its bound (a problem says which)

  // Held partitions by owner, each ascending; owners sorted.
  std::map<std::string, std::vector<uint32_t>> PartitionsByOwner() const;
  // Partitions without a holder, ascending.
  std::vector<uint32_t> Unowned() const;
};

// Collects the status. False with `error` only when JetStream answers
// nothing at all (no server, no JetStream); partial failures are problems.
bool CollectClusterStatus(JetStreamClient& client, const ClusterStatusOptions& options,
                          ClusterStatus* out, std::string* error);

// "0-3,7,9" for ascending, distinct partitions; "" for none.
std::string FormatPartitionRanges(std::span<const uint32_t> partitions);

// A partition lease value: "<node> <incarnation>" (held) or "-" (released).
// False for anything else (empty, no space, a field too long).
bool ParseLeaseValue(std::string_view value, std::string* node, std::string* incarnation,
                     bool* released);

}  // namespace gsoc
