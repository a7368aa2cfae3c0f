// The Sigma parse cache (engine/rules/sigma_cache.h): a load that reads
// files back from it gives what parsing them gives, field for field (the
// model's defaulted operator==, so a member the encoding forgets fails
// here), over the whole SigmaHQ corpus; an edited file, other options, a
// damaged or foreign cache file are never read back.
#include "engine/rules/sigma_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"
#include "engine/util/build_id.h"
#include "tests/engine/rules/rule_test_util.h"

namespace gsoc::rules {
namespace {

namespace fs = std::filesystem;
using internal::DecodeLoadResult;
using internal::EncodeLoadResult;

void ExpectSame(const LoadResult& actual, const LoadResult& expected) {
  EXPECT_EQ(actual.files, expected.files);
  ASSERT_EQ(actual.rules.size(), expected.rules.size());
  for (size_t i = 0; i < expected.rules.size(); ++i)
    EXPECT_TRUE(actual.rules[i] == expected.rules[i]) << expected.rules[i].id;
  EXPECT_TRUE(actual.filters == expected.filters);
  EXPECT_EQ(actual.skipped, expected.skipped);
  ASSERT_EQ(actual.refused.size(), expected.refused.size());
  for (size_t i = 0; i < expected.refused.size(); ++i)
    EXPECT_TRUE(actual.refused[i] == expected.refused[i]) << expected.refused[i].ToString();
  ASSERT_EQ(actual.correlations.size(), expected.correlations.size());
  for (size_t i = 0; i < expected.correlations.size(); ++i)
    EXPECT_TRUE(actual.correlations[i].location == expected.correlations[i].location);
}

void Write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

std::string Read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The one cache file in `dir`.
fs::path CacheFileIn(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) found.push_back(entry.path());
  EXPECT_EQ(found.size(), 1u);
  return found.empty() ? fs::path() : found.front();
}

class SigmaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(BuildId().empty()) << "the test build has no GNU build ID";
    root_ = fs::temp_directory_path() /
            ("gsoc-sigma-cache-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    cache_ = root_ / "cache";
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  fs::path cache_;
};

const char kRule[] =
    "title: Whoami\n"
    "id: 5f6c0e59-0000-4000-8000-000000000001\n"
    "status: test\n"
    "level: high\n"
    "tags: [attack.discovery, attack.t1033]\n"
    "falsepositives: [admins]\n"
    "logsource: {product: windows, category: process_creation}\n"
    "detection:\n"
    "  sel:\n"
    "    Image|endswith: '\\whoami.exe'\n"
    "    CommandLine|contains|all: ['/all', '/priv']\n"
    "    User|neq: SYSTEM\n"
    "    UtcTime|hour: 3\n"
    "  net:\n"
    "    DestinationIp|cidr: 10.0.0.0/8\n"
    "  condition: sel and not net\n";

const char kPlaceholderRule[] =
    "title: Listed hosts\n"
    "id: 5f6c0e59-0000-4000-8000-000000000002\n"
    "logsource: {product: linux}\n"
    "detection:\n"
    "  sel:\n"
    "    host|expand: '%admin_hosts%'\n"
    "  condition: sel\n";

TEST_F(SigmaCacheTest, TheWholeCorpusReadBackIsTheParsedCorpus) {
  const LogSourceMap logsources = testing::ShippedLogSources();
  const std::vector<fs::path> paths = testing::CorpusRuleFolders();
  LoadOptions options;
  options.logsources = &logsources;
  const LoadResult parsed = LoadSigma(paths, options);
  ASSERT_GT(parsed.rules.size(), 3700u);
  ASSERT_FALSE(parsed.refused.empty());
  EXPECT_EQ(parsed.files_cached, 0u);
  options.cache_dir = cache_;
  const LoadResult cold = LoadSigma(paths, options);  // parses, then writes
  ExpectSame(cold, parsed);
  EXPECT_EQ(cold.files_cached, 0u);
  const internal::SigmaParseCache cache(cache_, paths, options);
  EXPECT_GT(cache.entries(), 3700u);
  const std::string written = Read(cache.file());
  const LoadResult warm = LoadSigma(paths, options);  // reads back
  ExpectSame(warm, parsed);
  EXPECT_EQ(warm.files_cached, cache.entries());
  EXPECT_EQ(Read(cache.file()), written) << "a load that found everything rewrote the cache";
}

TEST_F(SigmaCacheTest, AnEditedFileIsParsedAgainAndTheOthersReadBack) {
  Write(root_ / "rules" / "a.yml", kRule);
  Write(root_ / "rules" / "b.yml", kPlaceholderRule);
  LoadOptions options;
  options.cache_dir = cache_;
  const std::vector<fs::path> paths = {root_ / "rules"};
  ASSERT_EQ(LoadSigma(paths, options).refused.size(), 1u);  // b: %admin_hosts% is bound to nothing
  std::string edited = kRule;
  edited.replace(edited.find("Whoami"), 6, "Whoami edited");
  Write(root_ / "rules" / "a.yml", edited);
  const internal::SigmaParseCache cache(cache_, paths, options);
  LoadResult part;
  const std::string b = (root_ / "rules" / "b.yml").string();
  EXPECT_TRUE(cache.Find(b, internal::DigestOf(kPlaceholderRule), &part));
  EXPECT_FALSE(cache.Find((root_ / "rules" / "a.yml").string(), internal::DigestOf(edited), &part));
  const LoadResult result = LoadSigma(paths, options);
  ASSERT_EQ(result.rules.size(), 1u);
  EXPECT_EQ(result.rules[0].title, "Whoami edited");
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].location.file, b);
}

