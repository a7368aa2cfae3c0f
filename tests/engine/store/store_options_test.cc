// The store's RocksDB memory budget (one block cache and one
// WriteBufferManager for every column family) and the checkpoint file.
#include "engine/store/store_options.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/correlate/correlator.h"
#include "engine/store/alert_store.h"
#include "tests/engine/store/store_test_dir.h"

namespace gsoc::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr size_t kMiB = size_t{1} << 20;

const std::vector<std::string>& AllColumnFamilies() {
  static const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                                 rocks::kAlertsCf,
                                                 rocks::kByRuleCf,
                                                 rocks::kByAgencyCf,
                                                 rocks::kByLevelCf,
                                                 rocks::kByTimeCf,
                                                 rocks::kCheckpointsCf,
                                                 rocks::kMetaCf};
  return names;
}

using test_dir::TempDir;
using test_dir::TestOptions;

TEST(StoreOptions, EveryColumnFamilySharesTheBudgetsBlockCache) {
  const rocks::MemoryBudget budget(24 * kMiB, 64 * kMiB);
  EXPECT_EQ(budget.cache->GetCapacity(), 24 * kMiB);
  for (const std::string& name : AllColumnFamilies()) {
    const rocksdb::ColumnFamilyOptions cf = rocks::CfOptionsFor(name, budget);
    const auto* table = cf.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    ASSERT_NE(table, nullptr) << name;
    EXPECT_EQ(table->block_cache, budget.cache) << name;  // not a default 8 MiB cache each
  }
}

TEST(StoreOptions, TheWriteBufferManagerBoundsTheMemtablesOfTheDb) {
  const rocks::MemoryBudget budget(8 * kMiB, 64 * kMiB);
  const rocksdb::DBOptions db = rocks::MakeDbOptions(nullptr, nullptr, budget);
  ASSERT_EQ(db.write_buffer_manager, budget.write_buffers);
  EXPECT_TRUE(db.write_buffer_manager->enabled());
  EXPECT_EQ(db.write_buffer_manager->buffer_size(), 64 * kMiB);
  // One memtable of each column family fits the budget together.
  size_t sum = 0;
  for (const std::string& name : AllColumnFamilies()) {
    const rocksdb::ColumnFamilyOptions cf = rocks::CfOptionsFor(name, budget);
    EXPECT_EQ(cf.write_buffer_size, rocks::WriteBufferBytesFor(name, 64 * kMiB)) << name;
    EXPECT_GT(cf.write_buffer_size, 0u) << name;
    EXPECT_GE(cf.max_write_buffer_number, 4) << name;  // a flush in progress stops nothing
    sum += cf.write_buffer_size;
  }
  EXPECT_LE(sum, 64 * kMiB + 3 * kMiB);  // the three small ones take 1 MiB each
  EXPECT_EQ(rocks::WriteBufferBytesFor(rocks::kAlertsCf, 64 * kMiB), 32 * kMiB);
  EXPECT_EQ(rocks::WriteBufferBytesFor(rocks::kByTimeCf, 64 * kMiB), 8 * kMiB);
}

TEST(StoreOptions, AnOpenedStoreUsesTheConfiguredMemtableBudget) {
  TempDir dir;
  StoreOptions options = TestOptions(dir);
  options.memtable_bytes = 16 * kMiB;
  options.block_cache_bytes = 4 * kMiB;
  AlertStore::Open(options).reset();

  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::ConfigOptions config;
  ASSERT_TRUE(rocksdb::LoadLatestOptions(config, dir.db().string(), &db, &cfs).ok());
  size_t checked = 0;
  for (const rocksdb::ColumnFamilyDescriptor& cf : cfs) {
    EXPECT_EQ(cf.options.write_buffer_size, rocks::WriteBufferBytesFor(cf.name, 16 * kMiB))
        << cf.name;
    ++checked;
  }
  EXPECT_EQ(checked, AllColumnFamilies().size());
}

// gsocd refuses a config without a listener; this one is never opened.
ConfigResult ParseWithStore(const std::string& store) {
  return ParseConfig("listeners: [{name: a, type: syslog_udp, port: 1}]\n" + store,
                     "/etc/gsoc/gsoc.yaml");
}

TEST(StoreConfig, TheMemoryBudgetKeys) {
  const ConfigResult defaults = ParseWithStore("store: {}\n");
  ASSERT_TRUE(std::holds_alternative<Config>(defaults))
      << std::get<std::vector<ConfigError>>(defaults).front().ToString();
  EXPECT_EQ(std::get<Config>(defaults).store.block_cache_bytes, 64 * kMiB);
  EXPECT_EQ(std::get<Config>(defaults).store.memtable_bytes, 128 * kMiB);
  const ConfigResult set =
      ParseWithStore("store: {block_cache_size: 32MiB, memtable_size: 1GiB}\n");
  ASSERT_TRUE(std::holds_alternative<Config>(set));
  EXPECT_EQ(std::get<Config>(set).store.block_cache_bytes, 32 * kMiB);
  EXPECT_EQ(std::get<Config>(set).store.memtable_bytes, 1024 * kMiB);
  const ConfigResult tiny = ParseWithStore("store:\n  memtable_size: 1KiB\n");
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(tiny));
  const ConfigError& error = std::get<std::vector<ConfigError>>(tiny).front();
  EXPECT_EQ(error.location.line, 3) << error.ToString();
  EXPECT_NE(error.ToString().find("memtable_size"), std::string::npos) << error.ToString();
}

TEST(StoreCheckpoint, TheCheckpointIsAFileNotADbWrite) {
  TempDir dir;
  auto store = AlertStore::Open(TestOptions(dir));
  store->MakeCheckpointStore()->Save(std::string(3 * kMiB, 'c'));
  const fs::path file = dir.db() / "correlation.checkpoint";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(fs::file_size(file), 3 * kMiB);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
}

// A store written before keeps its checkpoint in the checkpoints column
// family: it is loaded, and the first save moves it to the file.
TEST(StoreCheckpoint, ALegacyCheckpointIsLoadedThenReplacedByTheFile) {
  TempDir dir;
  AlertStore::Open(TestOptions(dir)).reset();
  const auto raw = [&](auto&& use) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir.db().string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open({}, dir.db().string(), descriptors, &handles, &db).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == rocks::kCheckpointsCf) use(*db, handles[i]);
    }
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  };
  raw([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db.Put({}, cf, "correlation", "legacy").ok());
  });
  {
    auto store = AlertStore::Open(TestOptions(dir));
    auto checkpoints = store->MakeCheckpointStore();
    std::string blob;
    ASSERT_TRUE(checkpoints->Load(&blob));
    EXPECT_EQ(blob, "legacy");
    checkpoints->Save("new");
    ASSERT_TRUE(checkpoints->Load(&blob));
    EXPECT_EQ(blob, "new");
  }
  raw([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    std::string value;
    EXPECT_TRUE(db.Get({}, cf, "correlation", &value).IsNotFound()) << value;
  });
  auto store = AlertStore::Open(TestOptions(dir));
  std::string blob;
  ASSERT_TRUE(store->MakeCheckpointStore()->Load(&blob));
  EXPECT_EQ(blob, "new");
}

}  // namespace
}  // namespace gsoc::store
