// 1,000,000 generated indicators: load, sampled hits and misses, memory.
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/indicators/indicator_list.h"
#include "tests/engine/indicators/generated_list.h"

namespace gsoc::indicators {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // the generated list and its helpers

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

size_t HeapInUse() { return mallinfo2().uordblks + mallinfo2().hblkhd; }

TEST(IndicatorScaleTest, MillionEntries) {
  const fs::path file = fs::path(::testing::TempDir()) /
                        ("gsoc_indicators_1m_" + std::to_string(::getpid()) + ".txt");
  const size_t kEntries = 1'000'000;
  const Generated g = GenerateList(file, kEntries);

  const size_t heap_before = HeapInUse();
  const auto t0 = std::chrono::steady_clock::now();
  auto list = IndicatorList::Load({"million", file, ""});
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const size_t heap_after = HeapInUse();
  fs::remove(file);

  std::printf(
      "[ scale    ] %zu entries loaded in %.2f s; memory_bytes() = %.1f MiB "
      "(%.1f B/entry); heap retained by the list = %.1f MiB\n",
      list->size(), load_s, list->memory_bytes() / 1048576.0,
      static_cast<double>(list->memory_bytes()) / list->size(),
      (heap_after - heap_before) / 1048576.0);
  EXPECT_EQ(list->size(), kEntries + 1);
  EXPECT_LT(list->memory_bytes(), 200u * 1024 * 1024);
  EXPECT_LT(heap_after - heap_before, 200u * 1024 * 1024);
  // memory_bytes() accounts for (nearly) everything the list keeps.
  EXPECT_GT(list->memory_bytes(), (heap_after - heap_before) * 8 / 10);

  std::mt19937_64 rng(7);
  auto sample = [&](const std::vector<std::string>& v) -> const std::string& {
    return v[rng() % v.size()];
  };
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(list->Matches(sample(g.ips)));
    ASSERT_TRUE(list->Matches(sample(g.v6)));
    ASSERT_TRUE(list->Matches(sample(g.cidr_hits))) << "cidr hit";
    ASSERT_TRUE(list->Matches(Upper(sample(g.domains))));
    ASSERT_TRUE(list->Matches(Upper(sample(g.hashes))));
    ASSERT_TRUE(list->Matches(sample(g.urls)));
  }
  EXPECT_TRUE(list->Matches("172.23.1.1"));

  const std::unordered_set<std::string> ips(g.ips.begin(), g.ips.end());
  const std::unordered_set<std::string> hashes(g.hashes.begin(), g.hashes.end());
  const std::unordered_set<std::string> domains(g.domains.begin(), g.domains.end());
  auto scratch = list->MakeScratch();
  int ip_misses = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string ip = V4((10u << 24) | static_cast<uint32_t>(rng() & 0xffffff));
    if (!ips.contains(ip)) {
      ASSERT_FALSE(list->Matches(ip)) << ip;
      ++ip_misses;
    }
    ASSERT_FALSE(list->Matches(V4((11u << 24) | static_cast<uint32_t>(rng() & 0xffffff))));
    ASSERT_FALSE(list->Matches("2001:db8:3::" + Hex(rng, 4)));
    const std::string h = Hex(rng, 64);
    if (!hashes.contains(h)) {
      ASSERT_FALSE(list->Matches(h));
    }
    const std::string d =
        Label(rng, 8) + "." + Label(rng, 5) + ".bad" + std::to_string(rng() % 1000) + ".test";
    if (!domains.contains(d)) {
      ASSERT_FALSE(list->Matches(d)) << d;
    }
    ASSERT_FALSE(list->Matches(Label(rng, 10) + ".nomatch.test"));
  }
  EXPECT_GT(ip_misses, 15000);

  // Substring search over the ~370k domain/URL literals.
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(list->ContainsSubstring(
        "GET http://www." + sample(g.domains) + "/index.html HTTP/1.1", *scratch));
    ASSERT_TRUE(list->ContainsSubstring("fetch " + Upper(sample(g.urls)) + "?q=1", *scratch));
    ASSERT_FALSE(list->ContainsSubstring(
        "GET http://" + Label(rng, 10) + ".nomatch.test/a HTTP/1.1", *scratch));
    // A listed domain glued to a longer label is no match.
    ASSERT_FALSE(list->ContainsSubstring("x" + sample(g.domains) + "x.nomatch.test", *scratch));
  }
  const double scan_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("[ scale    ] 20000 ContainsSubstring calls in %.3f s\n", scan_s);
}

}  // namespace
}  // namespace gsoc::indicators
