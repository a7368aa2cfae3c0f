// gsocctl logtest [LINE...]: for each line (arguments, or stdin) print the
// parsed header, the decoder used, the extracted fields and the rules
// matched, and the correlations that fired (lines form one stream in event
// time; windows still open at the end of input are closed then, as replay
// does); --json prints one JSON object per line instead.
#include <cstdio>
#include <iostream>
#include <string>

#include "engine/detect/correlation_service.h"
#include "engine/detect/detection_stage.h"
#include "engine/pipeline/event_file_stage.h"
#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/engine_options.h"
#include "tools/gsocctl/line_input.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {

namespace {

const char* FacilityName(int facility) {
  static const char* const kNames[] = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
      "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
  return facility >= 0 && facility < 24 ? kNames[facility] : "-";
}

const char* SeverityName(int severity) {
  static const char* const kNames[] = {"emerg",   "alert",  "crit", "err",
                                       "warning", "notice", "info", "debug"};
  return severity >= 0 && severity < 8 ? kNames[severity] : "-";
}

void PrintCorrelationText(const Alert& alert) {
  std::string group;
  for (const auto& [name, value] : alert.group) group += " " + name + "=" + value;
  std::printf("    [%s] %s (%s):%s %s %s\n", rules::LevelName(alert.rule.level),
              TerminalSafe(alert.rule.title).c_str(), TerminalSafe(alert.rule.id).c_str(),
              TerminalSafe(group).c_str(), alert.correlation_type.c_str(),
              TerminalSafe(alert.condition).c_str());
}

struct Logtest {
  EngineOptions engine;
  std::vector<std::string> lines;
  std::string format = "auto";
  int year = 0;
  bool json = false;

  void PrintText(const EventBatch& batch, const Event& event, std::string_view decoder,
                 const std::vector<const rules::Rule*>& matched) {
    char time_text[32];
    std::printf("%s\n", TerminalSafe(event.raw).c_str());
    std::printf("  format:   %s%s\n", std::string(FormatName(event.format)).c_str(),
                event.parse_error ? " (parse error: kept as raw text)" : "");
    std::printf("  header:   facility=%s severity=%s time=%s host=%s program=%s pid=%s\n",
                FacilityName(event.facility), SeverityName(event.severity),
                std::string(FormatRfc3339Millis(event.event_time_ns, time_text)).c_str(),
                TerminalSafe(event.host).c_str(), TerminalSafe(event.program).c_str(),
                TerminalSafe(event.pid).c_str());
    std::printf("  message:  %s\n", TerminalSafe(event.message).c_str());
    std::printf("  decoder:  %s\n", decoder.empty() ? "(none)" : TerminalSafe(decoder).c_str());
    for (const Field& field : batch.FieldsOf(event)) {
      std::printf("  field:    %s = %s\n", TerminalSafe(field.name).c_str(),
                  TerminalSafe(field.value).c_str());
    }
    std::printf("  rules:    %zu matched\n", matched.size());
    for (const rules::Rule* rule : matched) {
      std::printf("    [%s] %s (%s)\n", rules::LevelName(rule->level),
                  TerminalSafe(rule->title).c_str(), TerminalSafe(rule->id).c_str());
    }
  }

  void PrintCorrelations(const std::vector<Alert>& alerts) {
    if (json) {
      for (const Alert& alert : alerts) {
        std::string out = "{\"correlation\":";
        AppendAlertJson(out, alert);
        std::printf("%s}\n", TerminalSafeJson(out).c_str());
      }
      return;
    }
    if (alerts.empty()) return;
    std::printf("  correlations: %zu fired\n", alerts.size());
    for (const Alert& alert : alerts) PrintCorrelationText(alert);
  }

  void PrintJson(const EventBatch& batch, const Event& event, std::string_view decoder,
                 const std::vector<const rules::Rule*>& matched) {
    std::string out = "{\"event\":";
    std::string event_json;
    AppendEventJson(event_json, batch, event, {}, {"unknown"});
    event_json.pop_back();  // newline
    out += event_json + ",\"decoder\":";
    AppendJsonString(out, decoder);
    out += ",\"rules\":[";
    for (size_t i = 0; i < matched.size(); ++i) {
      if (i) out += ",";
      out += "{\"id\":";
      AppendJsonString(out, matched[i]->id);
      out += ",\"title\":";
      AppendJsonString(out, matched[i]->title);
      out += ",\"level\":";
      AppendJsonString(out, rules::LevelName(matched[i]->level));
      out += "}";
    }
    out += "]}";
    std::printf("%s\n", TerminalSafeJson(out).c_str());
  }

  int Run() {
    InputFormat input_format;
    if (!ParseInputFormat(format, &input_format)) return 2;
    RuleSources sources;
    RuleEngineBuild build;
    if (const int status = engine.ResolveAndBuild(&sources, &build)) return status;
    const RuleEngine& rule_engine = *build.engine;
    EngineScratch scratch = MakeEngineScratch(rule_engine);
    const correlate::CorrelationSet& correlations = *rule_engine.correlations;
    correlate::Correlator correlator({}, sources.agency_names);
    const rules::Rule* first_rule = rule_engine.matcher->rules().data();
    std::vector<Alert> fired;
    LineInput input(input_format, year, engine.utc_offset_seconds);
    auto test_line = [&](std::string line, uint64_t id) {
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
      if (line.empty()) return;
      EventBatch batch;
      input.Add(line, batch, id);
      Event& event = batch.events()[0];
      std::vector<const rules::Rule*> matched;
      const std::string_view decoder =
          DetectEvent(rule_engine, batch, event, scratch,
                      [&](const rules::Rule& rule) { matched.push_back(&rule); });
      if (json) {
        PrintJson(batch, event, decoder, matched);
      } else {
        PrintText(batch, event, decoder, matched);
      }
      std::vector<correlate::RuleHit> hits;
      for (const rules::Rule* rule : matched) {
        const auto index = static_cast<uint32_t>(rule - first_rule);
        if (!correlations.detection_routes[index].empty()) hits.push_back({0, index});
      }
      fired.clear();
      if (!hits.empty()) correlator.Process(correlations, batch, hits, fired);
      PrintCorrelations(fired);
    };
    uint64_t id = 1;
    if (!lines.empty()) {
      for (const auto& line : lines) test_line(line, id++);
    } else {
      for (std::string line; std::getline(std::cin, line);) test_line(line, id++);
    }
    fired.clear();
    EndCorrelationStream(correlator, correlations, fired);
    if (!fired.empty() && !json) std::printf("end of input: windows closed\n");
    PrintCorrelations(fired);
    return 0;
  }
};

}  // namespace

void AddLogtest(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand(
      "logtest", "show how log lines are parsed, decoded and matched (lines from args or stdin)");
  auto state = std::make_shared<Logtest>();
  state->engine.AddTo(*command);
  command->add_option("lines", state->lines, "log lines (default: read stdin)");
  command->add_option("--format", state->format, "syslog, json or auto")->capture_default_str();
  command->add_option("--year", state->year, "year of RFC 3164 timestamps");
  command->add_flag("--json", state->json, "one JSON object per line");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

}  // namespace gsoc::ctl
