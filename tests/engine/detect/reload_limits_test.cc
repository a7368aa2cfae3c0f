// Hostile rule sets and lists against reloads (issue 11, findings 15, 16
// and 19): a build that hangs is abandoned at its deadline and counted as a
// failure, and neither later reloads nor shutdown wait for it; a list that
// is a FIFO fails the reload at once; a reload with refused rules counts as
// "partial"; regex limit hits show per rule in the metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/rule_reloader.h"
#include "tests/engine/detect/reloader_metric.h"
#include "tests/engine/detect/test_rules.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using testing::kBrokenRule;
using testing::kRedosRule;

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("gsoc-reload-limits-" + std::to_string(::getpid()));
  fs::path rules = dir / "rules";

  Fixture() {
    fs::remove_all(dir);
    fs::create_directories(rules);
    std::ofstream(rules / "good.yml") << testing::kFailedPasswordRule;
  }
  ~Fixture() { fs::remove_all(dir); }

  RuleSources Sources() const {
    RuleSources sources;
    sources.rule_paths = {rules};
    sources.agency_names = {"unknown"};
    return sources;
  }
};

// A build function that blocks while the gate is closed.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool closed = false;
  int running = 0;

  void Close() {
    std::lock_guard lock(mutex);
    closed = true;
  }
  void Open() {
    std::lock_guard lock(mutex);
    closed = false;
    changed.notify_all();
  }
  // Waits until no gated build runs any more (the abandoned ones end).
  bool WaitDrained(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return running == 0; });
  }
};

RuleReloader::BuildFunction Gated(std::shared_ptr<Gate> gate) {
  return [gate](const RuleSources& sources) {
    {
      std::unique_lock lock(gate->mutex);
      ++gate->running;
      gate->changed.wait(lock, [&] { return !gate->closed; });
    }
    RuleEngineBuild build = BuildRuleEngine(sources);
    std::lock_guard lock(gate->mutex);
    --gate->running;
    gate->changed.notify_all();
    return build;
  };
}

// The value of one series of a family the reloader exports, or -1.
double Metric(const RuleReloader& reloader, const std::string& name,
              const std::pair<std::string, std::string>& label = {}) {
  return testing::ReloaderMetric(reloader, name, label);
}

TEST(ReloadLimitsTest, StuckBuildIsAbandonedAtItsDeadline) {
  Fixture fixture;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleSources sources = fixture.Sources();
  sources.limits.build_timeout = std::chrono::milliseconds(1000);
  auto gate = std::make_shared<Gate>();
  RuleReloader reloader(sources, false, stage, Gated(gate));
  ASSERT_TRUE(reloader.LoadNow());
  const uint64_t generation = stage.current()->generation;

  gate->Close();  // the next build hangs, as on a hung file system
  auto start = Clock::now();
  reloader.Reload();
  reloader.WaitIdle();
  const double stuck = SecondsSince(start);
  std::printf("stuck reload abandoned after %.2f s\n", stuck);
  EXPECT_GE(stuck, 0.9);
  EXPECT_LT(stuck, 5.0);
  EXPECT_EQ(reloader.reloads_failed(), 1u);
  EXPECT_EQ(reloader.reloads_timed_out(), 1u);
  EXPECT_EQ(stage.current()->generation, generation);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "failure"}), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reload_timeouts_total"), 1);

  // While it still runs, a reload fails at once instead of piling up.
  start = Clock::now();
  reloader.Reload();
  reloader.WaitIdle();
  EXPECT_LT(SecondsSince(start), 0.5);
  EXPECT_EQ(reloader.reloads_failed(), 2u);
  EXPECT_EQ(reloader.reloads_timed_out(), 1u);

  gate->Open();
  ASSERT_TRUE(gate->WaitDrained(std::chrono::seconds(10)));
  // Its result was dropped; once its thread is gone, a reload builds and
  // swaps normally.
  EXPECT_EQ(stage.current()->generation, generation);
  for (int i = 0; i < 100 && reloader.reloads_succeeded() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reloader.Reload();
    reloader.WaitIdle();
  }
  EXPECT_EQ(reloader.reloads_succeeded(), 2u);
  EXPECT_GT(stage.current()->generation, generation);
}

