// A JetStream key-value bucket (libnats kvStore) as the partition leases and
// checkpoints use it: every write can be a compare-and-set on the key's
// revision, and every failure is classified so the caller knows whether the
// CAS was refused (someone else wrote) or the cluster did not answer (retry).
//
// Threading: a KvBucket may be used by several threads at once (libnats'
// kvStore is thread-safe); a KvWatch by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/jetstream.h"

struct __kvStore;
struct __kvWatcher;

namespace gsoc {

enum class KvStatus : uint8_t {
  kOk,
  kConflict,     // CAS refused: the key's revision is not the one expected (or it exists)
  kNotFound,     // no value (never written, deleted, or expired by the bucket's TTL)
  kUnavailable,  // no answer in time, no JetStream leader, no connection: try again
};

struct KvBucketSpec {
  std::string name;                  // bucket name (A-Za-z0-9_-)
  std::chrono::milliseconds ttl{0};  // values expire this long after their last write; 0: never
  int64_t max_bytes = -1;            // the bucket's bound in bytes (-1: none)
  int32_t max_value_bytes = -1;      // one value at most (-1: the server's max_payload)
  int replicas = 3;                  // JetStream replicas (1-5)
  std::chrono::milliseconds request_timeout{1000};  // each get/put waits this long at most
};

// The request timeout of a bucket whose values live `ttl`: an eighth of it,
// 100 ms to 2 s, so a holder hears of a failed write with time to spare.
std::chrono::milliseconds KvRequestTimeout(std::chrono::milliseconds ttl);
// 16 random hex digits: tells this process's values from those an earlier
// process of the same node name wrote.
std::string KvIncarnation();

struct KvEntry {
  std::string key;
  std::string value;
  uint64_t revision = 0;        // the bucket stream's sequence of this write
  int64_t created_unix_ns = 0;  // when the server stored it (its clock)
  bool deleted = false;         // a delete or purge marker
};

class KvBucket {
 public:
  // Binds to the bucket, or creates it. An existing bucket whose TTL differs
  // from `spec.ttl` is refused (every node must agree on it: leases rely on
  // it). Retries until `timeout` while the cluster has no JetStream leader.
  static std::unique_ptr<KvBucket> Open(JetStreamClient& client, const KvBucketSpec& spec,
                                        std::chrono::milliseconds timeout, std::string* error);
  // Binds to an existing bucket without creating it or checking its TTL (a
  // reader such as `gsocctl cluster status`). Null with `status` kNotFound
  // when there is no such bucket, kUnavailable (and `error`) on no answer.
  static std::unique_ptr<KvBucket> Bind(JetStreamClient& client, std::string_view name,
                                        std::chrono::milliseconds request_timeout, KvStatus* status,
                                        std::string* error);
  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;

  // The latest value of `key`; kNotFound for none or a delete marker.
  KvStatus Get(std::string_view key, KvEntry* out, std::string* error);
  // The keys matching `filter` ("node.>") that hold a message now (a value
  // or a delete marker), from the stream's subject list: each once, at most
  // `max` (`*truncated` when there were more). Unlike a watch's initial
  // values, a key written while this is read is neither listed twice nor
  // missed.
  KvStatus Keys(std::string_view filter, size_t max, std::vector<std::string>* keys,
                bool* truncated, std::string* error);
  // The revision of `key`'s last write as the bucket stream's leader has
  // applied it (not a replica's direct answer, which may lag); kNotFound
  // when it has none (never written, or expired by the TTL; a delete or
  // purge marker is a write).
  KvStatus LeaderRevision(std::string_view key, uint64_t* revision, std::string* error);
  // Writes only if `key` has no value (or its last write is a delete marker).
  KvStatus Create(std::string_view key, std::string_view value, uint64_t* revision,
                  std::string* error);
  // Writes only if the key's latest revision is `last` (compare-and-set).
  KvStatus Update(std::string_view key, std::string_view value, uint64_t last, uint64_t* revision,
                  std::string* error);
  // Writes unconditionally.
  KvStatus Put(std::string_view key, std::string_view value, uint64_t* revision,
               std::string* error);
  // Removes every revision of `key` (a purge marker stays until the TTL).
  KvStatus Purge(std::string_view key, std::string* error);

  const KvBucketSpec& spec() const { return spec_; }
  __kvStore* store() const { return kv_; }

 private:
  explicit KvBucket(KvBucketSpec spec) : spec_(std::move(spec)) {}

  KvBucketSpec spec_;
  __jsCtx* js_ = nullptr;  // our own context: its Wait is spec.request_timeout
  __kvStore* kv_ = nullptr;
};

// Updates of the keys matching a filter ("member.>"): first the current
// value of each, then every write as it happens.
class KvWatch {
 public:
  static std::unique_ptr<KvWatch> Start(KvBucket& bucket, std::string_view filter,
                                        std::string* error);
  ~KvWatch();
  KvWatch(const KvWatch&) = delete;
  KvWatch& operator=(const KvWatch&) = delete;

  // Waits up to `timeout` for the next update: kOk with `out` filled, or
  // kOk with `*initial_done` = true once when the current values have all
  // been delivered; kNotFound when nothing came; kUnavailable when the watch
  // broke (start a new one).
  KvStatus Next(std::chrono::milliseconds timeout, KvEntry* out, bool* initial_done);

 private:
  KvWatch() = default;
  __kvWatcher* watcher_ = nullptr;
};

}  // namespace gsoc
