// Correlator: Process throughput (updates/s and events/s, one thread) and
// memory per live key, with 100 correlation rules (90 event_count "gte 5
// per 5m by src_ip", 10 value_count "distinct user gte 5 per 5m by src_ip")
// and 1,000,000 live (rule, src_ip) keys.
//
// The events (fields src_ip and user, a ~130-byte raw line) are built once,
// outside the timed loop: event k hits detection rule k % 100, which feeds
// correlation k % 100, with src_ip number k / 100 (10,000 addresses), in a
// shuffled order. A warm-up pass creates all 1,000,000 keys; the timed loop
// then replays the batches, cycle after cycle, with event times moved on by
// 100 s per cycle (only the times are rewritten before each Process). So
// every key gets one input per 100 s of event time: a 5-minute window holds
// 3-4 entries, nothing fires, and entries and keys age out as in a steady
// live stream.
//
// Counters: updates_per_s / events_per_s (one thread); bytes_per_key =
// stats().state_bytes / live_keys (after warm-up: one entry per key; and at
// the end: steady state); rss_per_key = RSS growth during warm-up minus the
// raw-line cache (allocated in full on first use), per live key.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/correlate/correlator.h"

namespace {

using namespace gsoc;
using namespace gsoc::correlate;

constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kRules = 100;
constexpr size_t kValueCountRules = 10;
constexpr size_t kKeys = 1'000'000;
constexpr size_t kBatchSize = 1024;
constexpr int64_t kCycleNs = 100 * kSecond;
constexpr int64_t kBase = 1'764'000'000 * kSecond;

// Resident bytes, after giving freed heap back to the system (so that memory
// freed by an earlier benchmark does not hide growth).
size_t RssBytes() {
  ::malloc_trim(0);
  long pages = 0, resident = 0;
  if (FILE* file = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(file, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(file);
  }
  return static_cast<size_t>(resident) * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

CorrelationRule MakeRule(size_t index, bool value_count) {
  CorrelationRule rule;
  rule.name = "corr_" + std::to_string(index);
  rule.id = "bench-" + rule.name;
  rule.title = "Bench correlation " + std::to_string(index);
  rule.type = value_count ? CorrelationType::kValueCount : CorrelationType::kEventCount;
  RuleRef ref;
  ref.written = ref.name = "det_" + std::to_string(index);
  ref.index = static_cast<uint32_t>(index);
  rule.refs = {ref};
  rule.group_by = {"src_ip"};
  rule.group_fields = {{"src_ip"}};
  rule.timespan_ns = 300 * kSecond;
  rule.condition.gte = 5;
  if (value_count) rule.field = "user";
  rule.fingerprint =
      rule.name + "|" + (value_count ? "value_count|user" : "event_count") + "|src_ip|300s|gte 5";
  return rule;
}

CorrelationSet MakeSet(size_t value_count_rules) {
  CorrelationSet set;
  for (size_t i = 0; i < kRules; ++i) {
    set.rules.push_back(MakeRule(i, i >= kRules - value_count_rules));
    set.detection_routes.push_back({{static_cast<uint32_t>(i), 0}});
  }
  set.correlation_routes.resize(kRules);
  set.correlation_silenced.assign(kRules, false);
  set.detection_silenced.assign(kRules, true);
  return set;
}

std::string Address(size_t n) {
  return "10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." +
         std::to_string(n & 255);
}

struct Workload {
  std::vector<std::unique_ptr<EventBatch>> batches;
  std::vector<std::vector<RuleHit>> hits;

  Workload() {
    std::vector<uint32_t> order(kKeys);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
    for (size_t begin = 0; begin < kKeys; begin += kBatchSize) {
      auto batch = std::make_unique<EventBatch>();
      std::vector<RuleHit> batch_hits;
      for (size_t k = begin; k < std::min(kKeys, begin + kBatchSize); ++k) {
        const uint32_t key = order[k];
        const std::string ip = Address(key / kRules);
        const std::string user = "user" + std::to_string(key % 37);
        const std::string raw = "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for " +
                                user + " from " + ip + " port 52144 ssh2";
        Event& event = batch->AddEvent();
        event.id = k + 1;
        event.raw = batch->arena().Copy(raw);
        event.message = event.raw;
        batch->AddField(event, "src_ip", batch->arena().Copy(ip));
        batch->AddField(event, "user", batch->arena().Copy(user));
        batch_hits.push_back(
            {static_cast<uint32_t>(batch->size() - 1), static_cast<uint32_t>(key % kRules)});
      }
      batches.push_back(std::move(batch));
      hits.push_back(std::move(batch_hits));
    }
  }

  // Event times of pass `cycle`: spread evenly over the cycle, in order.
  void Stamp(size_t batch_index, uint64_t cycle) {
    const int64_t start = kBase + static_cast<int64_t>(cycle) * kCycleNs;
    const int64_t step = kCycleNs / static_cast<int64_t>(kKeys);
    int64_t position = static_cast<int64_t>(batch_index * kBatchSize);
    for (Event& event : batches[batch_index]->events()) {
      event.event_time_ns = start + position++ * step;
      event.id = (cycle << 32) | static_cast<uint64_t>(position);
    }
  }

  static Workload& Get() {
    static Workload workload;
    return workload;
  }
};

CorrelatorOptions BenchOptions() {
  CorrelatorOptions options;
  options.shards = 16;
  options.max_keys_per_rule = kKeys;
  return options;
}

// Memory of 1,000,000 event_count keys with one entry each, without the raw
// cache (0 bytes), so RSS growth is key state only.
void BM_EventCountKeyMemory(benchmark::State& state) {
  Workload& workload = Workload::Get();
  const CorrelationSet set = MakeSet(0);
  CorrelatorOptions options = BenchOptions();
  options.raw_cache_bytes = 0;
  for (auto _ : state) {
    const size_t rss_before = RssBytes();
    Correlator correlator(options, {"bench"});
    std::vector<Alert> alerts;
    for (size_t b = 0; b < workload.batches.size(); ++b) {
      workload.Stamp(b, 0);
      correlator.Process(set, *workload.batches[b], workload.hits[b], alerts);
    }
    const CorrelatorStats stats = correlator.stats();
    const double rss_growth = static_cast<double>(RssBytes()) - static_cast<double>(rss_before);
    state.counters["live_keys"] = static_cast<double>(stats.live_keys);
    state.counters["bytes_per_key"] =
        static_cast<double>(stats.state_bytes) / static_cast<double>(stats.live_keys);
    state.counters["rss_per_key"] = rss_growth / static_cast<double>(stats.live_keys);
    state.counters["updates_per_s"] =
        benchmark::Counter(static_cast<double>(stats.updates), benchmark::Counter::kIsRate);
  }
}
BENCHMARK(BM_EventCountKeyMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

// Process of pre-built batches; see the top of the file.
void BM_CorrelateProcess(benchmark::State& state) {
  const size_t value_count_rules = static_cast<size_t>(state.range(0));
  Workload& workload = Workload::Get();
  const CorrelationSet set = MakeSet(value_count_rules);
  const CorrelatorOptions options = BenchOptions();
  const size_t rss_before = RssBytes();
  Correlator correlator(options, {"bench"});
  std::vector<Alert> alerts;
  for (size_t b = 0; b < workload.batches.size(); ++b) {  // warm-up: every key once
    workload.Stamp(b, 0);
    correlator.Process(set, *workload.batches[b], workload.hits[b], alerts);
  }
  const CorrelatorStats warm = correlator.stats();
  const double rss_growth = static_cast<double>(RssBytes()) - static_cast<double>(rss_before) -
                            static_cast<double>(options.raw_cache_bytes);

  size_t batch = 0;
  uint64_t cycle = 1, events = 0;
  for (auto _ : state) {
    workload.Stamp(batch, cycle);
    correlator.Process(set, *workload.batches[batch], workload.hits[batch], alerts);
    events += workload.hits[batch].size();
    alerts.clear();
    if (++batch == workload.batches.size()) batch = 0, ++cycle;
  }
  const CorrelatorStats end = correlator.stats();
  const double updates = static_cast<double>(end.updates - warm.updates);
  state.SetItemsProcessed(static_cast<int64_t>(updates));
  state.counters["updates_per_s"] = benchmark::Counter(updates, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["live_keys"] = static_cast<double>(end.live_keys);
  state.counters["bytes_per_key_warm"] =
      static_cast<double>(warm.state_bytes) / static_cast<double>(warm.live_keys);
  state.counters["bytes_per_key"] =
      static_cast<double>(end.state_bytes) / static_cast<double>(end.live_keys);
  state.counters["rss_per_key_warm"] = rss_growth / static_cast<double>(warm.live_keys);
  state.counters["firings"] = static_cast<double>(end.firings);
  state.counters["expired"] = static_cast<double>(end.expired);
}
BENCHMARK(BM_CorrelateProcess)
    ->ArgName("value_count_rules")
    ->Arg(kValueCountRules)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

// A checkpoint of the warmed-up state (1,000,000 keys, one entry each, the
// raw lines their windows refer to), one thread: what gsocd's correlation
// service spends every checkpoint_interval. (The state lock is taken per
// piece of kCheckpointPiece slots, so a batch waits ~1 ms at most.)
void BM_Checkpoint(benchmark::State& state) {
  Workload& workload = Workload::Get();
  const CorrelationSet set = MakeSet(kValueCountRules);
  const CorrelatorOptions options = BenchOptions();
  Correlator correlator(options, {"bench"});
  std::vector<Alert> alerts;
  for (size_t b = 0; b < workload.batches.size(); ++b) {
    workload.Stamp(b, 0);
    correlator.Process(set, *workload.batches[b], workload.hits[b], alerts);
  }
  std::string blob;
  correlator.Checkpoint(blob);  // the buffer's pages, as gsocd keeps it
  for (auto _ : state) correlator.Checkpoint(blob);
  const double keys = static_cast<double>(correlator.stats().live_keys);
  state.counters["bytes"] = static_cast<double>(blob.size());
  state.counters["ns_per_key"] = benchmark::Counter(
      keys * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Checkpoint)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
