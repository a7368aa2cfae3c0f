#include "tests/rules/sigmahq_test_util.h"

#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/util/json_writer.h"

namespace gsoc::sigmahq {

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> JsonObjects(const std::string& text) {
  std::vector<std::string> objects;
  std::string current;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (depth == 0 && c != '{') continue;  // whitespace between objects
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    }
    // Pretty-printing whitespace outside strings (JSON strings hold no raw
    // newlines) becomes one space.
    if (!in_string && (c == '\n' || c == '\r')) c = ' ';
    current += c;
    if (depth == 0) {
      objects.push_back(current);
      current.clear();
    }
  }
  return objects;
}

const char* ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kEvtx:
      return "evtx_dump";
    case Shape::kWinlogbeat:
      return "winlogbeat";
    case Shape::kNxlog:
      return "nxlog";
  }
  return "?";
}

namespace {

namespace dom = simdjson::dom;

std::string Json(dom::element element) { return simdjson::minify(element); }

std::string Text(dom::element element) {
  std::string_view s;
  if (element.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(element);
}

struct EvtxParts {
  std::string channel, provider, computer, time, record_id, user_id, event_id;
  std::vector<std::pair<std::string, std::string>> data;  // name, JSON value
  bool user_data = false;
};

void Members(dom::element node, std::vector<std::pair<std::string, std::string>>& out) {
  dom::object object;
  if (node.get_object().get(object) != simdjson::SUCCESS) return;
  for (auto [key, value] : object) {
    if (key == "#attributes") continue;
    out.emplace_back(std::string(key), Json(value));
  }
}

EvtxParts Split(const std::string& line) {
  static dom::parser parser;
  EvtxParts parts;
  dom::element root = parser.parse(line).value();
  dom::element event = root["Event"].value();
  dom::element system = event["System"].value();
  parts.channel = Text(system["Channel"].value());
  parts.provider = Text(system["Provider"]["#attributes"]["Name"].value());
  parts.computer = Text(system["Computer"].value());
  parts.time = Text(system["TimeCreated"]["#attributes"]["SystemTime"].value());
  dom::element id = system["EventID"].value();
  dom::element text;
  parts.event_id = id["#text"].get(text) == simdjson::SUCCESS ? Text(text) : Text(id);
  dom::element element;
  if (system["EventRecordID"].get(element) == simdjson::SUCCESS) parts.record_id = Text(element);
  if (system["Security"]["#attributes"]["UserID"].get(element) == simdjson::SUCCESS)
    parts.user_id = Text(element);
  if (event["EventData"].get(element) == simdjson::SUCCESS) Members(element, parts.data);
  dom::object user_data;
  if (event["UserData"].get_object().get(user_data) == simdjson::SUCCESS) {
    parts.user_data = true;
    for (auto [key, wrapper] : user_data) Members(wrapper, parts.data);
  }
  return parts;
}

void Member(std::string& out, std::string_view name, const std::string& json_value) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  out += json_value;
}

std::string String(const std::string& text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string Winlogbeat(const EvtxParts& p) {
  std::string out = "{";
  Member(out, "@timestamp", String(p.time));
  Member(out, "host", "{\"name\":" + String(p.computer) + "}");
  Member(out, "event",
         "{\"code\":" + String(p.event_id) + ",\"provider\":" + String(p.provider) +
             ",\"kind\":\"event\"}");
  std::string winlog = "{";
  Member(winlog, "channel", String(p.channel));
  Member(winlog, "event_id", String(p.event_id));
  Member(winlog, "provider_name", String(p.provider));
  Member(winlog, "computer_name", String(p.computer));
  if (!p.record_id.empty()) Member(winlog, "record_id", p.record_id);
  if (!p.user_id.empty()) Member(winlog, "user", "{\"identifier\":" + String(p.user_id) + "}");
  std::string data = "{";
  for (const auto& [name, value] : p.data) Member(data, name, value);
  Member(winlog, p.user_data ? "user_data" : "event_data", data + "}");
  Member(out, "winlog", winlog + "}");
  return out + "}";
}

std::string Nxlog(const EvtxParts& p) {
  std::string out = "{";
  // EventTime as NXLog writes it: "YYYY-MM-DD hh:mm:ss".
  Member(out, "EventTime", String(p.time.substr(0, 10) + " " + p.time.substr(11, 8)));
  Member(out, "Hostname", String(p.computer));
  Member(out, "EventType", "\"INFO\"");
  Member(out, "SeverityValue", "2");
  Member(out, "EventID", p.event_id);
  Member(out, "SourceName", String(p.provider));
  Member(out, "Channel", String(p.channel));
  if (!p.record_id.empty()) Member(out, "RecordNumber", p.record_id);
  if (!p.user_id.empty()) Member(out, "UserID", String(p.user_id));
  for (const auto& [name, value] : p.data) Member(out, name, value);
  Member(out, "EventReceivedTime", "\"2026-01-01 00:00:00\"");
  Member(out, "SourceModuleName", "\"eventlog\"");
  Member(out, "SourceModuleType", "\"im_msvistalog\"");
  return out + "}";
}

}  // namespace

std::string ConvertEvtx(const std::string& evtx_line, Shape shape) {
  if (shape == Shape::kEvtx) return evtx_line;
  const EvtxParts parts = Split(evtx_line);
  return shape == Shape::kWinlogbeat ? Winlogbeat(parts) : Nxlog(parts);
}

std::map<std::string, fs::path> RuleFilesById(const std::vector<fs::path>& folders) {
  std::map<std::string, fs::path> files;
  const std::regex id_line(R"(^id:\s*'?([0-9a-fA-F-]{36})'?\s*$)");
  for (const fs::path& folder : folders) {
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".yml") continue;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::smatch match;
        if (std::regex_match(line, match, id_line)) {
          files.emplace(match[1].str(), entry.path());
          break;
        }
      }
    }
  }
  return files;
}

