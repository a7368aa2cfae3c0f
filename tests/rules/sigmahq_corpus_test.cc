// The whole SigmaHQ corpus through gsocctl: `rules check` over rules/,
// rules-emerging-threats/ and rules-threat-hunting/ loads at least 98% of
// the rule files, every refusal has a reason (counted per reason); the OTRF
// LSASS comsvcs MiniDump data set fires SigmaHQ's comsvcs / LSASS rules;
// and an event of no described source fires nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/rules/sigmahq_test_util.h"

namespace gsoc::sigmahq {
namespace {

const fs::path kCorpus = fs::path(GSOC_CORPUS_DIR) / "sigmahq";

std::string Folders() {
  return Quote((kCorpus / "rules").string()) + " " +
         Quote((kCorpus / "rules-emerging-threats").string()) + " " +
         Quote((kCorpus / "rules-threat-hunting").string());
}

size_t RuleFiles() {
  size_t files = 0;
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    for (const auto& entry : fs::recursive_directory_iterator(kCorpus / folder))
      files += entry.is_regular_file() && entry.path().extension() == ".yml";
  return files;
}

// "file:line: rule <id>: reason" -> a reason with its particulars (quoted
// values, numbers, field names after "field") folded, for counting.
std::string ReasonKind(std::string reason) {
  reason = std::regex_replace(reason, std::regex(R"('[^']*')"), "'…'");
  reason = std::regex_replace(reason, std::regex(R"("[^"]*")"), "\"…\"");
  reason = std::regex_replace(reason, std::regex(R"(\d+)"), "N");
  if (reason.size() > 110) reason = reason.substr(0, 110) + "…";
  return reason;
}

TEST(SigmaHqCorpus, RulesCheckLoadsAtLeast98Percent) {
  const size_t files = RuleFiles();
  const CommandResult result =
      RunCommand(std::string(GSOCCTL_PATH) + " rules check " + Folders() + " 2>&1");
  // Diagnostic::ToString: "file:line[:column]: [warning: ][rule <id>: ]message".
  const std::regex diagnostic(R"(^(.+\.yml):(\d+)(?::\d+)?: (warning: )?(?:rule ([^:]*): )?(.*)$)");
  std::set<std::string> refused_files;
  std::map<std::string, int> reasons;
  size_t warnings = 0;
  std::string summary;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    const bool is_diagnostic = std::regex_match(line, match, diagnostic);
    if (is_diagnostic && match[3].matched) {
      ++warnings;
    } else if (is_diagnostic) {
      refused_files.insert(match[1].str());
      EXPECT_FALSE(match[5].str().empty()) << line;  // every refusal has a reason
      ++reasons[ReasonKind(match[5].str())];
    } else if (line.find("rule file(s)") != std::string::npos) {
      summary = line;
    }
  }
  ASSERT_FALSE(summary.empty()) << result.out.substr(0, 4000);
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [reason, count] : reasons) sorted.emplace_back(count, reason);
  std::sort(sorted.rbegin(), sorted.rend());
  std::printf("%s\n%zu rule files, %zu with a refused rule (%.2f%% load), %zu warnings\n",
              summary.c_str(), files, refused_files.size(),
              100.0 * (files - refused_files.size()) / files, warnings);
  for (const auto& [count, reason] : sorted) std::printf("  %5d  %s\n", count, reason.c_str());
  EXPECT_GE(files, 3700u);
  EXPECT_LE(refused_files.size() * 50, files) << "more than 2% of the rule files refused";
}

TEST(SigmaHqCorpus, OtrfLsassComsvcsDumpFiresTheLsassRules) {
  const fs::path data = fs::path(GSOC_CORPUS_DIR) / "otrf-security-datasets" /
                        "windows_atomic_lsass_comsvcs" /
                        "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json";
  std::string rules_args;
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    rules_args += " --rules " + Quote((kCorpus / folder).string());
  const CommandResult result = RunCommand(std::string(GSOCCTL_PATH) + " replay --format json" +
                                          rules_args + " " + Quote(data.string()) + " 2>/dev/null");
  ASSERT_EQ(result.status, 0);
  const auto alerts = AlertsByRule(result.out);
  const auto titles = RuleFilesById(
      {kCorpus / "rules", kCorpus / "rules-emerging-threats", kCorpus / "rules-threat-hunting"});
  std::printf("OTRF psh_lsass_memory_dump_comsvcs: rules that fired\n");
  for (const auto& [id, count] : alerts) {
    const auto file = titles.find(id);
    std::printf("  %3d  %s  %s\n", count, id.c_str(),
                file == titles.end() ? "?" : file->second.filename().c_str());
  }
  // Process Memory Dump Via Comsvcs.DLL (process_creation: the rundll32
  // command line, Sysmon 1 and Security 4688).
  EXPECT_GE(alerts.count("646ea171-dded-4578-8a4d-65e9822892e3"), 1u);
  // Lsass Memory Dump via Comsvcs DLL (process_access: rundll32 opening lsass
  // with a comsvcs.dll call trace).
  EXPECT_GE(alerts.count("a49fa4d5-11db-418c-8473-1e014a8dd462"), 1u);
}

TEST(SigmaHqCorpus, AnEventOfNoDescribedSourceFiresNothing) {
  const fs::path input =
      fs::temp_directory_path() / ("gsoc_sigmahq_a1_" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(input) << "{\"a\":1}\n";
  std::string rules_args;
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    rules_args += " --rules " + Quote((kCorpus / folder).string());
  const CommandResult result =
      RunCommand(std::string(GSOCCTL_PATH) + " replay --format json" + rules_args + " " +
                 Quote(input.string()) + " 2>/dev/null");
  fs::remove(input);
  ASSERT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "");  // not even zeek rdp's `not selection`
}

}  // namespace
}  // namespace gsoc::sigmahq
