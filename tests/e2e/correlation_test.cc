// End to end: correlation in a running gsocd with the shipped rule pack.
//  - Replay equals live: OpenSSH_2k.log sent over TCP gives the correlation
//    alerts `gsocctl replay` gives for the same file.
//  - Restart safety: kill -9 after a checkpoint, restart on the same data
//    dir, send the rest of the stream: the correlation alerts are those of an
//    uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

// rule id, group values, count: what identifies a correlation alert across runs.
using CorrelationKey = std::tuple<std::string, std::string, uint64_t>;

std::multiset<CorrelationKey> CorrelationAlerts(const std::string& jsonl) {
  std::multiset<CorrelationKey> out;
  simdjson::dom::parser parser;
  for (const std::string& line : SplitLines(jsonl)) {
    if (line.empty() || line[0] != '{') continue;  // gsocctl's summary on stderr
    simdjson::dom::element root;
    if (parser.parse(line).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    if (std::string_view(root["kind"]) != "correlation") continue;
    std::string group;
    for (auto field : simdjson::dom::object(root["group"])) {
      group += std::string(field.key) + "=" + std::string(std::string_view(field.value)) + " ";
    }
    out.emplace(std::string(std::string_view(root["rule"]["id"])), group, uint64_t(root["count"]));
  }
  return out;
}

void SendText(Gsocd& gsocd, const std::string& text) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  ASSERT_TRUE(SendAll(fd.get(), text));
}

TEST(E2eCorrelation, LiveIngestGivesTheAlertsOfAReplay) {
  TempDir dir;
  const fs::path log = fs::path(GSOC_CORPUS_DIR) / "loghub/OpenSSH/OpenSSH_2k.log";
  const RunResult replay =
      RunProgram({GSOCCTL_PATH, "replay", "--no-cache", log.string()}, Scaled(120s));
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  const auto expected = CorrelationAlerts(replay.output);
  ASSERT_FALSE(expected.empty()) << replay.output;

  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir, "correlation:\n  idle_advance: 1s\n")}));
  SendText(gsocd, ReadFile(log));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2000, Scaled(30s)));
  // The stream has gone quiet: after idle_advance the open windows close, as
  // the replay closes them at the end of its input.
  ASSERT_TRUE(
      gsocd.WaitMetric("gsoc_correlation_firings_total", {}, double(expected.size()), Scaled(30s)));
  // Every correlation family documented in the README is exposed, and
  // promtool finds nothing to say about them.
  const std::string metrics = gsocd.Scrape();
  for (const char* name :
       {"gsoc_correlation_updates_total", "gsoc_correlation_firings_total",
        "gsoc_correlation_suppressed_total", "gsoc_correlation_late_events_total",
        "gsoc_correlation_missing_group_total", "gsoc_correlation_missing_value_total",
        "gsoc_correlation_evictions_total", "gsoc_correlation_expired_total",
        "gsoc_correlation_entries_dropped_total", "gsoc_correlation_raw_missing_total",
        "gsoc_correlation_keys", "gsoc_correlation_state_bytes",
        "gsoc_correlation_stream_time_seconds", "gsoc_correlation_checkpoints_total",
        "gsoc_correlation_checkpoint_failures_total", "gsoc_correlation_checkpoint_bytes"}) {
    EXPECT_TRUE(FindMetric(metrics, name).has_value()) << name;
  }
  EXPECT_EQ(FindMetric(metrics, "gsoc_alerts_total", {{"kind", "correlation"}}),
            double(expected.size()));
  WriteFile(dir / "metrics.txt", metrics);
  const RunResult promtool =
      RunProgram({"/usr/bin/promtool", "check", "metrics"}, 30s, dir / "metrics.txt");
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;
  for (const std::string& line : SplitLines(promtool.output)) {
    EXPECT_EQ(line.find("gsoc_"), std::string::npos) << "promtool: " << line;
  }
  EXPECT_EQ(gsocd.Stop(), 0);
  EXPECT_EQ(CorrelationAlerts(ReadFile(dir / "var/alerts.jsonl")), expected);
}

// Twenty sources, each failing twelve times ten seconds apart with six user
// names in turn: brute force (10 in 5m) and spraying (5 users in 10m) fire
// for each source, distributed brute force (5 sources in 30m) for each user.
std::vector<std::string> BruteForceStream() {
  std::vector<std::string> lines;
  for (int attempt = 0; attempt < 12; ++attempt) {
    for (int source = 0; source < 20; ++source) {
      const int second = attempt * 10;
      char line[200];
      std::snprintf(line, sizeof line,
                    "<38>Nov 25 11:%02d:%02d bastion sshd[%d]: Failed password for user%d from "
                    "198.19.7.%d port %d ssh2\n",
                    second / 60, second % 60, 4000 + source, attempt % 6, source, 40000 + attempt);
      lines.push_back(line);
    }
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines, size_t begin, size_t end) {
  std::string text;
  for (size_t i = begin; i < end; ++i) text += lines[i];
  return text;
}

TEST(E2eCorrelation, WindowsResumeAfterKillNine) {
  const std::vector<std::string> lines = BruteForceStream();
  const size_t half = lines.size() / 2;  // six attempts of each source
  // Idle advance longer than the test: only event time moves windows.
  const std::string correlation =
      "correlation:\n  checkpoint_interval: 200ms\n  idle_advance: 10m\n";

  std::multiset<CorrelationKey> uninterrupted;
  {
    TempDir dir;
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir, correlation)}));
    SendText(gsocd, Join(lines, 0, lines.size()));
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, double(lines.size())));
    EXPECT_EQ(gsocd.Stop(), 0);
    uninterrupted = CorrelationAlerts(ReadFile(dir / "var/alerts.jsonl"));
    ASSERT_EQ(uninterrupted.size(), 46u);  // 20 brute forces, 20 sprayings, 6 accounts
  }

  TempDir dir;
  {
    Gsocd first;
    ASSERT_TRUE(first.Start({ShippedPackConfig(dir, correlation)}));
    SendText(first, Join(lines, 0, half));
    ASSERT_TRUE(first.WaitMetric("gsoc_events_processed_total", {}, double(half)));
    ASSERT_TRUE(first.WaitMetric("gsoc_correlation_updates_total", {}, double(half * 3)));
    // (each failure feeds three correlations) A checkpoint written after the
    // last update holds all of them.
    const double before = first.Metric("gsoc_correlation_checkpoints_total");
    ASSERT_TRUE(first.WaitMetricAtLeast("gsoc_correlation_checkpoints_total", {}, before + 2));
    first.Kill();
  }
  Gsocd second;
  ASSERT_TRUE(second.Start({ShippedPackConfig(dir, correlation)}));
  EXPECT_NE(second.Stderr().find("correlation: resumed"), std::string::npos) << second.Stderr();
  SendText(second, Join(lines, half, lines.size()));
  ASSERT_TRUE(second.WaitMetric("gsoc_events_processed_total", {}, double(lines.size() - half)));
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_EQ(CorrelationAlerts(ReadFile(dir / "var/alerts.jsonl")), uninterrupted);
}

}  // namespace
}  // namespace gsoc::e2e
