// gsocctl tail / query / alert: alerts from a running gsocd, through its
// HTTP API (engine/api/api_server.h).
//
//   tail [-f]    the last N alerts, oldest first; -f then follows the SSE
//                stream from the last one shown, reconnecting with backoff
//                (Last-Event-ID: no alert lost or shown twice)
//   query        alerts by time, rule, level, agency, text; follows cursors
//   alert ID     one alert in full, with its contributing events
#include <simdjson.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tools/gsocctl/alert_view.h"
#include "tools/gsocctl/api_client.h"
#include "tools/gsocctl/api_session.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {

namespace {

namespace fs = std::filesystem;
using simdjson::dom::element;
using Json = simdjson::simdjson_result<element>;  // an element or why there is none

constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";
constexpr const char* kNdjson = "application/x-ndjson";
constexpr size_t kMaxPage = 10'000;  // the API's limit cap

// ---------------------------------------------------------------------------
// Where gsocd is and the token.

// The keys of a gsocd config that gsocctl needs.
struct GsocdConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  bool tls = false;
  std::string token;    // api.tokens[0]
  fs::path token_file;  // api.token_file, default <data_dir>/api-token
};

bool ReadGsocdConfig(const fs::path& file, GsocdConfig* config, std::string* error) {
  const fs::path base = fs::absolute(file).parent_path();
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    fs::path data_dir = base / "var";
    if (root["data_dir"]) data_dir = base / root["data_dir"].as<std::string>();
    config->token_file = data_dir / "api-token";
    const YAML::Node api = root["api"];
    if (!api || !api.IsMap()) return true;
    if (api["address"]) config->address = api["address"].as<std::string>();
    if (api["port"]) config->port = api["port"].as<uint16_t>();
    const YAML::Node tls = api["tls"];
    config->tls = tls && tls.IsMap() && tls["certificate"] && !tls["certificate"].IsNull();
    const YAML::Node tokens = api["tokens"];
    if (tokens && tokens.IsSequence() && tokens.size() > 0) {
      config->token = tokens[0].as<std::string>();
    }
    if (api["token_file"]) config->token_file = base / api["token_file"].as<std::string>();
    return true;
  } catch (const YAML::Exception& e) {
    *error = file.string() + ": " + e.what();
    return false;
  }
}

std::string ConfigUrl(const GsocdConfig& config) {
  std::string host = config.address;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(config.tls ? "https://" : "http://") + host + ":" +
         std::to_string(config.port);
}

// The first line of `file`, trimmed; empty with `error` set if unreadable.
std::string ReadTokenFile(const fs::path& file, std::string* error) {
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    *error = fs::exists(file, ec) ? "cannot read it" : "it does not exist";
    return "";
  }
  std::string token;
  std::getline(in, token);
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  token.erase(std::find_if_not(token.rbegin(), token.rend(), blank).base(), token.end());
  token.erase(token.begin(), std::find_if_not(token.begin(), token.end(), blank));
  if (token.empty()) *error = "it is empty";
  return token;
}

bool UseColor(const std::string& choice) {
  if (choice != "auto") return choice == "always";
  const char* no_color = std::getenv("NO_COLOR");
  return ::isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0');
}

// The token by precedence; false with *problem set when there is none.
bool ResolveToken(const ApiCommandOptions& options, const GsocdConfig* config,
                  const fs::path& config_file, Session* session, std::string* problem) {
  session->token_places = "--token, then $GSOC_TOKEN, then ";
  if (config == nullptr) {
    session->token_places += "<data_dir>/api-token of " + config_file.string();
  } else if (!config->token.empty()) {
    session->token_places += "api.tokens of " + config_file.string();
  } else {
    session->token_places +=
        config->token_file.string() + " (the api-token file of " + config_file.string() + ")";
  }
  const char* env = std::getenv("GSOC_TOKEN");
  if (!options.token.empty()) {
    session->endpoint.token = options.token;
    session->token_source = "--token";
  } else if (env != nullptr && *env != '\0') {
    session->endpoint.token = env;
    session->token_source = "$GSOC_TOKEN";
  } else if (config == nullptr) {
    *problem = config_file.string() + " does not exist";
  } else if (!config->token.empty()) {
    session->endpoint.token = config->token;
    session->token_source = "api.tokens of " + config_file.string();
  } else {
    std::string error;
    session->endpoint.token = ReadTokenFile(config->token_file, &error);
    session->token_source = config->token_file.string();
    if (!error.empty()) *problem = config->token_file.string() + ": " + error;
  }
  return !session->endpoint.token.empty();
}

}  // namespace

