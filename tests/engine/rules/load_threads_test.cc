// LoadSigma reads and parses files on several threads (LoadOptions::
// load_threads) and merges their results in file order: the result must be
// the one of a single thread, rule for rule and refusal for refusal, over
// the whole SigmaHQ corpus (with the shipped logsource map, so that rules
// are refused for reasons beyond YAML) and the shared Sigma corpus. A
// folder's files load in the order path's operator< gives them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"
#include "tests/engine/rules/rule_test_util.h"
#include "tests/util/temp_dir.h"

namespace gsoc::rules {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Describe(const LoadResult& result) {
  std::vector<std::string> lines;
  lines.push_back("files " + std::to_string(result.files));
  for (const Rule& rule : result.rules) {
    lines.push_back("rule " + rule.id + " " + rule.title + " " + rule.location.file + ":" +
                    std::to_string(rule.location.line) + " " +
                    std::to_string(rule.selections.size()));
  }
  for (const RuleError& error : result.refused) {
    lines.push_back("refused " + error.location.file + ":" + std::to_string(error.location.line) +
                    " " + error.rule_id + " " + error.message);
  }
  for (const std::string& id : result.skipped) lines.push_back("skipped " + id);
  for (const CorrelationDocument& document : result.correlations)
    lines.push_back("correlation " + document.location.file);
  lines.push_back("filters " + std::to_string(result.filters.size()));
  return lines;
}

TEST(SigmaLoadThreads, ManyThreadsGiveTheResultOfOne) {
  const LogSourceMap logsources = testing::ShippedLogSources();
  const std::vector<fs::path> paths = testing::CorpusRuleFolders();
  LoadOptions options;
  options.logsources = &logsources;
  options.load_threads = 1;
  const std::vector<std::string> one = Describe(LoadSigma(paths, options));
  ASSERT_GT(one.size(), 3700u);
  for (size_t threads : {2, 8}) {
    options.load_threads = threads;
    EXPECT_EQ(Describe(LoadSigma(paths, options)), one) << threads << " threads";
  }
}

// Names whose order by component differs from their order as strings ('/'
// sorts after '-' and '.', a folder's files before a longer name), and
// bytes >= 0x80.
TEST(SigmaLoadThreads, FolderFilesLoadInPathOrder) {
  test::TempDir dir("path_order");
  const std::vector<std::string> names = {"a.yml",       "a-b.yml",    "a/b.yml", "a/c/d.yml",
                                          "a.b/x.yml",   "a0.yml",     "B.yml",   "\xc3\xa9.yml",
                                          "ab/\x7f.yml", "a/\xff.yml", "a-/z.yml"};
  std::vector<fs::path> expected;
  for (size_t i = 0; i < names.size(); ++i) {
    const fs::path file = dir / names[i];
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "title: t" << i << "\nid: r" << i
                        << "\nlogsource: {product: linux}\n"
                           "detection:\n  s:\n    message|contains: x\n  condition: s\n";
    expected.push_back(file);
  }
  std::sort(expected.begin(), expected.end());
  LoadOptions options;
  options.load_threads = 2;
  const LoadResult result = LoadSigma({dir.path()}, options);
  ASSERT_EQ(result.rules.size(), names.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(result.rules[i].location.file, expected[i].string()) << i;
}

}  // namespace
}  // namespace gsoc::rules
