#include "engine/alert/alert.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

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

namespace {

bool SameEvents(const std::vector<AlertEvent>& a, const std::vector<AlertEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].time_ns != b[i].time_ns || a[i].raw != b[i].raw) return false;
  }
  return true;
}

// Appends out[begin, begin + size) to out (the bytes of an earlier alert).
void AppendOwnBytes(std::string& out, size_t begin, size_t size) {
  const size_t at = out.size();
  out.resize(at + size);
  std::memcpy(out.data() + at, out.data() + begin, size);
}

// Where an alert's "fields" and "events" values were written in `out`.
struct RenderedParts {
  size_t fields_begin = 0, fields_size = 0;
  size_t events_begin = 0, events_size = 0;
};

// AppendAlertJson, copying the fields and events values from `previous`
// (rendered at `parts` in `out`) when they are equal: each rule an event
// fires is one alert with that event's fields and raw line, and escaping
// those is most of an alert's rendering. Sets `parts` for the next one.
void AppendAlertBodyAfter(std::string& out, const Alert& alert, const Alert* previous,
                          RenderedParts& parts) {
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
  const size_t fields_begin = out.size();
  if (previous != nullptr && previous->fields == alert.fields) {
    AppendOwnBytes(out, parts.fields_begin, parts.fields_size);
  } else {
    AppendPairs(out, alert.fields);
  }
  parts.fields_begin = fields_begin;
  parts.fields_size = out.size() - fields_begin;
  out += ",\"events\":";
  const size_t events_begin = out.size();
  if (previous != nullptr && SameEvents(previous->events, alert.events)) {
    AppendOwnBytes(out, parts.events_begin, parts.events_size);
  } else {
    AppendEvents(out, alert.events);
  }
  parts.events_begin = events_begin;
  parts.events_size = out.size() - events_begin;
  out.push_back('}');
}

void AppendAlertJsonAfter(std::string& out, const Alert& alert, const Alert* previous,
                          RenderedParts& parts) {
  AppendAlertJsonIdMember(out, alert.id);
  AppendAlertBodyAfter(out, alert, previous, parts);
}

}  // namespace

void AppendAlertJsonIdMember(std::string& out, uint64_t id) {
  out += "{\"id\":";
  AppendQuotedUint(out, id);
}

void AppendAlertJsonBodies(std::string& out, std::span<const Alert> alerts,
                           std::vector<size_t>& ends) {
  RenderedParts parts;
  const Alert* previous = nullptr;
  for (const Alert& alert : alerts) {
    AppendAlertBodyAfter(out, alert, previous, parts);
    ends.push_back(out.size());
    previous = &alert;
  }
}

void AppendAlertJson(std::string& out, const Alert& alert) {
  RenderedParts parts;
  AppendAlertJsonAfter(out, alert, nullptr, parts);
}

void AppendAlertJsonLines(std::string& out, std::span<const Alert> alerts) {
  RenderedParts parts;
  const Alert* previous = nullptr;
  for (const Alert& alert : alerts) {
    AppendAlertJsonAfter(out, alert, previous, parts);
    out.push_back('\n');
    previous = &alert;
  }
}

}  // namespace gsoc
