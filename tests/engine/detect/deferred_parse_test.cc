// DetectionStage with a DeferredParser: events left unparsed
// (Event::parse_deferred) are parsed one at a time, each just before it is
// classified and matched (while its fields are in the cache), exactly once;
// the alerts are those of the same events parsed beforehand; with no rules
// loaded every event is still parsed; events that came parsed are left alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/json/json_parser.h"
#include "engine/detect/detection_stage.h"
#include "engine/event/field_access.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRule = R"(title: Dumper
id: 00000000-0000-0000-0000-0000000000d1
logsource: {product: test, service: tool}
detection:
  selection:
    Image|endswith: '\dump.exe'
  condition: selection
level: high
)";

// The rule's logsource selects the events with tool=1, so a classified
// event shows it: Event::selector_count is set.
constexpr const char* kLogsources = R"(logsources:
  - logsource: {product: test, service: tool}
    events:
      - when: {tool: '1'}
)";

class Sink : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    for (Alert& alert : alerts) events.push_back(alert.events.at(0).id);
    alerts.clear();
  }
  std::vector<uint64_t> events;  // the id of each alert's event
};

// Parses with JsonLineParser and records, per call, the event's index and
// how many events before it were already classified.
class RecordingParser : public DeferredParser {
 public:
  void ParseDeferred(EventBatch& batch, Event& event) override {
    const auto events = batch.events();
    const size_t index = static_cast<size_t>(&event - events.data());
    size_t classified = 0;
    for (size_t i = 0; i < index; ++i) classified += events[i].selector_count > 0 ? 1 : 0;
    calls.push_back({index, classified, event.parse_deferred});
    event.parse_deferred = false;
    SyslogParseContext context;
    context.receive_time_ns = event.receive_time_ns;
    parser_.ParseOrKeepRaw(event.raw, context, event, batch);
  }
  struct Call {
    size_t index;
    size_t classified_before;  // events before it already classified
    bool was_deferred;
  };
  std::vector<Call> calls;

 private:
  JsonLineParser parser_;
};

std::string Line(int i, bool dumper) {
  return R"({"tool":"1","n":")" + std::to_string(i) + R"(","Image":"C:\\Tools\\)" +
         (dumper ? "dump" : "other") + R"(.exe"})";
}

class DeferredParse : public ::testing::Test {
 protected:
  DeferredParse() {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "rule.yml") << kRule;
    std::ofstream(dir_ / "logsources.yaml") << kLogsources;
    RuleSources sources;
    sources.rule_paths = {dir_ / "rule.yml"};
    sources.logsources = dir_ / "logsources.yaml";
    sources.agency_names = {"unknown"};
    build_ = BuildRuleEngine(sources);
  }
  ~DeferredParse() override { fs::remove_all(dir_); }

  std::string Fatal() const {
    std::string text;
    for (const Diagnostic& d : build_.fatal) text += d.ToString() + "\n";
    for (const rules::RuleError& e : build_.refused) text += e.ToString() + "\n";
    return text;
  }

  // Events 1..n, every third one the dumper; deferred or parsed here.
  static void Fill(EventBatch& batch, int n, bool deferred) {
    JsonLineParser parser;
    for (int i = 0; i < n; ++i) {
      Event& event = batch.AddEvent();
      event.id = static_cast<uint64_t>(i + 1);
      event.receive_time_ns = 1'700'000'000'000'000'000;
      event.raw = event.message = batch.arena().CopyPadded(Line(i, i % 3 == 0));
      if (deferred) {
        event.parse_deferred = true;
      } else {
        SyslogParseContext context;
        context.receive_time_ns = event.receive_time_ns;
        ASSERT_TRUE(parser.ParseOrKeepRaw(event.raw, context, event, batch));
      }
    }
  }

  const fs::path dir_ = fs::temp_directory_path() / ("gsoc_deferred_" + std::to_string(getpid()));
  RuleEngineBuild build_;
};

TEST_F(DeferredParse, EachEventIsParsedOnceJustBeforeItIsMatched) {
  ASSERT_TRUE(build_.engine) << Fatal();
  ASSERT_EQ(build_.rules_loaded, 1u);
  Sink sink;
  RecordingParser parser;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  stage.SetDeferredParser(&parser);
  EventBatch batch;
  Fill(batch, 12, /*deferred=*/true);
  stage.Process(batch);

  ASSERT_EQ(parser.calls.size(), 12u);
  for (size_t i = 0; i < parser.calls.size(); ++i) {
    EXPECT_EQ(parser.calls[i].index, i);
    EXPECT_TRUE(parser.calls[i].was_deferred) << i;
    // Every event before it was parsed, classified (and matched) already.
    EXPECT_EQ(parser.calls[i].classified_before, i) << i;
  }
  for (const Event& event : batch.events()) {
    EXPECT_FALSE(event.parse_deferred);
    EXPECT_EQ(GetField(batch, event, "tool").value, "1");
  }
  EXPECT_EQ(sink.events, (std::vector<uint64_t>{1, 4, 7, 10}));

  // A second pass over the same batch parses nothing again.
  stage.Process(batch);
  EXPECT_EQ(parser.calls.size(), 12u);
}

TEST_F(DeferredParse, AlertsAreThoseOfTheSameEventsParsedBeforehand) {
  ASSERT_TRUE(build_.engine) << Fatal();
  Sink deferred_sink, parsed_sink;
  RecordingParser parser;
  DetectionStage deferred_stage(build_.engine, &deferred_sink, {"unknown"});
  deferred_stage.SetDeferredParser(&parser);
  DetectionStage parsed_stage(build_.engine, &parsed_sink, {"unknown"});
  EventBatch deferred, parsed;
  Fill(deferred, 30, true);
  Fill(parsed, 30, false);
  deferred_stage.Process(deferred);
  parsed_stage.Process(parsed);
  EXPECT_EQ(deferred_sink.events.size(), 10u);
  EXPECT_EQ(deferred_sink.events, parsed_sink.events);
}

TEST_F(DeferredParse, EventsThatCameParsedAreLeftAlone) {
  ASSERT_TRUE(build_.engine) << Fatal();
  Sink sink;
  RecordingParser parser;
  DetectionStage stage(build_.engine, &sink, {"unknown"});
  stage.SetDeferredParser(&parser);
  EventBatch batch;
  Fill(batch, 3, false);
  Fill(batch, 3, true);  // ids 1..3 again: the deferred ones
  stage.Process(batch);
  ASSERT_EQ(parser.calls.size(), 3u);
  EXPECT_EQ(parser.calls[0].index, 3u);
  EXPECT_EQ(sink.events, (std::vector<uint64_t>{1, 1}));
}

TEST_F(DeferredParse, WithNoRulesEveryEventIsStillParsed) {
  Sink sink;
  RecordingParser parser;
  DetectionStage stage(nullptr, &sink, {"unknown"});
  stage.SetDeferredParser(&parser);
  EventBatch batch;
  Fill(batch, 5, true);
  stage.Process(batch);
  EXPECT_EQ(parser.calls.size(), 5u);
  for (const Event& event : batch.events()) {
    EXPECT_FALSE(event.parse_deferred);
    EXPECT_EQ(event.format, EventFormat::kJson);
  }
  EXPECT_TRUE(sink.events.empty());
}

}  // namespace
}  // namespace gsoc
