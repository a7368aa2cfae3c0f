// AlertStore: committed alerts/s under each sync policy, and the latency of
// "the last 100 alerts of rule X" over a large store.
//
// Alerts are realistic: ~640-byte JSON (rule with tags, group, fields, a
// contributing raw syslog line), 5 rules, 3 agencies, times one per
// millisecond.
//
// BM_Commit/<policy>/<listener>: 2 threads each publish batches of 64 (the
// way DetectionStage does, once per event batch) into a fresh store (with
// listener 1, a commit listener is registered, as in gsocd, so Publish
// renders each alert's JSON besides its binary record); the timed
// span runs from the first Publish to the end of Flush (everything
// committed). The alerts are built before the timer starts. Counters:
// alerts_per_s = committed alerts / timed seconds; cpu_us_per_alert = CPU
// time of the whole process (publishers encoding records and rendering
// JSON, the writer, RocksDB flushes and compactions) per alert, which does
// not depend on how busy the machine is; write_us_per_alert = wall time
// inside the WriteBatch write (and sync) per alert, on the writer thread;
// record_bytes = stored bytes per alert (key, record head and body);
// json_bytes = the JSON listeners got per alert.
//
// BM_RenderJson: the cost of AppendAlertJson per alert (json_bytes: its size).
//
// BM_Query*: a store of GSOC_BENCH_STORE_ALERTS alerts (default 10,000,000)
// built once with sync none (~1-2 minutes; kept in GSOC_BENCH_STORE_DIR if
// that is set, and reused by later runs when it already holds enough
// alerts), then:
//   BM_QueryLastOfRule      newest 100 of one rule (rules in turn)
//   BM_QueryLastOfRuleDeep  newest 100 of one rule before a random id
//   BM_QueryLastOfAgencyHigh newest 100 of an agency with level >= high
//   BM_QueryLast            newest 100 of all alerts
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/alert_store.h"

namespace {

using namespace gsoc;
using namespace gsoc::store;
namespace fs = std::filesystem;

constexpr int64_t kMilli = 1'000'000;
constexpr int64_t kBase = 1'764'000'000LL * 1'000'000'000;
constexpr size_t kBatch = 64;
constexpr int kThreads = 2;
constexpr int kEventsPerAlert = 1;  // ~640-byte JSON (2: ~770 bytes)

struct RuleSpec {
  const char* id;
  const char* name;
  const char* title;
  rules::Level level;
};
constexpr RuleSpec kRules[] = {
    {"6f6b3f1e-2c1d-4e55-9a5e-6a1f0a010a01", "ssh_auth_failure", "SSH Authentication Failure",
     rules::Level::kLow},
    {"6f6b3f1e-2c1d-4e55-9a5e-6a1f0a010a02", "ssh_root_login", "SSH Login Attempt As Root",
     rules::Level::kMedium},
    {"6f6b3f1e-2c1d-4e55-9a5e-6a1f0a010a03", "ssh_bruteforce", "SSH Brute Force",
     rules::Level::kHigh},
    {"6f6b3f1e-2c1d-4e55-9a5e-6a1f0a010a04", "web_sqli", "SQL Injection In URL",
     rules::Level::kHigh},
    {"6f6b3f1e-2c1d-4e55-9a5e-6a1f0a010a05", "known_bad_ip", "Connection From Listed Address",
     rules::Level::kCritical},
};
const char* const kAgencies[] = {"mof", "moh", "mod"};

Alert MakeAlert(uint64_t n) {
  const RuleSpec& rule = kRules[n % 5];
  Alert alert;
  alert.time_ns = kBase + static_cast<int64_t>(n) * kMilli;
  alert.kind = n % 5 == 2 ? AlertKind::kCorrelation : AlertKind::kDetection;
  alert.rule = {
      rule.id, rule.name, rule.title, rule.level, {"attack.t1110", "attack.credential_access"}};
  alert.agency = kAgencies[(n / 5) % 3];
  const std::string ip = "203.0." + std::to_string((n >> 8) % 256) + "." + std::to_string(n % 256);
  alert.group = {{"src_ip", ip}};
  alert.window_start_ns = alert.time_ns - 60'000 * kMilli;
  alert.window_end_ns = alert.time_ns;
  alert.count = 1 + n % 7;
  alert.fields = {{"src_ip", ip}, {"user", "root"}, {"host", "bastion-" + std::to_string(n % 17)}};
  for (int e = 0; e < kEventsPerAlert; ++e) {
    alert.events.push_back({n * 2 + e, alert.time_ns - e * kMilli,
                            "<38>Nov 25 10:00:0" + std::to_string(e) +
                                " bastion sshd[812]: Failed password for root from " + ip +
                                " port 52144 ssh2"});
  }
  return alert;
}

fs::path MakeTempDir(const char* tag) {
  std::string pattern =
      (fs::temp_directory_path() / (std::string("gsoc-bench-") + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Timing {
  double seconds = 0;      // wall
  double cpu_seconds = 0;  // all threads of the process (publishers, writer, RocksDB)
};

// Builds the batches (outside the timer), then publishes them from 2 threads
// and flushes; returns the time that took.
Timing PublishFromThreads(AlertStore& store, size_t per_thread, uint64_t first) {
  std::vector<std::vector<std::vector<Alert>>> work(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (size_t i = 0; i < per_thread; i += kBatch) {
      std::vector<Alert> batch;
      for (size_t j = i; j < std::min(per_thread, i + kBatch); ++j) {
        batch.push_back(MakeAlert(first + t * per_thread + j));
      }
      work[t].push_back(std::move(batch));
    }
  }
  const double cpu_start = ProcessCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &batches = work[t]] {
      for (auto& batch : batches) store.Publish(batch);
    });
  }
  for (auto& thread : threads) thread.join();
  store.Flush();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          ProcessCpuSeconds() - cpu_start};
}

