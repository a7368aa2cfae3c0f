// The correlation examples of the Sigma specification
// (corpus sigma-specification/spec_examples) load and behave as the
// specification describes, on synthetic events. Each test writes the example
// beside small detection rules supplying the ids and names it refers to,
// builds a rule engine from them (no logsource map: every rule sees every
// event) and streams events with fields through detection and correlation.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/detect/correlation_service.h"
#include "engine/detect/detection_stage.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'795'600'800LL * kSecond;  // 2026-11-25T10:00:00Z
const fs::path kExamples = fs::path(GSOC_CORPUS_DIR) / "sigma-specification/spec_examples";

using Fields = std::vector<std::pair<std::string, std::string>>;

// A detection rule matching events whose `field` equals `value`.
std::string Detection(const std::string& id_or_name, const std::string& field,
                      const std::string& value) {
  const bool uuid = id_or_name.size() == 36;
  return "title: synthetic " + id_or_name + "\n" + (uuid ? "id: " : "name: ") + id_or_name +
         "\nlogsource: {product: test}\ndetection:\n  sel:\n    " + field + ": '" + value +
         "'\n  condition: sel\n";
}

class SpecExample {
 public:
  // `example`: a file of spec_examples; `detections`: YAML documents added.
  // `prefix` completes the detection-rule fragments, which the specification
  // shows without the mandatory title and logsource; correlation examples
  // are copied verbatim.
  SpecExample(const std::vector<std::string>& examples, const std::vector<std::string>& detections,
              const std::string& prefix = "") {
    dir_ = fs::temp_directory_path() /
           ("gsoc-spec-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const std::string& example : examples) {
      std::ifstream in(kExamples / example);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      const bool fragment = text.find("correlation:") == std::string::npos;
      std::ofstream(dir_ / example) << (fragment ? prefix : "") << text;
    }
    for (size_t i = 0; i < detections.size(); ++i) {
      std::ofstream(dir_ / ("synthetic_" + std::to_string(i) + ".yml")) << detections[i];
    }
    RuleSources sources;
    sources.rule_paths = {dir_};
    sources.agency_names = {"test"};
    build_ = BuildRuleEngine(sources);
  }
  ~SpecExample() { fs::remove_all(dir_); }

  const RuleEngineBuild& build() const { return build_; }

  void Event(double seconds, const Fields& fields) { events_.push_back({seconds, fields}); }

  // Streams the events in time order (one batch), ends the stream, returns
  // the correlation alerts.
  std::vector<Alert> Run() {
    std::stable_sort(events_.begin(), events_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    EventBatch batch;
    uint64_t id = 1;
    for (const auto& [seconds, fields] : events_) {
      gsoc::Event& event = batch.AddEvent();
      event.id = id++;
      event.event_time_ns = event.receive_time_ns = kBase + static_cast<int64_t>(seconds * kSecond);
      event.raw = event.message = batch.arena().Copy("synthetic event " + std::to_string(event.id));
      for (const auto& [name, value] : fields) {
        batch.AddField(event, batch.arena().Copy(name), batch.arena().Copy(value));
      }
    }
    struct Capture : AlertSink {
      void Publish(std::vector<Alert>& alerts) override {
        for (Alert& alert : alerts) {
          if (alert.kind == AlertKind::kCorrelation) captured.push_back(std::move(alert));
        }
        alerts.clear();
      }
      std::vector<Alert> captured;
    } sink;
    correlate::Correlator correlator({}, {"test"});
    DetectionStage stage(build_.engine, &sink, {"test"}, &correlator);
    stage.Process(batch);
    std::vector<Alert> closing;
    EndCorrelationStream(correlator, *build_.engine->correlations, closing);
    sink.Publish(closing);
    return std::move(sink.captured);
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  RuleEngineBuild build_;
  std::vector<std::pair<double, Fields>> events_;
};

std::map<std::string, std::string> GroupOf(const Alert& alert) {
  return {alert.group.begin(), alert.group.end()};
}

std::string Describe(const std::vector<Alert>& alerts) {
  std::string text;
  for (const Alert& alert : alerts) {
    text += alert.rule.title + " count " + std::to_string(alert.count) + " value " +
            std::to_string(alert.value) + ":";
    for (const auto& [name, value] : alert.group) text += " " + name + "=" + value;
    text += " window " + std::to_string((alert.window_start_ns - kBase) / kSecond) + ".." +
            std::to_string((alert.window_end_ns - kBase) / kSecond) + "\n";
  }
  return text;
}

void ExpectLoaded(const SpecExample& example, size_t correlations) {
  for (const auto& error : example.build().refused) ADD_FAILURE() << error.ToString();
  ASSERT_TRUE(example.build().engine);
  EXPECT_EQ(example.build().correlations_loaded, correlations);
}

constexpr const char* kFailedLoginId = "5638f7c0-ac70-491d-8465-2a65075e0d86";

// corr_spec_line0398: >= 100 failed logins per ComputerName within 1h.
TEST(SpecExamples, EventCountManyFailedLogins) {
  SpecExample example({"corr_spec_line0398.yml"}, {Detection(kFailedLoginId, "EventID", "4625")});
  ExpectLoaded(example, 1);
  for (int i = 0; i < 99; ++i)
    example.Event(i * 30, {{"EventID", "4625"}, {"ComputerName", "dc1"}});
  for (int i = 0; i < 100; ++i)
    example.Event(i * 30, {{"EventID", "4625"}, {"ComputerName", "dc2"}});
  example.Event(10, {{"EventID", "4624"}, {"ComputerName", "dc1"}});  // not a failure
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(alerts[0].rule.id, "0e95725d-7320-415d-80f7-004da920fc11");
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"ComputerName", "dc2"}}));
  EXPECT_EQ(alerts[0].count, 100u);
}