std::map<std::string, int> AlertsByRule(const std::string& jsonl) {
  std::map<std::string, int> counts;
  dom::parser parser;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    dom::element alert;
    if (parser.parse(line).get(alert) != simdjson::SUCCESS) {
      ++counts["<bad json>"];
      continue;
    }
    std::string_view id;
    if (alert["rule"]["id"].get(id) == simdjson::SUCCESS) ++counts[std::string(id)];
  }
  return counts;
}

std::optional<std::map<std::string, int>> ReplayAlertsByRule(
    const fs::path& rules, const std::vector<std::string>& evtx_events, Shape shape,
    const fs::path& dir) {
  fs::create_directories(dir / "no_decoders");  // Windows JSON needs no decoder
  const fs::path input = dir / (std::string(ShapeName(shape)) + ".jsonl");
  {
    std::ofstream out(input, std::ios::binary);
    for (const std::string& event : evtx_events) out << ConvertEvtx(event, shape) << "\n";
  }
  const CommandResult result =
      RunCommand(std::string(GSOCCTL_PATH) + " replay --no-cache --format json --decoders " +
                 Quote((dir / "no_decoders").string()) + " --rules " + Quote(rules.string()) + " " +
                 Quote(input.string()) + " 2>/dev/null");
  if (result.status != 0) return std::nullopt;
  return AlertsByRule(result.out);
}

int ReplayAlerts(const fs::path& rule, const std::string& rule_id,
                 const std::vector<std::string>& evtx_events, Shape shape, const fs::path& dir) {
  const auto alerts = ReplayAlertsByRule(rule, evtx_events, shape, dir);
  if (!alerts) return -1;
  const auto fired = alerts->find(rule_id);
  return fired == alerts->end() ? 0 : fired->second;
}

std::string EvtxEvent(const std::string& provider, const std::string& channel,
                      const std::string& event_id, const std::string& body) {
  return R"({"Event":{"#attributes":{"xmlns":)"
         R"("http://schemas.microsoft.com/win/2004/08/events/event"},)"
         R"("System":{"Provider":{"#attributes":{"Name":")" +
         provider + R"(","Guid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}},"EventID":)" + event_id +
         R"(,"Version":1,"Level":4,"Task":0,"Opcode":0,"Keywords":"0x8000000000000000",)"
         R"("TimeCreated":{"#attributes":{"SystemTime":"2026-03-01T10:00:00.123456Z"}},)"
         R"("EventRecordID":4711,"Correlation":null,)"
         R"("Execution":{"#attributes":{"ProcessID":1234,"ThreadID":5678}},"Channel":")" +
         channel +
         R"(","Computer":"ws01.agency.example",)"
         R"("Security":{"#attributes":{"UserID":"S-1-5-18"}}},)" +
         body + "}}";
}

}  // namespace gsoc::sigmahq
