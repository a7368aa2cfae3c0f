// Rule files and logsource maps are input a third party may supply (a
// community repository, an agency's pull request): a FIFO named like a rule
// file must be refused at once, not block the load (and with it gsocd's hot
// reload), and a huge file must be refused by its size before it is read.
// The rest of the load goes on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>

#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"
#include "tests/util/temp_dir.h"

namespace gsoc::rules {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRule = R"(title: Root login
id: 0a4c7a6e-61c2-4a4b-9a8b-3c0d2b7e5f10
status: test
logsource: {product: linux, service: sshd}
detection:
  selection: {user: root}
  condition: selection
level: high
)";

class RuleFileLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(dir_ / "good.yml") << kRule; }

  // Runs `load` and fails the test when it does not return within 10 s; a
  // loader blocked on the FIFO `fifo` is then given a writer so the test
  // ends.
  template <typename Result>
  Result WithinTimeout(const std::function<Result()>& load, const fs::path& fifo) {
    auto future = std::async(std::launch::async, load);
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      ADD_FAILURE() << "the load blocked on " << fifo;
    }
    return future.get();
  }

  test::TempDir temp_{"rule-file-limits"};
  const fs::path dir_ = temp_.path();
};

TEST_F(RuleFileLimitsTest, FifoRuleFileIsRefusedAndTheOthersLoad) {
  const fs::path fifo = dir_ / "rule.yml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  const LoadResult result = WithinTimeout<LoadResult>(
      [&] {
        LoadOptions options;
        options.cache_dir = dir_ / "cache";  // the parse cache on: it reads the bytes too
        return LoadSigma({fifo, dir_ / "good.yml"}, options);
      },
      fifo);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].location.file, fifo.string());
  EXPECT_EQ(result.refused[0].message, "not a regular file (a FIFO); refused");
  ASSERT_EQ(result.rules.size(), 1u);
  EXPECT_EQ(result.rules[0].title, "Root login");
}

TEST_F(RuleFileLimitsTest, HugeRuleFileIsRefusedBeforeItIsRead) {
  // Sparse: 64 MiB of NUL bytes without the disk space.
  const fs::path huge = dir_ / "huge.yml";
  const int fd = ::open(huge.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64 << 20), 0);
  ::close(fd);
  const auto start = std::chrono::steady_clock::now();
  const LoadResult result = LoadSigma({dir_}, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].location.file, huge.string());
  EXPECT_EQ(result.refused[0].message, "larger than 16777216 bytes; refused");
  EXPECT_EQ(result.rules.size(), 1u);
}

TEST_F(RuleFileLimitsTest, FifoLogsourceMapFailsTheLoadAtOnce) {
  const fs::path fifo = dir_ / "logsources.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string error = WithinTimeout<std::string>(
      [&]() -> std::string {
        try {
          LogSourceMap::Load(fifo);
        } catch (const std::runtime_error& e) {
          return e.what();
        }
        return "";
      },
      fifo);
  EXPECT_EQ(error, fifo.string() + ":0: not a regular file (a FIFO); refused");
}

TEST_F(RuleFileLimitsTest, FifoIncludedByALogsourceMapFailsTheLoadAtOnce) {
  const fs::path fifo = dir_ / "pipelines" / "agency.yaml";
  fs::create_directories(fifo.parent_path());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(dir_ / "logsources.yaml") << "include: [pipelines/agency.yaml]\nlogsources: []\n";
  const std::string error = WithinTimeout<std::string>(
      [&]() -> std::string {
        try {
          LogSourceMap::Load(dir_ / "logsources.yaml");
        } catch (const std::runtime_error& e) {
          return e.what();
        }
        return "";
      },
      fifo);
  EXPECT_NE(error.find("not a regular file (a FIFO); refused"), std::string::npos) << error;
}

}  // namespace
}  // namespace gsoc::rules
