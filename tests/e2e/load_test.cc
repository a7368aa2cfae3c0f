// End to end under load: no loss when the sender outpaces the engine, idle
// connections do not slow an active sender, and SIGTERM drains everything
// gsocd has read.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

// "<13>Jan  1 00:00:00 host prog: seq=N ...\n" for N in [first, first + count).
std::string Messages(size_t first, size_t count) {
  std::string out;
  out.reserve(count * 80);
  for (size_t i = first; i < first + count; ++i) {
    out += "<134>Jan  1 00:00:00 loadhost loadprog[77]: seq=";
    out += std::to_string(i);
    out += " user=alice action=login result=ok\n";
  }
  return out;
}

size_t CountFromEnv(const char* name, size_t release, size_t sanitizer) {
  if (const char* value = std::getenv(name)) return std::strtoull(value, nullptr, 10);
  return UnderSanitizer() ? sanitizer : release;
}

struct SeqCheck {
  size_t lines = 0;
  size_t missing = 0;  // below `expected` and not seen
  size_t duplicates = 0;
  size_t out_of_range = 0;
  size_t unreadable = 0;  // no seq= in the line
  size_t highest_plus_one = 0;
};

// Reads the events file and checks which seq= numbers it holds.
SeqCheck CheckSequences(const std::filesystem::path& path, size_t expected) {
  SeqCheck check;
  std::vector<uint8_t> seen(expected, 0);
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    ++check.lines;
    const size_t at = line.find("seq=");
    if (at == std::string::npos) {
      ++check.unreadable;
      continue;
    }
    const size_t seq = std::strtoull(line.c_str() + at + 4, nullptr, 10);
    if (seq >= expected) {
      ++check.out_of_range;
      continue;
    }
    if (seen[seq]++) ++check.duplicates;
    check.highest_plus_one = std::max(check.highest_plus_one, seq + 1);
  }
  for (size_t i = 0; i < expected; ++i) check.missing += seen[i] == 0;
  return check;
}

TEST(E2eLoad, NoLossUnderOverload) {
  const size_t count = CountFromEnv("GSOC_E2E_OVERLOAD_COUNT", 1'000'000, 1'000'000);
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
pipeline:
  queue_events: 4096
  workers: 1
  batch_events: 256
)"}));
  const std::string data = Messages(0, count);
  std::atomic<bool> done{false};
  double max_queue = 0;
  std::thread monitor([&] {
    while (!done.load()) {
      const auto value = FindMetric(gsocd.Scrape(), "gsoc_queue_events");
      if (value) max_queue = std::max(max_queue, *value);
      std::this_thread::sleep_for(50ms);
    }
  });
  const auto start = Clock::now();
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    EXPECT_TRUE(SendAll(fd.get(), data));
  }
  const auto sent = Clock::now();
  const bool all = gsocd.WaitMetric("gsoc_events_processed_total", {}, double(count), 60s);
  const auto processed = Clock::now();
  done = true;
  monitor.join();
  EXPECT_TRUE(all) << gsocd.Scrape();
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::printf(
      "[e2e] %zu messages: sent in %lld ms, processed after %lld ms (%.0f/s); "
      "max queue depth seen %.0f of 4096\n",
      count, static_cast<long long>(ms(sent - start)),
      static_cast<long long>(ms(processed - start)),
      count * 1000.0 / std::max<int64_t>(1, ms(processed - start)), max_queue);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}, {"agency", "local"}}),
            double(count));
  EXPECT_EQ(gsocd.Metric("gsoc_events_processed_total"), double(count));
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_bytes_received_total"), double(data.size()));
  // The engine was the bottleneck: the queue filled up at some point.
  EXPECT_GT(max_queue, 0) << "the queue never held anything: not an overload";
  EXPECT_EQ(gsocd.Stop(), 0);
  const SeqCheck check = CheckSequences(gsocd.events_path(), count);
  EXPECT_EQ(check.lines, count);
  EXPECT_EQ(check.missing, 0u);
  EXPECT_EQ(check.duplicates, 0u);
  EXPECT_EQ(check.out_of_range + check.unreadable, 0u);
}

