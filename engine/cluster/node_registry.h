// The node registry: every gsocd cluster node, whatever its roles, says it
// is alive in the JetStream key-value bucket GSOC_NODES (key layout and the
// value's grammar in engine/cluster/README.md, "Node registry"), so that
// `gsocctl cluster status` can list the nodes and their roles.
//
// - node.<name> holds a NodeRecord (EncodeNodeRecord), put every
//   lease_ttl / 4. The bucket's TTL is lease_ttl (cluster.lease_ttl_seconds,
//   the same as GSOC_LEASES'), so a node that stops (kill -9) disappears
//   lease_ttl after its last put; a clean Stop purges its key at once.
// - The record is what the node says about itself; nothing decides on it.
//   Read from the bucket it is untrusted: ParseNodeRecord bounds every field.
//
// Threading: Start runs one registry thread, which alone writes the key.
// Stop, counters() and the collectable may be called from any thread.
// Bounds: one value at most kMaxNodeRecordBytes; the bucket at most
// kNodesBucketBytes (1024 nodes of 1 KiB, history 1).
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/jetstream.h"
#include "engine/cluster/jetstream_kv.h"
#include "engine/util/thread_annotations.h"

namespace gsoc {

inline constexpr std::string_view kNodesBucket = "GSOC_NODES";
inline constexpr std::string_view kNodeKeyPrefix = "node.";
inline constexpr size_t kMaxNodeRecordBytes = 1024;
inline constexpr size_t kMaxNodeRoles = 8;
inline constexpr size_t kMaxNodeFieldBytes = 128;  // every field but the node name
inline constexpr size_t kMaxNodeNameBytes = 64;    // as cluster.node
inline constexpr int64_t kNodesBucketBytes = int64_t{4} << 20;

// What a node says about itself in node.<node>.
struct NodeRecord {
  std::string node;                // cluster.node
  std::vector<std::string> roles;  // ClusterRoleName of each, in config order
  std::string version;             // gsocd's GSOC_VERSION
  int64_t started_unix_s = 0;      // when this process started (its clock)
  std::string incarnation;         // random per start: a restart is a new record
  std::string api;                 // "address:port" of the API, empty without one
  std::string metrics;             // "address:port" of /metrics, empty without one
};

// The value of node.<node>: "gsoc-node 1" then one "<field> <value>" line
// per field. Fields longer than their bound are cut (a node's own values are
// short; the bound is what readers enforce).
std::string EncodeNodeRecord(const NodeRecord& record);
// Parses a value read from the bucket (anyone who may write there wrote
// it): false with a static reason when it is larger than
// kMaxNodeRecordBytes, lacks the header or the node, has a field over its
// bound or more than kMaxNodeRoles roles. Unknown fields are skipped (a
// newer gsocd may add some). The bytes are kept as they are: printing them
// is the reader's job (gsocctl escapes them).
bool ParseNodeRecord(std::string_view value, NodeRecord* out, const char** reason);

// The key of `node` ("node.<node>").
std::string NodeKey(std::string_view node);

// GSOC_NODES as every node opens it (TTL = lease_ttl).
KvBucketSpec NodesBucketSpec(std::chrono::milliseconds lease_ttl, int replicas);

struct NodeRegistryOptions {
  NodeRecord record;
  std::chrono::milliseconds lease_ttl{6000};  // cluster.lease_ttl_seconds: the bucket's TTL
  int replicas = 3;

  // record.node, roles, version, start time and a new incarnation from
  // `config`; api and metrics are the caller's (the bound ports).
  static NodeRegistryOptions FromConfig(const ClusterConfig& config);
};

class NodeRegistry {
 public:
  struct Counters {
    uint64_t puts = 0;          // node.<node> written
    uint64_t put_failures = 0;  // puts that got no acknowledgement (tried again)
  };

  // Opens (creates) GSOC_NODES, puts the record once and starts the
  // registry thread. `client` must outlive the registry. Null with `error`
  // when the bucket cannot be opened (e.g. it exists with another TTL) or
  // the first put fails.
  static std::unique_ptr<NodeRegistry> Start(JetStreamClient& client, NodeRegistryOptions options,
                                             std::string* error);
  ~NodeRegistry();  // Stop()
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;

  // Clean shutdown: the thread ends and node.<node> is purged, so the node
  // leaves every status at once. Idempotent.
  void Stop() GSOC_EXCLUDES(mutex_);
  // As kill -9: the thread ends and the key stays until the TTL removes it.
  void AbandonForTest() GSOC_EXCLUDES(mutex_);

  Counters counters() const;
  const NodeRecord& record() const { return options_.record; }
  // gsoc_cluster_node_registry_* counters; the registry must outlive the
  // metrics server.
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  explicit NodeRegistry(NodeRegistryOptions options);
  void Run();
  bool Put();

  const NodeRegistryOptions options_;
  const std::string key_;
  const std::string value_;
  std::unique_ptr<KvBucket> bucket_;
  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> put_failures_{0};
  std::string last_error_;  // registry thread only

  mutable Mutex mutex_;
  std::condition_variable_any wake_;
  bool stop_ GSOC_GUARDED_BY(mutex_) = false;
  bool abandon_ GSOC_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace gsoc
