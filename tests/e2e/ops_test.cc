// End to end: what an operator runs: promtool on /metrics, --check-config,
// --version.
#include <gtest/gtest.h>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

TEST(E2eOps, PromtoolAcceptsMetrics) {
  ASSERT_TRUE(std::filesystem::exists(kPromtool)) << "promtool (Debian: prometheus) missing";
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
  - name: udp
    type: syslog_udp
    port: 0
  - name: json
    type: json_tcp
    port: 0
)"}));
  // Some traffic so that counters are not all zero, and a scrape so that
  // the exposer's own summary has observations.
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), "<13>Jan  1 00:00:00 host prog: hello\n<999>bad\n"));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2));
  const std::string metrics = gsocd.Scrape();
  ASSERT_FALSE(metrics.empty());
  WriteFile(gsocd.dir() / "metrics.txt", metrics);
  const RunResult result =
      RunProgram({kPromtool, "check", "metrics"}, 30s, gsocd.dir() / "metrics.txt");
  std::printf("[e2e] promtool check metrics: exit %d\n%s\n", result.exit_code,
              result.output.c_str());
  EXPECT_EQ(result.exit_code, 0) << result.output << "\nmetrics:\n" << metrics;
  // Lint findings about our own metrics (gsoc_*) are ours to fix.
  for (const std::string& line : SplitLines(result.output)) {
    EXPECT_EQ(line.find("gsoc_"), std::string::npos) << "promtool: " << line;
  }
  // Every family we document is there.
  for (const char* name :
       {"gsoc_events_received_total", "gsoc_bytes_received_total", "gsoc_connections",
        "gsoc_events_discarded_total", "gsoc_parse_errors_total", "gsoc_connections_rejected_total",
        "gsoc_connections_closed_total", "gsoc_events_processed_total", "gsoc_queue_events",
        "gsoc_queue_capacity_events", "gsoc_queue_full_total", "gsoc_event_times_ahead_total",
        "gsoc_build_info"}) {
    EXPECT_TRUE(FindMetric(metrics, name).has_value()) << name;
    EXPECT_NE(metrics.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(FindMetric(metrics, "gsoc_build_info", {{"version", GSOC_VERSION}}), 1);
  EXPECT_NE(metrics.find("# TYPE gsoc_queue_full_total counter"), std::string::npos);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eOps, CheckConfigReportsEveryErrorWithFileLineAndColumn) {
  TempDir dir;
  const auto path = dir / "bad.yaml";
  WriteFile(path, R"(log_level: loud
bogus: 1
listeners:
  - name: a
    type: syslog_tcpx
    port: 70000
  - name: a
    type: syslog_udp
    port: 0
    idle_timeout: 0s
metrics: {port: 0}
pipeline: {workers: 1000}
agencies:
  - name: x
    cidrs: [10.0.0.0/33]
)");
  const RunResult result = RunProgram({GsocdPath(), "--check-config", path.string()});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string file = path.string();
  for (const std::string& expected :
       {file + ":1:12: log_level: ", file + ":2:1: bogus: unknown key",
        file + ":5:11: listeners[0].type: ", file + ":6:11: listeners[0].port: ",
        file + ":7:5: listeners[1].name: duplicate listener name 'a'",
        file + ":10:19: listeners[1].idle_timeout: ", file + ":12:21: pipeline.workers: ",
        file + ":15:13: agencies[0].cidrs[0]: invalid CIDR '10.0.0.0/33'"}) {
    EXPECT_NE(result.output.find(expected), std::string::npos)
        << "missing '" << expected << "' in:\n"
        << result.output;
  }
  EXPECT_NE(result.output.find(file + ": 8 error(s)"), std::string::npos) << result.output;

  // YAML that does not parse: one error, with its line.
  WriteFile(dir / "broken.yaml", "listeners:\n  - name: a\n    port: [1\n");
  const RunResult broken =
      RunProgram({GsocdPath(), "--check-config", (dir / "broken.yaml").string()});
  EXPECT_EQ(broken.exit_code, 2) << broken.output;
  EXPECT_NE(broken.output.find((dir / "broken.yaml").string() + ":"), std::string::npos)
      << broken.output;

  // A missing file.
  const RunResult missing =
      RunProgram({GsocdPath(), "--check-config", (dir / "nope.yaml").string()});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;

  // Starting with a bad config fails the same way and does not listen.
  const RunResult start = RunProgram({GsocdPath(), "-c", path.string()});
  EXPECT_EQ(start.exit_code, 2) << start.output;
}

TEST(E2eOps, CheckConfigAcceptsTheShippedConfig) {
  const std::string path = GSOC_SOURCE_DIR "/deploy/gsoc.yaml";
  const RunResult result = RunProgram({GsocdPath(), "--check-config", path});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(path + ": OK"), std::string::npos) << result.output;
}

TEST(E2eOps, Version) {
  for (const char* flag : {"--version", "-V"}) {
    const RunResult result = RunProgram({GsocdPath(), flag});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, std::string("gsocd ") + GSOC_VERSION + "\n");
  }
}

TEST(E2eOps, HelpAndUnknownOption) {
  const RunResult help = RunProgram({GsocdPath(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--check-config"), std::string::npos) << help.output;
  const RunResult bad = RunProgram({GsocdPath(), "--no-such-option"});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
}

}  // namespace
}  // namespace gsoc::e2e
