// Aggregator::Add: ns per detection hit, one thread, as the DetectionStage
// calls it (one call per batch with every hit of the batch).
//
// The events look like what the shipped decoders make of sshd lines (fields
// method, user, src_ip, src_port, action; host; a ~110-byte raw line). Event
// k has user k % 10 and src_ip k % addresses (Arg 0: how many addresses);
// each event hits 1 of 4 rules with the default group fields, so Arg 50,
// 2000 and 100000 make 200, 2,000 and 8,192 (all the pool's events) open
// aggregates. A warm-up call opens them all; the timed loop then replays the
// batches: every hit joins an open aggregate (the steady state of an attack
// stream: counts grow, contributing events are full).
//
// BM_AddOpen: every hit opens a new aggregate (8,192 distinct keys into a
// fresh aggregator, made untimed), the cost of an attacker's first hit.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/aggregate/aggregator.h"

namespace {

using namespace gsoc;
using namespace gsoc::aggregate;

constexpr size_t kBatchSize = 512;
constexpr size_t kPool = 8192;
constexpr size_t kRules = 4;
constexpr int64_t kBase = 1'764'000'000'000'000'000;

const char* const kUsers[] = {"root", "admin",    "test", "oracle", "ubuntu",
                              "user", "postgres", "git",  "pi",     "guest"};

struct Workload {
  std::vector<rules::Rule> rules{kRules};
  std::vector<std::unique_ptr<EventBatch>> batches;
  std::vector<std::vector<DetectionHit>> hits;
  std::vector<std::string> agencies{"default"};

  explicit Workload(size_t addresses, size_t offset = 0) {
    for (size_t r = 0; r < kRules; ++r) {
      rules[r].id = "5f1c0e7a-2b7d-4c1e-9a3f-00000000000" + std::to_string(r);
      rules[r].title = "SSH rule " + std::to_string(r);
      rules[r].tags = {"attack.credential_access", "attack.t1110"};
    }
    for (size_t k = 0; k < kPool; ++k) {
      if (k % kBatchSize == 0) {
        batches.push_back(std::make_unique<EventBatch>());
        hits.emplace_back();
      }
      EventBatch& batch = *batches.back();
      Event& event = batch.AddEvent();
      const size_t n = k + offset;
      const std::string user = kUsers[n % 10];
      const size_t a = n % addresses;
      const std::string ip = "203.0." + std::to_string(a / 250) + "." + std::to_string(a % 250 + 1);
      const std::string port = std::to_string(32768 + n % 28000);
      const std::string raw = "<86>Dec  5 06:36:25 bastion-01 sshd[4711]: Failed password for " +
                              user + " from " + ip + " port " + port + " ssh2";
      event.id = k + 1;
      event.event_time_ns = kBase + static_cast<int64_t>(k);
      event.host = batch.arena().Copy("bastion-01");
      event.program = batch.arena().Copy("sshd");
      event.raw = batch.arena().Copy(raw);
      event.message = event.raw.substr(event.raw.find("Failed"));
      batch.AddField(event, "method", "password");
      batch.AddField(event, "user", batch.arena().Copy(user));
      batch.AddField(event, "src_ip", batch.arena().Copy(ip));
      batch.AddField(event, "src_port", batch.arena().Copy(port));
      batch.AddField(event, "action", "failure");
      hits.back().push_back({static_cast<uint32_t>(batch.size() - 1), &rules[(n / 10) % kRules]});
    }
  }

  void AddAll(Aggregator& aggregator, std::vector<Alert>& alerts) const {
    for (size_t b = 0; b < batches.size(); ++b) {
      alerts.clear();
      aggregator.Add(*batches[b], hits[b], agencies, alerts);
    }
  }
};

AggregateOptions Options() {
  AggregateOptions options;
  options.clock_for_test = [] {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(kBase));
  };
  return options;
}

void BM_AddJoin(benchmark::State& state) {
  const Workload workload(static_cast<size_t>(state.range(0)));
  Aggregator aggregator(Options(), nullptr);
  std::vector<Alert> alerts;
  workload.AddAll(aggregator, alerts);  // opens every aggregate
  for (auto _ : state) workload.AddAll(aggregator, alerts);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPool));
  state.counters["open"] = static_cast<double>(aggregator.stats().open);
  state.counters["ns_per_hit"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kPool),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AddJoin)->Arg(50)->Arg(2000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_AddOpen(benchmark::State& state) {
  const Workload workload(kPool, 0);
  std::unique_ptr<Aggregator> aggregator;
  std::vector<Alert> alerts;
  for (auto _ : state) {
    state.PauseTiming();
    aggregator = std::make_unique<Aggregator>(Options(), nullptr);
    state.ResumeTiming();
    workload.AddAll(*aggregator, alerts);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPool));
  state.counters["ns_per_hit"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kPool),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AddOpen)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
