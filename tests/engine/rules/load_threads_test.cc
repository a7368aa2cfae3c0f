// LoadSigma reads and parses files on several threads (LoadOptions::
// load_threads) and merges their results in file order: the result must be
// the one of a single thread, rule for rule and refusal for refusal, over
// the whole SigmaHQ corpus (with the shipped logsource map, so that rules
// are refused for reasons beyond YAML) and the shared Sigma corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/rules/logsource_map.h"
#include "engine/rules/sigma_loader.h"
#include "tests/engine/rules/rule_test_util.h"

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

}  // namespace
}  // namespace gsoc::rules
