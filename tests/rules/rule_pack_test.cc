// The shipped rule pack (rules/) against its regression cases
// (rules/tests/*.yaml): every case line must fire exactly the listed rules
// and yield the listed fields, and every shipped rule must have a case that
// fires it. Rules that only feed correlations (silenced by `generate`) match
// without alerting; their cases are in correlations.yaml.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <set>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/detection_stage.h"
#include "tests/rules/pack_engine.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;
using testing::PackDir;
using testing::PackSources;

struct Case {
  std::string file;
  int line_number;
  std::string line;
  std::set<std::string> alerts;
  std::map<std::string, std::string> fields;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(PackDir() / "tests")) {
    if (entry.path().extension() != ".yaml") continue;
    if (entry.path().filename() == "correlations.yaml") continue;  // streams, not lines
    const YAML::Node root = YAML::LoadFile(entry.path().string());
    for (const YAML::Node& item : root["cases"]) {
      Case c{entry.path().filename().string(),
             item.Mark().line + 1,
             item["line"].as<std::string>(),
             {},
             {}};
      for (const auto& id : item["alerts"]) c.alerts.insert(id.as<std::string>());
      if (item["fields"]) {
        for (const auto& field : item["fields"]) {
          c.fields[field.first.as<std::string>()] = field.second.as<std::string>();
        }
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

class RulePackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { build_ = new RuleEngineBuild(BuildRuleEngine(PackSources())); }
  static void TearDownTestSuite() { delete build_; }
  static RuleEngineBuild* build_;
};
RuleEngineBuild* RulePackTest::build_ = nullptr;

TEST_F(RulePackTest, EveryShippedRuleLoads) {
  for (const auto& error : build_->refused) ADD_FAILURE() << error.ToString();
  for (const auto& fatal : build_->fatal) ADD_FAILURE() << fatal.ToString();
  ASSERT_TRUE(build_->engine);
  EXPECT_GE(build_->rules_loaded, 16u);
}

TEST_F(RulePackTest, EveryCaseFiresExactlyItsRules) {
  ASSERT_TRUE(build_->engine);
  const RuleEngine& engine = *build_->engine;
  EngineScratch scratch = MakeEngineScratch(engine);
  const auto cases = LoadCases();
  ASSERT_GE(cases.size(), 20u);
  std::set<std::string> fired;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line_number) + ": " + c.line);
    EventBatch batch;
    Event& event = batch.AddEvent();
    const std::string_view copy = batch.arena().CopyPadded(c.line);
    SyslogParseContext context;
    context.receive_time_ns = 1'764'064'800'000'000'000;  // 2025-11-25T10:00Z
    EventFormat failed;
    ParseSyslog(copy, context, event, batch, &failed);
    ASSERT_FALSE(event.parse_error);
    std::set<std::string> matched;
    const auto& silenced = engine.correlations->detection_silenced;
    const auto& all = engine.matcher->rules();
    DetectEvent(engine, batch, event, scratch, [&](const rules::Rule& rule) {
      if (!silenced[static_cast<size_t>(&rule - all.data())]) matched.insert(rule.id);
    });
    EXPECT_EQ(matched, c.alerts);
    fired.insert(matched.begin(), matched.end());
    for (const auto& [name, value] : c.fields) {
      EXPECT_EQ(batch.FieldValue(event, name), value) << "field " << name;
    }
  }
  const auto& rules = engine.matcher->rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    const rules::Rule& rule = rules[i];
    if (engine.correlations->detection_silenced[i]) continue;
    EXPECT_TRUE(fired.count(rule.id))
        << "no regression case fires " << rule.location.file << " (" << rule.title << ")";
  }
}

}  // namespace
}  // namespace gsoc
