// Record of partition p, key "partition.<p>" in GSOC_CHECKPOINTS
// (little-endian):
//
//   record := "GSCK" version:u8(=1) flags:u8(bit 0: has a checkpoint)
//             epoch:u64            lease epoch of the writer (its claim or save)
//             hits_sequence:u64    GSOC_HITS sequence the data covers
//             size:u64 checksum:u64 (FNV-1a 64 of the data)
//             chunk_epoch:u64 chunk_generation:u64 chunks:u32
//             data{size}           only when chunks == 0 (inline)
//   chunk i := key "chunk.<p>.<chunk_epoch>.<chunk_generation>.<i>",
//              bytes [i * chunk_bytes, (i + 1) * chunk_bytes) of the data
//
// Chunks are written first, under names no other writer uses (its epoch and
// the record revision it saves over); the record's compare-and-set makes
// them current; the chunks it replaced are purged afterwards.
#include "engine/cluster/partition_checkpoint.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

#include "engine/metrics/metrics_server.h"
#include "engine/util/hash.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kMagic[4] = {'G', 'S', 'C', 'K'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kHasCheckpoint = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 8 * 6 + 4;
constexpr milliseconds kRetryPause{50};

struct Record {
  uint8_t flags = 0;
  uint64_t epoch = 0;
  uint64_t hits_sequence = 0;
  uint64_t size = 0;
  uint64_t checksum = 0;
  uint64_t chunk_epoch = 0;
  uint64_t chunk_generation = 0;
  uint32_t chunks = 0;
  std::string_view inline_data;
};

uint64_t Checksum(std::string_view data) { return Fnv1a(data); }

template <typename T>
void Append(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

template <typename T>
T Read(std::string_view in, size_t& offset) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  offset += sizeof(T);
  return value;
}

std::string Encode(const Record& record) {
  std::string out(kMagic, sizeof(kMagic));
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(record.flags));
  Append(out, record.epoch);
  Append(out, record.hits_sequence);
  Append(out, record.size);
  Append(out, record.checksum);
  Append(out, record.chunk_epoch);
  Append(out, record.chunk_generation);
  Append(out, record.chunks);
  out.append(record.inline_data);
  return out;
}

// `in` must outlive the record (inline_data points into it).
bool Decode(std::string_view in, Record* out, std::string* error) {
  if (in.size() < kHeaderBytes || std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0 ||
      static_cast<uint8_t>(in[4]) != kVersion) {
    *error = "not a checkpoint record (magic, version or length)";
    return false;
  }
  out->flags = static_cast<uint8_t>(in[5]);
  size_t offset = 6;
  out->epoch = Read<uint64_t>(in, offset);
  out->hits_sequence = Read<uint64_t>(in, offset);
  out->size = Read<uint64_t>(in, offset);
  out->checksum = Read<uint64_t>(in, offset);
  out->chunk_epoch = Read<uint64_t>(in, offset);
  out->chunk_generation = Read<uint64_t>(in, offset);
  out->chunks = Read<uint32_t>(in, offset);
  out->inline_data = in.substr(offset);
  if ((out->chunks == 0 && out->inline_data.size() != out->size) ||
      (out->chunks != 0 && !out->inline_data.empty())) {
    *error = "checkpoint record size does not match its data";
    return false;
  }
  return true;
}

std::string RecordKey(uint32_t partition) { return "partition." + std::to_string(partition); }

std::string ChunkKey(uint32_t partition, uint64_t epoch, uint64_t generation, uint32_t index) {
  return "chunk." + std::to_string(partition) + "." + std::to_string(epoch) + "." +
         std::to_string(generation) + "." + std::to_string(index);
}

}  // namespace

std::string_view CheckpointStatusName(CheckpointStatus status) {
  switch (status) {
    case CheckpointStatus::kOk:
      return "ok";
    case CheckpointStatus::kFenced:
      return "fenced";
    case CheckpointStatus::kTooLarge:
      return "too large";
    case CheckpointStatus::kCorrupt:
      return "corrupt";
    case CheckpointStatus::kUnavailable:
      return "unavailable";
  }
  return "?";
}

std::unique_ptr<PartitionCheckpointStore> PartitionCheckpointStore::Open(
    JetStreamClient& client, const CheckpointOptions& options, milliseconds timeout,
    std::string* error) {
  std::unique_ptr<PartitionCheckpointStore> store(new PartitionCheckpointStore(options));
  KvBucketSpec spec;
  spec.name = std::string(kCheckpointBucket);
  spec.max_bytes = options.bucket_max_bytes;
  spec.max_value_bytes = static_cast<int32_t>(options.chunk_bytes + kHeaderBytes);
  spec.replicas = options.replicas;
  spec.request_timeout = options.request_timeout;
  store->bucket_ = KvBucket::Open(client, spec, timeout, error);
  if (!store->bucket_) return nullptr;
  return store;
}

