// RawCache: the raw lines of recent correlation inputs, in a fixed budget.
#include "engine/correlate/raw_cache.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace gsoc::correlate::internal {
namespace {

std::string Line(std::mt19937_64& rng, size_t max) {
  std::string line(1 + rng() % max, ' ');
  for (char& c : line) c = static_cast<char>('a' + rng() % 26);
  return line;
}

TEST(RawCache, KeepsLinesAndDropsTheOldestFirst) {
  RawCache cache;
  cache.Configure(64 << 10, 512);
  cache.Insert(1, 10, "first line");
  cache.Insert(1, 11, "not kept: id 1 is cached");
  cache.Insert(0, 12, "id 0 is never cached");
  std::string raw;
  ASSERT_TRUE(cache.Lookup(1, &raw));
  EXPECT_EQ(raw, "first line");
  EXPECT_FALSE(cache.Contains(0));
  EXPECT_EQ(cache.size(), 1u);
  // Far more than fits: only the newest stay, and the first is gone.
  for (uint64_t id = 2; id < 5000; ++id) cache.Insert(id, 0, std::string(100, 'x'));
  EXPECT_FALSE(cache.Contains(1));
  EXPECT_TRUE(cache.Contains(4999));
  uint64_t previous = 0;
  size_t seen = 0;
  cache.ForEach([&](uint64_t id, int64_t, std::string_view line) {
    EXPECT_GT(id, previous);  // oldest first
    EXPECT_EQ(line, std::string(100, 'x'));
    previous = id;
    ++seen;
  });
  EXPECT_EQ(seen, cache.size());
  EXPECT_EQ(previous, 4999u);
}

TEST(RawCache, LongLinesAreCutAndMarked) {
  RawCache cache;
  cache.Configure(64 << 10, 64);
  cache.Insert(7, 0, std::string(1000, 'y'));
  std::string raw;
  ASSERT_TRUE(cache.Lookup(7, &raw));
  EXPECT_EQ(raw.size(), 64u);
  EXPECT_EQ(raw, std::string(64 - kTruncatedMark.size(), 'y') + std::string(kTruncatedMark));
}

// Against a model: whatever is found is exactly what was inserted (lines
// wrap around the ring end many times), the newest inserts are always
// found, and ForEach lists exactly the ids Lookup finds, oldest first.
TEST(RawCache, MatchesAModelAcrossManyWrapArounds) {
  std::mt19937_64 rng(42);
  RawCache cache;
  cache.Configure(16 << 10, 300);
  std::deque<std::pair<uint64_t, std::string>> inserted;
  for (uint64_t id = 1; id <= 20000; ++id) {
    std::string line = Line(rng, 400);
    if (line.size() > 300)
      line = line.substr(0, 300 - kTruncatedMark.size()) + std::string(kTruncatedMark);
    cache.Insert(id, static_cast<int64_t>(id), line.size() == 300 ? std::string(400, '?') : line);
    if (line.size() == 300) {  // what the cache keeps of the 400-byte original
      line = std::string(300 - kTruncatedMark.size(), '?') + std::string(kTruncatedMark);
    }
    inserted.emplace_back(id, line);
    if (inserted.size() > 200) inserted.pop_front();
    if (id % 97 != 0) continue;
    std::string raw;
    size_t found = 0;
    for (size_t k = 0; k < inserted.size(); ++k) {
      const auto& [key, expected] = inserted[k];
      if (!cache.Lookup(key, &raw)) {
        EXPECT_LT(k + 20, inserted.size()) << "one of the newest 20 is missing: " << key;
        continue;
      }
      ++found;
      ASSERT_EQ(raw, expected) << key;
    }
    std::vector<uint64_t> listed;
    cache.ForEach([&](uint64_t key, int64_t time, std::string_view) {
      EXPECT_EQ(static_cast<uint64_t>(time), key);
      listed.push_back(key);
    });
    ASSERT_EQ(listed.size(), cache.size());
    for (size_t k = 1; k < listed.size(); ++k) ASSERT_EQ(listed[k], listed[k - 1] + 1);
    ASSERT_EQ(listed.back(), id);
    EXPECT_GE(found, 20u);
  }
}

}  // namespace
}  // namespace gsoc::correlate::internal
