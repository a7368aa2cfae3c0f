// Every rule of the shared Sigma corpus either loads or is refused with a
// specific reason, with the shipped rules/logsources.yaml. The expected
// outcome per file is pinned below so that a change in behaviour shows.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>

#include "engine/rules/sigma_loader.h"

namespace gsoc::rules {
namespace {

namespace fs = std::filesystem;

const fs::path kSigma = fs::path(GSOC_CORPUS_DIR) / "sigma";
constexpr const char* kLoaded = "loaded";
constexpr const char* kAggregation =
    "aggregation expressions are replaced by correlation rules; use a Sigma correlation rule";

// File (relative to corpus/sigma) -> "loaded" or the refusal reason.
const std::map<std::string, std::string>& Expected() {
  static const std::map<std::string, std::string> expected = {
      {"rules/linux/builtin/clamav/lnx_clamav_relevant_message.yml", kLoaded},
      {"rules/linux/builtin/cron/lnx_cron_crontab_file_modification.yml", kLoaded},
      {"rules/linux/builtin/guacamole/lnx_guacamole_susp_guacamole.yml", kLoaded},
      {"rules/linux/builtin/lnx_apt_equationgroup_lnx.yml", kLoaded},
      {"rules/linux/builtin/lnx_buffer_overflows.yml", kLoaded},
      {"rules/linux/builtin/lnx_clear_syslog.yml", kLoaded},
      {"rules/linux/builtin/lnx_file_copy.yml", kLoaded},
      {"rules/linux/builtin/lnx_ldso_preload_injection.yml", kLoaded},
      {"rules/linux/builtin/lnx_potential_susp_ebpf_activity.yml", kLoaded},
      {"rules/linux/builtin/lnx_privileged_user_creation.yml", kLoaded},
      {"rules/linux/builtin/lnx_shell_clear_cmd_history.yml", kLoaded},
      {"rules/linux/builtin/lnx_shell_susp_commands.yml", kLoaded},
      {"rules/linux/builtin/lnx_shell_susp_log_entries.yml", kLoaded},
      {"rules/linux/builtin/lnx_shell_susp_rev_shells.yml", kLoaded},
      {"rules/linux/builtin/lnx_shellshock.yml", kLoaded},
      {"rules/linux/builtin/lnx_susp_dev_tcp.yml", kLoaded},
      {"rules/linux/builtin/lnx_susp_jexboss.yml", kLoaded},
      {"rules/linux/builtin/lnx_symlink_etc_passwd.yml", kLoaded},
      {"rules/linux/builtin/sshd/lnx_sshd_susp_ssh.yml", kLoaded},
      {"rules/linux/builtin/syslog/lnx_syslog_security_tools_disabling_syslog.yml", kLoaded},
      {"rules/linux/builtin/syslog/lnx_syslog_susp_named.yml", kLoaded},
      {"rules/linux/builtin/vsftpd/lnx_vsftpd_susp_error_messages.yml", kLoaded},
      {"rules-emerging-threats/2018/Exploits/CVE-2018-15473/lnx_sshd_exploit_cve_2018_15473.yml",
       kLoaded},
      {"rules-emerging-threats/2019/Exploits/CVE-2019-14287/lnx_sudo_exploit_cve_2019_14287.yml",
       kLoaded},
      {"rules-emerging-threats/2021/Exploits/CVE-2021-4034/"
       "lnx_auth_exploit_cve_2021_4034_pwnkit_lpe.yml",
       kLoaded},
      {"rules-emerging-threats/2023/Exploits/CVE-2023-2283/"
       "lnx_sshd_exploit_cve_2023_2283_libssh_authentication_bypass.yml",
       kLoaded},
      {"unsupported/linux/lnx_auditd_cve_2021_3156_sudo_buffer_overflow.yml", kAggregation},
      {"unsupported/linux/lnx_auditd_cve_2021_3156_sudo_buffer_overflow_brutforce.yml",
       kAggregation},
      {"unsupported/linux/lnx_auditd_cve_2021_4034.yml", kAggregation},
      {"unsupported/linux/lnx_auditd_debugfs_usage.yml", kAggregation},
      // auditd records are mapped (rules/pipelines/endpoint.yaml).
      {"unsupported/linux/lnx_auditd_omigod_scx_runasprovider_executescript.yml", kLoaded},
      {"unsupported/linux/lnx_auth_susp_failed_logons_single_source.yml", kAggregation},
      {"unsupported/linux/lnx_shell_priv_esc_prep.yml", kAggregation},
  };
  return expected;
}

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  for (const char* folder : {"rules", "rules-emerging-threats", "unsupported"})
    for (const auto& entry : fs::recursive_directory_iterator(kSigma / folder))
      if (entry.is_regular_file() && entry.path().extension() == ".yml")
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string Outcome(const LoadResult& result) {
  if (result.refused.empty() && result.rules.size() == 1) return kLoaded;
  if (result.refused.size() == 1 && result.rules.empty()) return result.refused.front().message;
  return "unexpected: " + std::to_string(result.rules.size()) + " rules, " +
         std::to_string(result.refused.size()) + " refused";
}

TEST(SigmaCorpus, EveryFileLoadsOrIsRefusedAsExpected) {
  const LogSourceMap logsources =
      LogSourceMap::Load(fs::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml");
  LoadOptions options;
  options.logsources = &logsources;
  const std::vector<fs::path> files = CorpusFiles();
  size_t loaded = 0;
  for (const fs::path& file : files) {
    const std::string name = fs::relative(file, kSigma).string();
    const LoadResult result = LoadSigma({file}, options);
    const std::string outcome = Outcome(result);
    std::cout << name << " -> " << (outcome == kLoaded ? "loaded" : "refused: " + outcome) << "\n";
    if (outcome == kLoaded) ++loaded;
    for (const RuleError& error : result.refused) {
      EXPECT_EQ(error.location.file, file.string());
      EXPECT_GT(error.location.line, 0) << error.ToString();
      EXPECT_FALSE(error.rule_id.empty()) << error.ToString();
    }
    const auto expected = Expected().find(name);
    if (expected == Expected().end()) {
      ADD_FAILURE() << name << " is not in the table";
      continue;
    }
    EXPECT_EQ(outcome, expected->second) << name;
  }
  EXPECT_EQ(files.size(), Expected().size()) << "corpus changed: update the table";
  std::cout << loaded << " loaded, " << files.size() - loaded << " refused\n";
}

TEST(SigmaCorpus, WholeFolderLoadsInSortedOrder) {
  const LoadResult result = LoadSigma({kSigma / "rules"}, LoadOptions{});
  EXPECT_EQ(result.files, 22u);
  EXPECT_EQ(result.rules.size(), 22u);
  EXPECT_TRUE(result.refused.empty());
  for (size_t i = 1; i < result.rules.size(); ++i)
    EXPECT_LT(result.rules[i - 1].location.file, result.rules[i].location.file);
}

TEST(SigmaCorpus, KeywordRuleShape) {
  const fs::path file = kSigma / "rules/linux/builtin/lnx_susp_jexboss.yml";
  const LoadResult result = LoadSigma({file}, LoadOptions{});
  ASSERT_EQ(result.rules.size(), 1u);
  const Rule& rule = result.rules[0];
  EXPECT_EQ(rule.id, "8ec2c8b4-557a-4121-b87c-5dfb3a602fae");
  EXPECT_EQ(rule.level, Level::kHigh);
  EXPECT_EQ(rule.logsource.product, "linux");
  EXPECT_EQ(rule.location.line, 1);
  ASSERT_EQ(rule.selections.size(), 1u);
  ASSERT_EQ(rule.selections[0].alternatives.size(), 1u);
  const FieldPredicate& keywords = rule.selections[0].alternatives[0][0];
  EXPECT_EQ(keywords.field, "");
  EXPECT_TRUE(keywords.all);
  ASSERT_EQ(keywords.values.size(), 2u);
  EXPECT_EQ(keywords.values[0].op, MatchOp::kContains);
  EXPECT_EQ(keywords.values[0].text, "bash -c /bin/bash");
  EXPECT_EQ(rule.condition.kind, Condition::Kind::kSelection);
}

}  // namespace
}  // namespace gsoc::rules
