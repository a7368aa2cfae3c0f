// gsocctl ack|start|assign|note|close|reopen ID... and gsocctl case ...:
// triage and cases through the HTTP API (POST /api/v1/alerts/triage,
// /api/v1/cases; engine/api/api_server.h).
//
//   ack ID...                       acknowledge
//   assign ID... --assignee NAME    assign ("" unassigns)
//   note ID... --note TEXT          add a note
//   close ID... --reason R          close: true_positive, false_positive, benign, duplicate
//   start ID..., reopen ID...       in progress; reopen a closed alert
//   case list [--status S] [--agency A] [--limit N]
//   case show ID
//   case create --title T --agency A [ALERT_ID...]
//   case add CASE_ID ALERT_ID...
//   case close CASE_ID [--note TEXT]
// One line per alert or case; exit 1 when any alert was refused (conflict,
// not found, invalid transition), 2 on a usage error.
#include <simdjson.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/util/json_writer.h"
#include "tools/gsocctl/api_session.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {

namespace {

using simdjson::dom::element;

bool AllDigits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

// Checks ids; prints the usage error and returns false when one is not a number.
bool CheckIds(const char* command, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (!AllDigits(id)) {
      std::fprintf(stderr, "gsocctl %s: %s is not an id (a number)\n", command,
                   TerminalSafe(id).c_str());
      return false;
    }
  }
  return true;
}

std::string IdArray(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "]";
}

void AppendMember(std::string& out, const char* key, const std::string& value) {
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, value);
}

std::string Field(element object, const char* key) {
  std::string_view text;
  if (!object[key].get(text)) return TerminalSafe(text);
  uint64_t number = 0;
  if (!object[key].get(number)) return std::to_string(number);
  return "-";
}

std::string TriageText(element triage) {
  std::string text = Field(triage, "status");
  if (const std::string reason = Field(triage, "reason"); reason != "-")
    text += " (" + reason + ")";
  if (const std::string who = Field(triage, "assignee"); who != "-") text += " assignee=" + who;
  text += " v" + Field(triage, "version");
  if (const std::string by = Field(triage, "updated_by"); by != "-") text += " by " + by;
  return text;
}

// Prints one line per result; returns 0 when all were applied, else 1.
int PrintResults(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array results;
  if (parser.parse(body)["results"].get(results)) {
    std::fprintf(stderr, "gsocctl: the reply is not a triage result: %s\n",
                 TerminalSafe(body.substr(0, 300)).c_str());
    return 1;
  }
  int code = 0;
  for (const element result : results) {
    bool ok = false;
    if (result["ok"].get(ok)) ok = false;
    std::string line = "id=" + Field(result, "id") + "  ";
    if (ok) {
      line += "ok  ";
    } else {
      code = 1;
      line += Field(result, "error") + "  ";
      if (const std::string detail = Field(result, "detail"); detail != "-") line += detail + "  ";
    }
    element triage;
    if (!result["triage"].get(triage)) line += (ok ? "" : "current: ") + TriageText(triage);
    std::printf("%s\n", line.c_str());
  }
  return code;
}

struct TriageCommand {
  ApiCommandOptions api;
  std::string action;
  std::vector<std::string> ids;
  std::string assignee, note, reason;
  bool json = false;

  int Run() {
    if (!CheckIds(action.c_str(), ids)) return 2;
    if (action == "note" && note.empty()) {
      std::fprintf(stderr, "gsocctl note: --note TEXT is required\n");
      return 2;
    }
    Session session;
    if (const int code = ResolveSession(api, &session)) return code;
    std::string body = "{\"ids\":" + IdArray(ids);
    AppendMember(body, "action", action);
    if (action == "assign") AppendMember(body, "assignee", assignee);
    if (!note.empty()) AppendMember(body, "note", note);
    if (!reason.empty()) AppendMember(body, "reason", reason);
    body += '}';
    const HttpReply reply = ApiClient(session.endpoint).Post("/api/v1/alerts/triage", body);
    if (reply.status != 200) {
      return ReportFailure(session, reply.status, reply.status ? reply.body : reply.error);
    }
    if (json) {
      std::printf("%s\n", TerminalSafeJson(reply.body).c_str());
      return 0;
    }
    return PrintResults(reply.body);
  }
};

