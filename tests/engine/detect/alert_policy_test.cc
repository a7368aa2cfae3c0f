// DetectionStage's alert policy (alerts.min_level and the aggregator hook), and
// what it counts of matching.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/detection_stage.h"
#include "engine/detect/rule_reloader.h"
#include "tests/engine/detect/reloader_metric.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

const char* kRules[] = {R"(title: Low
id: 00000000-0000-0000-0000-00000000000a
logsource: {product: linux, service: sshd}
detection:
  selection:
    message|contains: 'Failed password'
  condition: selection
level: low
)",
                        R"(title: High
id: 00000000-0000-0000-0000-00000000000b
logsource: {product: linux, service: sshd}
detection:
  selection:
    message|contains: 'for root'
  condition: selection
level: high
)"};

class Sink : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    for (Alert& alert : alerts) rules.push_back(alert.rule.id);
    alerts.clear();
  }
  std::vector<std::string> rules;
};

// Takes every hit, publishes nothing of its own: what the stage hands it.
class HitCounter : public DetectionAggregator {
 public:
  void Add(const EventBatch&, std::span<const DetectionHit> hits, const std::vector<std::string>&,
           std::vector<Alert>&) override {
    for (const DetectionHit& hit : hits) rules.push_back(hit.rule->id);
  }
  std::vector<std::string> rules;
};

class AlertPolicy : public ::testing::Test {
 protected:
  AlertPolicy() {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (size_t i = 0; i < 2; ++i)
      std::ofstream(dir_ / ("r" + std::to_string(i) + ".yml")) << kRules[i];
    RuleSources sources;
    sources.rule_paths = {dir_};
    sources.agency_names = {"unknown"};
    build_ = BuildRuleEngine(sources);
  }
  ~AlertPolicy() override { fs::remove_all(dir_); }

  void Run(DetectionStage& stage) {
    EventBatch batch;
    Fill(batch, {"<38>Nov 25 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4",
                 "<38>Nov 25 10:00:01 h sshd[1]: Failed password for bob from 1.2.3.4"});
    stage.Process(batch);
  }

  static void Fill(EventBatch& batch, std::initializer_list<const char*> lines) {
    for (const char* line : lines) {
      Event& event = batch.AddEvent();
      const auto copy = batch.arena().CopyPadded(line);
      SyslogParseContext context;
      context.receive_time_ns = 1'700'000'000'000'000'000;
      EventFormat format;
      ParseSyslog(copy, context, event, batch, &format);
    }
  }

  fs::path dir_ = fs::temp_directory_path() / ("gsoc-policy-" + std::to_string(::getpid()));
  RuleEngineBuild build_;
};

// Leaves the alerts with the stage, which refills them for its next batch;
// records the capacity of each alert's raw line, which a refill keeps.
class KeepingSink : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    for (const Alert& alert : alerts) raw_capacities.push_back(alert.events.at(0).raw.capacity());
  }
  std::vector<size_t> raw_capacities;
};

