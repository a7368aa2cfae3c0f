// The memory every RocksDB database of one gsocd shares: one block cache and
// one write-buffer budget (store.block_cache_size, store.memtable_size). The
// alert store makes them (AlertStore::shared_memory); the triage and auth
// databases open under them, so gsocd's RocksDB memory has one bound, however
// many databases it keeps.
//
// Header-only: the auth store uses it without linking the alert store.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <memory>

namespace gsoc::store {

struct RocksMemory {
  std::shared_ptr<rocksdb::Cache> block_cache;                 // null: the database's own
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;  // null: unbounded by others

  // Opens `options`' database under the shared cache and budget (those set).
  void ApplyTo(rocksdb::Options& options) const {
    if (write_buffers) options.write_buffer_manager = write_buffers;
    if (block_cache) {
      rocksdb::BlockBasedTableOptions table;
      table.block_cache = block_cache;
      options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    }
  }
};

}  // namespace gsoc::store
