// A correlation partition's checkpoint in the JetStream key-value bucket
// GSOC_CHECKPOINTS: opaque bytes from the correlator plus the GSOC_HITS
// stream sequence they cover (the new owner replays the hits after it).
// Layout, bounds and fencing: engine/cluster/README.md, "Partition leases
// and checkpoints".
//
// Fencing: the owner of a partition's lease at epoch E (its acquiring
// revision, PartitionLeaseManager's on_gain) first calls Restore, which
// reads the checkpoint and claims its key with E by compare-and-set; every
// Save is a compare-and-set on the revision the owner wrote last. Any write
// by a newer owner (its claim included) moves that revision, so a node that
// lost its lease cannot overwrite the new owner's checkpoint: its Save
// returns kFenced. A Restore by an owner older than the checkpoint's epoch
// is kFenced as well.
//
// Bound: a checkpoint is at most max_checkpoint_bytes; a larger one is
// refused (kTooLarge) and nothing is written, so the previous checkpoint
// stays and a new owner replays from its older sequence. Up to chunk_bytes a
// checkpoint is one value; above, chunks written before the record.
//
// Threading: a store may be used by several threads at once (one partition
// per thread at a time: a CheckpointFence belongs to its caller).
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/cluster/jetstream.h"
#include "engine/cluster/jetstream_kv.h"

namespace gsoc {

inline constexpr std::string_view kCheckpointBucket = "GSOC_CHECKPOINTS";

struct CheckpointOptions {
  int replicas = 3;
  size_t max_checkpoint_bytes = size_t{64} << 20;  // larger: refused (kTooLarge)
  size_t chunk_bytes = size_t{512} << 10;          // one KV value (under max_payload, 1 MiB)
  int64_t bucket_max_bytes = int64_t{4} << 30;     // the bucket's bound (JetStream reserves it)
  std::chrono::milliseconds request_timeout{2000};
};

enum class CheckpointStatus : uint8_t {
  kOk,
  kFenced,       // a newer owner holds the partition: this node must stop it
  kTooLarge,     // above max_checkpoint_bytes: nothing written
  kCorrupt,      // the stored checkpoint does not decode or its checksum is wrong
  kUnavailable,  // no answer in time: try again
};

std::string_view CheckpointStatusName(CheckpointStatus status);

struct PartitionCheckpoint {
  bool found = false;          // false: no checkpoint yet (replay from the start)
  std::string data;            // the correlator's bytes
  uint64_t hits_sequence = 0;  // GSOC_HITS stream sequence covered (replay after it)
  uint64_t epoch = 0;          // lease epoch of the owner that saved it
};

// What an owner holds between its Restore and its Saves of one partition.
struct CheckpointFence {
  uint32_t partition = 0;
  uint64_t epoch = 0;     // the lease epoch
  uint64_t revision = 0;  // the record's revision this owner wrote last
  // The chunks the record names (purged when a newer save replaces them).
  uint64_t chunk_epoch = 0, chunk_generation = 0;
  uint32_t chunks = 0;
};

class PartitionCheckpointStore {
 public:
  struct Counters {
    uint64_t saved = 0, saved_bytes = 0;
    uint64_t restored = 0, restored_bytes = 0;
    uint64_t fenced = 0;     // saves or restores refused to a stale owner
    uint64_t too_large = 0;  // saves refused above max_checkpoint_bytes
  };

  // Opens (creates) GSOC_CHECKPOINTS; `client` must outlive the store.
  static std::unique_ptr<PartitionCheckpointStore> Open(JetStreamClient& client,
                                                        const CheckpointOptions& options,
                                                        std::chrono::milliseconds timeout,
                                                        std::string* error);

  // For the owner of `partition` at lease `epoch`: reads the last checkpoint
  // into `out` and claims the record with `epoch` (`fence` then serves the
  // Saves). Retries until `timeout` while a concurrent write or a
  // replica behind makes the read inconsistent.
  CheckpointStatus Restore(uint32_t partition, uint64_t epoch, std::chrono::milliseconds timeout,
                           PartitionCheckpoint* out, CheckpointFence* fence, std::string* error);
  // Stores `data` as the partition's checkpoint covering `hits_sequence`,
  // only if no one wrote the record since `fence` (updated on success).
  CheckpointStatus Save(CheckpointFence& fence, std::string_view data, uint64_t hits_sequence,
                        std::string* error);

  Counters counters() const;
  // gsoc_cluster_checkpoint* counters (README); the store must outlive the
  // metrics server.
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  explicit PartitionCheckpointStore(const CheckpointOptions& options) : options_(options) {}
  void PurgeChunks(uint32_t partition, uint64_t epoch, uint64_t generation, uint32_t chunks);

  const CheckpointOptions options_;
  std::unique_ptr<KvBucket> bucket_;
  std::atomic<uint64_t> saved_{0}, saved_bytes_{0};
  std::atomic<uint64_t> restored_{0}, restored_bytes_{0};
  std::atomic<uint64_t> fenced_{0}, too_large_{0};
};

}  // namespace gsoc
