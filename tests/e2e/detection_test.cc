// End to end: gsocd with rules. Lines sent over TCP are decoded and matched,
// alerts land in the alerts file in the documented schema, SIGHUP reloads the
// rules (a broken set keeps the running one), alert ids keep increasing
// across a restart, and an alert shows its rule as it was when it fired.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <filesystem>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;
const fs::path kPack = fs::path(GSOC_SOURCE_DIR) / "rules";

constexpr const char* kRootFailure =
    "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from 198.18.0.7 port 52144 "
    "ssh2\n";

std::string DetectionConfig(const TempDir& dir) {
  return "data_dir: " + (dir / "var").string() + "\n" +
         "listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"
         "rules:\n  sigma: [" +
         (dir / "sigma").string() +
         "]\n"
         "  decoders: [" +
         (dir / "decoders").string() +
         "]\n"
         "  logsources: " +
         (kPack / "logsources.yaml").string() +
         "\n"
         "  cache_dir: " +
         (dir / "hs-cache").string() +
         "\n"
         "alerts:\n  aggregate: {enabled: false}\n  file: " +  // one alert per line sent
         (dir / "alerts.jsonl").string() +
         "\n";
}

void Send(Gsocd& gsocd, const std::string& text) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  ASSERT_TRUE(SendAll(fd.get(), text));
}

struct AlertLine {
  uint64_t id;
  std::string rule_id, level, kind, agency, src_ip, raw;
};

std::vector<AlertLine> ReadAlerts(const fs::path& file) {
  std::vector<AlertLine> alerts;
  simdjson::dom::parser parser;
  for (const std::string& line : SplitLines(ReadFile(file))) {
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(line).get(root), simdjson::SUCCESS) << line;
    if (!root.is_object()) continue;
    AlertLine alert;
    alert.id = std::stoull(std::string(std::string_view(root["id"])));
    alert.rule_id = std::string(std::string_view(root["rule"]["id"]));
    alert.level = std::string(std::string_view(root["rule"]["level"]));
    alert.kind = std::string(std::string_view(root["kind"]));
    alert.agency = std::string(std::string_view(root["agency"]));
    alert.src_ip = std::string(std::string_view(root["fields"]["src_ip"]));
    alert.raw = std::string(std::string_view(root["events"].at(0)["raw"]));
    alerts.push_back(alert);
  }
  return alerts;
}

TEST(E2eDetection, AlertsReloadAndIdsAcrossRestart) {
  TempDir rules_dir;
  fs::create_directories(rules_dir / "sigma");
  fs::create_directories(rules_dir / "decoders");
  fs::copy_file(kPack / "sigma/linux/sshd_failed_auth.yml", rules_dir / "sigma/a.yml");
  fs::copy_file(kPack / "decoders/sshd.yaml", rules_dir / "decoders/sshd.yaml");
  fs::copy_file(kPack / "decoders/pam.yaml", rules_dir / "decoders/pam.yaml");
  const std::string config = DetectionConfig(rules_dir);
  const fs::path alerts_file = rules_dir / "alerts.jsonl";
  uint64_t last_id = 0;
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    EXPECT_EQ(gsocd.Metric("gsoc_rules_loaded"), 1);
    Send(gsocd, kRootFailure);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {{"level", "low"}}, 1));

    // A second rule, then SIGHUP: the new set is built and swapped in.
    fs::copy_file(kPack / "sigma/linux/sshd_root_login_failed.yml", rules_dir / "sigma/b.yml");
    ::kill(gsocd.pid(), SIGHUP);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_rules_loaded", {}, 2));
    Send(gsocd, kRootFailure);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {{"level", "medium"}}, 1));
    EXPECT_EQ(gsocd.Metric("gsoc_alerts_total", {{"level", "low"}}), 2);

    // A broken decoder file: the reload fails and the running set stays.
    WriteFile(rules_dir / "decoders/broken.yaml", "decoders:\n  - name: x\n    regex: '(oops'\n");
    ::kill(gsocd.pid(), SIGHUP);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_rule_reloads_total", {{"result", "failure"}}, 1));
    Send(gsocd, kRootFailure);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {{"level", "medium"}}, 2));
    EXPECT_EQ(gsocd.Metric("gsoc_rules_loaded"), 2);
    EXPECT_EQ(gsocd.Stop(), 0);
    EXPECT_NE(gsocd.Stderr().find("broken.yaml:3"), std::string::npos)
        << "reload failure not logged";

    const auto alerts = ReadAlerts(alerts_file);
    ASSERT_EQ(alerts.size(), 5u);
    for (const AlertLine& alert : alerts) {
      EXPECT_GT(alert.id, last_id);
      last_id = alert.id;
      EXPECT_EQ(alert.kind, "detection");
      EXPECT_EQ(alert.agency, "local");
      EXPECT_EQ(alert.src_ip, "198.18.0.7");
      EXPECT_EQ(alert.raw + "\n", kRootFailure);
    }
  }
  // Restart on the same data dir: ids continue above every id handed out.
  fs::remove(rules_dir / "decoders/broken.yaml");
  Gsocd restarted;
  ASSERT_TRUE(restarted.Start({config}));
  Send(restarted, kRootFailure);
  ASSERT_TRUE(restarted.WaitMetric("gsoc_alerts_total", {{"level", "medium"}}, 1));
  EXPECT_EQ(restarted.Stop(), 0);
  const auto alerts = ReadAlerts(alerts_file);
  ASSERT_EQ(alerts.size(), 7u);
  EXPECT_GT(alerts[5].id, last_id);
  EXPECT_GT(alerts[6].id, alerts[5].id);
}

