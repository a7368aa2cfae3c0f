// Sigma filters (sigma-filters-specification): a filter document suppresses
// exactly the events it names, for exactly the rules it names — through the
// whole engine (loader, pipelines, matcher) on Windows JSON events.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "collectors/json/json_parser.h"
#include "engine/detect/detection_stage.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRules = R"(title: Whoami
id: 11111111-0000-0000-0000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\whoami.exe'
  condition: selection
---
title: Whoami again
id: 11111111-0000-0000-0000-000000000002
logsource: {product: windows, category: process_creation}
detection:
  selection:
    CommandLine|contains: whoami
  condition: selection
)";

// From the specification's example: the administrators' accounts.
constexpr const char* kFilter = R"(title: Filter administrator accounts
id: 22222222-0000-0000-0000-000000000001
logsource:
  category: process_creation
  product: windows
filter:
  rules:
    - 11111111-0000-0000-0000-000000000001
  selection:
    User|startswith: 'adm_'
  condition: selection
)";

class SigmaFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gsoc_filter_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RuleEngineBuild Build(const std::string& filter) {
    std::ofstream(dir_ / "rules.yml") << kRules;
    if (!filter.empty()) std::ofstream(dir_ / "filter.yml") << filter;
    RuleSources sources;
    sources.rule_paths = {dir_};
    sources.logsources = fs::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml";
    sources.agency_names = {"unknown"};
    return BuildRuleEngine(sources);
  }

  static std::set<std::string> Fired(const RuleEngine& engine, const std::string& user) {
    const std::string line =
        R"({"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},)"
        R"("EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all",)"
        R"("User":")" +
        user + R"("}}})";
    EventBatch batch;
    Event& event = batch.AddEvent();
    JsonLineParser parser;
    EXPECT_TRUE(parser.ParseOrKeepRaw(batch.arena().CopyPadded(line), {}, event, batch));
    EngineScratch scratch = MakeEngineScratch(engine);
    std::set<std::string> ids;
    DetectEvent(engine, batch, event, scratch,
                [&](const rules::Rule& rule) { ids.insert(rule.id.substr(34)); });
    return ids;
  }

  fs::path dir_;
};

TEST_F(SigmaFilterTest, SuppressesExactlyTheNamedEventsForTheNamedRules) {
  const RuleEngineBuild build = Build(kFilter);
  for (const auto& error : build.refused) ADD_FAILURE() << error.ToString();
  ASSERT_TRUE(build.engine);
  EXPECT_EQ(build.rules_loaded, 2u);
  // The filtered rule (..01) stays quiet for adm_ accounts; the other rule
  // still fires for them; both fire for everyone else.
  EXPECT_EQ(Fired(*build.engine, "CORP\\\\alice"), (std::set<std::string>{"01", "02"}));
  EXPECT_EQ(Fired(*build.engine, "adm_bob"), (std::set<std::string>{"02"}));
  // Without the filter both fire for adm_ accounts too.
  fs::remove(dir_ / "filter.yml");
  const RuleEngineBuild plain = Build("");
  ASSERT_TRUE(plain.engine);
  EXPECT_EQ(Fired(*plain.engine, "adm_bob"), (std::set<std::string>{"01", "02"}));
}

TEST_F(SigmaFilterTest, AFilterNamingNoLoadedRuleOrAnotherLogsourceIsRefused) {
  std::string unknown = kFilter;
  unknown.replace(unknown.find("11111111-0000-0000-0000-000000000001"), 36,
                  "33333333-0000-0000-0000-000000000009");
  RuleEngineBuild build = Build(unknown);
  ASSERT_EQ(build.refused.size(), 1u);
  EXPECT_NE(build.refused[0].message.find("which is not loaded"), std::string::npos);
  EXPECT_EQ(build.refused[0].location.line, 1);
  std::string other = kFilter;
  other.replace(other.find("process_creation"), 16, "image_load");
  build = Build(other);
  ASSERT_EQ(build.refused.size(), 1u);
  EXPECT_NE(build.refused[0].message.find("logsource does not match"), std::string::npos);
  // Not applied: both rules fire for adm_ accounts.
  EXPECT_EQ(Fired(*build.engine, "adm_bob"), (std::set<std::string>{"01", "02"}));
}

}  // namespace
}  // namespace gsoc