// A published alert is refilled for a later batch only if it holds at most
// 16 KiB: alerts of long hostile lines would otherwise stay with the thread
// (256 of them) for as long as it runs.
TEST_F(AlertPolicy, AlertsOfLongLinesAreNotKeptForRefilling) {
  ASSERT_TRUE(build_.engine);
  KeepingSink sink;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  const std::string line = "<38>Nov 25 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4 " +
                           std::string(60'000, 'p');
  EventBatch batch;
  Fill(batch, {line.c_str()});
  stage.Process(batch);
  ASSERT_EQ(sink.raw_capacities.size(), 2u);  // low and high
  EXPECT_GE(sink.raw_capacities[0], 60'000u);
  sink.raw_capacities.clear();
  EventBatch next;
  Fill(next, {"<38>Nov 25 10:00:02 h sshd[1]: Failed password for root from 1.2.3.4"});
  stage.Process(next);
  ASSERT_EQ(sink.raw_capacities.size(), 2u);
  for (size_t capacity : sink.raw_capacities) EXPECT_LT(capacity, 1024u);
}

TEST_F(AlertPolicy, HitsBelowMinLevelMakeNoAlert) {
  ASSERT_TRUE(build_.engine) << (build_.fatal.empty() ? "" : build_.fatal[0].ToString());
  Sink sink;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  Run(stage);
  EXPECT_EQ(sink.rules.size(), 3u);  // two low, one high
  sink.rules.clear();
  stage.SetAlertPolicy(rules::Level::kMedium, nullptr);
  Run(stage);
  EXPECT_EQ(sink.rules, std::vector<std::string>{"00000000-0000-0000-0000-00000000000b"});
  EXPECT_EQ(stage.below_min_level(), 2u);
}

TEST_F(AlertPolicy, TheAggregatorTakesEveryHitAtOrAboveMinLevel) {
  ASSERT_TRUE(build_.engine);
  Sink sink;
  HitCounter aggregator;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  stage.SetAlertPolicy(rules::Level::kLow, &aggregator);
  Run(stage);
  EXPECT_TRUE(sink.rules.empty());
  EXPECT_EQ(aggregator.rules.size(), 3u);
}

// The pipeline's look-ahead: a worker prepares (matches) its next batch
// while the one before waits its turn, and may call Prepare again on a
// batch it prepared. Each batch is matched once, its hits reach the
// aggregator once, and Process publishes what Process alone would.
TEST_F(AlertPolicy, ABatchPreparedAheadIsMatchedOnceAndPublishedAtItsProcess) {
  ASSERT_TRUE(build_.engine);
  // Alerts published after the first batch's Process, and in all.
  const auto run = [&](bool ahead, Sink& sink, HitCounter* aggregator) {
    DetectionStage stage(build_.engine, &sink, {"unknown"});
    stage.SetAlertPolicy(rules::Level::kLow, aggregator);
    EventBatch first, second;
    Fill(first, {"<38>Nov 25 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4"});
    Fill(second, {"<38>Nov 25 10:00:02 h sshd[1]: Failed password for bob from 1.2.3.4",
                  "<38>Nov 25 10:00:03 h sshd[1]: Failed password for eve from 1.2.3.4"});
    if (ahead) {
      stage.Prepare(first);
      stage.Prepare(first);  // a repeat does nothing
      stage.Prepare(second);
      EXPECT_TRUE(sink.rules.empty()) << "Prepare publishes nothing";
    }
    stage.Process(first);
    const size_t after_first = sink.rules.size();
    stage.Process(second);
    return after_first;
  };
  Sink plain, ahead;
  EXPECT_EQ(run(false, plain, nullptr), 2u);  // root: the low and the high rule
  EXPECT_EQ(run(true, ahead, nullptr), 2u);   // not the second batch's alerts yet
  EXPECT_EQ(plain.rules.size(), 4u);
  EXPECT_EQ(ahead.rules, plain.rules);

  Sink unused;
  HitCounter plain_hits, ahead_hits;
  run(false, unused, &plain_hits);
  run(true, unused, &ahead_hits);
  EXPECT_EQ(plain_hits.rules.size(), 4u);
  EXPECT_EQ(ahead_hits.rules, plain_hits.rules);  // each hit handed over once
}

// Matching's work is counted once a batch over every worker, and shown in
// /metrics: the root line makes both rules candidates, the bob line the
// low one, the cron line none.
TEST_F(AlertPolicy, MatchWorkIsCountedAndExported) {
  ASSERT_TRUE(build_.engine);
  Sink sink;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  Run(stage);
  EventBatch batch;
  Fill(batch, {"<78>Nov 25 10:00:02 h CRON[2]: (root) CMD (true)"});
  stage.Process(batch);
  const match::Matcher::Scratch::Counts work = stage.match_work();
  EXPECT_EQ(work.events, 3u);
  EXPECT_EQ(work.rules_evaluated, 3u);  // root: both rules; bob: the low rule only
  EXPECT_GE(work.scans, 2u);            // message, in the two sshd lines
  RuleReloader reloader({}, false, stage);
  EXPECT_EQ(testing::ReloaderMetric(reloader, "gsoc_match_events_total"), 3);
  EXPECT_EQ(testing::ReloaderMetric(reloader, "gsoc_match_rules_evaluated_total"), 3);
  EXPECT_EQ(testing::ReloaderMetric(reloader, "gsoc_match_scans_total"),
            static_cast<double>(work.scans));
  EXPECT_EQ(testing::ReloaderMetric(reloader, "gsoc_match_verify_scans_total"),
            static_cast<double>(work.verifies));
  EXPECT_EQ(testing::ReloaderMetric(reloader, "gsoc_match_literal_checks_total"),
            static_cast<double>(work.literal_checks));
}

}  // namespace
}  // namespace gsoc
