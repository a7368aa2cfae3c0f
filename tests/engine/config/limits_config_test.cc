// The keys issue 11 added: rules.limits, pipeline.queue_bytes, and the
// listeners' max_connections_per_agency and first_message_timeout.
#include <gtest/gtest.h>

#include "engine/config/config.h"

namespace gsoc {
namespace {

const std::filesystem::path kFile = "/etc/gsoc/gsoc.yaml";

std::string Errors(const std::string& yaml) {
  ConfigResult result = ParseConfig(yaml, kFile);
  std::string all;
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    for (const auto& error : *errors) all += error.ToString() + "\n";
  }
  return all;
}

TEST(LimitsConfigTest, DefaultsAreTheDocumentedOnes) {
  const RuleLimitsConfig limits;
  EXPECT_EQ(limits.regex_match_limit, 20'000u);
  EXPECT_EQ(limits.regex_depth_limit, 10'000u);
  EXPECT_EQ(limits.regex_heap_limit_kib, 4096u);
  EXPECT_EQ(limits.max_values_per_rule, 5'000u);
  EXPECT_EQ(limits.max_patterns, 50'000u);
  EXPECT_EQ(limits.max_list_bytes, 128u << 20);
  EXPECT_EQ(limits.max_list_entries, 2'000'000u);
  EXPECT_EQ(limits.max_list_entry_bytes, 8192u);
  EXPECT_EQ(limits.reload_timeout, std::chrono::minutes(2));
  EXPECT_EQ(PipelineConfig{}.queue_bytes, 128u << 20);
  EXPECT_EQ(ListenerConfig{}.max_connections_per_agency, 1024u);
  EXPECT_EQ(ListenerConfig{}.first_message_timeout, std::chrono::seconds(10));
}

TEST(LimitsConfigTest, ParsesEveryKey) {
  ConfigResult result = ParseConfig(R"(listeners:
  - {name: t, type: syslog_tcp, port: 0, max_connections_per_agency: 7, first_message_timeout: 3s}
pipeline: {queue_bytes: 64MiB}
rules:
  sigma: [/]
  limits:
    regex_match_limit: 5000
    regex_depth_limit: 500
    regex_heap_limit: 1MiB
    max_values_per_rule: 10
    max_patterns: 20
    max_list_bytes: 1MiB
    max_list_entries: 30
    max_list_entry_bytes: 100
    reload_timeout: 30s
)",
                                    kFile);
  ASSERT_TRUE(std::holds_alternative<Config>(result)) << Errors("");
  const Config& config = std::get<Config>(result);
  EXPECT_EQ(config.listeners[0].max_connections_per_agency, 7u);
  EXPECT_EQ(config.listeners[0].first_message_timeout, std::chrono::seconds(3));
  EXPECT_EQ(config.pipeline.queue_bytes, 64u << 20);
  const RuleLimitsConfig& limits = config.rules.limits;
  EXPECT_EQ(limits.regex_match_limit, 5000u);
  EXPECT_EQ(limits.regex_depth_limit, 500u);
  EXPECT_EQ(limits.regex_heap_limit_kib, 1024u);
  EXPECT_EQ(limits.max_values_per_rule, 10u);
  EXPECT_EQ(limits.max_patterns, 20u);
  EXPECT_EQ(limits.max_list_bytes, 1u << 20);
  EXPECT_EQ(limits.max_list_entries, 30u);
  EXPECT_EQ(limits.max_list_entry_bytes, 100u);
  EXPECT_EQ(limits.reload_timeout, std::chrono::seconds(30));
}

TEST(LimitsConfigTest, BadValuesAndUnknownKeysAreErrors) {
  const std::string errors = Errors(R"(rules:
  sigma: [/]
  limits:
    regex_match_limit: 10
    max_patterns: lots
    reload_timeout: 1ms
    max_list_lines: 5
pipeline: {queue_bytes: 1KiB}
)");
  EXPECT_NE(errors.find(":4:24: rules.limits.regex_match_limit: expected a size from 1000"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find(":5:19: rules.limits.max_patterns:"), std::string::npos) << errors;
  EXPECT_NE(errors.find(":6:21: rules.limits.reload_timeout:"), std::string::npos) << errors;
  EXPECT_NE(errors.find(":7:5: rules.limits.max_list_lines: unknown key"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("pipeline.queue_bytes"), std::string::npos) << errors;
}

}  // namespace
}  // namespace gsoc
