// Indicator lists: load time and memory for 1,000,000 mixed indicators,
// lookups/s for Matches (IP / domain, hit / miss) and ContainsSubstring on
// realistic URLs and messages.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/indicators/indicator_list.h"
#include "tests/engine/indicators/generated_list.h"

namespace {

using gsoc::indicators::IndicatorList;
using namespace gsoc::indicators::testing;  // the generated list and its helpers
namespace fs = std::filesystem;

constexpr size_t kEntries = 1'000'000;

// The list of tests/engine/indicators/generated_list.h: 30% IPv4/IPv6
// addresses, 13% CIDRs, 32% domains, 20% hashes, 5% URLs.
struct Fixture {
  fs::path file;
  std::vector<std::string> ips, domains, urls;
  std::unique_ptr<IndicatorList> list;
  double load_seconds = 0;

  Fixture() {
    file = fs::temp_directory_path() /
           ("gsoc_indicators_bench_" + std::to_string(::getpid()) + ".txt");
    gsoc::indicators::testing::Generated generated =
        gsoc::indicators::testing::GenerateList(file, kEntries);
    ips = std::move(generated.ips);
    domains = std::move(generated.domains);
    urls = std::move(generated.urls);
    const auto t0 = std::chrono::steady_clock::now();
    list = IndicatorList::Load({"bench", file, ""});
    load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fs::remove(file);
  }
};

Fixture& Get() {
  static Fixture f;
  return f;
}

void BM_Load1M(benchmark::State& state) {
  Fixture& f = Get();  // built once; the load is timed in the fixture
  for (auto _ : state) benchmark::DoNotOptimize(f.list.get());
  state.counters["entries"] = static_cast<double>(f.list->size());
  state.counters["load_s"] = f.load_seconds;
  state.counters["memory_MiB"] = f.list->memory_bytes() / 1048576.0;
  state.counters["bytes_per_entry"] = static_cast<double>(f.list->memory_bytes()) / f.list->size();
}
BENCHMARK(BM_Load1M)->Iterations(1)->Unit(benchmark::kMillisecond);

// Queries are pre-built; each iteration cycles through them.
void RunMatches(benchmark::State& state, const std::vector<std::string>& queries, bool expect) {
  const IndicatorList& list = *Get().list;
  size_t i = 0;
  size_t wrong = 0;
  for (auto _ : state) {
    const bool m = list.Matches(queries[i]);
    wrong += m != expect;
    if (++i == queries.size()) i = 0;
  }
  if (wrong != 0) state.SkipWithError("unexpected match result");
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::string> Sample(const std::vector<std::string>& v, size_t n, bool upper) {
  std::mt19937_64 rng(1);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s = v[rng() % v.size()];
    if (upper) {
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    out.push_back(std::move(s));
  }
  return out;
}

void BM_MatchesIpHit(benchmark::State& state) {
  static const auto q = Sample(Get().ips, 4096, false);
  RunMatches(state, q, true);
}
BENCHMARK(BM_MatchesIpHit);

void BM_MatchesIpCidrHit(benchmark::State& state) {
  // Addresses inside 100.64.0.0/10 that fall into some listed CIDR.
  static const auto hits = [] {
    std::mt19937_64 rng(3);
    std::vector<std::string> v;
    while (v.size() < 4096) {
      std::string ip = V4((100u << 24) | (64u << 16) | static_cast<uint32_t>(rng() & 0x3fffff));
      if (Get().list->Matches(ip)) v.push_back(std::move(ip));
    }
    return v;
  }();
  RunMatches(state, hits, true);
}
BENCHMARK(BM_MatchesIpCidrHit);

void BM_MatchesIpMiss(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(4);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i)
      v.push_back(V4((11u << 24) | static_cast<uint32_t>(rng() & 0xffffff)));
    return v;
  }();
  RunMatches(state, q, false);
}
BENCHMARK(BM_MatchesIpMiss);

void BM_MatchesIpv6Miss(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(5);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i) v.push_back("2001:db8:3:" + Hex(rng, 4) + "::" + Hex(rng, 4));
    return v;
  }();
  RunMatches(state, q, false);
}
BENCHMARK(BM_MatchesIpv6Miss);

void BM_MatchesDomainHit(benchmark::State& state) {
  static const auto q = Sample(Get().domains, 4096, true);
  RunMatches(state, q, true);
}
BENCHMARK(BM_MatchesDomainHit);

void BM_MatchesDomainMiss(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(6);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i)
      v.push_back(Label(rng, 9) + "." + Label(rng, 6) + ".nomatch.test");
    return v;
  }();
  RunMatches(state, q, false);
}
BENCHMARK(BM_MatchesDomainMiss);

void RunContains(benchmark::State& state, const std::vector<std::string>& texts, bool expect) {
  const IndicatorList& list = *Get().list;
  auto scratch = list.MakeScratch();
  size_t i = 0;
  size_t wrong = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    wrong += list.ContainsSubstring(texts[i], *scratch) != expect;
    bytes += texts[i].size();
    if (++i == texts.size()) i = 0;
  }
  if (wrong != 0) state.SkipWithError("unexpected substring result");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_ContainsUrlHit(benchmark::State& state) {
  static const auto q = [] {
    std::vector<std::string> v;
    for (const auto& d : Sample(Get().domains, 4096, false)) {
      v.push_back("https://cdn." + d + "/assets/js/app.min.js?v=20240101&session=ab12cd34");
    }
    return v;
  }();
  RunContains(state, q, true);
}
BENCHMARK(BM_ContainsUrlHit);

void BM_ContainsUrlMiss(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(7);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i) {
      v.push_back("https://www." + Label(rng, 10) + ".nomatch.test/assets/js/app.min.js?v=" +
                  Hex(rng, 8) + "&session=" + Hex(rng, 16));
    }
    return v;
  }();
  RunContains(state, q, false);
}
BENCHMARK(BM_ContainsUrlMiss);

void BM_ContainsMessageMiss(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(8);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i) {
      v.push_back("Jan 12 10:00:01 proxy01 squid[2231]: 1704981601.123 " +
                  std::to_string(rng() % 5000) + " 10.1.2.3 TCP_MISS/200 " +
                  std::to_string(rng() % 100000) + " GET http://" + Label(rng, 8) +
                  ".nomatch.test/" + Label(rng, 12) +
                  ".html - HIER_DIRECT/198.18.0.1 text/html user=" + Label(rng, 6));
    }
    return v;
  }();
  RunContains(state, q, false);
}
BENCHMARK(BM_ContainsMessageMiss);

void BM_ContainsMessageHit(benchmark::State& state) {
  static const auto q = [] {
    std::mt19937_64 rng(9);
    std::vector<std::string> v;
    for (const auto& d : Sample(Get().domains, 4096, false)) {
      v.push_back("Jan 12 10:00:01 dns01 named[811]: client 10.1.2.3#53211 (" + d +
                  "): query: " + d + " IN A +E(0)K (10.0.0.53)");
    }
    return v;
  }();
  RunContains(state, q, true);
}
BENCHMARK(BM_ContainsMessageHit);

}  // namespace

BENCHMARK_MAIN();