// 0, or the exit code after a message on stderr.
int ResolveSession(const ApiCommandOptions& options, Session* session) {
  const fs::path config_file =
      options.config.empty() ? fs::path(GSOC_DEPLOY_DIR) / "gsoc.yaml" : fs::path(options.config);
  GsocdConfig config;
  std::string error;
  std::error_code ec;
  const bool have_config = (!options.config.empty() || fs::exists(config_file, ec)) &&
                           ReadGsocdConfig(config_file, &config, &error);
  if (!options.config.empty() && !have_config) {
    std::fprintf(stderr, "gsocctl: --config %s\n", error.c_str());
    return 2;
  }
  session->url = !options.url.empty()      ? options.url
                 : !options.config.empty() ? ConfigUrl(config)
                                           : kDefaultUrl;
  if (!ParseEndpointUrl(session->url, &session->endpoint)) {
    std::fprintf(stderr, "gsocctl: --url %s: expected http(s)://HOST[:PORT]\n",
                 session->url.c_str());
    return 2;
  }
  session->endpoint.insecure = options.insecure;
  session->color = UseColor(options.color);
  std::string problem;
  if (!ResolveToken(options, have_config ? &config : nullptr, config_file, session, &problem)) {
    std::fprintf(stderr,
                 "gsocctl: no API token (%s).\n"
                 "  The token is looked for in: %s.\n"
                 "  gsocd writes its api-token file in its data_dir on first start; use --config "
                 "for that gsocd's config, or --token.\n",
                 problem.c_str(), session->token_places.c_str());
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Replies.

// The "error" of a {"error": "..."} body, else the body itself.
std::string ErrorText(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view text;
  if (!parser.parse(body)["error"].get(text)) return std::string(text);
  std::string trimmed = body.substr(0, 300);
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.pop_back();
  }
  return trimmed;
}

// Says why a request failed; returns the exit code (1).
int ReportFailure(const Session& session, int status, const std::string& detail) {
  if (status == 0) {
    const bool certificate = detail.find("certificate") != std::string::npos;
    std::fprintf(stderr, "gsocctl: cannot reach gsocd at %s: %s (%s)\n", session.url.c_str(),
                 TerminalSafe(detail).c_str(),
                 certificate ? "a self-signed certificate? --insecure skips the check"
                             : "is gsocd running? --url or --config select the address");
  } else if (status == 401) {
    std::fprintf(stderr,
                 "gsocctl: %s refused the API token (401 Unauthorized); the token came from %s.\n"
                 "  The token is looked for in: %s.\n",
                 session.url.c_str(), session.token_source.c_str(), session.token_places.c_str());
  } else {
    std::fprintf(stderr, "gsocctl: %s answered %d: %s\n", session.url.c_str(), status,
                 TerminalSafe(ErrorText(detail)).c_str());
  }
  return 1;
}

bool Retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

void AppendParam(std::string& target, std::string_view key, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  target.push_back(target.find('?') == std::string::npos ? '?' : '&');
  target.append(key);
  target.push_back('=');
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      target.push_back(c);
    } else {
      target.push_back('%');
      target.push_back(kHex[byte >> 4]);
      target.push_back(kHex[byte & 15]);
    }
  }
}

