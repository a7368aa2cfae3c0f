// The rule caches (Hyperscan databases, Sigma parse cache) are read back as
// compiled rules, so BuildRuleEngine uses a cache directory only when this
// user alone can write it: a shared one is not read or written, and the
// build says so in a warning.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "engine/detect/detection_stage.h"
#include "engine/detect/rule_engine.h"
#include "engine/detect/rule_reloader.h"
#include "tests/engine/detect/reloader_metric.h"
#include "tests/engine/detect/test_rules.h"
#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

class RuleCacheDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "rules");
    std::ofstream(dir_ / "rules" / "good.yml") << testing::kFailedPasswordRule;
  }

  RuleSources Sources(const fs::path& cache_dir) const {
    RuleSources sources;
    sources.rule_paths = {dir_ / "rules"};
    sources.agency_names = {"unknown"};
    sources.cache_dir = cache_dir;
    return sources;
  }
  RuleEngineBuild Build(const fs::path& cache_dir) const {
    return BuildRuleEngine(Sources(cache_dir));
  }
  // gsoc_rules_cache_disabled after gsocd's loader built the set.
  double CacheDisabledGauge(const fs::path& cache_dir) const {
    DetectionStage stage(nullptr, nullptr, {"unknown"});
    RuleReloader reloader(Sources(cache_dir), false, stage);
    EXPECT_TRUE(reloader.LoadNow());
    return testing::ReloaderMetric(reloader, "gsoc_rules_cache_disabled");
  }
  static size_t Files(const fs::path& dir) {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir)) n += entry.is_regular_file();
    return n;
  }

  test::TempDir temp_{"rule-cache-dir"};
  const fs::path dir_ = temp_.path();
};

TEST_F(RuleCacheDirTest, APrivateDirectoryIsCreatedAndUsed) {
  const fs::path cache = dir_ / "cache";
  const RuleEngineBuild first = Build(cache);
  ASSERT_NE(first.engine, nullptr);
  EXPECT_TRUE(first.warnings.empty());
  EXPECT_EQ(fs::status(cache).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_GE(Files(cache), 2u);  // the Hyperscan databases and the parse cache
  const RuleEngineBuild second = Build(cache);
  EXPECT_TRUE(second.compile.from_cache);
  EXPECT_EQ(second.rule_files_cached, 1u);
  EXPECT_EQ(CacheDisabledGauge(cache), 0);
}

// A cache file that is not a regular file (a FIFO: a reader would wait for
// a writer forever) is a miss: the set is compiled and the file replaced.
TEST_F(RuleCacheDirTest, ACacheFileThatIsNotARegularFileIsAMiss) {
  const fs::path cache = dir_ / "cache";
  ASSERT_NE(Build(cache).engine, nullptr);
  size_t replaced = 0;
  for (const auto& entry : fs::directory_iterator(cache)) {
    const fs::path file = entry.path();
    fs::remove(file);
    ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
    ++replaced;
  }
  ASSERT_EQ(replaced, 2u);  // the Hyperscan databases and the parse cache
  auto build = std::async(std::launch::async, [&] { return Build(cache); });
  if (build.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "a load blocked on a FIFO in the cache directory";
    for (const auto& entry : fs::directory_iterator(cache)) {  // a writer, so that it ends
      const int fd = ::open(entry.path().c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
    }
  }
  const RuleEngineBuild result = build.get();
  ASSERT_NE(result.engine, nullptr);
  EXPECT_FALSE(result.compile.from_cache);
  EXPECT_EQ(result.rule_files_cached, 0u);
  for (const auto& entry : fs::directory_iterator(cache)) EXPECT_TRUE(entry.is_regular_file());
}

TEST_F(RuleCacheDirTest, ASharedDirectoryIsNeitherReadNorWritten) {
  const fs::path shared = dir_ / "shared";
  fs::create_directories(shared);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);  // as /tmp
  for (int run = 0; run < 2; ++run) {
    const RuleEngineBuild build = Build(shared);
    ASSERT_NE(build.engine, nullptr);
    EXPECT_EQ(build.rules_loaded, 1u);
    EXPECT_FALSE(build.compile.from_cache);
    EXPECT_EQ(build.rule_files_cached, 0u);
    ASSERT_EQ(build.warnings.size(), 1u);
    EXPECT_EQ(build.warnings[0].code, "rules.cache_dir");
    EXPECT_EQ(build.warnings[0].ToString(),
              shared.string() + ": warning: " + shared.string() +
                  ": writable by group or others (mode 1777); the rule caches are not used "
                  "(every load parses and compiles)");
  }
  EXPECT_EQ(Files(shared), 0u);
  EXPECT_EQ(CacheDisabledGauge(shared), 1);  // the operator sees it in /metrics
}

}  // namespace
}  // namespace gsoc