TEST_F(SigmaCacheTest, OtherOptionsNeverReadTheirResultsBack) {
  Write(root_ / "rules" / "b.yml", kPlaceholderRule);
  const std::vector<fs::path> paths = {root_ / "rules"};
  LoadOptions options;
  options.cache_dir = cache_;
  ASSERT_EQ(LoadSigma(paths, options).rules.size(), 0u);
  options.indicator_lists = {"admin_hosts"};
  EXPECT_EQ(LoadSigma(paths, options).rules.size(), 1u);
  options.statuses = {"stable"};  // the rule has no status: skipped
  EXPECT_EQ(LoadSigma(paths, options).skipped.size(), 1u);
  const LogSourceMap windows_only = LogSourceMap::Parse(
      "logsources:\n  - logsource: {product: windows}\n    formats: [json]\n", "ls.yaml");
  const LogSourceMap linux_too = LogSourceMap::Parse(
      "logsources:\n  - logsource: {product: windows}\n    formats: [json]\n"
      "  - logsource: {product: linux}\n    formats: [json]\n",
      "ls.yaml");
  EXPECT_NE(windows_only.ResolveDigest(), linux_too.ResolveDigest());
  options.statuses.clear();
  options.logsources = &windows_only;
  const LoadResult refused = LoadSigma(paths, options);
  ASSERT_EQ(refused.refused.size(), 1u);
  EXPECT_NE(refused.refused[0].message.find("no log source mapping"), std::string::npos);
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(cache_)) ++files;
  EXPECT_EQ(files, 4u);  // one per set of options
}

TEST_F(SigmaCacheTest, OnlyTheMostRecentlyUsedFilesAreKept) {
  Write(root_ / "rules" / "b.yml", kPlaceholderRule);
  const std::vector<fs::path> paths = {root_ / "rules"};
  LoadOptions options;
  options.cache_dir = cache_;
  LoadSigma(paths, options);  // the first, used again below
  const fs::path first = CacheFileIn(cache_);
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(first, an_hour_ago);
  for (size_t i = 0; i < 2 * internal::SigmaParseCache::kKeptFiles; ++i) {
    if (i == 4) {
      options.indicator_lists.clear();
      LoadSigma(paths, options);  // reads everything back: marked as used
      EXPECT_GT(fs::last_write_time(first), an_hour_ago);
    }
    options.indicator_lists = {"list" + std::to_string(i)};
    LoadSigma(paths, options);
  }
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(cache_)) ++files;
  EXPECT_EQ(files, internal::SigmaParseCache::kKeptFiles);
  EXPECT_FALSE(fs::exists(first));  // used before the last 8 were written
  options.indicator_lists = {"list15"};
  EXPECT_EQ(internal::SigmaParseCache(cache_, paths, options).entries(), 1u);
}

