// The rule groups against the layout before them, over the whole SigmaHQ
// corpus (issue 9): every loaded rule compiled twice, with
// CompileOptions::group_by_logsource (each event scans only the rules whose
// logsource selects it) and without (one group: every field scanned against
// every rule's patterns), must give the same rules for every event of the
// OTRF LSASS dump data set and of the regression data, the latter in the
// evtx_dump, Winlogbeat and NXLog shapes.
#include <gtest/gtest.h>

#include <fstream>

#include "collectors/json/json_parser.h"
#include "engine/detect/rule_engine.h"
#include "engine/util/private_dir.h"
#include "tests/rules/sigmahq_test_util.h"

namespace gsoc::sigmahq {
namespace {

const fs::path kCorpus = fs::path(GSOC_CORPUS_DIR) / "sigmahq";

std::vector<std::string> CorpusEvents() {
  std::vector<std::string> lines;
  std::ifstream otrf(fs::path(GSOC_CORPUS_DIR) / "otrf-security-datasets" /
                     "windows_atomic_lsass_comsvcs" /
                     "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json");
  for (std::string line; std::getline(otrf, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kCorpus / "regression_data")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    for (const std::string& event : JsonObjects(ReadFile(file))) {
      for (Shape shape : {Shape::kEvtx, Shape::kWinlogbeat, Shape::kNxlog})
        lines.push_back(ConvertEvtx(event, shape));
    }
  }
  return lines;
}

TEST(SigmaHqGroups, GroupedMatcherEqualsTheOneGroupLayoutOnCorpusEvents) {
  RuleSources sources;
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    sources.rule_paths.push_back(kCorpus / folder);
  sources.logsources = fs::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml";
  sources.cache_dir = UserRuleCacheDir();  // shared with gsocctl
  RuleEngineBuild build = BuildRuleEngine(sources);
  ASSERT_NE(build.engine, nullptr);
  const RuleEngine& engine = *build.engine;
  ASSERT_GT(engine.matcher->rules().size(), 3700u);
  EXPECT_GT(build.compile.groups, 50u);

  match::CompileOptions options;
  options.cache_dir = sources.cache_dir;
  options.indicators = &engine.lists;
  options.logsources = engine.logsources.get();
  options.group_by_logsource = false;
  auto one_group = match::Matcher::Compile(engine.matcher->rules(), options);
  ASSERT_NE(one_group.matcher, nullptr);
  EXPECT_EQ(one_group.stats.groups, 1u);
  ASSERT_EQ(one_group.matcher->rules().size(), engine.matcher->rules().size());
  const match::Matcher& grouped = *engine.matcher;
  auto grouped_scratch = grouped.MakeScratch();
  auto one_scratch = one_group.matcher->MakeScratch();

  const std::vector<std::string> lines = CorpusEvents();
  ASSERT_GT(lines.size(), 300u);
  EventBatch batch;
  JsonLineParser parser;
  SyslogParseContext context;
  for (const std::string& line : lines) {
    Event& event = batch.AddEvent();
    event.raw = batch.arena().CopyPadded(line);
    parser.ParseOrKeepRaw(event.raw, context, event, batch);
  }
  size_t matches = 0, differences = 0;
  std::vector<size_t> a, b;
  for (Event& event : batch.events()) {
    engine.logsources->Classify(batch, event);
    a.clear();
    b.clear();
    grouped.Match(batch, event, *grouped_scratch, [&](size_t rule) { a.push_back(rule); });
    one_group.matcher->Match(batch, event, *one_scratch, [&](size_t rule) { b.push_back(rule); });
    matches += a.size();
    if (a != b) {
      ++differences;
      ADD_FAILURE() << "the layouts disagree on " << event.raw.substr(0, 300);
    }
  }
  const auto& counts = grouped_scratch->counts();
  const auto& before = one_scratch->counts();
  std::printf(
      "%zu events, %zu rule matches, %zu differences; %zu groups; rules evaluated per event: "
      "%.1f with groups, %.1f with one group; Hyperscan scans per event: %.1f, %.1f\n",
      lines.size(), matches, differences, build.compile.groups,
      static_cast<double>(counts.rules_evaluated) / counts.events,
      static_cast<double>(before.rules_evaluated) / before.events,
      static_cast<double>(counts.scans) / counts.events,
      static_cast<double>(before.scans) / before.events);
  EXPECT_EQ(differences, 0u);
  EXPECT_GT(matches, 100u);  // the comparison is not vacuous
  EXPECT_LT(counts.rules_evaluated, before.rules_evaluated);
}

}  // namespace
}  // namespace gsoc::sigmahq