// Polls (finely) until gsoc_events_processed_total reaches `total`.
bool WaitProcessed(Gsocd& gsocd, double total, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  while (Clock::now() < deadline) {
    if (FindMetric(gsocd.Scrape(), "gsoc_events_processed_total") == total) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

// Sends `data` on a fresh connection; returns messages/s until gsocd has
// processed `total` events. `while_open` runs with the connection open.
double MeasureRate(Gsocd& gsocd, const std::string& data, size_t messages, double total,
                   const std::function<void()>& while_open = {}) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  if (while_open) while_open();
  const auto start = Clock::now();
  EXPECT_TRUE(SendAll(fd.get(), data));
  fd.Close();
  EXPECT_TRUE(WaitProcessed(gsocd, total, 60s)) << gsocd.Scrape();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return messages / seconds;
}

TEST(E2eLoad, ThousandIdleConnectionsBesideOneActiveSender) {
  constexpr size_t kIdle = 1000;
  constexpr int kRounds = 3;  // best of: the machine is shared
  ASSERT_GE(RaiseFileLimit(kIdle + 512), kIdle + 100);
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
    max_connections_per_peer: 4096
)",
                           /*events_file=*/false}));
  const size_t messages = CountFromEnv("GSOC_E2E_ACTIVE_COUNT", 1'000'000, 100'000);
  const std::string data = Messages(0, messages);
  size_t total = 0;

  double alone = 0;
  for (int round = 0; round < kRounds; ++round) {
    total += messages;
    alone = std::max(alone, MeasureRate(gsocd, data, messages, double(total)));
  }

  std::vector<Fd> idle;
  for (size_t i = 0; i < kIdle; ++i) {
    idle.emplace_back(ConnectTcp(gsocd.port("tcp")));
    ASSERT_GE(idle.back().get(), 0) << "idle connection " << i;
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, double(kIdle)))
      << gsocd.Scrape();
  double beside_idle = 0;
  int beside_rounds = 0;
  // Up to twice the rounds while below the bound: the two phases run at
  // different times, and on a shared machine one phase can get half the CPU
  // the other got; a real collapse (work per idle connection) stays.
  for (int round = 0; round < kRounds || (round < 2 * kRounds && beside_idle < 0.5 * alone);
       ++round) {
    total += messages;
    double open = -1;
    beside_idle =
        std::max(beside_idle, MeasureRate(gsocd, data, messages, double(total), [&] {
                   // The active connection is accepted once the count shows it.
                   gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, double(kIdle + 1));
                   open = gsocd.Metric("gsoc_connections", {{"listener", "tcp"}});
                 }));
    EXPECT_EQ(open, double(kIdle + 1)) << "round " << round;
    beside_rounds = round + 1;
  }
  std::printf(
      "[e2e] active sender, best of %d (beside: %d) x %zu messages: %.0f msg/s alone, %.0f "
      "msg/s beside %zu idle connections\n",
      kRounds, beside_rounds, messages, alone, beside_idle, kIdle);
  EXPECT_GE(beside_idle, 0.5 * alone) << "throughput collapsed with idle connections open";
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}}), double(total));
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 0);
  // The idle ones are still open (default idle_timeout 10 min) ...
  // (Waited for: the last active connection closes asynchronously.)
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, double(kIdle)))
      << gsocd.Scrape();
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total", {}, 2 * kRounds));
  // ... and all close cleanly.
  idle.clear();
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, 0, 20s));
  EXPECT_EQ(gsocd.Metric("gsoc_connections_closed_total", {{"reason", "peer_closed"}}),
            double(kIdle + 2 * kRounds));
  EXPECT_EQ(gsocd.Stop(), 0);
}

// Parses "stopped: N events processed" from gsocd's log.
std::optional<size_t> StoppedCount(const std::string& log) {
  static const std::regex pattern(R"(stopped: (\d+) events processed)");
  std::smatch match;
  if (!std::regex_search(log, match, pattern)) return std::nullopt;
  return std::stoull(match[1]);
}

// Sends `total` messages on one connection and SIGTERMs gsocd as soon as
// the first `signal_after` are written (the rest keeps being written by a
// thread until gsocd closes the connection). Whatever gsocd read must be
// processed: the events file holds exactly what the final log line counts,
// and, one connection being framed in order, a prefix of what was sent.
void ShutdownDrains(size_t total, size_t signal_after, const std::string& pipeline) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
)" + pipeline}));
  const std::string data = Messages(0, total);
  size_t split = data.size();
  if (signal_after < total) {
    split = 0;
    for (size_t i = 0; i < signal_after; ++i) split = data.find('\n', split) + 1;
  }
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  ASSERT_TRUE(SendAll(fd.get(), std::string_view(data).substr(0, split)));
  std::thread rest([&] { SendAll(fd.get(), std::string_view(data).substr(split)); });
  // The kernel took the first part, but gsocd may not have read any of it
  // yet (slow under ASan): SIGTERM once it has, so there is work to drain.
  EXPECT_TRUE(gsocd.WaitMetricAtLeast("gsoc_events_received_total", {}, 1, 30s));
  const int code = gsocd.Stop(30s);
  rest.join();
  EXPECT_EQ(code, 0) << gsocd.Stderr();
  const std::string log = gsocd.Stderr();
  const auto stopped = StoppedCount(log);
  ASSERT_TRUE(stopped.has_value()) << "no final log line:\n" << log;
  const SeqCheck check = CheckSequences(gsocd.events_path(), total);
  std::printf(
      "[e2e] SIGTERM after %zu of %zu messages written: %zu processed, %zu in the "
      "events file\n",
      signal_after, total, *stopped, check.lines);
  EXPECT_EQ(check.lines, *stopped);
  EXPECT_GT(check.lines, 0u);
  EXPECT_LE(check.lines, total);
  EXPECT_EQ(check.duplicates, 0u);
  EXPECT_EQ(check.out_of_range + check.unreadable, 0u);
  EXPECT_EQ(check.highest_plus_one, check.lines) << "a hole in the processed sequence";
  EXPECT_EQ(check.missing, total - check.lines);
}

TEST(E2eLoad, ShutdownDrainsAfterTheSenderFinished) {
  ShutdownDrains(100'000, 100'000, "pipeline: {workers: 1}\n");
}

// The engine is slower than the sender (small queue, events file, one
// worker), so at SIGTERM the session is blocked on a full queue with
// unframed bytes in hand and more in the socket.
TEST(E2eLoad, ShutdownDrainsWhileTheSenderIsBlocked) {
  const size_t total = CountFromEnv("GSOC_E2E_BLOCKED_COUNT", 1'000'000, 200'000);
  ShutdownDrains(total, total / 10,
                 "pipeline: {queue_events: 4096, workers: 1, batch_events: 256}\n");
}

}  // namespace
}  // namespace gsoc::e2e