TEST_F(SigmaCacheTest, ADamagedCacheFileIsNeverReadBack) {
  Write(root_ / "rules" / "a.yml", kRule);
  Write(root_ / "rules" / "b.yml", kPlaceholderRule);
  const std::vector<fs::path> paths = {root_ / "rules"};
  LoadOptions options;
  const LoadResult parsed = LoadSigma(paths, options);
  options.cache_dir = cache_;
  LoadSigma(paths, options);
  const fs::path file = CacheFileIn(cache_);
  const std::string good = Read(file);
  ASSERT_GT(good.size(), 100u);
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bad = good;
    if (trial % 2 == 0) {
      bad.resize(random() % good.size());
    } else {
      bad[random() % bad.size()] ^= static_cast<char>(1 + random() % 255);
    }
    Write(file, bad);
    const internal::SigmaParseCache cache(cache_, paths, options);
    EXPECT_EQ(cache.entries(), 0u) << "trial " << trial;
    ExpectSame(LoadSigma(paths, options), parsed);
    EXPECT_EQ(Read(file), good) << "the damaged file was not replaced";
  }
  // Another build's cache (its ID in the header, the trailing digest made
  // to fit) reads as empty too.
  std::string foreign = good.substr(0, good.size() - 32);
  foreign[std::string_view("GSOCSIGMA2\n").size() + 1] ^= 1;
  const internal::FileDigest digest = internal::DigestOf(foreign);
  foreign.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  Write(file, foreign);
  EXPECT_EQ(internal::SigmaParseCache(cache_, paths, options).entries(), 0u);
}

TEST_F(SigmaCacheTest, FilesWithCorrelationsAreParsedEveryTime) {
  Write(root_ / "rules" / "a.yml", std::string(kRule) +
                                       "---\n"
                                       "title: Many whoami\n"
                                       "id: 5f6c0e59-0000-4000-8000-000000000003\n"
                                       "correlation:\n"
                                       "  type: event_count\n"
                                       "  rules: [5f6c0e59-0000-4000-8000-000000000001]\n"
                                       "  group-by: [host]\n"
                                       "  timespan: 1m\n"
                                       "  condition: {gte: 3}\n");
  const std::vector<fs::path> paths = {root_ / "rules"};
  LoadOptions options;
  options.cache_dir = cache_;
  for (int load = 0; load < 2; ++load) {
    const LoadResult result = LoadSigma(paths, options);
    EXPECT_EQ(result.rules.size(), 1u);
    EXPECT_EQ(result.correlations.size(), 1u);
  }
  const internal::SigmaParseCache cache(cache_, paths, options);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(SigmaCacheEncoding, EveryTruncationIsRefusedAndTheWholeDecodes) {
  LoadOptions options;
  LoadResult part =
      LoadSigmaText(std::string(kRule) + "---\n" + kPlaceholderRule, "t.yml", options);
  ASSERT_EQ(part.rules.size(), 1u);
  ASSERT_EQ(part.refused.size(), 1u);
  part.rules[0].aggregate_by = std::vector<std::string>{"host", "User"};
  part.skipped = {"skipped-id"};
  SigmaFilter filter;
  filter.id = "filter-1";
  filter.rules = {part.rules[0].id};
  filter.selections = part.rules[0].selections;
  filter.condition = part.rules[0].condition;
  part.filters.push_back(filter);
  std::string encoded;
  EncodeLoadResult(encoded, part);
  LoadResult decoded;
  ASSERT_TRUE(DecodeLoadResult(encoded, &decoded));
  ExpectSame(decoded, part);
  ASSERT_TRUE(decoded.rules[0].selections[1].alternatives[0][0].values[0].cidr.has_value());
  for (size_t size = 0; size < encoded.size(); ++size)
    EXPECT_FALSE(DecodeLoadResult(std::string_view(encoded).substr(0, size), &decoded)) << size;
  EXPECT_FALSE(DecodeLoadResult(encoded + '\0', &decoded));
}

}  // namespace
}  // namespace gsoc::rules
