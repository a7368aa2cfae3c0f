// How gsocctl shows alerts: one line per alert for tail and query, and the
// full detail (rule metadata, correlation, events) for `gsocctl alert`.
// Everything printed goes through TerminalSafe.
#include "tools/gsocctl/alert_view.h"

#include <simdjson.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl::alert_view {

using simdjson::dom::element;
using Json = simdjson::simdjson_result<element>;  // an element or why there is none

// These take a dom::element or a Json (a lookup that may have failed).
template <class Node>
std::string_view Text(Node object, std::string_view key) {
  std::string_view value;
  if (object[key].get(value)) return {};
  return value;
}

template <class Node>
uint64_t AlertId(Node alert) {
  uint64_t id = 0;
  if (!alert["id"].get(id)) return id;
  const std::string_view text = Text(alert, "id");
  std::from_chars(text.data(), text.data() + text.size(), id);
  return id;
}

std::string ValueText(element value) {
  std::string_view text;
  if (!value.get(text)) return std::string(text);
  return simdjson::minify(value);
}

// "k=v k2=v2" of a JSON object (values with spaces quoted), at most `max`.
template <class Node>
std::string PairsSummary(Node object, size_t max) {
  simdjson::dom::object pairs;
  if (object.get(pairs)) return "";
  std::string summary;
  size_t shown = 0;
  for (const auto field : pairs) {
    if (shown++ == max) return summary + " ...";
    std::string value = ValueText(field.value);
    if (value.size() > 60) value = value.substr(0, 57) + "...";
    value = TerminalSafe(value);
    if (value.find(' ') != std::string::npos || value.empty()) value = "\"" + value + "\"";
    if (!summary.empty()) summary.push_back(' ');
    summary.append(TerminalSafe(field.key)).append("=").append(value);
  }
  return summary;
}

// The fields an analyst looks at first (DESIGN.md vocabulary), "k=v ...";
// empty when the alert has none of them.
std::string KeyFieldsSummary(Json fields) {
  static constexpr std::string_view kKeys[] = {"host",    "src_ip",   "user", "target_user",
                                               "dst_ip",  "dst_port", "url",  "domain",
                                               "command", "process"};
  std::string summary;
  for (const std::string_view key : kKeys) {
    element value;
    if (fields[key].get(value)) continue;
    std::string text = ValueText(value);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    text = TerminalSafe(text);
    if (text.find(' ') != std::string::npos || text.empty()) text = "\"" + text + "\"";
    if (!summary.empty()) summary.push_back(' ');
    summary.append(key).append("=").append(text);
  }
  return summary;
}

const char* LevelColor(std::string_view level) {
  if (level == "critical") return "\x1b[1;31m";
  if (level == "high") return "\x1b[31m";
  if (level == "medium") return "\x1b[33m";
  if (level == "low") return "\x1b[36m";
  return "\x1b[2m";
}

// The level padded to 8 columns, coloured when `color`.
std::string LevelLabel(std::string_view level, bool color) {
  std::string label(level == "informational" ? "info" : level);
  label.resize(std::max<size_t>(label.size(), 8), ' ');
  if (!color) return label;
  const size_t end = label.find_last_not_of(' ') + 1;
  return LevelColor(level) + label.substr(0, end) + "\x1b[0m" + label.substr(end);
}

// One readable line: time, level, kind (C correlation, D detection), rule
// title, agency, group (or fields), count, id.
std::string AlertLine(const std::string& json, bool color) {
  simdjson::dom::parser parser;
  element alert;
  if (parser.parse(json).get(alert)) return TerminalSafe(json);
  const Json rule = alert["rule"];
  const bool correlation = Text(alert, "kind") == "correlation";
  std::string_view title = Text(rule, "title");
  if (title.empty()) title = Text(rule, "name");
  std::string line = TerminalSafe(Text(alert, "time"));
  line.append("  ").append(LevelLabel(TerminalSafe(Text(rule, "level")), color));
  line.append(correlation ? "  C  " : "  D  ").append(TerminalSafe(title));
  if (const std::string_view agency = Text(alert, "agency"); !agency.empty()) {
    line.append("  agency=").append(TerminalSafe(agency));
  }
  std::string pairs = PairsSummary(alert["group"], 6);
  if (pairs.empty()) pairs = KeyFieldsSummary(alert["fields"]);
  if (pairs.empty()) pairs = PairsSummary(alert["fields"], 6);
  if (!pairs.empty()) line.append("  ").append(pairs);
  uint64_t count = 0;
  if (correlation && !alert["count"].get(count)) line.append("  count=" + std::to_string(count));
  return line + "  id=" + std::to_string(AlertId(alert));
}

