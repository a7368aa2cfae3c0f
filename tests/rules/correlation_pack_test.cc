// The shipped correlations (rules/sigma/correlations/) against their
// regression cases (rules/tests/correlations.yaml): each case is a stream of
// syslog lines in event time, run through the whole engine with a fresh
// Correlator; the correlation alerts must be exactly the expected ones.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "tests/rules/pack_engine.h"

namespace gsoc {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'795'600'800LL * kSecond;  // 2026-11-25T10:00:00Z

struct Expected {
  std::string rule;
  std::map<std::string, std::string> group;
  int64_t count = -1;  // -1: not checked

  bool operator<(const Expected& other) const {
    return std::tie(rule, group, count) < std::tie(other.rule, other.group, other.count);
  }
};

struct StreamCase {
  std::string name;
  int line_number = 0;
  std::vector<testing::TimedLine> lines;
  std::vector<Expected> expect;
};

std::string Rfc3164Stamp(int64_t ns) {
  const std::time_t seconds = ns / kSecond;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%b %e %H:%M:%S", &tm);
  return text;
}

std::string Expand(std::string text, int index) {
  for (size_t at; (at = text.find("{i}")) != std::string::npos;) {
    text.replace(at, 3, std::to_string(index));
  }
  return text;
}

void AddLines(const YAML::Node& entry, std::vector<testing::TimedLine>& out) {
  const int repeat = entry["repeat"] ? entry["repeat"].as<int>() : 1;
  const double every = entry["every"] ? entry["every"].as<double>() : 1;
  const double at = entry["at"].as<double>();
  for (int i = 0; i < repeat; ++i) {
    const int64_t time = kStart + static_cast<int64_t>((at + i * every) * kSecond);
    out.push_back(
        {time, "<38>" + Rfc3164Stamp(time) + " " + Expand(entry["line"].as<std::string>(), i)});
  }
}

std::vector<StreamCase> LoadCases() {
  const YAML::Node root = YAML::LoadFile((testing::PackDir() / "tests" / "correlations.yaml"));
  std::vector<StreamCase> cases;
  for (const YAML::Node& item : root["cases"]) {
    StreamCase c;
    c.name = item["name"].as<std::string>();
    c.line_number = item.Mark().line + 1;
    for (const YAML::Node& entry : item["lines"]) AddLines(entry, c.lines);
    std::stable_sort(c.lines.begin(), c.lines.end(),
                     [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; });
    for (const YAML::Node& e : item["expect"]) {
      Expected expected{
          e["rule"].as<std::string>(), {}, e["count"] ? e["count"].as<int64_t>() : -1};
      for (const auto& pair : e["group"]) {
        expected.group[pair.first.as<std::string>()] = pair.second.as<std::string>();
      }
      c.expect.push_back(std::move(expected));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<Expected> CorrelationAlerts(const std::vector<Alert>& alerts,
                                        const std::vector<Expected>& expect) {
  std::vector<Expected> out;
  for (const Alert& alert : alerts) {
    if (alert.kind != AlertKind::kCorrelation) continue;
    Expected got{alert.rule.id, {alert.group.begin(), alert.group.end()}, -1};
    // Compare the count only where the case states one for that rule and group.
    for (const Expected& e : expect) {
      if (e.rule == got.rule && e.group == got.group && e.count >= 0) {
        got.count = static_cast<int64_t>(alert.count);
      }
    }
    out.push_back(std::move(got));
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CorrelationPackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    build_ = new RuleEngineBuild(BuildRuleEngine(testing::PackSources()));
  }
  static void TearDownTestSuite() { delete build_; }
  static RuleEngineBuild* build_;
};
RuleEngineBuild* CorrelationPackTest::build_ = nullptr;

TEST_F(CorrelationPackTest, EveryShippedCorrelationLoads) {
  for (const auto& error : build_->refused) ADD_FAILURE() << error.ToString();
  ASSERT_TRUE(build_->engine);
  EXPECT_EQ(build_->correlations_loaded, 5u);
}

TEST_F(CorrelationPackTest, EveryCaseProducesExactlyItsCorrelationAlerts) {
  ASSERT_TRUE(build_->engine);
  const auto cases = LoadCases();
  ASSERT_GE(cases.size(), 10u);
  std::set<std::string> fired;
  for (const StreamCase& c : cases) {
    SCOPED_TRACE("correlations.yaml:" + std::to_string(c.line_number) + ": " + c.name);
    std::vector<Expected> expect = c.expect;
    std::sort(expect.begin(), expect.end());
    const std::vector<Alert> alerts = testing::RunStream(build_->engine, c.lines);
    const std::vector<Expected> got = CorrelationAlerts(alerts, c.expect);
    std::string described;
    for (const Alert& alert : alerts) {
      if (alert.kind != AlertKind::kCorrelation) continue;
      described += "\n  " + alert.rule.title + " count " + std::to_string(alert.count);
      for (const auto& [name, value] : alert.group) described += " " + name + "=" + value;
      for (const AlertEvent& event : alert.events) described += "\n    " + event.raw;
    }
    EXPECT_EQ(got.size(), expect.size()) << "correlation alerts:" << described;
    for (size_t i = 0; i < std::min(got.size(), expect.size()); ++i) {
      EXPECT_EQ(got[i].rule, expect[i].rule);
      EXPECT_EQ(got[i].group, expect[i].group);
      EXPECT_EQ(got[i].count, expect[i].count);
    }
    for (const Expected& e : got) fired.insert(e.rule);
  }
  for (const auto& correlation : build_->engine->correlations->rules) {
    EXPECT_TRUE(fired.count(correlation.id))
        << "no regression case fires " << correlation.location.file << " (" << correlation.title
        << ")";
  }
}

TEST_F(CorrelationPackTest, RulesThatOnlyFeedCorrelationsDoNotAlertAlone) {
  ASSERT_TRUE(build_->engine);
  const std::string scan =
      "<4>Nov 25 10:01:00 fw1 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:"
      "43:21:08:00 SRC=198.18.9.1 DST=192.0.2.10 LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID=1 PROTO=TCP "
      "SPT=40000 DPT=8081 WINDOW=1024 RES=0x00 SYN URGP=0";
  const auto alerts = testing::RunStream(build_->engine, {{kStart, scan}});
  EXPECT_TRUE(alerts.empty()) << alerts.size() << " alert(s), first " << alerts[0].rule.title;
}

}  // namespace
}  // namespace gsoc
