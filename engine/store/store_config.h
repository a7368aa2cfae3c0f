// The `store:` section (the RocksDB alert store); read by store_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

// The RocksDB alert store.
struct StoreConfig {
  std::filesystem::path path;  // default <data_dir>/alerts.db
  std::string sync = "batch";  // always | batch | none
  size_t max_batch_alerts = 4096;
  size_t queue_alerts = 65536;
  std::chrono::seconds retention_age{90LL * 24 * 3600};  // 0 = keep forever
  uint64_t retention_bytes = 0;                          // 0 = no size limit
  std::chrono::milliseconds retention_interval{60'000};
  size_t block_cache_bytes = size_t{64} << 20;  // RocksDB block cache (all column families)
  size_t memtable_bytes = size_t{128} << 20;    // RocksDB memtables, all column families
};

}  // namespace gsoc