namespace {

// The filters the commands share; empty ones are not sent.
struct AlertFilters {
  std::string since, until, rule, level, agency, q, status, assignee;

  void AddTo(CLI::App& command, bool time_range) {
    if (time_range) {
      command.add_option("--since", since, "from this time: RFC 3339 or a duration back (1h)");
      command.add_option("--until", until, "before this time: RFC 3339 or a duration back");
    }
    command.add_option("--rule", rule, "rule id or name");
    command.add_option("--level", level, "a level (high) or at least one (high+)")
        ->check(LevelValidator());
    command.add_option("--agency", agency, "agency name");
    command.add_option("-q", q, "text the alert contains (case-insensitive)");
    command.add_option("--status", status,
                       "triage status: new, acknowledged, in_progress, closed (comma-separated)");
    command.add_option("--assignee", assignee, "triage assignee");
  }

  void AppendTo(std::string& target) const {
    const std::pair<const char*, const std::string*> params[] = {
        {"since", &since},   {"until", &until}, {"rule", &rule},     {"level", &level},
        {"agency", &agency}, {"q", &q},         {"status", &status}, {"assignee", &assignee}};
    for (const auto& [key, value] : params) {
      if (!value->empty()) AppendParam(target, key, *value);
    }
  }

  static CLI::Validator LevelValidator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
          std::string_view level = value;
          if (level.ends_with('+')) level.remove_suffix(1);
          for (const char* name : {"informational", "low", "medium", "high", "critical"}) {
            if (level == name) return "";
          }
          return "expected informational, low, medium, high or critical, optionally with +";
        },
        "LEVEL[+]");
  }
};

struct Page {
  std::vector<std::string> alerts;  // each alert's JSON
  std::string next_cursor;          // empty at the end
};

// An NDJSON reply (cursor in X-Next-Cursor), or a JSON one if the server
// answered that instead.
bool ParsePage(const HttpReply& reply, Page* page) {
  const auto type = reply.headers.find("content-type");
  if (type != reply.headers.end() && type->second.starts_with("application/json")) {
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(reply.body).get(root)) return false;
    simdjson::dom::array alerts;
    if (root["alerts"].get(alerts)) return false;
    for (const element alert : alerts) page->alerts.push_back(simdjson::minify(alert));
    std::string_view cursor;
    if (!root["next_cursor"].get(cursor)) page->next_cursor = cursor;
    return true;
  }
  std::string_view body = reply.body;
  while (!body.empty()) {
    const size_t end = std::min(body.find('\n'), body.size());
    std::string_view line = body.substr(0, end);
    body.remove_prefix(std::min(end + 1, body.size()));
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) page->alerts.emplace_back(line);
  }
  const auto cursor = reply.headers.find("x-next-cursor");
  if (cursor != reply.headers.end() && cursor->second != "null") page->next_cursor = cursor->second;
  return true;
}

// Reads `base` (a target with its filters) page by page, following cursors,
// until `limit` alerts or the end; on_alert gets each in reply order. False
// with *failure set when a request fails.
bool FetchAlerts(const ApiClient& client, const std::string& base, size_t limit,
                 const std::function<void(const std::string&)>& on_alert, HttpReply* failure) {
  std::string cursor;
  for (size_t fetched = 0; fetched < limit;) {
    std::string target = base;
    AppendParam(target, "limit", std::to_string(std::min(limit - fetched, kMaxPage)));
    if (!cursor.empty()) AppendParam(target, "cursor", cursor);
    HttpReply reply = client.Get(target, kNdjson);
    Page page;
    if (reply.status == 200 && !ParsePage(reply, &page)) {
      reply.status = 502;
      reply.body = "{\"error\":\"the reply is not a list of alerts\"}";
    }
    if (reply.status != 200) {
      if (reply.status == 0) reply.body = reply.error;
      *failure = std::move(reply);
      return false;
    }
    for (size_t i = 0; i < page.alerts.size() && fetched < limit; ++i, ++fetched) {
      on_alert(page.alerts[i]);
    }
    if (page.next_cursor.empty() || page.alerts.empty()) break;
    cursor = std::move(page.next_cursor);
  }
  return true;
}

