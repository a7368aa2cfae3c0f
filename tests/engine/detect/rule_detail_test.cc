// RuleDetailJson: GET /api/v1/rules/{id} of the running set, detection and
// correlation rules, by id or name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/detect/rule_engine.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRules = R"(title: Failed "password"
id: 00000000-0000-0000-0000-0000000000d1
name: failed_password
status: test
description: Someone typed a wrong password.
author: gsoc tests
references:
  - https://example.org/ssh
falsepositives:
  - users who forget their password
tags: [attack.credential-access, attack.t1110]
logsource: {product: linux, service: sshd}
detection:
  selection:
    message|contains: 'Failed password'
  condition: selection
level: low
---
title: Many failed passwords
id: 00000000-0000-0000-0000-0000000000c1
description: Five failures within a minute.
correlation:
  type: event_count
  rules: [failed_password]
  group-by: [host]
  timespan: 1m
  condition: {gte: 5}
level: high
)";

class RuleDetailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gsoc-rule-detail-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "rules.yml") << kRules;
    RuleSources sources;
    sources.rule_paths = {dir_};
    sources.agency_names = {"unknown"};
    build_ = BuildRuleEngine(sources);
    ASSERT_TRUE(build_.engine) << (build_.fatal.empty() ? "" : build_.fatal[0].ToString());
    ASSERT_TRUE(build_.refused.empty()) << build_.refused[0].ToString();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  RuleEngineBuild build_;
};

TEST_F(RuleDetailTest, DetectionRuleByIdOrNameWithEveryMetaMember) {
  const auto json = RuleDetailJson(*build_.engine, "00000000-0000-0000-0000-0000000000d1");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(*json,
            R"({"id":"00000000-0000-0000-0000-0000000000d1","name":"failed_password",)"
            R"("title":"Failed \"password\"","description":"Someone typed a wrong password.",)"
            R"("status":"test","level":"low","tags":["attack.credential-access","attack.t1110"],)"
            R"("references":["https://example.org/ssh"],)"
            R"("falsepositives":["users who forget their password"],"author":"gsoc tests",)"
            R"("kind":"detection"})");
  EXPECT_EQ(RuleDetailJson(*build_.engine, "failed_password"), json);
}

TEST_F(RuleDetailTest, CorrelationRuleHasItsTypeAndEmptyLists) {
  const auto json = RuleDetailJson(*build_.engine, "00000000-0000-0000-0000-0000000000c1");
  ASSERT_TRUE(json.has_value());
  EXPECT_NE(json->find(R"("title":"Many failed passwords")"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("level":"high")"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("references":[],"falsepositives":[])"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("kind":"correlation","type":"event_count"})"), std::string::npos)
      << *json;
}

TEST_F(RuleDetailTest, UnknownIdIsNothing) {
  EXPECT_FALSE(RuleDetailJson(*build_.engine, "no-such-rule").has_value());
  EXPECT_FALSE(RuleDetailJson(*build_.engine, "").has_value());
}

}  // namespace
}  // namespace gsoc
