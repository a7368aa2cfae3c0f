#include "engine/alert/alert.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"

namespace gsoc {

const char* AlertKindName(AlertKind kind) {
  return kind == AlertKind::kCorrelation ? "correlation" : "detection";
}

namespace {

// Numbers appended in place: rendering runs for every alert a listener
// gets and every one read back from the store, so no temporary strings.
void AppendUint(std::string& out, uint64_t value) {
  char text[20];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  out.append(text, static_cast<size_t>(end - text));
}

void AppendQuotedUint(std::string& out, uint64_t value) {
  out.push_back('"');
  AppendUint(out, value);
  out.push_back('"');
}

void AppendHex(std::string& out, uint64_t value) {
  char text[16];
  for (int i = 15; i >= 0; --i, value >>= 4) text[i] = "0123456789abcdef"[value & 0xf];
  out.append(text, 16);
}

void AppendTime(std::string& out, int64_t ns) {
  char text[32];
  AppendJsonString(out, FormatRfc3339Millis(ns, text));
}

void AppendPairs(std::string& out, const std::vector<std::pair<std::string, std::string>>& pairs) {
  out.push_back('{');
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, pairs[i].first);
    out.push_back(':');
    AppendJsonString(out, pairs[i].second);
  }
  out.push_back('}');
}

void AppendRule(std::string& out, const AlertRule& rule) {
  out += "{\"id\":";
  AppendJsonString(out, rule.id);
  out += ",\"name\":";
  AppendJsonString(out, rule.name);
  out += ",\"title\":";
  AppendJsonString(out, rule.title);
  out += ",\"level\":";
  AppendJsonString(out, rules::LevelName(rule.level));
  out += ",\"tags\":[";
  for (size_t i = 0; i < rule.tags.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, rule.tags[i]);
  }
  out.push_back(']');
  if (rule.revision != 0) {
    out += ",\"revision\":\"";
    AppendHex(out, rule.revision);
    out.push_back('"');
  }
  out.push_back('}');
}

void AppendEvents(std::string& out, const std::vector<AlertEvent>& events) {
  out.push_back('[');
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"id\":";
    AppendQuotedUint(out, events[i].id);
    out += ",\"time\":";
    AppendTime(out, events[i].time_ns);
    out += ",\"raw\":";
    AppendJsonString(out, events[i].raw);
    out.push_back('}');
  }
  out.push_back(']');
}

void AppendCorrelation(std::string& out, const Alert& alert) {
  out += ",\"correlation\":{\"type\":";
  AppendJsonString(out, alert.correlation_type);
  out += ",\"value\":";
  if (std::isfinite(alert.value)) {
    char number[64];
    const int length = std::snprintf(number, sizeof number, "%.15g", alert.value);
    out.append(number, static_cast<size_t>(length));
  } else {
    out += "null";
  }
  out += ",\"condition\":";
  AppendJsonString(out, alert.condition);
  out += ",\"suppressed\":";
  AppendUint(out, alert.suppressed);
  out.push_back('}');
}

void AppendAggregate(std::string& out, const Alert& alert) {
  out += ",\"aggregate\":{\"key\":\"";
  AppendHex(out, alert.aggregate_key);
  out += "\",\"version\":";
  AppendUint(out, alert.aggregate_version);
  out += ",\"opened\":";
  AppendTime(out, alert.aggregate_opened_ns);
  out += ",\"closes\":";
  AppendTime(out, alert.aggregate_closes_ns);
  out += ",\"replaces\":";
  AppendQuotedUint(out, alert.replaces);
  out.push_back('}');
}

}  // namespace

std::string HexId(uint64_t value) {
  std::string text;
  AppendHex(text, value);
  return text;
}

std::optional<uint64_t> ParseHexId(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string AggregateKeyText(uint64_t key) { return HexId(key); }

void AppendAlertJson(std::string& out, const Alert& alert) {
  out += "{\"id\":";
  AppendQuotedUint(out, alert.id);
  out += ",\"time\":";
  AppendTime(out, alert.time_ns);
  out += ",\"kind\":\"";
  out += AlertKindName(alert.kind);
  out += "\",\"rule\":";
  AppendRule(out, alert.rule);
  out += ",\"agency\":";
  AppendJsonString(out, alert.agency);
  out += ",\"group\":";
  AppendPairs(out, alert.group);
  out += ",\"window\":{\"start\":";
  AppendTime(out, alert.window_start_ns);
  out += ",\"end\":";
  AppendTime(out, alert.window_end_ns);
  out += "},\"count\":";
  AppendUint(out, alert.count);
  if (alert.kind == AlertKind::kCorrelation) AppendCorrelation(out, alert);
  if (alert.aggregate_key != 0) AppendAggregate(out, alert);
  out += ",\"fields\":";
  AppendPairs(out, alert.fields);
  out += ",\"events\":";
  AppendEvents(out, alert.events);
  out.push_back('}');
}

}  // namespace gsoc
