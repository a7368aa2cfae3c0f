#include "engine/store/store_options.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace gsoc::store::rocks {

namespace {

constexpr size_t kSmallWriteBufferBytes = size_t{1} << 20;

// Prefix of by_rule / by_agency keys: everything up to and including the
// first '\0' (the name), so prefix bloom filters skip files without a rule.
class UpToNulTransform : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "gsoc.UpToNul"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* nul = std::memchr(key.data(), 0, key.size());
    if (nul == nullptr) return key;  // not in the domain; RocksDB does not ask
    return rocksdb::Slice(key.data(), static_cast<const char*>(nul) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), 0, key.size()) != nullptr;
  }
};

rocksdb::BlockBasedTableOptions TableOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                             bool whole_key_filtering) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 16 * 1024;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = whole_key_filtering;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  table.checksum = rocksdb::kXXH3;  // this librocksdb's crc32c has no SSE4.2 path
  return table;
}

// `hint`: the key prefix under which inserts arrive in key order (ids
// increase), so the memtable inserts next to the previous key of the prefix.
rocksdb::ColumnFamilyOptions DataCfOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           size_t write_buffer,
                                           std::shared_ptr<const rocksdb::SliceTransform> hint) {
  rocksdb::ColumnFamilyOptions cf;
  cf.memtable_insert_with_hint_prefix_extractor = std::move(hint);
  cf.write_buffer_size = write_buffer;
  cf.max_write_buffer_number = 4;
  cf.min_write_buffer_number_to_merge = 1;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.target_file_size_base = 64 << 20;
  cf.max_bytes_for_level_base = 256 << 20;
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, true)));
  // Retention leaves runs of tombstones: compact files dense with them.
  cf.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(128, 64));
  return cf;
}

rocksdb::ColumnFamilyOptions NameIndexCfOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                                size_t write_buffer) {
  auto prefix = std::make_shared<UpToNulTransform>();
  rocksdb::ColumnFamilyOptions cf = DataCfOptions(cache, write_buffer, prefix);
  cf.prefix_extractor = prefix;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, false)));
  return cf;
}

// checkpoints (read only: the checkpoint is a file now), meta, default:
// small memtables, and room for a few while a flush runs, so that a write
// here never stops the DB's writes.
rocksdb::ColumnFamilyOptions SmallCfOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = kSmallWriteBufferBytes;
  cf.max_write_buffer_number = 4;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, true)));
  return cf;
}

// RocksDB's own log goes to gsoc's log (warnings and worse), not to a LOG
// file on the store's disk: when that disk is full, RocksDB's recovery
// thread writing to its failed LOG file aborts (an assertion in
// WritableFileWriter), and an operator reads one log anyway.
class SpdlogRocksLogger : public rocksdb::Logger {
 public:
  SpdlogRocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char text[1024];
    std::vsnprintf(text, sizeof text, format, ap);  // rare: warnings and errors only
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      spdlog::error("rocksdb: {}", text);
    } else {
      spdlog::warn("rocksdb: {}", text);
    }
  }
};

}  // namespace

MemoryBudget::MemoryBudget(size_t block_cache_bytes, size_t memtable_bytes)
    : memtable_bytes(memtable_bytes),
      cache(rocksdb::NewLRUCache(block_cache_bytes)),
      // No stall: beyond the budget the largest memtables are flushed, and
      // the alert path never waits on the manager itself.
      write_buffers(std::make_shared<rocksdb::WriteBufferManager>(memtable_bytes)) {}

size_t WriteBufferBytesFor(const std::string& name, size_t memtable_bytes) {
  if (name == kAlertsCf) return memtable_bytes / 2;
  if (name == kByRuleCf || name == kByAgencyCf || name == kByLevelCf || name == kByTimeCf) {
    return memtable_bytes / 8;
  }
  return kSmallWriteBufferBytes;
}

rocksdb::ColumnFamilyOptions CfOptionsFor(const std::string& name, const MemoryBudget& budget) {
  const std::shared_ptr<rocksdb::Cache>& cache = budget.cache;
  const size_t write_buffer = WriteBufferBytesFor(name, budget.memtable_bytes);
  const std::shared_ptr<const rocksdb::SliceTransform> whole(rocksdb::NewCappedPrefixTransform(0));
  if (name == kAlertsCf) return DataCfOptions(cache, write_buffer, whole);
  if (name == kByRuleCf || name == kByAgencyCf) return NameIndexCfOptions(cache, write_buffer);
  if (name == kByLevelCf) {
    return DataCfOptions(
        cache, write_buffer,
        std::shared_ptr<const rocksdb::SliceTransform>(rocksdb::NewFixedPrefixTransform(1)));
  }
  if (name == kByTimeCf) return DataCfOptions(cache, write_buffer, whole);
  return SmallCfOptions(cache);
}

rocksdb::DBOptions MakeDbOptions(std::shared_ptr<rocksdb::Statistics> statistics, rocksdb::Env* env,
                                 const MemoryBudget& budget) {
  rocksdb::DBOptions db;
  db.write_buffer_manager = budget.write_buffers;
  if (env != nullptr) db.env = env;
  db.info_log = std::make_shared<SpdlogRocksLogger>();
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // One writer thread: sequential memtable inserts, which lets the insert
  // hints (memtable_insert_with_hint_prefix_extractor) work.
  db.allow_concurrent_memtable_write = false;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;
  db.max_total_wal_size = 512 << 20;
  db.keep_log_file_num = 5;
  db.max_log_file_size = 16 << 20;
  db.statistics = std::move(statistics);
  return db;
}

}  // namespace gsoc::store::rocks
