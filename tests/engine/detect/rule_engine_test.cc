// BuildRuleEngine loads the decoders on a second thread while the rules
// compile: what it reports must be what the sequential build reported, and
// the rules are checked even when a decoder file is broken.
#include "engine/detect/rule_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/engine/detect/test_rules.h"
#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

// References a selection it does not define: refused.
constexpr const char* kRefusedRule = R"(title: Refused
id: 5c3f0a52-2f4e-4b44-9d35-0f0c1e3f9a01
logsource: {product: linux, service: sshd}
detection:
  selection:
    message|contains: 'Failed password'
  condition: selection and missing
level: low
)";

class RuleEngineBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "rules");
    fs::create_directories(dir_.path() / "decoders");
    std::ofstream(dir_.path() / "rules" / "good.yml") << testing::kFailedPasswordRule;
  }
  void WriteDecoder(bool valid) {
    std::ofstream(dir_.path() / "decoders" / "d.yaml")
        << (valid ? "decoders:\n  - name: user\n    programs: [sshd]\n"
                    "    regex: 'for (?<user>\\S+) from'\n"
                  : "decoders:\n  - name: broken\n    regex: '(unclosed'\n");
  }
  RuleSources Sources() const {
    RuleSources sources;
    sources.rule_paths = {dir_.path() / "rules"};
    sources.decoder_paths = {dir_.path() / "decoders"};
    sources.agency_names = {"unknown"};
    return sources;
  }

  test::TempDir dir_{"rule-engine"};
};

TEST_F(RuleEngineBuildTest, DecodersAndRulesBothLoad) {
  WriteDecoder(true);
  const RuleEngineBuild build = BuildRuleEngine(Sources());
  ASSERT_TRUE(build.fatal.empty()) << build.fatal.front().ToString();
  ASSERT_NE(build.engine, nullptr);
  EXPECT_NE(build.engine->decoders, nullptr);
  EXPECT_EQ(build.rules_loaded, 1u);
}

TEST_F(RuleEngineBuildTest, ABrokenDecoderFailsTheBuildAndTheRulesAreStillChecked) {
  WriteDecoder(false);
  std::ofstream(dir_.path() / "rules" / "refused.yml") << kRefusedRule;
  const RuleEngineBuild build = BuildRuleEngine(Sources());
  EXPECT_EQ(build.engine, nullptr);
  ASSERT_EQ(build.fatal.size(), 1u);
  EXPECT_NE(build.fatal[0].ToString().find("d.yaml"), std::string::npos)
      << build.fatal[0].ToString();
  // Checked beside the decoders: `gsocctl rules check` lists both at once.
  ASSERT_EQ(build.refused.size(), 1u);
  EXPECT_NE(build.refused[0].ToString().find("refused.yml"), std::string::npos)
      << build.refused[0].ToString();
}

TEST_F(RuleEngineBuildTest, TheDecodersErrorsComeAfterTheListsAsBefore) {
  WriteDecoder(false);
  RuleSources sources = Sources();
  sources.lists.push_back({"bad_ips", dir_.path() / "no-such-list.txt", ""});
  const RuleEngineBuild build = BuildRuleEngine(sources);
  EXPECT_EQ(build.engine, nullptr);
  ASSERT_EQ(build.fatal.size(), 2u);
  EXPECT_EQ(build.fatal[0].code, "list.file");
  EXPECT_NE(build.fatal[1].ToString().find("d.yaml"), std::string::npos)
      << build.fatal[1].ToString();
}

}  // namespace
}  // namespace gsoc
