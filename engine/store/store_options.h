// Private to the store: the column families and the RocksDB options of
// each (block cache, bloom filters, compression, memtable hints), and the
// logger that sends RocksDB's log to gsoc's. Figures: engine/store/README.md.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>

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

inline constexpr size_t kBlockCacheBytes = size_t{256} << 20;

// The options of the column family `name` (one of the above; others get
// small defaults), sharing `cache`.
rocksdb::ColumnFamilyOptions CfOptionsFor(const std::string& name,
                                          const std::shared_ptr<rocksdb::Cache>& cache);
// The DB options; `env` may be null (the default Env).
rocksdb::DBOptions MakeDbOptions(std::shared_ptr<rocksdb::Statistics> statistics,
                                 rocksdb::Env* env);

}  // namespace gsoc::store::rocks
