// The on-disk database cache: a second compile loads, a corrupt file recompiles.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "engine/match/matcher.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;

std::vector<rules::Rule> CacheRules() {
  std::vector<rules::Rule> rules;
  for (int i = 0; i < 50; ++i) {
    std::string n = std::to_string(i);
    rules.push_back(MakeRule(
        "r" + n,
        {Sel("s", {Pred("message", {Value(MatchOp::kContains, "word" + n),
                                    Value(MatchOp::kStartsWith, "start" + n + "*x")}),
                   Pred("user", {Value(MatchOp::kEquals, "u" + n), Regex("(a+)\\1-" + n)})})},
        C(0)));
  }
  return rules;
}

std::vector<std::vector<std::string>> MatchSample(const Matcher& matcher) {
  EventBatch batch;
  std::vector<std::vector<std::string>> out;
  auto scratch = matcher.MakeScratch();
  for (int i = 0; i < 50; ++i) {
    std::string n = std::to_string(i);
    Event& a = AddTestEvent(
        batch, {"has word" + n, "p", {{"message", "start" + n + "yx"}, {"user", "U" + n}}});
    out.push_back(MatchIds(matcher, *scratch, batch, a));
    Event& b = AddTestEvent(batch, {"m", "p", {{"message", "xword" + n}, {"user", "aaaa-" + n}}});
    out.push_back(MatchIds(matcher, *scratch, batch, b));
  }
  return out;
}

size_t CountCacheFiles(const std::filesystem::path& dir) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    count += entry.path().extension() == ".hsdb";
  }
  return count;
}

TEST(MatcherCache, SecondCompileLoadsFromCache) {
  TempDir dir("cache");
  CompileOptions options;
  options.cache_dir = dir.path() / "hs";
  auto cold = Matcher::Compile(CacheRules(), options);
  EXPECT_FALSE(cold.stats.from_cache);
  EXPECT_EQ(CountCacheFiles(options.cache_dir), 1u);
  auto warm = Matcher::Compile(CacheRules(), options);
  EXPECT_TRUE(warm.stats.from_cache);
  EXPECT_EQ(warm.stats.databases, cold.stats.databases);
  auto expected = MatchSample(*cold.matcher);
  EXPECT_EQ(MatchSample(*warm.matcher), expected);
  size_t matched = 0;
  for (const auto& ids : expected) matched += !ids.empty();
  EXPECT_EQ(matched, 100u);

  // A different rule set gets its own file.
  auto rules = CacheRules();
  rules[0].selections[0].alternatives[0][0].values[0].text = "changed";
  auto other = Matcher::Compile(std::move(rules), options);
  EXPECT_FALSE(other.stats.from_cache);
  EXPECT_EQ(CountCacheFiles(options.cache_dir), 2u);
}

// Each rule set leaves a file; the directory keeps the 8 most recently
// written or used, so rule edits and reloads never fill the disk, and the
// set a running engine uses (loaded again) is not the one removed.
TEST(MatcherCache, KeepsOnlyTheMostRecentlyUsedFiles) {
  TempDir dir("prune");
  CompileOptions options;
  options.cache_dir = dir.path() / "hs";
  auto set = [](int i) {
    auto rules = CacheRules();
    rules[0].selections[0].alternatives[0][0].values[0].text = "edit" + std::to_string(i);
    return rules;
  };
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(Matcher::Compile(set(i), options).stats.from_cache);
  EXPECT_EQ(CountCacheFiles(options.cache_dir), 8u);
  // Set 0 is used again (a reload of the running set); then two new sets.
  EXPECT_TRUE(Matcher::Compile(set(0), options).stats.from_cache);
  for (int i = 8; i < 10; ++i) {
    EXPECT_FALSE(Matcher::Compile(set(i), options).stats.from_cache);
    EXPECT_EQ(CountCacheFiles(options.cache_dir), 8u);
  }
  // The two least recently used (sets 1 and 2) went; set 0 and 3 stayed.
  EXPECT_TRUE(Matcher::Compile(set(0), options).stats.from_cache);
  EXPECT_TRUE(Matcher::Compile(set(3), options).stats.from_cache);
  EXPECT_FALSE(Matcher::Compile(set(1), options).stats.from_cache);
  EXPECT_EQ(CountCacheFiles(options.cache_dir), 8u);
  // Other files in the directory are not the matcher's to remove.
  std::ofstream(options.cache_dir / "sigma-0000000000000000.cache") << "x";
  EXPECT_FALSE(Matcher::Compile(set(11), options).stats.from_cache);
  EXPECT_TRUE(std::filesystem::exists(options.cache_dir / "sigma-0000000000000000.cache"));
}

TEST(MatcherCache, CorruptFileRecompiles) {
  TempDir dir("corrupt");
  CompileOptions options;
  options.cache_dir = dir.path();
  auto cold = Matcher::Compile(CacheRules(), options);
  ASSERT_EQ(CountCacheFiles(dir.path()), 1u);
  std::filesystem::path file = std::filesystem::directory_iterator(dir.path())->path();
  auto expected = MatchSample(*cold.matcher);

  for (int variant = 0; variant < 3; ++variant) {
    auto size = std::filesystem::file_size(file);
    if (variant == 0) {
      std::filesystem::resize_file(file, size / 2);  // truncated
    } else {
      std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
      io.seekp(variant == 1 ? 0 : static_cast<std::streamoff>(size / 2));
      io.write("garbage!garbage!", 16);  // bad magic / bad database bytes
    }
    auto again = Matcher::Compile(CacheRules(), options);
    EXPECT_FALSE(again.stats.from_cache) << "variant " << variant;
    EXPECT_EQ(MatchSample(*again.matcher), expected) << "variant " << variant;
    // The recompile rewrote a good file.
    EXPECT_TRUE(Matcher::Compile(CacheRules(), options).stats.from_cache) << "variant " << variant;
  }
}

std::string ReadOnlyCacheFile(const std::filesystem::path& dir) {
  EXPECT_EQ(CountCacheFiles(dir), 1u);
  std::ifstream in(std::filesystem::directory_iterator(dir)->path(), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A database for each of 8 more fields.
std::vector<rules::Rule> ManyDatabaseRules() {
  std::vector<rules::Rule> rules = CacheRules();
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i), field = "f" + std::to_string(i % 8);
    rules.push_back(MakeRule(
        "m" + n,
        {Sel("s", {Pred(field, {Value(MatchOp::kContains, "lit" + n), Regex("re[0-9]+x" + n)})})},
        C(0)));
  }
  return rules;
}

TEST(MatcherCache, ParallelCompileBuildsTheDatabasesOfOneThread) {
  TempDir dir("parallel");
  CompileOptions one, four;
  one.cache_dir = dir.path() / "one";
  one.compile_threads = 1;
  four.cache_dir = dir.path() / "four";
  four.compile_threads = 4;
  auto serial = Matcher::Compile(ManyDatabaseRules(), one);
  auto parallel = Matcher::Compile(ManyDatabaseRules(), four);
  ASSERT_GE(parallel.stats.databases, 8u);
  EXPECT_EQ(parallel.stats.databases, serial.stats.databases);
  // Each database in its spec's place: the serialized set is the same bytes.
  EXPECT_EQ(ReadOnlyCacheFile(four.cache_dir), ReadOnlyCacheFile(one.cache_dir));
  EXPECT_EQ(MatchSample(*parallel.matcher), MatchSample(*serial.matcher));
}

}  // namespace
}  // namespace gsoc::match
