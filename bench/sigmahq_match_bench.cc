// The matcher alone over Windows events with the whole SigmaHQ corpus
// (issue 9): the rule groups (CompileOptions::group_by_logsource) against the
// layout before them (one group), in the same process, alternated.
//
//   gsoc_bench_sigmahq_match [EVENTS_FILE] [PASSES]
//
// EVENTS_FILE: JSON lines (default: the OTRF LSASS comsvcs dump data set,
// 184 events); they are parsed and classified once, outside the timing.
// PASSES (default 200): times each matcher matches every event, in rounds
// of 20 passes alternating the two layouts. Prints per layout the median
// ns per event over the rounds, rules evaluated per event after the
// prefilter (the rules whose condition tree runs), Hyperscan scans (of
// them verify scans), literal checks and eligible groups per event,
// matches, and per (Channel, EventID) the rules evaluated per event. Exits
// 1 if the two layouts match differently.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "collectors/json/json_parser.h"
#include "engine/detect/rule_engine.h"
#include "engine/event/field_access.h"
#include "engine/match/matcher.h"
#include "engine/util/private_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

struct Layout {
  const char* name;
  std::unique_ptr<match::Matcher> matcher;
  std::unique_ptr<match::Matcher::Scratch> scratch;
  std::vector<double> ns_per_event;  // per round
};

int Main(int argc, char** argv) {
  const fs::path corpus = GSOC_CORPUS_DIR;
  const fs::path events_file =
      argc > 1 ? fs::path(argv[1])
               : corpus / "otrf-security-datasets" / "windows_atomic_lsass_comsvcs" /
                     "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json";
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;

  RuleSources sources;
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    sources.rule_paths.push_back(corpus / "sigmahq" / folder);
  sources.logsources = fs::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml";
  sources.cache_dir = UserRuleCacheDir();  // gsocctl uses it too
  const auto load_start = std::chrono::steady_clock::now();
  RuleEngineBuild build = BuildRuleEngine(sources);
  if (!build.engine) {
    std::fprintf(stderr, "the corpus did not load\n");
    return 2;
  }
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const RuleEngine& engine = *build.engine;
  std::printf("%zu rules, %zu patterns, %zu groups, %zu databases; load %.2f s%s\n",
              build.rules_loaded, build.compile.patterns, build.compile.groups,
              build.compile.databases, load_s, build.compile.from_cache ? " (cache)" : "");

  std::vector<Layout> layouts;
  for (bool grouped : {false, true}) {
    match::CompileOptions options;
    options.cache_dir = sources.cache_dir;
    options.indicators = &engine.lists;
    options.logsources = engine.logsources.get();
    options.group_by_logsource = grouped;
    auto compiled = match::Matcher::Compile(engine.matcher->rules(), options);
    std::printf("%s: %zu rules, %zu patterns, %zu groups, %zu databases, compiled in %.2f s%s\n",
                grouped ? "groups" : "one group", compiled.stats.rules, compiled.stats.patterns,
                compiled.stats.groups, compiled.stats.databases, compiled.stats.seconds,
                compiled.stats.from_cache ? " (cache)" : "");
    Layout layout{grouped ? "groups" : "one group", std::move(compiled.matcher), nullptr, {}};
    layout.scratch = layout.matcher->MakeScratch();
    layouts.push_back(std::move(layout));
  }

  EventBatch batch;
  JsonLineParser parser;
  SyslogParseContext context;
  std::ifstream in(events_file, std::ios::binary);
  uint64_t id = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Event& event = batch.AddEvent();
    const std::string_view copy = batch.arena().CopyPadded(line);
    event.id = ++id;
    event.raw = copy;
    parser.ParseOrKeepRaw(copy, context, event, batch);
  }
  auto events = batch.events();
  for (Event& event : events) engine.logsources->Classify(batch, event);
  std::printf("%zu events from %s\n", events.size(), events_file.c_str());

  // Correctness first: the same rules for every event.
  std::vector<size_t> matched[2];
  size_t differences = 0, matches = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_class;  // evaluated, events
  for (const Event& event : events) {
    for (int l = 0; l < 2; ++l) {
      matched[l].clear();
      const uint64_t before = layouts[l].scratch->counts().rules_evaluated;
      layouts[l].matcher->Match(batch, event, *layouts[l].scratch,
                                [&](size_t rule) { matched[l].push_back(rule); });
      if (l == 1) {
        const std::string key = std::string(GetField(batch, event, "Channel").value) + " " +
                                std::string(GetField(batch, event, "EventID").value);
        auto& [evaluated, count] = by_class[key];
        evaluated += layouts[l].scratch->counts().rules_evaluated - before;
        ++count;
      }
    }
    matches += matched[1].size();
    if (matched[0] != matched[1]) ++differences;
  }
  std::printf("%zu matches; %zu events matched differently\n", matches, differences);
  for (const auto& [key, value] : by_class) {
    std::printf("  %-45s %6llu events, %7.1f rules evaluated per event\n", key.c_str(),
                static_cast<unsigned long long>(value.second),
                static_cast<double>(value.first) / value.second);
  }

  const int rounds = std::max(1, passes / 20);
  const int per_round = std::max(1, passes / rounds);
  for (Layout& layout : layouts) layout.scratch = layout.matcher->MakeScratch();
  size_t sink = 0;
  for (int round = 0; round < rounds; ++round) {
    for (Layout& layout : layouts) {
      const auto start = std::chrono::steady_clock::now();
      for (int pass = 0; pass < per_round; ++pass) {
        for (const Event& event : events)
          layout.matcher->Match(batch, event, *layout.scratch, [&](size_t rule) { sink += rule; });
      }
      const double ns =
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
              .count();
      layout.ns_per_event.push_back(ns / (static_cast<double>(per_round) * events.size()));
    }
  }
  std::printf("%-10s %12s %12s %10s %12s %12s %12s %12s\n", "layout", "ns/event", "events/s",
              "rules/ev", "scans/ev", "verifies/ev", "checks/ev", "groups/ev");
  for (Layout& layout : layouts) {
    std::sort(layout.ns_per_event.begin(), layout.ns_per_event.end());
    const double median = layout.ns_per_event[layout.ns_per_event.size() / 2];
    const auto& counts = layout.scratch->counts();
    const double n = static_cast<double>(counts.events);
    std::printf("%-10s %12.0f %12.0f %10.1f %12.1f %12.2f %12.2f %12.2f\n", layout.name, median,
                1e9 / median, counts.rules_evaluated / n, counts.scans / n, counts.verifies / n,
                counts.literal_checks / n, counts.groups / n);
  }
  if (sink == 1) std::printf(" ");  // keep the callback's work
  return differences == 0 ? 0 : 1;
}

}  // namespace
}  // namespace gsoc

int main(int argc, char** argv) { return gsoc::Main(argc, argv); }
