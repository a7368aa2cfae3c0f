// Private to the store: the column families and the RocksDB options of
// each (block cache, bloom filters, compression, memtable hints), and the
// logger that sends RocksDB's log to gsoc's. Figures: engine/store/README.md.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstddef>
#include <memory>
#include <string>

namespace gsoc::store::rocks {

inline constexpr const char* kAlertsCf = "alerts";
inline constexpr const char* kByRuleCf = "by_rule";
inline constexpr const char* kByAgencyCf = "by_agency";
inline constexpr const char* kByLevelCf = "by_level";
inline constexpr const char* kByTimeCf = "by_time";
inline constexpr const char* kCheckpointsCf = "checkpoints";
inline constexpr const char* kMetaCf = "meta";

// The store's RocksDB memory, by design (README "Memory"): one block cache
// and one WriteBufferManager for every column family, each with a byte budget.
struct MemoryBudget {
  MemoryBudget(size_t block_cache_bytes, size_t memtable_bytes);
  size_t memtable_bytes;
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

// Memtables of one column family before a switch: the alert records take
// half of the budget, each of the four indexes an eighth; the small ones
// (checkpoints, meta, default) 1 MiB.
size_t WriteBufferBytesFor(const std::string& name, size_t memtable_bytes);

// The options of the column family `name` (one of the above; others get
// small defaults), sharing the budget's block cache.
rocksdb::ColumnFamilyOptions CfOptionsFor(const std::string& name, const MemoryBudget& budget);
// The DB options, under the budget's WriteBufferManager; `env` may be null
// (the default Env).
rocksdb::DBOptions MakeDbOptions(std::shared_ptr<rocksdb::Statistics> statistics, rocksdb::Env* env,
                                 const MemoryBudget& budget);

}  // namespace gsoc::store::rocks