CheckpointStatus PartitionCheckpointStore::Restore(uint32_t partition, uint64_t epoch,
                                                   milliseconds timeout, PartitionCheckpoint* out,
                                                   CheckpointFence* fence, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  const std::string key = RecordKey(partition);
  const Clock::time_point deadline = Clock::now() + timeout;
  for (bool first = true;; first = false) {
    if (!first) {
      if (Clock::now() >= deadline) return CheckpointStatus::kUnavailable;
      std::this_thread::sleep_for(kRetryPause);
    }
    KvEntry entry;
    const KvStatus got = bucket_->Get(key, &entry, error);
    if (got == KvStatus::kUnavailable) continue;
    if (got == KvStatus::kNotFound) {
      // No checkpoint yet: claim the record, empty, so that an older owner's
      // first save cannot land after this one took over.
      Record claim;
      claim.epoch = epoch;
      uint64_t revision = 0;
      const KvStatus created = bucket_->Create(key, Encode(claim), &revision, error);
      if (created != KvStatus::kOk) continue;  // someone wrote it meanwhile: read again
      *out = PartitionCheckpoint{};
      *fence = CheckpointFence{partition, epoch, revision, 0, 0, 0};
      return CheckpointStatus::kOk;
    }
    Record record;
    if (!Decode(entry.value, &record, error)) return CheckpointStatus::kCorrupt;
    if (record.epoch > epoch) {
      fenced_.fetch_add(1, std::memory_order_relaxed);
      *error = "partition " + std::to_string(partition) + " was claimed at epoch " +
               std::to_string(record.epoch) + ", after this owner's " + std::to_string(epoch);
      return CheckpointStatus::kFenced;
    }
    std::string data;
    if (record.chunks == 0) {
      data.assign(record.inline_data);
    } else {
      bool complete = true;
      for (uint32_t i = 0; i < record.chunks && complete; ++i) {
        KvEntry chunk;
        complete = bucket_->Get(ChunkKey(partition, record.chunk_epoch, record.chunk_generation, i),
                                &chunk, error) == KvStatus::kOk;
        data += chunk.value;
      }
      if (!complete) continue;  // replaced meanwhile, or a replica behind: read again
    }
    // A claim without a checkpoint (an owner that never saved) carries no data.
    const bool has_checkpoint = (record.flags & kHasCheckpoint) != 0;
    if (has_checkpoint && (data.size() != record.size || Checksum(data) != record.checksum)) {
      KvEntry again;
      if (bucket_->Get(key, &again, error) == KvStatus::kOk && again.revision != entry.revision) {
        continue;  // replaced while the chunks were read
      }
      *error = "checkpoint of partition " + std::to_string(partition) +
               ": its data does not match the record's size and checksum";
      return CheckpointStatus::kCorrupt;
    }
    // Claim: the same checkpoint, stamped with this owner's epoch.
    Record claim = record;
    claim.epoch = epoch;
    uint64_t revision = 0;
    if (bucket_->Update(key, Encode(claim), entry.revision, &revision, error) != KvStatus::kOk) {
      continue;  // written meanwhile (an older owner's last save): read it again
    }
    out->found = (record.flags & kHasCheckpoint) != 0;
    out->data = std::move(data);
    out->hits_sequence = record.hits_sequence;
    out->epoch = record.epoch;
    *fence = CheckpointFence{
        partition, epoch, revision, record.chunk_epoch, record.chunk_generation, record.chunks};
    if (out->found) {
      restored_.fetch_add(1, std::memory_order_relaxed);
      restored_bytes_.fetch_add(out->data.size(), std::memory_order_relaxed);
    }
    return CheckpointStatus::kOk;
  }
}