void PrintAlertLine(const std::string& json, bool as_json, bool color) {
  const std::string line = as_json ? TerminalSafeJson(json) : AlertLine(json, color);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

// `value` as is: callers pass text made safe with TerminalSafe.
void PrintSafeRow(const char* label, const std::string& value) {
  if (value.empty()) return;
  std::printf("%-13s", label);
  std::fwrite(value.data(), 1, value.size(), stdout);
  std::fputc('\n', stdout);
}

void PrintRow(const char* label, std::string_view value) {
  PrintSafeRow(label, TerminalSafe(value));
}

template <class Node>
std::string TagsText(Node rule) {
  simdjson::dom::array tags;
  std::string text;
  if (rule["tags"].get(tags)) return text;
  for (const element tag : tags) text += (text.empty() ? "" : ", ") + ValueText(tag);
  return text;
}

// The rule's ATT&CK tags (attack.*), comma-separated.
template <class Node>
std::string AttackText(Node rule) {
  simdjson::dom::array tags;
  std::string text;
  if (rule["tags"].get(tags)) return text;
  for (const element tag : tags) {
    const std::string value = ValueText(tag);
    if (value.starts_with("attack.")) text += (text.empty() ? "" : ", ") + value;
  }
  return text;
}

// One row per entry of a string list (references, falsepositives).
template <class Node>
void PrintListRows(const char* label, Node list_node) {
  simdjson::dom::array list;
  if (list_node.get(list)) return;
  for (const element entry : list) {
    PrintRow(label, ValueText(entry));
    label = "";
  }
}

// The rule's metadata the API joins into one alert ("rule_detail").
void PrintRuleDetail(element alert) {
  element detail;
  if (alert["rule_detail"].get(detail) || !detail.is_object()) return;
  PrintRow("attack:", AttackText(detail));
  PrintRow("description:", Text(detail, "description"));
  PrintRow("author:", Text(detail, "author"));
  PrintListRows("references:", detail["references"]);
  PrintListRows("false pos.:", detail["falsepositives"]);
  bool truncated = false;
  if (!detail["metadata_truncated"].get(truncated) && truncated)
    PrintRow("note:", "the rule's metadata was truncated by the loader");
}

std::string CorrelationText(element correlation) {
  if (correlation.is_null()) return "";
  std::string text(Text(correlation, "type"));
  element value;
  if (!correlation["value"].get(value) && !value.is_null()) text += ", value " + ValueText(value);
  if (const auto condition = Text(correlation, "condition"); !condition.empty()) {
    text.append(", condition ").append(condition);
  }
  uint64_t suppressed = 0;
  if (!correlation["suppressed"].get(suppressed) && suppressed > 0) {
    text += ", " + std::to_string(suppressed) + " suppressed";
  }
  return text;
}

template <class Node>
void PrintPairs(const char* heading, Node object) {
  simdjson::dom::object pairs;
  if (object.get(pairs) || pairs.size() == 0) return;
  std::printf("%s:\n", heading);
  for (const auto field : pairs) {
    std::printf("  %s = %s\n", TerminalSafe(field.key).c_str(),
                TerminalSafe(ValueText(field.value)).c_str());
  }
}

void PrintEvents(element alert) {
  simdjson::dom::array events;
  if (alert["events"].get(events) || events.size() == 0) return;
  std::printf("events (%zu):\n", events.size());
  for (const element event : events) {
    const std::string_view time = Text(event, "time");
    const std::string_view raw = Text(event, "raw");
    std::printf("  %s  %s\n", TerminalSafe(time).c_str(), TerminalSafe(raw).c_str());
  }
}

// The whole alert: header rows, fields, contributing events.
bool PrintAlertDetail(const std::string& json, bool color) {
  simdjson::dom::parser parser;
  element alert;
  if (parser.parse(json).get(alert)) return false;
  const Json rule = alert["rule"];
  PrintRow("id:", std::to_string(AlertId(alert)));
  PrintRow("time:", Text(alert, "time"));
  PrintRow("kind:", Text(alert, "kind"));
  PrintRow("rule:", Text(rule, "title"));
  const std::string_view rule_name = Text(rule, "name");
  PrintRow("rule id:", std::string(Text(rule, "id")) +
                           (rule_name.empty() ? "" : "  (name " + std::string(rule_name) + ")"));
  std::string level = LevelLabel(TerminalSafe(Text(rule, "level")), color);
  level.erase(level.find_last_not_of(' ') + 1);
  PrintSafeRow("level:", level);
  PrintRow("tags:", TagsText(rule));
  PrintRuleDetail(alert);
  PrintRow("agency:", Text(alert, "agency"));
  PrintRow("group:", PairsSummary(alert["group"], SIZE_MAX));
  const Json window = alert["window"];
  if (!Text(window, "start").empty()) {
    PrintRow("window:",
             std::string(Text(window, "start")) + " .. " + std::string(Text(window, "end")));
  }
  uint64_t count = 0;
  if (!alert["count"].get(count)) PrintRow("count:", std::to_string(count));
  element correlation;
  if (!alert["correlation"].get(correlation))
    PrintRow("correlation:", CorrelationText(correlation));
  PrintPairs("fields", alert["fields"]);
  PrintEvents(alert);
  return true;
}

uint64_t AlertIdOf(element alert) { return AlertId(alert); }

}  // namespace gsoc::ctl::alert_view
