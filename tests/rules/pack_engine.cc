#include "tests/rules/pack_engine.h"

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/correlation_service.h"

namespace gsoc::testing {

namespace fs = std::filesystem;

const fs::path& PackDir() {
  static const fs::path dir = fs::path(GSOC_SOURCE_DIR) / "rules";
  return dir;
}

RuleSources PackSources() {
  RuleSources sources;
  sources.rule_paths = {PackDir() / "sigma"};
  sources.decoder_paths = {PackDir() / "decoders"};
  sources.logsources = PackDir() / "logsources.yaml";
  sources.lists = {{"bad_ips", PackDir() / "lists" / "bad_ips.txt", ""},
                   {"bad_domains", PackDir() / "lists" / "bad_domains.txt", ""}};
  sources.agency_names = {"unknown"};
  return sources;
}

namespace {

class CapturingSink : public AlertSink {
 public:
  void Publish(std::vector<Alert>& alerts) override {
    for (Alert& alert : alerts) captured.push_back(std::move(alert));
    alerts.clear();
  }
  std::vector<Alert> captured;
};

}  // namespace

std::vector<Alert> RunStream(std::shared_ptr<const RuleEngine> engine,
                             const std::vector<TimedLine>& lines, size_t batch_events) {
  CapturingSink sink;
  correlate::Correlator correlator({}, {"unknown"});
  DetectionStage stage(engine, &sink, {"unknown"}, &correlator);
  EventBatch batch;
  uint64_t next_id = 1;
  for (const TimedLine& timed : lines) {
    Event& event = batch.AddEvent();
    const std::string_view copy = batch.arena().CopyPadded(timed.line);
    SyslogParseContext context;
    context.receive_time_ns = timed.time_ns;
    EventFormat failed;
    ParseSyslog(copy, context, event, batch, &failed);
    event.id = next_id++;
    event.receive_time_ns = timed.time_ns;
    if (batch.size() == batch_events) {
      stage.Process(batch);
      batch.Clear();
    }
  }
  if (!batch.empty()) stage.Process(batch);
  std::vector<Alert> closing;
  EndCorrelationStream(correlator, *engine->correlations, closing);
  sink.Publish(closing);
  return std::move(sink.captured);
}

}  // namespace gsoc::testing