TEST(ReloadLimitsTest, ShutdownDoesNotWaitForAStuckBuild) {
  Fixture fixture;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleSources sources = fixture.Sources();
  sources.limits.build_timeout = std::chrono::milliseconds(60'000);
  auto gate = std::make_shared<Gate>();
  auto reloader = std::make_unique<RuleReloader>(sources, false, stage, Gated(gate));
  ASSERT_TRUE(reloader->LoadNow());
  gate->Close();
  reloader->Reload();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the build is waiting
  const auto start = Clock::now();
  reloader.reset();
  const double seconds = SecondsSince(start);
  std::printf("reloader destroyed in %.3f s with a build stuck\n", seconds);
  EXPECT_LT(seconds, 1.0);
  gate->Open();
  ASSERT_TRUE(gate->WaitDrained(std::chrono::seconds(10)));
}

TEST(ReloadLimitsTest, StopReturnsAtOnceWithABuildStuck) {
  Fixture fixture;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleSources sources = fixture.Sources();
  sources.limits.build_timeout = std::chrono::milliseconds(60'000);
  auto gate = std::make_shared<Gate>();
  RuleReloader reloader(sources, false, stage, Gated(gate));
  ASSERT_TRUE(reloader.LoadNow());
  gate->Close();
  reloader.Reload();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the build is waiting
  const auto start = Clock::now();
  reloader.Stop();  // what gsocd does on SIGTERM
  reloader.WaitIdle();
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_EQ(reloader.reloads_failed(), 0u);  // shutdown is not a failed build
  reloader.Reload();                         // ignored once stopped
  reloader.WaitIdle();
  EXPECT_EQ(reloader.reloads_succeeded(), 1u);
  gate->Open();
  ASSERT_TRUE(gate->WaitDrained(std::chrono::seconds(10)));
}

TEST(ReloadLimitsTest, FifoListFailsTheReloadAtOnce) {
  Fixture fixture;
  const fs::path list = fixture.dir / "bad_ips.txt";
  std::ofstream(list) << "198.51.100.7\n";
  RuleSources sources = fixture.Sources();
  sources.lists = {{"bad_ips", list, ""}};
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleReloader reloader(sources, false, stage);
  ASSERT_TRUE(reloader.LoadNow());
  fs::remove(list);
  ASSERT_EQ(::mkfifo(list.c_str(), 0600), 0);
  const auto start = Clock::now();
  reloader.Reload();
  reloader.WaitIdle();
  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_EQ(reloader.reloads_failed(), 1u);
  EXPECT_EQ(reloader.reloads_timed_out(), 0u);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "failure"}), 1);
  // Later reloads are not lost: with the file back, the next one succeeds.
  fs::remove(list);
  std::ofstream(list) << "198.51.100.8\n";
  reloader.Reload();
  reloader.WaitIdle();
  EXPECT_EQ(reloader.reloads_succeeded(), 2u);
}

TEST(ReloadLimitsTest, RefusedRulesMakeAPartialReload) {
  Fixture fixture;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleReloader reloader(fixture.Sources(), false, stage);
  ASSERT_TRUE(reloader.LoadNow());
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "success"}), 1);
  std::ofstream(fixture.rules / "broken.yml") << kBrokenRule;
  reloader.Reload();
  reloader.WaitIdle();
  EXPECT_EQ(reloader.reloads_partial(), 1u);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "success"}), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "partial"}), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reloads_total", {"result", "failure"}), 0);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_reload_last_refused"), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rules_refused"), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rules_loaded"), 1);

  // With strict, the same set fails and the gauge still says what was refused.
  DetectionStage strict_stage(nullptr, nullptr, {"unknown"});
  RuleReloader strict(fixture.Sources(), true, strict_stage);
  EXPECT_FALSE(strict.LoadNow());
  EXPECT_EQ(Metric(strict, "gsoc_rule_reloads_total", {"result", "failure"}), 1);
  EXPECT_EQ(Metric(strict, "gsoc_rule_reload_last_refused"), 1);
}

TEST(ReloadLimitsTest, RegexLimitHitsAreExportedPerRule) {
  Fixture fixture;
  std::ofstream(fixture.rules / "redos.yml") << kRedosRule;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleReloader reloader(fixture.Sources(), false, stage);
  ASSERT_TRUE(reloader.LoadNow());
  EXPECT_EQ(Metric(reloader, "gsoc_rules_pcre_fallback"), 1);
  EventBatch batch;
  for (int i = 0; i < 50; ++i) {
    const std::string line =
        "<13>Jan  1 00:00:00 host app: zz" + std::string(40 + i % 10, 'a') + "!";
    Event& event = batch.AddEvent();
    EventFormat failed;
    ParseSyslog(batch.arena().CopyPadded(line), SyslogParseContext{}, event, batch, &failed);
  }
  stage.Process(batch);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_regex_limit_hits_total", {"rule", testing::kRedosRuleId}),
            50);
  EXPECT_EQ(Metric(reloader, "gsoc_rule_regex_limit_hits_total", {"rule", "_other"}), 0);
}

TEST(ReloadLimitsTest, StrictRefusesRegexesPcreMustRun) {
  Fixture fixture;
  std::ofstream(fixture.rules / "redos.yml") << kRedosRule;
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleReloader strict(fixture.Sources(), true, stage);
  EXPECT_FALSE(strict.LoadNow());
  EXPECT_EQ(Metric(strict, "gsoc_rule_reload_last_refused"), 1);
  RuleReloader lenient(fixture.Sources(), false, stage);
  EXPECT_TRUE(lenient.LoadNow());
  EXPECT_EQ(Metric(lenient, "gsoc_rules_pcre_fallback"), 1);
  EXPECT_EQ(Metric(lenient, "gsoc_rule_reloads_total", {"result", "success"}), 1);
}