// corr_spec_line0429: >= 100 distinct User per (ComputerName, WorkstationName) within 1d.
TEST(SpecExamples, ValueCountDistinctUsers) {
  SpecExample example({"corr_spec_line0429.yml"}, {Detection(kFailedLoginId, "EventID", "4625")});
  ExpectLoaded(example, 1);
  for (int i = 0; i < 150; ++i) {  // 150 failures, 99 distinct users, on ws1
    example.Event(i * 60, {{"EventID", "4625"},
                           {"ComputerName", "dc1"},
                           {"WorkstationName", "ws1"},
                           {"User", "u" + std::to_string(i % 99)}});
  }
  for (int i = 0; i < 100; ++i) {  // 100 distinct users on ws2, over 23 hours
    example.Event(i * 828, {{"EventID", "4625"},
                            {"ComputerName", "dc1"},
                            {"WorkstationName", "ws2"},
                            {"User", "v" + std::to_string(i)}});
  }
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"ComputerName", "dc1"},
                                                                    {"WorkstationName", "ws2"}}));
  EXPECT_EQ(alerts[0].count, 100u);
}

// corr_spec_line0460: recon commands a, b, c in any order within 5m, same
// ComputerName and User.
TEST(SpecExamples, TemporalInAnyOrder) {
  SpecExample example({"corr_spec_line0460.yml"}, {Detection("recon_cmd_a", "cmd", "whoami"),
                                                   Detection("recon_cmd_b", "cmd", "ipconfig"),
                                                   Detection("recon_cmd_c", "cmd", "net user")});
  ExpectLoaded(example, 1);
  const Fields h1 = {{"ComputerName", "pc1"}, {"User", "eve"}};
  auto with = [](Fields fields, const char* cmd) {
    fields.emplace_back("cmd", cmd);
    return fields;
  };
  example.Event(0, with(h1, "net user"));
  example.Event(60, with(h1, "whoami"));
  example.Event(290, with(h1, "ipconfig"));  // all three within 290 s: fires
  const Fields h2 = {{"ComputerName", "pc2"}, {"User", "eve"}};
  example.Event(0, with(h2, "whoami"));
  example.Event(100, with(h2, "ipconfig"));
  example.Event(301, with(h2, "net user"));  // 301 s after the first: not within 5m
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]),
            (std::map<std::string, std::string>{{"ComputerName", "pc1"}, {"User", "eve"}}));
  EXPECT_EQ(alerts[0].count, 3u);
}

// corr_spec_line0486: many_failed_logins then successful_login by the same User within 1h.
TEST(SpecExamples, TemporalOrderedNeedsTheOrder) {
  SpecExample example({"corr_spec_line0486.yml"},
                      {Detection("many_failed_logins", "EventID", "4625"),
                       Detection("successful_login", "EventID", "4624")});
  ExpectLoaded(example, 1);
  example.Event(0, {{"EventID", "4625"}, {"User", "alice"}});
  example.Event(3000, {{"EventID", "4624"}, {"User", "alice"}});  // failure then success: fires
  example.Event(0, {{"EventID", "4624"}, {"User", "bob"}});
  example.Event(10, {{"EventID", "4625"}, {"User", "bob"}});  // success first: does not
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"User", "alice"}}));
}

// corr_spec_line0511: sum of bytes_sent > 1,000,000 per (SourceIP, User) within 1h.
TEST(SpecExamples, ValueSum) {
  SpecExample example({"corr_spec_line0511.yml"}, {Detection("website_access", "event", "web")});
  ExpectLoaded(example, 1);
  for (int i = 0; i < 4; ++i) {  // 4 x 300,000 = 1.2M within 30 min
    example.Event(
        i * 600,
        {{"event", "web"}, {"SourceIP", "10.0.0.5"}, {"User", "kim"}, {"bytes_sent", "300000"}});
  }
  for (int i = 0; i < 4; ++i) {  // 1.2M, but over 3 hours: never > 1M within 1h
    example.Event(
        i * 3600,
        {{"event", "web"}, {"SourceIP", "10.0.0.6"}, {"User", "lee"}, {"bytes_sent", "300000"}});
  }
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]),
            (std::map<std::string, std::string>{{"SourceIP", "10.0.0.5"}, {"User", "kim"}}));
  EXPECT_DOUBLE_EQ(alerts[0].value, 1'200'000);
}

