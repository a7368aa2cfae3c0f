// TriageStore: one request changing 1,000 alerts (issue 12 target: under
// 1 s), and the status index read behind `status=` filters.
//
// BM_Triage1000/<sync>: each iteration closes 1,000 untouched alerts in one
// Apply (read states, check, one WriteBatch with state, history and index
// entries, written with sync when <sync> is 1), as POST
// /api/v1/alerts/triage does after it has looked the alerts up. A fresh id
// range per iteration, so every change is accepted.
// BM_FindClosed: the newest 100 ids with status closed over a store where
// 1 alert in 100 of 1,000,000 is closed (the index reads only those).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/triage/triage_store.h"

namespace {

using namespace gsoc::triage;
namespace fs = std::filesystem;

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = (fs::temp_directory_path() / "gsoc-triage-bench-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~BenchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path db() const { return path_ / "triage.db"; }

 private:
  fs::path path_;
};

void BM_Triage1000(benchmark::State& state) {
  BenchDir dir;
  TriageOptions options;
  options.path = dir.db();
  options.sync = state.range(0) != 0;
  auto store = TriageStore::Open(options);
  Change change;
  change.action = Action::kClose;
  change.reason = Reason::kFalsePositive;
  change.author = "bench";
  uint64_t next = 1;
  std::vector<ChangeTarget> targets(1000);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& target : targets) target = {next++, "agency-a"};
    state.ResumeTiming();
    const auto results = store->Apply(change, targets);
    benchmark::DoNotOptimize(results.data());
  }
}
BENCHMARK(BM_Triage1000)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FindClosed(benchmark::State& state) {
  BenchDir dir;
  TriageOptions options;
  options.path = dir.db();
  options.sync = false;
  auto store = TriageStore::Open(options);
  Change change;
  change.action = Action::kClose;
  change.reason = Reason::kBenign;
  change.author = "bench";
  std::vector<ChangeTarget> targets;
  for (uint64_t id = 100; id <= 1'000'000; id += 100) targets.push_back({id, "a"});
  store->Apply(change, targets);
  TriageFilter closed;
  closed.statuses = {Status::kClosed};
  for (auto _ : state) {
    const auto ids = store->FindIds(closed, 0, UINT64_MAX, true, 100);
    benchmark::DoNotOptimize(ids.data());
  }
}
BENCHMARK(BM_FindClosed)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