// ---------------------------------------------------------------------------
// The commands.

using alert_view::PrintAlertDetail;
using alert_view::PrintAlertLine;

// Reconnection delays: 0.5 s doubling to 10 s.
class Backoff {
 public:
  std::chrono::milliseconds Next() {
    const auto delay = delay_;
    delay_ = std::min(delay_ * 2, std::chrono::milliseconds(10'000));
    return delay;
  }
  void Reset() { delay_ = std::chrono::milliseconds(500); }

 private:
  std::chrono::milliseconds delay_{500};
};

void Wait(std::chrono::milliseconds delay, const std::string& why) {
  std::fprintf(stderr, "gsocctl: %s; retrying in %.1f s\n", TerminalSafe(why).c_str(),
               delay.count() / 1000.0);
  std::this_thread::sleep_for(delay);
}

struct Tail {
  ApiCommandOptions api;
  AlertFilters filters;
  bool follow = false;
  bool json = false;
  size_t lines = 10;

  int Run() {
    Session session;
    if (const int code = ResolveSession(api, &session)) return code;
    const ApiClient client(session.endpoint);
    uint64_t last_id = 0;
    if (const int code = ShowLast(client, session, &last_id)) return code;
    if (!follow) return 0;
    return Follow(client, session, last_id);
  }

  // Prints the last `lines` alerts oldest first; *last_id: the newest that
  // matched (0 if none), where following starts.
  int ShowLast(const ApiClient& client, const Session& session, uint64_t* last_id) {
    std::string target = "/api/v1/alerts";
    filters.AppendTo(target);
    AppendParam(target, "order", "desc");
    std::vector<std::string> newest_first;
    const auto collect = [&](const std::string& alert) { newest_first.push_back(alert); };
    HttpReply failure;
    Backoff backoff;
    while (
        !FetchAlerts(client, target, std::max<size_t>(lines, follow ? 1 : 0), collect, &failure)) {
      if (!follow || !Retryable(failure.status)) {
        return ReportFailure(session, failure.status, failure.body);
      }
      Wait(backoff.Next(), "cannot query " + session.url + ": " + ErrorText(failure.body));
      newest_first.clear();
    }
    for (size_t i = std::min(lines, newest_first.size()); i-- > 0;) {
      PrintAlertLine(newest_first[i], json, session.color);
    }
    std::fflush(stdout);
    simdjson::dom::parser parser;
    element newest;
    if (!newest_first.empty() && !parser.parse(newest_first.front()).get(newest)) {
      *last_id = alert_view::AlertIdOf(newest);
    }
    return 0;
  }

  // Follows the stream forever, resuming after the last alert printed.
  int Follow(const ApiClient& client, const Session& session, uint64_t last_id) {
    std::string target = "/api/v1/alerts/stream";
    AlertFilters live = filters;
    live.since.clear();
    live.until.clear();
    live.AppendTo(target);
    Backoff backoff;
    for (;;) {
      bool received = false;
      const auto on_event = [&](uint64_t id, const std::string& data) {
        if (id != 0 && id <= last_id) return true;  // already shown
        PrintAlertLine(data, json, session.color);
        std::fflush(stdout);
        if (id != 0) last_id = id;
        received = true;
        return true;
      };
      std::string error;
      const int status = client.Stream(target, last_id, on_event, &error);
      if (status != 0 && status != 200 && !Retryable(status)) {
        return ReportFailure(session, status, error);
      }
      if (received) backoff.Reset();
      const std::string why = status == 0 ? "cannot reach " + session.url + ": " + error
                              : status == 200
                                  ? "stream: " + error
                                  : "stream: " + std::to_string(status) + " " + ErrorText(error);
      Wait(backoff.Next(), why);
    }
  }
};

struct Query {
  ApiCommandOptions api;
  AlertFilters filters;
  size_t limit = 100;
  std::string order = "desc";
  bool json = false;

  int Run() {
    Session session;
    if (const int code = ResolveSession(api, &session)) return code;
    std::string target = "/api/v1/alerts";
    filters.AppendTo(target);
    AppendParam(target, "order", order);
    const auto print = [&](const std::string& alert) {
      PrintAlertLine(alert, json, session.color);
    };
    HttpReply failure;
    if (!FetchAlerts(ApiClient(session.endpoint), target, limit, print, &failure)) {
      std::fflush(stdout);
      return ReportFailure(session, failure.status, failure.body);
    }
    return 0;
  }
};

struct ShowAlert {
  ApiCommandOptions api;
  std::string id;
  bool json = false;

  int Run() {
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
      std::fprintf(stderr, "gsocctl alert: %s is not an alert id (a number)\n", id.c_str());
      return 2;
    }
    Session session;
    if (const int code = ResolveSession(api, &session)) return code;
    HttpReply reply = ApiClient(session.endpoint).Get("/api/v1/alerts/" + id);
    if (reply.status == 404) {
      std::fprintf(stderr, "gsocctl: no alert %s\n", id.c_str());
      return 1;
    }
    if (reply.status != 200) {
      return ReportFailure(session, reply.status, reply.status ? reply.body : reply.error);
    }
    while (!reply.body.empty() && (reply.body.back() == '\n' || reply.body.back() == '\r')) {
      reply.body.pop_back();
    }
    if (json) {
      const std::string safe = TerminalSafeJson(reply.body);
      std::fwrite(safe.data(), 1, safe.size(), stdout);
      std::fputc('\n', stdout);
    } else if (!PrintAlertDetail(reply.body, session.color)) {
      std::fprintf(stderr, "gsocctl: the reply is not an alert: %s\n",
                   TerminalSafe(reply.body).c_str());
      return 1;
    }
    return 0;
  }
};

}  // namespace