// corr_spec_line0537: average BytesOut > 500 per (SourceIP, User) within 24h.
TEST(SpecExamples, ValueAverage) {
  SpecExample example({"corr_spec_line0537.yml"}, {Detection("rule_a_id", "event", "net")});
  ExpectLoaded(example, 1);
  example.Event(0, {{"event", "net"}, {"SourceIP", "a"}, {"User", "x"}, {"BytesOut", "400"}});
  example.Event(10, {{"event", "net"}, {"SourceIP", "a"}, {"User", "x"}, {"BytesOut", "700"}});
  example.Event(0, {{"event", "net"}, {"SourceIP", "b"}, {"User", "x"}, {"BytesOut", "400"}});
  example.Event(10, {{"event", "net"}, {"SourceIP", "b"}, {"User", "x"}, {"BytesOut", "450"}});
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]).at("SourceIP"), "a");
  EXPECT_GT(alerts[0].value, 500);
}

// corr_spec_line0569: value_percentile: a process image that is at most 1%
// of one computer's process starts within 24h. pc1: 99 bash and one rare
// image (1%: fires); pc2: 98 bash and a rare image twice (2%: does not).
TEST(SpecExamples, ValuePercentile) {
  SpecExample example({"corr_spec_line0569.yml"}, {Detection("process_creation", "event", "p")});
  ExpectLoaded(example, 1);
  for (int i = 0; i < 99; ++i)
    example.Event(i, {{"event", "p"}, {"ComputerName", "pc1"}, {"image", "/usr/bin/bash"}});
  example.Event(50, {{"event", "p"}, {"ComputerName", "pc1"}, {"image", "/tmp/.x/kworker"}});
  for (int i = 0; i < 98; ++i)
    example.Event(i, {{"event", "p"}, {"ComputerName", "pc2"}, {"image", "/usr/bin/bash"}});
  example.Event(60, {{"event", "p"}, {"ComputerName", "pc2"}, {"image", "/usr/bin/vim"}});
  example.Event(61, {{"event", "p"}, {"ComputerName", "pc2"}, {"image", "/usr/bin/vim"}});
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"ComputerName", "pc1"}}));
  EXPECT_DOUBLE_EQ(alerts[0].value, 1.0);
  EXPECT_EQ(alerts[0].count, 1u);
}

// corr_spec_line0609/0619/0631: aliases: internal_ip is destination.ip in
// internal_error events and source.ip in new_network_connection events.
TEST(SpecExamples, TemporalWithAliases) {
  SpecExample example(
      {"corr_spec_line0609.yml", "corr_spec_line0619.yml", "corr_spec_line0631.yml"}, {},
      "title: completed fragment\nlogsource: {product: test}\n");
  ExpectLoaded(example, 1);
  example.Event(0, {{"http.response.status_code", "500"},
                    {"destination.ip", "10.1.1.1"},
                    {"source.ip", "203.0.113.9"}});
  example.Event(5, {{"event.category", "network"},
                    {"event.type", "connection"},
                    {"event.outcome", "success"},
                    {"source.ip", "10.1.1.1"},
                    {"destination.ip", "203.0.113.9"}});
  // The same addresses without the swap do not correlate.
  example.Event(0, {{"http.response.status_code", "500"},
                    {"destination.ip", "10.2.2.2"},
                    {"source.ip", "203.0.113.10"}});
  example.Event(5, {{"event.category", "network"},
                    {"event.type", "connection"},
                    {"event.outcome", "success"},
                    {"source.ip", "203.0.113.10"},
                    {"destination.ip", "10.2.2.2"}});
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"internal_ip", "10.1.1.1"},
                                                                    {"remote_ip", "203.0.113.9"}}));
}

// corr_spec_line0664: the whole four-document example. Ten failed logins
// (EventID 4625 or 529) by one User within 10m, then a successful one
// (4624/528) within 10m: only the outer correlation alerts.
TEST(SpecExamples, FailedLoginsFollowedBySuccessfulLogin) {
  SpecExample example({"corr_spec_line0664.yml"}, {});
  ExpectLoaded(example, 2);
  for (int i = 0; i < 10; ++i)
    example.Event(i * 20, {{"EventID", i % 2 ? "529" : "4625"}, {"User", "alice"}});
  example.Event(400, {{"EventID", "4624"}, {"User", "alice"}});
  for (int i = 0; i < 9; ++i) example.Event(i * 20, {{"EventID", "4625"}, {"User", "bob"}});
  example.Event(400, {{"EventID", "528"}, {"User", "bob"}});  // only nine failures
  const auto alerts = example.Run();
  ASSERT_EQ(alerts.size(), 1u) << Describe(alerts);
  EXPECT_EQ(alerts[0].rule.id, "b180ead8-d58f-40b2-ae54-c8940995b9b6");
  EXPECT_EQ(alerts[0].rule.level, rules::Level::kHigh);
  EXPECT_EQ(GroupOf(alerts[0]), (std::map<std::string, std::string>{{"User", "alice"}}));
  EXPECT_EQ(alerts[0].events.size(), 10u);  // capped at max_alert_events, newest kept
}

}  // namespace
}  // namespace gsoc
