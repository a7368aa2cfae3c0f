#include "engine/triage/triage_json.h"

#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"

namespace gsoc::triage {

namespace {

void AppendStringOrNull(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, text);
  }
}

void AppendTimeOrNull(std::string& out, int64_t ns) {
  if (ns == 0) {
    out += "null";
    return;
  }
  char text[32];
  AppendJsonString(out, FormatRfc3339Millis(ns, text));
}

void AppendEntries(std::string& out, const std::vector<CaseEntry>& entries, bool with_action) {
  out += '[';
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ',';
    out += "{\"time\":";
    AppendTimeOrNull(out, entries[i].time_ns);
    out += ",\"author\":";
    AppendJsonString(out, entries[i].author);
    if (with_action) {
      out += ",\"action\":";
      AppendJsonString(out, entries[i].action);
      out += ",\"detail\":";
    } else {
      out += ",\"text\":";
    }
    AppendJsonString(out, entries[i].text);
    out += '}';
  }
  out += ']';
}

}  // namespace

void AppendTriageJson(std::string& out, const TriageState& state) {
  out += "{\"status\":\"";
  out += StatusName(state.status);
  out += "\",\"reason\":";
  AppendStringOrNull(out, ReasonName(state.reason));
  out += ",\"assignee\":";
  AppendStringOrNull(out, state.assignee);
  out += ",\"version\":" + std::to_string(state.version) + ",\"updated_at\":";
  AppendTimeOrNull(out, state.updated_ns);
  out += ",\"updated_by\":";
  AppendStringOrNull(out, state.updated_by);
  out += '}';
}

void AttachTriageJson(std::string& alert_json, const TriageState& state) {
  if (alert_json.empty() || alert_json.back() != '}') return;  // not an object: leave it
  alert_json.pop_back();
  alert_json += ",\"triage\":";
  AppendTriageJson(alert_json, state);
  alert_json += '}';
}

void AppendHistoryJson(std::string& out, const HistoryEntry& entry) {
  out += "{\"version\":" + std::to_string(entry.version) + ",\"time\":";
  AppendTimeOrNull(out, entry.time_ns);
  out += ",\"author\":";
  AppendJsonString(out, entry.author);
  out += ",\"action\":\"";
  out += ActionName(entry.action);
  out += "\",\"status\":\"";
  out += StatusName(entry.status);
  out += "\",\"reason\":";
  AppendStringOrNull(out, ReasonName(entry.reason));
  out += ",\"assignee\":";
  AppendStringOrNull(out, entry.assignee);
  out += ",\"note\":";
  AppendStringOrNull(out, entry.note);
  out += '}';
}

void AppendCaseJson(std::string& out, const Case& value, bool full) {
  out += "{\"id\":" + std::to_string(value.id) + ",\"title\":";
  AppendJsonString(out, value.title);
  out += ",\"agency\":";
  AppendJsonString(out, value.agency);
  out += ",\"severity\":\"";
  out += rules::LevelName(value.severity);
  out += "\",\"status\":\"";
  out += CaseStatusName(value.status);
  out += "\",\"assignee\":";
  AppendStringOrNull(out, value.assignee);
  out += ",\"alert_count\":" + std::to_string(value.alerts.size()) + ",\"created_at\":";
  AppendTimeOrNull(out, value.created_ns);
  out += ",\"updated_at\":";
  AppendTimeOrNull(out, value.updated_ns);
  out += ",\"version\":" + std::to_string(value.version);
  if (full) {
    out += ",\"auto_rule\":";
    AppendStringOrNull(out, value.auto_rule);
    out += ",\"alert_ids\":[";
    for (size_t i = 0; i < value.alerts.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(value.alerts[i].first);
    }
    out += "],\"notes\":";
    AppendEntries(out, value.notes, false);
    out += ",\"timeline\":";
    AppendEntries(out, value.timeline, true);
  }
  out += '}';
}

}  // namespace gsoc::triage
