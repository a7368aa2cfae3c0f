// Start, signals and shutdown under attack (issue 11 findings 1, 2, 11).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/adversarial/adversarial.h"
#include "tests/util/loopback_listener.h"

namespace gsoc::adversarial {
namespace {

// Waits until gsocd has written its first log line: it runs its own code (a
// signal now is "during the start"), well before it is ready. Under load the
// dynamic loader alone can take longer than the 0.15 s of the report.
bool WaitFirstLogLine(Gsocd& gsocd) {
  const auto deadline = Clock::now() + Scaled(30s);
  while (gsocd.Stderr().empty()) {
    if (Clock::now() > deadline || !gsocd.running()) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Finding 1: a port already taken makes the start fail: exit 1 with a
// "cannot start" line, never a crash in the teardown.
TEST(Lifecycle, PortTakenExitsCleanlyWithCannotStart) {
  // Hold a port the way another process would.
  uint16_t taken = 0;
  Fd holder(test::ListenOnLoopback(1, &taken));
  ASSERT_GE(holder.get(), 0);

  Gsocd gsocd;
  GsocdConfig config;
  config.yaml = RulesConfig(gsocd.dir(), "",
                            "  - {name: tcp, type: syslog_tcp, port: 0}\n"
                            "  - {name: json, type: json_tcp, port: " +
                                std::to_string(taken) + "}\n");
  const auto start = Clock::now();
  gsocd.Launch(config);
  const auto status = gsocd.WaitExit(Scaled(60s));
  ASSERT_TRUE(status.has_value()) << gsocd.Stderr();
  ExpectAtMost("failed_start_exit_ms", MillisSince(start), Scaled(30s).count(), "ms");
  EXPECT_TRUE(WIFEXITED(*status)) << DescribeStatus(*status) << "\n" << gsocd.Stderr();
  EXPECT_EQ(WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, 1) << gsocd.Stderr();
  EXPECT_NE(gsocd.Stderr().find("cannot start"), std::string::npos) << gsocd.Stderr();
  ExpectNoSanitizerReport(gsocd.Stderr(), "gsocd");
}

// Finding 11: a SIGHUP (a logrotate reload) right after the start must not
// kill gsocd; it is remembered and done once the rules are loaded.
TEST(Lifecycle, SighupDuringStartIsRememberedNotFatal) {
  Gsocd gsocd;
  gsocd.Launch({RulesConfig(gsocd.dir())});
  ASSERT_TRUE(WaitFirstLogLine(gsocd));
  gsocd.Signal(SIGHUP);
  std::this_thread::sleep_for(50ms);
  gsocd.Signal(SIGHUP);
  ASSERT_TRUE(gsocd.WaitReady(Scaled(60s))) << gsocd.Stderr();
  EXPECT_TRUE(gsocd.running()) << gsocd.Stderr();
  // The start's load, then a reload for the HUPs that came before it (the
  // second HUP may land after the load, on a slow machine, and be a reload
  // of its own).
  EXPECT_TRUE(gsocd.WaitMetricAtLeast("gsoc_rule_reloads_total", {{"result", "success"}}, 2, 30s))
      << gsocd.Scrape();
  std::this_thread::sleep_for(200ms);  // a reload of the second HUP has begun by now
  const double before = gsocd.Metric("gsoc_rule_reloads_total", {{"result", "success"}});
  EXPECT_LE(before, 3) << gsocd.Scrape();
  gsocd.Signal(SIGHUP);  // and once ready, a reload as always
  EXPECT_TRUE(
      gsocd.WaitMetricAtLeast("gsoc_rule_reloads_total", {{"result", "success"}}, before + 1, 30s));
  EXPECT_EQ(gsocd.Stop(), 0) << gsocd.Stderr();
}

// Finding 11: SIGTERM during the start stops gsocd cleanly once started.
TEST(Lifecycle, SigtermDuringStartStopsCleanly) {
  Gsocd gsocd;
  gsocd.Launch({RulesConfig(gsocd.dir())});
  ASSERT_TRUE(WaitFirstLogLine(gsocd));
  gsocd.Signal(SIGTERM);
  const auto status = gsocd.WaitExit(Scaled(60s));
  ASSERT_TRUE(status.has_value()) << gsocd.Stderr();
  EXPECT_EQ(DescribeStatus(*status), "exit 0") << gsocd.Stderr();
}

// Finding 2: SIGTERM while clients scrape /metrics without pause: gsocd
// exits, within a bound, with status 0.
TEST(Lifecycle, SigtermWhileScrapersHammerMetricsExits) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({RulesConfig(gsocd.dir())}));
  const uint16_t port = gsocd.metrics_port();
  {
    Fd sender(ConnectTcp(gsocd.port("tcp")));
    std::string lines;
    for (int i = 0; i < 200; ++i) lines += FailedPasswordLine(i);
    ASSERT_TRUE(SendAll(sender.get(), lines));
  }
  std::atomic<int> scrapes{0};
  Attackers scrapers(4, [&](int, const std::atomic<bool>& stop) {
    while (!stop.load()) {
      if (TimedRequest(port, "/metrics", {}, 2s).status == 200) scrapes.fetch_add(1);
    }
  });
  std::this_thread::sleep_for(500ms);
  const auto start = Clock::now();
  gsocd.Signal(SIGTERM);
  const auto status = gsocd.WaitExit(Scaled(30s));
  scrapers.Stop();
  ASSERT_TRUE(status.has_value()) << "gsocd hangs after SIGTERM\n" << gsocd.Stderr();
  ExpectAtMost("sigterm_with_scrapers_exit_ms", MillisSince(start), Scaled(10s).count(), "ms");
  EXPECT_EQ(DescribeStatus(*status), "exit 0") << gsocd.Stderr();
  EXPECT_GT(scrapes.load(), 0);
  ExpectNoSanitizerReport(gsocd.Stderr(), "gsocd");
}

// "Seen in the code": an existing data_dir (it may be /var/log) keeps its
// mode; only a directory gsocd creates gets 0750.
TEST(Lifecycle, ExistingDataDirKeepsItsMode) {
  Gsocd gsocd;
  const std::filesystem::path shared = gsocd.dir() / "shared";
  std::filesystem::create_directories(shared);
  ::chmod(shared.c_str(), 0755);
  ASSERT_TRUE(gsocd.Start({"data_dir: " + shared.string() +
                           "\nlisteners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"}));
  EXPECT_EQ(gsocd.Stop(), 0);
  struct stat info {};
  ASSERT_EQ(::stat(shared.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);
  Gsocd fresh;
  ASSERT_TRUE(fresh.Start({"listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"}));
  ASSERT_EQ(::stat((fresh.dir() / "var").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0750u);
}

}  // namespace
}  // namespace gsoc::adversarial
