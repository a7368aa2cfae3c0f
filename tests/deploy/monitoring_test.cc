// deploy/prometheus and deploy/grafana: the alerting rules pass promtool's
// checks and unit tests, and every metric that a rule or a dashboard panel
// queries is one gsocd really exports.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

const std::filesystem::path kDeploy = std::filesystem::path(GSOC_SOURCE_DIR) / "deploy";
constexpr const char* kPromtool = "/usr/bin/promtool";

// Every gsoc_* metric name in the text; histogram series suffixes are folded
// to their family.
std::set<std::string> MetricNamesIn(const std::string& text) {
  static const std::regex kName(R"(\bgsoc_[a-z0-9_]+)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        name.resize(name.size() - s.size());
      }
    }
    names.insert(name);
  }
  return names;
}

// The metric families a gsocd with every component on exposes ("# TYPE" lines).
std::set<std::string> ExportedFamilies() {
  TempDir sink_dir;
  Gsocd gsocd;
  const std::string config = ShippedPackConfig(gsocd.dir(), R"(alerts:
  webhook:
    url: http://127.0.0.1:9/never
)");
  if (!gsocd.Start({config})) return {};
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    SendAll(fd.get(),
            "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from 198.51.100.7 "
            "port 52144 ssh2\n");
  }
  gsocd.WaitMetric("gsoc_events_processed_total", {}, 1);
  const std::string metrics = gsocd.Scrape();
  std::set<std::string> families;
  static const std::regex kType(R"(# TYPE (gsoc_[a-z0-9_]+) )");
  for (auto it = std::sregex_iterator(metrics.begin(), metrics.end(), kType);
       it != std::sregex_iterator(); ++it) {
    families.insert((*it)[1].str());
  }
  gsocd.Stop();
  return families;
}

TEST(DeployMonitoring, PromtoolChecksAndUnitTestsTheAlertingRules) {
  ASSERT_TRUE(std::filesystem::exists(kPromtool)) << "promtool (Debian: prometheus) missing";
  const auto rules = kDeploy / "prometheus" / "gsoc-alerts.yml";
  const RunResult check = RunProgram({kPromtool, "check", "rules", rules.string()});
  std::printf("[deploy] promtool check rules: exit %d\n%s", check.exit_code, check.output.c_str());
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("SUCCESS"), std::string::npos) << check.output;

  // promtool resolves rule_files relative to the test file's folder.
  const auto tests = kDeploy / "prometheus" / "gsoc-alerts.test.yml";
  const RunResult unit = RunProgram({kPromtool, "test", "rules", tests.string()});
  std::printf("[deploy] promtool test rules: exit %d\n%s", unit.exit_code, unit.output.c_str());
  EXPECT_EQ(unit.exit_code, 0) << unit.output;

  // Every alerting rule has at least one unit test that expects it to fire.
  const std::string rules_text = ReadFile(rules);
  const std::string tests_text = ReadFile(tests);
  static const std::regex kAlert(R"(- alert: (\w+))");
  size_t count = 0;
  for (auto it = std::sregex_iterator(rules_text.begin(), rules_text.end(), kAlert);
       it != std::sregex_iterator(); ++it, ++count) {
    const std::string name = (*it)[1].str();
    EXPECT_NE(tests_text.find("alertname: " + name + "\n"), std::string::npos)
        << name << " has no promtool unit test";
  }
  EXPECT_GE(count, 10u);
}

TEST(DeployMonitoring, RulesAndDashboardQueryOnlyExportedMetrics) {
  const std::set<std::string> exported = ExportedFamilies();
  ASSERT_GT(exported.size(), 30u) << "gsocd exported too few families";
  const std::string rules = ReadFile(kDeploy / "prometheus" / "gsoc-alerts.yml");
  const std::string dashboard = ReadFile(kDeploy / "grafana" / "gsoc.json");
  ASSERT_FALSE(dashboard.empty());
  const std::set<std::string> in_rules = MetricNamesIn(rules);
  const std::set<std::string> in_dashboard = MetricNamesIn(dashboard);
  EXPECT_GE(in_rules.size(), 12u);
  EXPECT_GE(in_dashboard.size(), 30u);
  for (const auto& name : in_rules) EXPECT_TRUE(exported.count(name)) << "rules: " << name;
  for (const auto& name : in_dashboard) EXPECT_TRUE(exported.count(name)) << "dashboard: " << name;
  std::printf("[deploy] %zu metric families exported; rules use %zu, the dashboard %zu\n",
              exported.size(), in_rules.size(), in_dashboard.size());
}

TEST(DeployMonitoring, DashboardIsTheGeneratorsOutput) {
  // gsoc.json is written by make_dashboard.py; an edit by hand would be lost.
  TempDir dir;
  const auto copy = dir / "make_dashboard.py";
  std::filesystem::copy_file(kDeploy / "grafana" / "make_dashboard.py", copy);
  const RunResult run = RunProgram({"/usr/bin/python3", copy.string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(ReadFile(dir / "gsoc.json"), ReadFile(kDeploy / "grafana" / "gsoc.json"));
}

}  // namespace
}  // namespace gsoc::e2e
