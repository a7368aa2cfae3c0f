// Hot reload under load: events flow through a Pipeline with the
// DetectionStage while the rule set is rebuilt 20 times, alternating good
// sets and a broken one. No event is lost, every alert is produced exactly
// as with a fixed rule set, and a failed build keeps the previous set.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/rule_reloader.h"
#include "tests/engine/detect/test_rules.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

class CountingSink : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    std::lock_guard lock(mutex_);
    for (const Alert& alert : alerts) ++by_rule_[alert.rule.id];
    total_ += alerts.size();
  }
  uint64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> by_rule_;
  uint64_t total_ = 0;
};

const char* const kRule = testing::kFailedPasswordRule;

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("gsoc-reload-" + std::to_string(::getpid()));
  fs::path rules = dir / "rules";
  fs::path decoders = dir / "decoders";

  Fixture() {
    fs::remove_all(dir);
    fs::create_directories(rules);
    fs::create_directories(decoders);
    std::ofstream(rules / "rule.yml") << kRule;
    WriteDecoders(true);
  }
  ~Fixture() { fs::remove_all(dir); }

  // A broken decoder file makes the whole build fail (fatal).
  void WriteDecoders(bool valid) {
    std::ofstream(decoders / "d.yaml")
        << (valid ? "decoders:\n  - name: user\n    programs: [sshd]\n"
                    "    regex: 'for (?<user>\\S+) from'\n"
                  : "decoders:\n  - name: broken\n    regex: '(unclosed'\n");
  }

  RuleSources Sources() const {
    RuleSources sources;
    sources.rule_paths = {rules};
    sources.decoder_paths = {decoders};
    sources.agency_names = {"unknown"};
    return sources;
  }
};

std::vector<std::string> OpenSshLines() {
  std::ifstream in(fs::path(GSOC_CORPUS_DIR) / "loghub/OpenSSH/OpenSSH_2k.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back("<38>" + line);
  }
  return lines;
}

TEST(ReloadTest, TwentyReloadsUnderLoadLoseNothing) {
  Fixture fixture;
  const auto lines = OpenSshLines();
  ASSERT_EQ(lines.size(), 2000u);
  uint64_t failed_lines = 0;
  for (const auto& line : lines) failed_lines += line.find("Failed password") != std::string::npos;
  ASSERT_GT(failed_lines, 100u);

  IngestMetrics metrics({"replay"}, {"unknown"});
  PipelineConfig config;
  config.queue_events = 8192;
  config.workers = 2;
  Pipeline pipeline(config, metrics);
  CountingSink sink;
  auto stage =
      std::make_unique<DetectionStage>(nullptr, &sink, std::vector<std::string>{"unknown"});
  DetectionStage& detection = *stage;
  pipeline.AddStage(std::move(stage));
  RuleReloader reloader(fixture.Sources(), false, detection);
  ASSERT_TRUE(reloader.LoadNow());
  pipeline.Start();

  // The producer replays the file until every reload is done (and at least
  // 10 times), so the reloads happen while events flow.
  std::atomic<bool> reloads_done{false};
  uint64_t rounds = 0;
  std::thread producer([&] {
    for (; rounds < 10 || !reloads_done; ++rounds) {
      BatchPtr batch = pipeline.input().pool().Acquire();
      for (const auto& line : lines) {
        Event& event = batch->AddEvent();
        const auto copy = batch->arena().CopyPadded(line);
        SyslogParseContext context;
        context.receive_time_ns = 1'700'000'000'000'000'000;
        EventFormat failed;
        ParseSyslog(copy, context, event, *batch, &failed);
        if (batch->size() == 500) {
          while (pipeline.input().TryPush(batch) == PushResult::kFull) std::this_thread::yield();
          batch = pipeline.input().pool().Acquire();
        }
      }
      if (!batch->empty()) {
        while (pipeline.input().TryPush(batch) == PushResult::kFull) std::this_thread::yield();
      }
    }
  });
  uint64_t generation_before = detection.current()->generation;
  int expected_failures = 0;
  for (int i = 0; i < 20; ++i) {
    const bool valid = i % 5 != 4;  // every fifth build is broken
    fixture.WriteDecoders(valid);
    reloader.Reload();
    reloader.WaitIdle();
    if (!valid) {
      ++expected_failures;
      EXPECT_EQ(detection.current()->generation, generation_before) << "failed build swapped in";
    } else {
      EXPECT_GT(detection.current()->generation, generation_before);
    }
    generation_before = detection.current()->generation;
  }
  reloads_done = true;
  producer.join();
  pipeline.Stop();
  EXPECT_EQ(metrics.SumEventsProcessed(), rounds * lines.size());
  EXPECT_EQ(sink.total(), rounds * failed_lines);
  EXPECT_EQ(reloader.reloads_failed(), static_cast<uint64_t>(expected_failures));
  EXPECT_EQ(reloader.reloads_succeeded(), 1u + 20u - expected_failures);
}

}  // namespace
}  // namespace gsoc