TEST(ReloadLimitsTest, ConfigDefaultsAreTheComponentDefaults) {
  const RuleLimits from_config = RuleLimitsFrom(RulesConfig{});
  const RuleLimits components;
  EXPECT_EQ(from_config.regex.match_limit, components.regex.match_limit);
  EXPECT_EQ(from_config.regex.depth_limit, components.regex.depth_limit);
  EXPECT_EQ(from_config.regex.heap_limit_kib, components.regex.heap_limit_kib);
  EXPECT_EQ(from_config.set.max_values_per_rule, components.set.max_values_per_rule);
  EXPECT_EQ(from_config.set.max_patterns, components.set.max_patterns);
  EXPECT_EQ(from_config.lists.max_bytes, components.lists.max_bytes);
  EXPECT_EQ(from_config.lists.max_entries, components.lists.max_entries);
  EXPECT_EQ(from_config.lists.max_entry_bytes, components.lists.max_entry_bytes);
  EXPECT_EQ(from_config.build_timeout, components.build_timeout);
}

}  // namespace

// A rule whose metadata is past rules::MetadataLimits loads with the cut copy,
// a warning naming the rule and a gauge; the PCRE2 gauge counts only regexes.
TEST(ReloadLimitsTest, TruncatedMetadataIsAWarningAndAGauge) {
  Fixture fixture;
  std::ofstream(fixture.rules / "long.yml")
      << "title: Long description\nid: 00000000-0000-0000-0000-0000000010n9\n"
         "description: "
      << std::string(20000, 'd')
      << "\nlogsource: {product: linux}\ndetection:\n  selection:\n    message|contains: "
         "zzlong\n  condition: selection\nlevel: low\n";
  const RuleEngineBuild build = BuildRuleEngine(fixture.Sources());
  ASSERT_NE(build.engine, nullptr);
  EXPECT_EQ(build.metadata_truncated, 1u);
  ASSERT_EQ(build.warnings.size(), 1u);
  EXPECT_EQ(build.warnings[0].code, "sigma.metadata_truncated");
  EXPECT_EQ(build.warnings[0].severity, Severity::kWarning);
  EXPECT_EQ(build.warnings[0].rule_id, "00000000-0000-0000-0000-0000000010n9");
  EXPECT_EQ(build.warnings[0].location.file, (fixture.rules / "long.yml").string());
  EXPECT_THAT(build.warnings[0].ToString(),
              ::testing::HasSubstr(": warning: rule 00000000-0000-0000-0000-0000000010n9: "));
  DetectionStage stage(nullptr, nullptr, {"unknown"});
  RuleReloader reloader(fixture.Sources(), false, stage);
  ASSERT_TRUE(reloader.LoadNow());
  EXPECT_EQ(Metric(reloader, "gsoc_rules_metadata_truncated"), 1);
  EXPECT_EQ(Metric(reloader, "gsoc_rules_pcre_fallback"), 0);
}

// The same for a correlation: its description and tags are capped alike.
TEST(ReloadLimitsTest, TruncatedCorrelationMetadataIsAWarningToo) {
  Fixture fixture;
  std::ofstream(fixture.rules / "base.yml")
      << "title: Base\nid: 00000000-0000-0000-0000-00000000ba5e\nname: base_rule\n"
         "logsource: {product: linux}\ndetection:\n  selection:\n    message|contains: "
         "zzbase\n  condition: selection\nlevel: low\n";
  std::ofstream(fixture.rules / "corr.yml")
      << "title: Long correlation\nid: 00000000-0000-0000-0000-00000000c0ff\ndescription: "
      << std::string(20000, 'c')
      << "\ncorrelation:\n  type: event_count\n  rules: [base_rule]\n  group-by: [host]\n"
         "  timespan: 1m\n  condition: {gte: 3}\nlevel: high\n";
  const RuleEngineBuild build = BuildRuleEngine(fixture.Sources());
  ASSERT_NE(build.engine, nullptr);
  ASSERT_EQ(build.correlations_loaded, 1u);
  EXPECT_EQ(build.metadata_truncated, 1u);
  ASSERT_EQ(build.warnings.size(), 1u);
  EXPECT_EQ(build.warnings[0].code, "sigma.metadata_truncated");
  EXPECT_EQ(build.warnings[0].rule_id, "00000000-0000-0000-0000-00000000c0ff");
  const std::optional<std::string> detail =
      RuleDetailJson(*build.engine, "00000000-0000-0000-0000-00000000c0ff");
  ASSERT_TRUE(detail);
  EXPECT_THAT(*detail, ::testing::HasSubstr("\"metadata_truncated\":true"));
  EXPECT_LT(detail->size(), 20000u);
}

}  // namespace gsoc