void BM_Commit(benchmark::State& state) {
  const auto policy = static_cast<SyncPolicy>(state.range(0));
  const size_t per_thread = policy == SyncPolicy::kAlways ? 1'000 : 100'000;
  const fs::path dir = MakeTempDir("commit");
  {
    StoreOptions options;
    options.path = dir / "alerts.db";
    options.sync = policy;
    options.retention_age = std::chrono::seconds(0);
    auto store = AlertStore::Open(options);
    // As in gsocd, where the live stream, the file and the webhook listen:
    // Publish then renders each alert's JSON too.
    struct Listener : CommitListener {
      void OnCommitted(std::span<const StoredAlert> alerts) override {
        for (const StoredAlert& alert : alerts) json_bytes += alert.json.size();
      }
      size_t json_bytes = 0;
    } listener;
    const bool listening = state.range(1) != 0;
    if (listening) store->AddListener(&listener);
    double write_seconds = 0;  // inside rocksdb::DB::Write (writer thread)
    store->SetCommitObserver(
        [&write_seconds](double seconds, size_t) { write_seconds += seconds; });
    uint64_t first = 0, alerts = 0;
    double seconds = 0, cpu_seconds = 0;
    for (auto _ : state) {
      const Timing took = PublishFromThreads(*store, per_thread, first);
      state.SetIterationTime(took.seconds);
      first += kThreads * per_thread;
      alerts += kThreads * per_thread;
      seconds += took.seconds;
      cpu_seconds += took.cpu_seconds;
    }
    state.counters["alerts_per_s"] = static_cast<double>(alerts) / seconds;
    state.counters["cpu_us_per_alert"] = cpu_seconds * 1e6 / static_cast<double>(alerts);
    state.counters["write_us_per_alert"] = write_seconds * 1e6 / static_cast<double>(alerts);
    state.counters["batches"] = static_cast<double>(store->stats().batches_committed);
    state.counters["record_bytes"] =
        static_cast<double>(store->stats().live_bytes) / static_cast<double>(alerts);
    if (listening) {
      state.counters["json_bytes"] =
          static_cast<double>(listener.json_bytes) / static_cast<double>(alerts);
    }
    for (const auto& [name, value] : store->RocksDbTickers()) {
      if (name == "stall_micros") state.counters["stall_ms"] = static_cast<double>(value) / 1e3;
    }
    state.SetLabel(std::string(SyncPolicyName(policy)) + (listening ? " +listener" : ""));
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_Commit)
    ->Args({static_cast<int>(SyncPolicy::kAlways), 0})
    ->Args({static_cast<int>(SyncPolicy::kBatch), 0})
    ->Args({static_cast<int>(SyncPolicy::kNone), 0})
    ->Args({static_cast<int>(SyncPolicy::kBatch), 1})
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// Rendering one alert's JSON (AppendAlertJson): the work Publish does on the
// calling worker so that the writer thread, the serial part, does not.
void BM_RenderJson(benchmark::State& state) {
  std::vector<Alert> alerts;
  for (uint64_t n = 0; n < 1000; ++n) alerts.push_back(MakeAlert(n));
  std::string json;
  size_t n = 0, bytes = 0;
  for (auto _ : state) {
    json.clear();
    AppendAlertJson(json, alerts[n++ % alerts.size()]);
    bytes += json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["json_bytes"] = static_cast<double>(bytes) / static_cast<double>(n);
}
BENCHMARK(BM_RenderJson);

// --- queries over a large store ---------------------------------------------------

size_t QueryStoreSize() {
  const char* env = std::getenv("GSOC_BENCH_STORE_ALERTS");
  return env ? std::strtoull(env, nullptr, 10) : 10'000'000;
}

class QueryStore {
 public:
  static QueryStore& Get() {
    static QueryStore instance;
    return instance;
  }
  AlertStore& store() { return *store_; }
  uint64_t size() const { return size_; }

 private:
  QueryStore() : size_(QueryStoreSize()) {
    const char* keep = std::getenv("GSOC_BENCH_STORE_DIR");
    dir_ = keep ? fs::path(keep) : MakeTempDir("query");
    remove_ = keep == nullptr;
    StoreOptions options;
    options.path = dir_ / "alerts.db";
    options.sync = SyncPolicy::kNone;
    options.retention_age = std::chrono::seconds(0);
    store_ = AlertStore::Open(options);
    if (store_->last_id() < size_) Build();
  }
  ~QueryStore() {
    store_.reset();
    if (remove_) fs::remove_all(dir_);
  }

  void Build() {
    const uint64_t have = store_->last_id();
    const size_t chunk = 500'000;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t done = have; done < size_;) {
      const size_t per_thread = std::min<uint64_t>(chunk, size_ - done) / kThreads;
      if (per_thread == 0) break;
      PublishFromThreads(*store_, per_thread, done);
      done += per_thread * kThreads;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "built a store of %llu alerts in %.1f s (%s)\n",
                 static_cast<unsigned long long>(store_->last_id()), seconds, dir_.c_str());
  }

  uint64_t size_;
  fs::path dir_;
  bool remove_ = true;
  std::unique_ptr<AlertStore> store_;
};

void RunQueries(benchmark::State& state, const std::function<QueryRequest(uint64_t)>& make) {
  AlertStore& store = QueryStore::Get().store();
  uint64_t n = 0, returned = 0;
  for (auto _ : state) {
    const QueryResult result = store.Query(make(n++));
    returned += result.alerts.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["alerts_per_query"] = static_cast<double>(returned) / static_cast<double>(n);
  state.counters["stored"] = static_cast<double>(store.last_id());
}

void BM_QueryLastOfRule(benchmark::State& state) {
  RunQueries(state, [](uint64_t n) {
    QueryRequest request;
    request.filter.rule = n % 2 ? kRules[n % 5].id : kRules[n % 5].name;
    request.limit = 100;
    request.newest_first = true;
    return request;
  });
}
BENCHMARK(BM_QueryLastOfRule)->Unit(benchmark::kMicrosecond);

void BM_QueryLastOfRuleDeep(benchmark::State& state) {
  std::mt19937_64 random(42);
  const uint64_t size = QueryStore::Get().store().last_id();
  RunQueries(state, [&](uint64_t n) {
    QueryRequest request;
    request.filter.rule = kRules[n % 5].name;
    request.filter.before_id = 1 + random() % size;
    request.limit = 100;
    request.newest_first = true;
    return request;
  });
}
BENCHMARK(BM_QueryLastOfRuleDeep)->Unit(benchmark::kMicrosecond);

void BM_QueryLastOfAgencyHigh(benchmark::State& state) {
  RunQueries(state, [](uint64_t n) {
    QueryRequest request;
    request.filter.agency = kAgencies[n % 3];
    request.filter.min_level = rules::Level::kHigh;
    request.limit = 100;
    request.newest_first = true;
    return request;
  });
}
BENCHMARK(BM_QueryLastOfAgencyHigh)->Unit(benchmark::kMicrosecond);

void BM_QueryLast(benchmark::State& state) {
  RunQueries(state, [](uint64_t) {
    QueryRequest request;
    request.limit = 100;
    request.newest_first = true;
    return request;
  });
}
BENCHMARK(BM_QueryLast)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
