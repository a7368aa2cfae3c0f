// Helpers of the SigmaHQ corpus tests: running gsocctl, splitting the
// regression data's pretty-printed JSON objects into JSON lines, converting
// an evtx_dump event into the Winlogbeat and NXLog shapes, and finding a
// rule file by its id.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gsoc::sigmahq {

namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string out;  // stdout
};
// Runs `command` through the shell and captures its stdout.
CommandResult RunCommand(const std::string& command);

// "a b" -> 'a b' for the shell.
std::string Quote(const std::string& text);

// The JSON objects of a file written as pretty-printed objects one after
// another, each as one line.
std::vector<std::string> JsonObjects(const std::string& text);

enum class Shape { kEvtx, kWinlogbeat, kNxlog };
const char* ShapeName(Shape shape);
// One evtx_dump event (one JSON line) in `shape`.
std::string ConvertEvtx(const std::string& evtx_line, Shape shape);

// Rule id -> file, for every rule file under `folders`.
std::map<std::string, fs::path> RuleFilesById(const std::vector<fs::path>& folders);

std::string ReadFile(const fs::path& file);

// Alerts per rule id in gsocctl's JSON-lines output.
std::map<std::string, int> AlertsByRule(const std::string& jsonl);

// The alerts of rule `rule_id` when `gsocctl replay --format json` runs with
// only the rule file `rule` loaded (no decoders, no cache) over
// `evtx_events` (evtx_dump JSON lines) converted to `shape`; the input is
// written under `dir`. -1 when gsocctl fails.
int ReplayAlerts(const fs::path& rule, const std::string& rule_id,
                 const std::vector<std::string>& evtx_events, Shape shape, const fs::path& dir);
// The same with every rule of `rules` (a file or a folder) loaded: the
// alerts per rule id; nullopt when gsocctl fails.
std::optional<std::map<std::string, int>> ReplayAlertsByRule(
    const fs::path& rules, const std::vector<std::string>& evtx_events, Shape shape,
    const fs::path& dir);

// One evtx_dump line: the System block of `provider` in `channel`, then
// `body` (the EventData or UserData member, JSON). `event_id` is JSON too: a
// number, or the {"#attributes":{"Qualifiers":..},"#text":..} object of the
// classic providers.
std::string EvtxEvent(const std::string& provider, const std::string& channel,
                      const std::string& event_id, const std::string& body);

}  // namespace gsoc::sigmahq