CheckpointStatus PartitionCheckpointStore::Save(CheckpointFence& fence, std::string_view data,
                                                uint64_t hits_sequence, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  if (data.size() > options_.max_checkpoint_bytes) {
    too_large_.fetch_add(1, std::memory_order_relaxed);
    *error = "checkpoint of partition " + std::to_string(fence.partition) + " is " +
             std::to_string(data.size()) + " bytes, above the bound of " +
             std::to_string(options_.max_checkpoint_bytes);
    return CheckpointStatus::kTooLarge;
  }
  const std::string key = RecordKey(fence.partition);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Record record;
    record.flags = kHasCheckpoint;
    record.epoch = fence.epoch;
    record.hits_sequence = hits_sequence;
    record.size = data.size();
    record.checksum = Checksum(data);
    if (kHeaderBytes + data.size() <= options_.chunk_bytes) {
      record.inline_data = data;
    } else {
      record.chunk_epoch = fence.epoch;
      record.chunk_generation = fence.revision;  // unique: one save succeeds per revision
      record.chunks =
          static_cast<uint32_t>((data.size() + options_.chunk_bytes - 1) / options_.chunk_bytes);
      for (uint32_t i = 0; i < record.chunks; ++i) {
        const std::string_view chunk = data.substr(i * options_.chunk_bytes, options_.chunk_bytes);
        const KvStatus put =
            bucket_->Put(ChunkKey(fence.partition, record.chunk_epoch, record.chunk_generation, i),
                         chunk, nullptr, error);
        if (put != KvStatus::kOk) {
          PurgeChunks(fence.partition, record.chunk_epoch, record.chunk_generation, i);
          return CheckpointStatus::kUnavailable;
        }
      }
    }
    uint64_t revision = 0;
    const KvStatus updated = bucket_->Update(key, Encode(record), fence.revision, &revision, error);
    if (updated == KvStatus::kOk) {
      if (fence.chunks != 0) {
        PurgeChunks(fence.partition, fence.chunk_epoch, fence.chunk_generation, fence.chunks);
      }
      fence.revision = revision;
      fence.chunk_epoch = record.chunk_epoch;
      fence.chunk_generation = record.chunk_generation;
      fence.chunks = record.chunks;
      saved_.fetch_add(1, std::memory_order_relaxed);
      saved_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
      return CheckpointStatus::kOk;
    }
    if (updated == KvStatus::kUnavailable) {
      // It may have been stored with its acknowledgement lost: the chunks
      // stay (the next save sees its own epoch and carries on).
      return CheckpointStatus::kUnavailable;
    }
    // Refused. Our own earlier save whose acknowledgement was lost moves the
    // revision too: the record then still carries our epoch.
    if (record.chunks != 0) {
      PurgeChunks(fence.partition, record.chunk_epoch, record.chunk_generation, record.chunks);
    }
    KvEntry entry;
    Record stored;
    std::string ignored;
    if (bucket_->Get(key, &entry, &ignored) == KvStatus::kOk &&
        Decode(entry.value, &stored, &ignored) && stored.epoch == fence.epoch &&
        entry.revision > fence.revision) {
      if (fence.chunks != 0 && (stored.chunk_epoch != fence.chunk_epoch ||
                                stored.chunk_generation != fence.chunk_generation)) {
        PurgeChunks(fence.partition, fence.chunk_epoch, fence.chunk_generation, fence.chunks);
      }
      fence.revision = entry.revision;
      fence.chunk_epoch = stored.chunk_epoch;
      fence.chunk_generation = stored.chunk_generation;
      fence.chunks = stored.chunks;
      continue;
    }
    break;
  }
  fenced_.fetch_add(1, std::memory_order_relaxed);
  *error = "checkpoint of partition " + std::to_string(fence.partition) + " at epoch " +
           std::to_string(fence.epoch) + " refused: a newer owner wrote it";
  return CheckpointStatus::kFenced;
}

void PartitionCheckpointStore::PurgeChunks(uint32_t partition, uint64_t epoch, uint64_t generation,
                                           uint32_t chunks) {
  for (uint32_t i = 0; i < chunks; ++i) {
    std::string error;
    if (bucket_->Purge(ChunkKey(partition, epoch, generation, i), &error) != KvStatus::kOk) {
      spdlog::warn("cluster: a replaced checkpoint chunk stays: {}", error);
    }
  }
}

PartitionCheckpointStore::Counters PartitionCheckpointStore::counters() const {
  Counters out;
  out.saved = saved_.load(std::memory_order_relaxed);
  out.saved_bytes = saved_bytes_.load(std::memory_order_relaxed);
  out.restored = restored_.load(std::memory_order_relaxed);
  out.restored_bytes = restored_bytes_.load(std::memory_order_relaxed);
  out.fenced = fenced_.load(std::memory_order_relaxed);
  out.too_large = too_large_.load(std::memory_order_relaxed);
  return out;
}

std::shared_ptr<prometheus::Collectable> PartitionCheckpointStore::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    const Counters c = counters();
    return std::vector<prometheus::MetricFamily>{
        counter("gsoc_cluster_checkpoints_saved_total", "Partition checkpoints saved", c.saved),
        counter("gsoc_cluster_checkpoint_saved_bytes_total", "Bytes of the checkpoints saved",
                c.saved_bytes),
        counter("gsoc_cluster_checkpoints_restored_total",
                "Partition checkpoints restored by a new owner", c.restored),
        counter("gsoc_cluster_checkpoint_restored_bytes_total", "Bytes of the checkpoints restored",
                c.restored_bytes),
        counter("gsoc_cluster_checkpoints_fenced_total",
                "Checkpoint saves or restores refused: a newer owner holds the partition",
                c.fenced),
        counter("gsoc_cluster_checkpoints_too_large_total",
                "Checkpoint saves refused above the size bound (the previous one stays)",
                c.too_large),
    };
  });
}

}  // namespace gsoc
