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
  if (rule.revision != 0) out += ",\"revision\":\"" + HexId(rule.revision) + '"';
  out.push_back('}');
}

void AppendEvents(std::string& out, const std::vector<AlertEvent>& events) {
  out.push_back('[');
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"id\":\"" + std::to_string(events[i].id) + "\",\"time\":";
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
  out += ",\"suppressed\":" + std::to_string(alert.suppressed) + "}";
}

void AppendAggregate(std::string& out, const Alert& alert) {
  out += ",\"aggregate\":{\"key\":\"" + AggregateKeyText(alert.aggregate_key) +
         "\",\"version\":" + std::to_string(alert.aggregate_version) + ",\"opened\":";
  AppendTime(out, alert.aggregate_opened_ns);
  out += ",\"closes\":";
  AppendTime(out, alert.aggregate_closes_ns);
  out += ",\"replaces\":\"" + std::to_string(alert.replaces) + "\"}";
}

}  // namespace

std::string HexId(uint64_t value) {
  char text[16];
  for (int i = 15; i >= 0; --i, value >>= 4) text[i] = "0123456789abcdef"[value & 0xf];
  return std::string(text, 16);
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
  out += "{\"id\":\"" + std::to_string(alert.id) + "\",\"time\":";
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
  out += "},\"count\":" + std::to_string(alert.count);
  if (alert.kind == AlertKind::kCorrelation) AppendCorrelation(out, alert);
  if (alert.aggregate_key != 0) AppendAggregate(out, alert);
  out += ",\"fields\":";
  AppendPairs(out, alert.fields);
  out += ",\"events\":";
  AppendEvents(out, alert.events);
  out.push_back('}');
}

}  // namespace gsoc