void AddTriageAction(CLI::App& app, int* exit_code, const char* name, const char* help) {
  auto* command = app.add_subcommand(name, help);
  auto state = std::make_shared<TriageCommand>();
  state->action = name;
  state->api.AddTo(*command);
  command->add_option("ids", state->ids, "alert ids")->required();
  const std::string action = name;
  if (action == "assign") {
    command->add_option("--assignee", state->assignee, "who (empty: nobody)")->required();
  }
  if (action == "close") {
    command->add_option("--reason", state->reason, "why")
        ->required()
        ->check(CLI::IsMember({"true_positive", "false_positive", "benign", "duplicate"}));
  }
  command->add_option("--note", state->note, action == "note" ? "the note" : "a note with it");
  command->add_flag("--json", state->json, "the API's reply");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

// ---- cases ----

std::string CaseLine(element value) {
  return "case " + Field(value, "id") + "  " + Field(value, "severity") + "  " +
         Field(value, "status") + "  agency=" + Field(value, "agency") +
         "  alerts=" + Field(value, "alert_count") + "  assignee=" + Field(value, "assignee") +
         "  v" + Field(value, "version") + "  " + Field(value, "title");
}

void PrintCase(element value) {
  std::printf("%s\n", CaseLine(value).c_str());
  simdjson::dom::array ids;
  if (!value["alert_ids"].get(ids)) {
    std::string list;
    for (const element id : ids) {
      uint64_t number = 0;
      if (!id.get(number)) list += (list.empty() ? "" : ",") + std::to_string(number);
    }
    std::printf("alerts:   %s\n", list.c_str());
  }
  simdjson::dom::array timeline;
  if (!value["timeline"].get(timeline)) {
    for (const element entry : timeline) {
      std::printf("  %s  %s  %s  %s\n", Field(entry, "time").c_str(),
                  Field(entry, "author").c_str(), Field(entry, "action").c_str(),
                  Field(entry, "detail").c_str());
    }
  }
}

struct CaseCommand {
  ApiCommandOptions api;
  std::string verb;  // list, show, create, add, close
  std::vector<std::string> ids;
  std::string title, agency, status, note;
  size_t limit = 100;
  bool json = false;

  int Run() {
    if (!CheckIds(("case " + verb).c_str(), ids)) return 2;
    Session session;
    if (const int code = ResolveSession(api, &session)) return code;
    const ApiClient client(session.endpoint);
    HttpReply reply;
    if (verb == "list") {
      std::string target = "/api/v1/cases";
      if (!status.empty()) AppendParam(target, "status", status);
      if (!agency.empty()) AppendParam(target, "agency", agency);
      AppendParam(target, "limit", std::to_string(limit));
      reply = client.Get(target);
    } else if (verb == "show") {
      reply = client.Get("/api/v1/cases/" + ids.at(0));
    } else if (verb == "create") {
      std::string body = "{\"alert_ids\":" + IdArray(ids);
      AppendMember(body, "title", title);
      AppendMember(body, "agency", agency);
      reply = client.Post("/api/v1/cases", body + "}");
    } else {
      const std::vector<std::string> alerts(ids.begin() + 1, ids.end());
      std::string body = verb == "add"
                             ? "{\"action\":\"add_alerts\",\"alert_ids\":" + IdArray(alerts)
                             : std::string("{\"action\":\"close\"");
      if (!note.empty()) AppendMember(body, "note", note);
      reply = client.Post("/api/v1/cases/" + ids.at(0), body + "}");
    }
    if (reply.status != 200 && reply.status != 201) {
      return ReportFailure(session, reply.status, reply.status ? reply.body : reply.error);
    }
    return Print(reply.body);
  }

  int Print(const std::string& body) const {
    if (json) {
      std::printf("%s\n", TerminalSafeJson(body).c_str());
      return 0;
    }
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(body).get(root)) return 1;
    simdjson::dom::array cases;
    if (verb == "list" && !root["cases"].get(cases)) {
      for (const element value : cases) std::printf("%s\n", CaseLine(value).c_str());
      return 0;
    }
    PrintCase(root);
    return 0;
  }
};

CLI::App* AddCaseVerb(CLI::App& parent, int* exit_code, const char* verb, const char* help,
                      std::shared_ptr<CaseCommand>& state) {
  auto* command = parent.add_subcommand(verb, help);
  state = std::make_shared<CaseCommand>();
  state->verb = verb;
  state->api.AddTo(*command);
  command->add_flag("--json", state->json, "the API's reply");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
  return command;
}

}  // namespace

void AddTriage(CLI::App& app, int* exit_code) {
  AddTriageAction(app, exit_code, "ack", "acknowledge alerts");
  AddTriageAction(app, exit_code, "start", "mark alerts in progress");
  AddTriageAction(app, exit_code, "assign", "assign alerts (--assignee)");
  AddTriageAction(app, exit_code, "note", "add a note to alerts (--note)");
  AddTriageAction(app, exit_code, "close", "close alerts (--reason)");
  AddTriageAction(app, exit_code, "reopen", "reopen closed alerts");
}

void AddCase(CLI::App& app, int* exit_code) {
  auto* cases = app.add_subcommand("case", "cases (incidents): list, show, create, add, close");
  cases->require_subcommand(1);
  std::shared_ptr<CaseCommand> state;
  auto* list = AddCaseVerb(*cases, exit_code, "list", "cases, newest first", state);
  list->add_option("--status", state->status, "open, in_progress or closed");
  list->add_option("--agency", state->agency, "agency name");
  list->add_option("--limit", state->limit, "at most this many")->capture_default_str();
  auto* show = AddCaseVerb(*cases, exit_code, "show", "one case with its timeline", state);
  show->add_option("id", state->ids, "case id")->required()->expected(1);
  auto* create = AddCaseVerb(*cases, exit_code, "create", "a case of alerts", state);
  create->add_option("--title", state->title, "title")->required();
  create->add_option("--agency", state->agency, "agency")->required();
  create->add_option("alert_ids", state->ids, "alert ids");
  auto* add = AddCaseVerb(*cases, exit_code, "add", "add alerts: CASE_ID ALERT_ID...", state);
  add->add_option("ids", state->ids, "case id, then alert ids")->required()->expected(2, 10000);
  auto* close = AddCaseVerb(*cases, exit_code, "close", "close a case", state);
  close->add_option("id", state->ids, "case id")->required()->expected(1);
  close->add_option("--note", state->note, "a note with it");
}

}  // namespace gsoc::ctl