// The description a GET of the alert shows as its rule_detail.
std::string RuleDescriptionOf(uint16_t api, const std::string& token, uint64_t id) {
  const HttpResult reply = HttpRequest(api, "GET", "/api/v1/alerts/" + std::to_string(id),
                                       {"Authorization: Bearer " + token});
  EXPECT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view description;
  if (parser.parse(reply.body).get(root) || root["rule_detail"]["description"].get(description)) {
    ADD_FAILURE() << "no rule_detail.description in " << reply.body;
    return "";
  }
  return std::string(description);
}

// A reload that rewrites a rule's description: the alert it fired before
// still shows the old text (its rule revision, kept by the store, also
// across a restart); the alert after shows the new one.
TEST(E2eDetection, AnAlertShowsItsRuleAsItWasWhenItFired) {
  TempDir rules_dir;
  fs::create_directories(rules_dir / "sigma");
  fs::create_directories(rules_dir / "decoders");
  const std::string rule = ReadFile(kPack / "sigma/linux/sshd_failed_auth.yml");
  const std::string old_text = "A failed password or public-key authentication";
  ASSERT_NE(rule.find(old_text), std::string::npos);
  WriteFile(rules_dir / "sigma/a.yml", rule);
  fs::copy_file(kPack / "decoders/sshd.yaml", rules_dir / "decoders/sshd.yaml");
  const std::string config = DetectionConfig(rules_dir);
  std::vector<uint64_t> ids;
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    Send(gsocd, kRootFailure);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {{"level", "low"}}, 1));
    std::string changed = rule;
    changed.replace(changed.find(old_text), old_text.size(), "Rewritten after the first alert");
    WriteFile(rules_dir / "sigma/a.yml", changed);
    ::kill(gsocd.pid(), SIGHUP);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_rule_reloads_total", {{"result", "success"}}, 2));
    Send(gsocd, kRootFailure);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {{"level", "low"}}, 2));
    const std::string token = ApiToken(rules_dir);
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_alerts_committed_total", {}, 2));
    for (const std::string& json : StoredAlertJsons(gsocd.port("api"), token)) {
      const size_t at = json.find("\"id\":\"") + 6;
      ids.push_back(std::stoull(json.substr(at)));
    }
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_NE(RuleDescriptionOf(gsocd.port("api"), token, ids[0]).find(old_text),
              std::string::npos);
    EXPECT_NE(
        RuleDescriptionOf(gsocd.port("api"), token, ids[1]).find("Rewritten after the first alert"),
        std::string::npos);
    EXPECT_EQ(gsocd.Stop(), 0);
  }
  Gsocd restarted;  // runs the rewritten rule; the first alert keeps its revision
  ASSERT_TRUE(restarted.Start({config}));
  EXPECT_NE(RuleDescriptionOf(restarted.port("api"), ApiToken(rules_dir), ids[0]).find(old_text),
            std::string::npos);
  EXPECT_EQ(restarted.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
