#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/store/store_format.h"
#include "tests/engine/store/store_test_util.h"

namespace gsoc::store {
namespace {

using namespace store_test;

// --- failures stay failed ------------------------------------------------------

enum class WalFault { kNone, kAppend, kSync };

// Fails the WAL's appends or syncs on demand (the rest of RocksDB's files work).
class FaultyWalFs : public rocksdb::FileSystemWrapper {
 public:
  FaultyWalFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyWalFs"; }
  void Set(WalFault fault) { fault_.store(fault); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, dbg);
    if (status.ok() && name.ends_with(".log")) {
      *result = std::make_unique<File>(std::move(*result), &fault_);
    }
    return status;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& file, const std::atomic<WalFault>* fault)
        : FSWritableFileOwnerWrapper(std::move(file)), fault_(fault) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kAppend) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kAppend) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kSync) return rocksdb::IOStatus::IOError("injected");
      return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (fault_->load() == WalFault::kSync) return rocksdb::IOStatus::IOError("injected");
      return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

   private:
    const std::atomic<WalFault>* fault_;
  };

  std::atomic<WalFault> fault_{WalFault::kNone};
};

struct FaultCase {
  SyncPolicy policy;
  WalFault fault;
};

class StoreFailure : public ::testing::TestWithParam<FaultCase> {};

// A failed WAL write or sync: the batch is not announced, nothing after it is
// committed even once the disk works again, Publish blocks (backpressure)
// until shutdown, health() says why; a restart replays the WAL and resumes.
TEST_P(StoreFailure, IsStickyAnnouncesNothingAndARestartResumes) {
  const FaultCase fault = GetParam();
  TempDir dir;
  auto fs = std::make_shared<FaultyWalFs>();
  const std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StoreOptions options = TestOptions(dir);
  options.sync = fault.policy;
  options.env_for_test = env.get();
  {
    auto store = AlertStore::Open(options);
    RecordingListener listener(store.get());
    store->AddListener(&listener);
    PublishMany(*store, 10);
    store->Flush();
    ASSERT_EQ(listener.ids(), Range(1, 10));
    ASSERT_TRUE(store->health().ok);

    fs->Set(fault.fault);
    PublishMany(*store, 5);
    store->Flush();  // returns: the writer knows these are not stored
    const StoreHealth health = store->health();
    EXPECT_FALSE(health.ok);
    EXPECT_NE(health.error.find("injected"), std::string::npos) << health.error;
    EXPECT_EQ(listener.ids(), Range(1, 10));
    EXPECT_EQ(store->last_id(), 10u);
    EXPECT_FALSE(store->Get(11).has_value());
    EXPECT_EQ(AllPages(*store, {.limit = 100}), Range(1, 10));
    EXPECT_TRUE(store->stats().failed);
    EXPECT_GE(store->stats().write_errors, 1u);
    EXPECT_EQ(store->stats().not_stored, 5u);

    // The disk works again: still nothing is committed (a retry proves nothing).
    fs->Set(WalFault::kNone);
    auto blocked = std::async(std::launch::async, [&] { PublishMany(*store, 3); });
    EXPECT_EQ(blocked.wait_for(300ms), std::future_status::timeout) << "Publish must block";
    EXPECT_EQ(store->last_id(), 10u);
    EXPECT_FALSE(store->health().ok);
    EXPECT_THROW(store->MakeCheckpointStore()->Save("state"), std::runtime_error);
    store->BeginShutdown();  // workers may drain now
    ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(store->stats().not_stored, 8u);
    EXPECT_EQ(listener.ids(), Range(1, 10));
    EXPECT_EQ(listener.not_found(), 0);
  }
  auto store = AlertStore::Open(options);
  EXPECT_TRUE(store->health().ok);
  // What was announced is there; what reached the WAL before the failure may be too.
  const std::vector<uint64_t> ids = AllPages(*store, {.limit = 100});
  ASSERT_GE(ids.size(), 10u);
  EXPECT_LE(ids.size(), 15u);
  EXPECT_EQ(std::vector<uint64_t>(ids.begin(), ids.begin() + 10), Range(1, 10));
  const uint64_t before = store->last_id();
  EXPECT_EQ(before, ids.back());
  PublishMany(*store, 2);
  store->Flush();
  EXPECT_EQ(store->last_id(), before + 2);
  EXPECT_EQ(store->stats().alerts_committed, 2u);
}

INSTANTIATE_TEST_SUITE_P(Faults, StoreFailure,
                         ::testing::Values(FaultCase{SyncPolicy::kBatch, WalFault::kSync},
                                           FaultCase{SyncPolicy::kBatch, WalFault::kAppend},
                                           FaultCase{SyncPolicy::kAlways, WalFault::kSync},
                                           FaultCase{SyncPolicy::kNone, WalFault::kAppend}),
                         [](const auto& info) {
                           return std::string(SyncPolicyName(info.param.policy)) +
                                  (info.param.fault == WalFault::kSync ? "_sync" : "_append");
                         });

}  // namespace
}  // namespace gsoc::store
