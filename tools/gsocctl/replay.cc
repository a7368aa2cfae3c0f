// gsocctl replay FILE...: run log files through the engine offline, as fast
// as it can, printing alerts as JSON lines (the alert schema) on stdout and
// a summary (events, alerts, events/s) on stderr.
//
// Correlations run in event time exactly as in gsocd; when the input ends,
// the stream is treated as ended: every open window is closed (as a live
// gsocd does once the stream has been quiet for longer than the windows), so
// a replay gives the alerts a live run over the same lines gives.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/alert/jsonl_output.h"
#include "engine/decode/auditd_joiner.h"
#include "engine/detect/correlation_service.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/engine_options.h"
#include "tools/gsocctl/line_input.h"

namespace gsoc::ctl {

namespace {

constexpr size_t kBatchEvents = 1024;

struct Replay {
  EngineOptions engine;
  std::vector<std::string> files;
  std::string format = "auto";
  int year = 0;
  bool strict = false;
  int64_t lateness_seconds = 60;

  int Run() {
    InputFormat input_format;
    if (!ParseInputFormat(format, &input_format)) {
      std::fprintf(stderr, "--format: expected syslog, json or auto\n");
      return 2;
    }
    RuleSources sources;
    RuleEngineBuild build;
    if (const int status = engine.ResolveAndBuild(&sources, &build)) return status;
    std::fprintf(stderr, "%zu rule(s) and %zu correlation(s) loaded, %zu refused\n",
                 build.rules_loaded, build.correlations_loaded, build.refused.size());
    if (strict && !build.refused.empty()) {
      std::fprintf(stderr, "--strict: refused rules, not replaying\n");
      return 1;
    }

    JsonlAlertOutput output(stdout);
    correlate::CorrelatorOptions correlator_options;
    correlator_options.lateness_ns = lateness_seconds * 1'000'000'000;
    correlate::Correlator correlator(correlator_options, sources.agency_names);
    DetectionStage stage(build.engine, &output, sources.agency_names, &correlator);
    LineInput input(input_format, year, engine.utc_offset_seconds);
    EventBatch batch;
    uint64_t events = 0, parse_errors = 0;
    decode::AuditJoiner audit;
    uint64_t joined_ids = uint64_t{1} << 62;  // ids of joined auditd events
    const auto start = std::chrono::steady_clock::now();
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "%s: cannot open\n", file.c_str());
        return 2;
      }
      for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        if (line.empty()) continue;
        if (!input.Add(line, batch, ++events)) ++parse_errors;
        // auditd records of one serial become one event (engine/decode/auditd_joiner.h).
        decode::JoinAuditRecord(audit, batch, decode::AuditJoiner::kRecordTime, joined_ids);
        if (batch.size() >= kBatchEvents) {
          stage.Process(batch);
          batch.Clear();
        }
      }
    }
    std::vector<decode::AuditEvent> rest;
    audit.FlushAll(rest);  // serials whose EOE never came
    for (const decode::AuditEvent& event : rest)
      decode::AppendAuditEvent(event, batch).id = ++joined_ids;
    if (!batch.empty()) stage.Process(batch);
    std::vector<Alert> closing;
    EndCorrelationStream(correlator, *build.engine->correlations, closing);
    if (!closing.empty()) output.Publish(closing);
    stage.Flush();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%llu event(s), %llu parse error(s), %llu alert(s), %.0f events/s\n",
                 static_cast<unsigned long long>(events),
                 static_cast<unsigned long long>(parse_errors),
                 static_cast<unsigned long long>(output.alerts_written()),
                 seconds > 0 ? events / seconds : 0.0);
    return 0;
  }
};

}  // namespace

void AddReplay(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand("replay", "run log files through the engine offline");
  auto state = std::make_shared<Replay>();
  state->engine.AddTo(*command);
  command->add_option("files", state->files, "log files")->required();
  command->add_option("--format", state->format, "syslog, json or auto (per line)")
      ->capture_default_str();
  command->add_option("--year", state->year, "year of RFC 3164 timestamps (they carry none)");
  command->add_flag("--strict", state->strict, "exit 1 without replaying if any rule is refused");
  command
      ->add_option("--lateness", state->lateness_seconds,
                   "seconds an event may arrive out of order (correlation)")
      ->capture_default_str();
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

}  // namespace gsoc::ctl
