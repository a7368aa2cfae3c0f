// Hostile indicator lists (issue 11, findings 16 and 17): a FIFO, a device
// behind a symlink, a 300 MB one-line file, too many or too long entries.
// Each is refused quickly, with a clear error and bounded memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "engine/indicators/indicator_list.h"
#include "tests/util/resident_memory.h"

namespace gsoc::indicators {
namespace {

namespace fs = std::filesystem;

class ListLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("gsoc_list_limits_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The error of loading `file` within `timeout` ("" if it loaded); fails
  // the test if the load does not return in time.
  std::string LoadError(const fs::path& file, const ListLimits& limits = {},
                        std::chrono::seconds timeout = std::chrono::seconds(10)) {
    auto future = std::async(std::launch::async, [&]() -> std::string {
      try {
        IndicatorList::Load({"list", file, ""}, limits);
      } catch (const std::runtime_error& e) {
        return e.what();
      }
      return "";
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      // An old loader blocks on a FIFO: give it a writer so the test ends.
      const int fd = ::open(file.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      ADD_FAILURE() << "loading " << file << " did not return within " << timeout.count() << " s";
    }
    return future.get();
  }

  fs::path dir_;
};

TEST_F(ListLimitsTest, FifoIsRefusedWithoutBlocking) {
  const fs::path fifo = dir_ / "list.txt";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = LoadError(fifo);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(error, fifo.string() + ": not a regular file (a FIFO); refused");
}

TEST_F(ListLimitsTest, SymlinkToDevZeroIsRefused) {
  const fs::path link = dir_ / "list.txt";
  fs::create_symlink("/dev/zero", link);
  const size_t rss_before = gsoc::test::ResidentBytes();
  const std::string error = LoadError(link, {}, std::chrono::seconds(5));
  EXPECT_EQ(error, link.string() + ": not a regular file (a character device); refused");
  EXPECT_LT(gsoc::test::ResidentBytes(),
            rss_before + (16u << 20));  // the review saw 2.1 GB after 25 s
}

TEST_F(ListLimitsTest, SymlinkToARegularFileIsRead) {
  std::ofstream(dir_ / "real.txt") << "evil.example\n";
  fs::create_symlink(dir_ / "real.txt", dir_ / "list.txt");
  EXPECT_EQ(IndicatorList::Load({"list", dir_ / "list.txt", ""})->size(), 1u);
}

TEST_F(ListLimitsTest, DirectoryIsRefused) {
  EXPECT_EQ(LoadError(dir_), dir_.string() + ": not a regular file (a directory); refused");
}

// A sparse file: 300 MB of NUL bytes on one line, no disk needed.
fs::path OneLineFile(const fs::path& path, off_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
  return path;
}

TEST_F(ListLimitsTest, ThreeHundredMegabyteOneLineListIsRefusedFast) {
  const fs::path file = OneLineFile(dir_ / "list.txt", 300ll << 20);
  const size_t rss_before = gsoc::test::ResidentBytes();
  auto start = std::chrono::steady_clock::now();
  std::string error = LoadError(file);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("300 MB list refused by size in %.4f s\n", seconds);
  EXPECT_EQ(error, file.string() + ": larger than 134217728 bytes; refused");
  EXPECT_LT(seconds, 1.0);  // the review: 19.5 s and 1.77 GB

  // With the size limit raised, the line length stops the read at once.
  ListLimits large;
  large.max_bytes = 1ull << 30;
  start = std::chrono::steady_clock::now();
  error = LoadError(file, large);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("300 MB list refused by line length in %.4f s\n", seconds);
  EXPECT_EQ(error, file.string() + ":1: line longer than 32768 bytes " +
                       "(4 x rules.limits.max_list_entry_bytes); refused");
  EXPECT_LT(seconds, 1.0);
  EXPECT_LT(gsoc::test::ResidentBytes(), rss_before + (16u << 20));
}

TEST_F(ListLimitsTest, EntryCountAndLengthLimitsNameTheLine) {
  std::string text;
  for (int i = 0; i < 11; ++i) text += "host" + std::to_string(i) + ".example\n";
  std::ofstream(dir_ / "list.txt") << text;
  ListLimits limits;
  limits.max_entries = 10;
  EXPECT_EQ(
      LoadError(dir_ / "list.txt", limits),
      (dir_ / "list.txt").string() + ":11: more than 10 entries (rules.limits.max_list_entries)");
  limits.max_entries = 11;
  EXPECT_EQ(LoadError(dir_ / "list.txt", limits), "");

  std::ofstream(dir_ / "long.txt") << "ok.example\n" << std::string(9000, 'x') << "\n";
  EXPECT_EQ(LoadError(dir_ / "long.txt"),
            (dir_ / "long.txt").string() +
                ":2: entry of 9000 bytes, longer than 8192 (rules.limits.max_list_entry_bytes)");
}

}  // namespace
}  // namespace gsoc::indicators