ApiCommand::ApiCommand(CLI::App& command) : options_(std::make_shared<ApiCommandOptions>()) {
  options_->AddTo(command);
}

int ApiCommand::Resolve(ApiEndpoint* endpoint, std::string* url) const {
  Session session;
  if (const int code = ResolveSession(*options_, &session); code != 0) return code;
  *endpoint = session.endpoint;
  *url = session.url;
  return 0;
}

int ApiCommand::Report(const HttpReply& reply) const {
  Session session;
  if (const int code = ResolveSession(*options_, &session); code != 0) return code;
  return ReportFailure(session, reply.status, reply.status == 0 ? reply.error : reply.body);
}

void AddTail(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand("tail", "the last alerts from gsocd; -f: follow new ones");
  auto state = std::make_shared<Tail>();
  state->api.AddTo(*command);
  state->filters.AddTo(*command, false);
  command->add_flag("-f,--follow", state->follow, "keep printing new alerts as they come");
  command->add_option("-n,--lines", state->lines, "how many of the last alerts to print")
      ->capture_default_str();
  command->add_flag("--json", state->json, "each alert's JSON, one per line");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

void AddQuery(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand("query", "search the alerts gsocd stored");
  auto state = std::make_shared<Query>();
  state->api.AddTo(*command);
  state->filters.AddTo(*command, true);
  command->add_option("--limit", state->limit, "at most this many alerts")->capture_default_str();
  command->add_option("--order", state->order, "desc (newest first) or asc")
      ->check(CLI::IsMember({"asc", "desc"}))
      ->capture_default_str();
  command->add_flag("--json", state->json, "each alert's JSON, one per line (NDJSON)");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

void AddAlert(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand("alert", "one alert in full, with its contributing events");
  auto state = std::make_shared<ShowAlert>();
  state->api.AddTo(*command);
  command->add_option("id", state->id, "alert id")->required();
  command->add_flag("--json", state->json, "the alert's JSON");
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

}  // namespace gsoc::ctl
