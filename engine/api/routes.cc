#include "engine/api/routes.h"

#include <simdjson.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <exception>

#include "engine/api/console_routes.h"
#include "engine/api/route_handlers.h"
#include "engine/api/static_routes.h"
#include "engine/api/triage_routes.h"
#include "engine/util/json_writer.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

// Beast 1.74 takes boost::string_view.
boost::beast::string_view Bsv(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

HttpResponse MakeResponse(http::status status, std::string body, std::string_view content_type,
                          const HttpRequest& request) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "gsoc");
  response.set(http::field::content_type, Bsv(content_type));
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse Json(http::status status, std::string body, const HttpRequest& request) {
  return MakeResponse(status, std::move(body), "application/json", request);
}

HttpResponse Error(http::status status, std::string_view message, const HttpRequest& request) {
  return ErrorResponse(status, message, request.version(), request.keep_alive());
}

void ScopeFilter(const auth::Principal& principal, store::AlertFilter& filter) {
  if (!principal.SeesAllAgencies()) filter.allowed_agencies = principal.agencies;
}

namespace {

struct Target {
  std::string_view path;
  std::string_view query;
};

Target SplitTarget(std::string_view target) {
  const size_t mark = target.find('?');
  if (mark == std::string_view::npos) return {target, {}};
  return {target.substr(0, mark), target.substr(mark + 1)};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The principal of the request's bearer token, or none. Tokens from the
// config (api.tokens, the token file) are admins.
std::optional<auth::Principal> Authenticate(const ApiContext& context, const HttpRequest& request) {
  const auto header = request.find(http::field::authorization);
  if (header == request.end()) return std::nullopt;
  std::string_view value{header->value().data(), header->value().size()};
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() || !EqualsIgnoreCase(value.substr(0, 7), kScheme)) {
    return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  size_t matched = 0;  // every token is compared: no early exit
  for (size_t i = 0; i < context.options.tokens.size(); ++i) {
    if (ConstantTimeEquals(value, context.options.tokens[i])) matched = i + 1;
  }
  if (matched == 0) {
    if (context.hooks.auth == nullptr) return std::nullopt;
    return context.hooks.auth->Authenticate(value);
  }
  auth::Principal principal;
  principal.token_id = "config-" + std::to_string(matched);
  principal.name = principal.token_id;
  principal.role = auth::Role::kAdmin;
  return principal;
}

HttpResponse Unauthorized(const HttpRequest& request) {
  HttpResponse response =
      Error(http::status::unauthorized, "missing or wrong bearer token", request);
  response.set(http::field::www_authenticate, "Bearer realm=\"gsoc\"");
  return response;
}

HttpResponse MethodNotAllowed(const HttpRequest& request, std::string_view allow) {
  HttpResponse response = Error(http::status::method_not_allowed, "method not allowed", request);
  response.set(http::field::allow, Bsv(allow));
  return response;
}

bool WantsNdjson(const HttpRequest& request) {
  const auto accept = request.find(http::field::accept);
  if (accept == request.end()) return false;
  std::string_view value{accept->value().data(), accept->value().size()};
  return value.find("application/x-ndjson") != std::string_view::npos;
}

HttpResponse AlertsReply(const store::QueryResult& result, const HttpRequest& request) {
  const std::string cursor = result.next_cursor ? std::to_string(result.next_cursor) : "";
  std::string body;
  size_t size = 64;
  for (const auto& alert : result.alerts) size += alert.json.size() + 1;
  body.reserve(size);
  if (WantsNdjson(request)) {
    for (const auto& alert : result.alerts) (body += alert.json) += '\n';
    HttpResponse response =
        MakeResponse(http::status::ok, std::move(body), "application/x-ndjson", request);
    if (!cursor.empty()) response.set("X-Next-Cursor", cursor);
    return response;
  }
  body += "{\"alerts\":[";
  for (size_t i = 0; i < result.alerts.size(); ++i) {
    if (i > 0) body += ',';
    body += result.alerts[i].json;
  }
  body += "],\"next_cursor\":";
  body += cursor.empty() ? "null" : "\"" + cursor + "\"";
  body += '}';
  return Json(http::status::ok, std::move(body), request);
}

void ListAlerts(RouteCall& call) {
  const HttpRequest& request = call.request;
  auto parsed = ParseAlertsQuery(call.query, std::chrono::system_clock::now());
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    call.routed.reply = Error(http::status::bad_request, error->message, request);
    return;
  }
  if (!call.context.ResponseBudgetLeft()) {  // large replies in flight: bounded memory, retry
    HttpResponse busy =
        Error(http::status::service_unavailable, "busy sending other replies; retry", request);
    busy.set(http::field::retry_after, "1");
    call.routed.reply = std::move(busy);
    return;
  }
  AlertsQuery& query = std::get<AlertsQuery>(parsed);
  ScopeFilter(call.principal, query.filter.store);
  call.routed.reply = AlertsReply(
      RunAlertsQueryWithTriage(call.context, query, call.context.options.max_response_bytes),
      request);
}

// The alert's rule "revision" (16 hex digits), 0 when it has none.
uint64_t RuleRevisionOf(const std::string& alert_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(alert_json).get(root)) return 0;
  std::string_view text;
  if (root["rule"]["revision"].get(text)) return 0;
  return ParseHexId(text).value_or(0);
}

// The rule's metadata (description, author, references, falsepositives,
// tags) joined at read time: stored alerts carry only the rule's id, title,
// level, tags and revision; the store keeps each revision's detail, so this
// is the rule as it was when the alert fired (or, for a revision it does
// not know, the running rule). Member "rule_detail"; null when neither is
// known; absent without a rule set (no hook). List replies stay lean.
void AttachRuleDetail(const ApiHooks& hooks, store::StoredAlert& alert) {
  std::string& json = alert.json;
  if (!hooks.rule_detail_json || json.empty() || json.back() != '}') return;
  const std::string& rule = alert.rule_id.empty() ? alert.rule_name : alert.rule_id;
  std::optional<std::string> detail;
  if (!rule.empty()) detail = hooks.rule_detail_json(rule, RuleRevisionOf(json));
  json.pop_back();
  json += ",\"rule_detail\":";
  json += detail ? *detail : "null";
  json += '}';
}

// Another agency's alert is "no alert": its existence is not disclosed.
void GetAlert(RouteCall& call) {
  const HttpRequest& request = call.request;
  if (!call.query.empty()) {
    call.routed.reply = Error(http::status::bad_request, "no parameters here", request);
    return;
  }
  const auto id = ParseDecimalId(call.id);
  if (!id) {
    call.routed.reply =
        Error(http::status::bad_request, "alert id must be a decimal number", request);
    return;
  }
  auto alert = call.context.reader.Get(*id);
  if (!alert || !call.principal.MaySee(alert->agency)) {
    call.routed.reply = Error(http::status::not_found, "no alert " + std::to_string(*id), request);
    return;
  }
  AttachTriage(call.context.hooks.triage, std::span(&*alert, 1));
  AttachRuleDetail(call.context.hooks, *alert);
  call.routed.reply = Json(http::status::ok, std::move(alert->json), request);
}

// Parses a stream request; `Routed::reply` is set when it is refused.
void PrepareStream(RouteCall& call) {
  const HttpRequest& request = call.request;
  Routed& routed = call.routed;
  auto parsed = ParseStreamQuery(call.query, std::chrono::system_clock::now());
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    routed.reply = Error(http::status::bad_request, error->message, request);
    return;
  }
  StreamQuery stream = std::get<StreamQuery>(std::move(parsed));
  ScopeFilter(call.principal, stream.filter.store);
  const auto header = request.find("Last-Event-ID");
  if (header != request.end()) {  // the header (a reconnect) wins over the query
    const auto id = ParseDecimalId({header->value().data(), header->value().size()});
    if (!id) {
      routed.reply =
          Error(http::status::bad_request, "Last-Event-ID: expected an alert id", request);
      return;
    }
    stream.last_event_id = *id;
  }
  const uint64_t newest = std::max(call.context.reader.last_id(), call.context.hub.last_id());
  if (stream.last_event_id && *stream.last_event_id > newest) {
    // A scoped principal is not told the newest id (it may be another agency's).
    const std::string above = call.principal.SeesAllAgencies()
                                  ? "the newest alert id " + std::to_string(newest)
                                  : "the newest alert id";
    routed.reply = Error(http::status::conflict,
                         "last event id " + std::to_string(*stream.last_event_id) + " is above " +
                             above + "; resume from an id this server sent (or without one)",
                         request);
    return;
  }
  routed.stream = std::move(stream);
}

void Rules(RouteCall& call) {
  const HttpRequest& request = call.request;
  if (!call.query.empty()) {
    call.routed.reply = Error(http::status::bad_request, "no parameters here", request);
  } else if (!call.context.hooks.rules_json) {
    call.routed.reply = Error(http::status::service_unavailable, "no rule set available", request);
  } else {
    call.routed.reply = Json(http::status::ok, call.context.hooks.rules_json(), request);
  }
}

void Reload(RouteCall& call) {
  const HttpRequest& request = call.request;
  if (!call.query.empty()) {
    call.routed.reply = Error(http::status::bad_request, "no parameters here", request);
  } else if (!call.context.hooks.reload) {
    call.routed.reply =
        Error(http::status::service_unavailable, "reload is not available", request);
  } else {
    call.context.hooks.reload();
    call.routed.reply = Json(http::status::accepted, R"({"status":"reloading"})", request);
  }
}

HttpResponse Probe(const ApiContext& context, const HttpRequest& request, bool readiness) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return MethodNotAllowed(request, "GET, HEAD");
  }
  const bool ready = !readiness || !context.hooks.ready || context.hooks.ready();
  return MakeResponse(ready ? http::status::ok : http::status::service_unavailable,
                      ready ? "ok\n" : "not ready\n", "text/plain", request);
}

// --- the route table ---------------------------------------------------------------

struct RouteEntry {
  std::string_view pattern;
  http::verb method;
  Access access;
  RouteHandler handler;
};

// One line per route. A literal segment wins over {id} ("/api/v1/alerts/stream").
constexpr RouteEntry kRoutes[] = {
    {"/api/v1/alerts", http::verb::get, Access::kRead, ListAlerts},
    {"/api/v1/alerts/stream", http::verb::get, Access::kRead, PrepareStream},
    {"/api/v1/alerts/{id}", http::verb::get, Access::kRead, GetAlert},
    {"/api/v1/rules", http::verb::get, Access::kRead, Rules},
    {"/api/v1/rules/reload", http::verb::post, Access::kAdmin, Reload},
    {"/api/v1/whoami", http::verb::get, Access::kRead, WhoAmI},
    {"/api/v1/tokens", http::verb::get, Access::kAdmin, ListTokens},
    {"/api/v1/tokens", http::verb::post, Access::kAdmin, CreateToken},
    {"/api/v1/tokens/{id}", http::verb::delete_, Access::kAdmin, RevokeToken},
    {"/api/v1/audit", http::verb::get, Access::kAdmin, ReadAuditLog},
};

constexpr std::string_view kIdSegment = "{id}";

// Whether `path` matches `pattern`; *id = what {id} matched.
bool PatternMatches(std::string_view pattern, std::string_view path, std::string_view* id) {
  while (!pattern.empty() || !path.empty()) {
    const size_t p_end = std::min(pattern.find('/', 1), pattern.size());
    const size_t t_end = std::min(path.find('/', 1), path.size());
    if (p_end == 0 || t_end == 0) return false;
    const std::string_view p_seg = pattern.substr(0, p_end), t_seg = path.substr(0, t_end);
    if (p_seg.substr(1) == kIdSegment) {
      if (t_seg.size() < 2 || t_seg[0] != '/') return false;
      *id = t_seg.substr(1);
    } else if (p_seg != t_seg) {
      return false;
    }
    pattern.remove_prefix(p_end);
    path.remove_prefix(t_end);
  }
  return true;
}

bool IsLiteral(std::string_view pattern) {
  return pattern.find(kIdSegment) == std::string_view::npos;
}

// The pattern `path` belongs to (literal patterns first), or empty.
std::string_view FindPattern(std::string_view path, std::string_view* id) {
  for (bool literal : {true, false}) {
    for (const RouteEntry& entry : kRoutes) {
      if (IsLiteral(entry.pattern) != literal) continue;
      std::string_view matched;
      if (PatternMatches(entry.pattern, path, &matched)) {
        *id = matched;
        return entry.pattern;
      }
    }
  }
  return {};
}

bool Allowed(const auth::Principal& principal, Access access) {
  switch (access) {
    case Access::kRead:
      return true;
    case Access::kTriage:
      return principal.MayTriage();
    case Access::kAdmin:
      return principal.IsAdmin();
  }
  return false;
}

void RouteAuthorized(ApiContext& context, const HttpRequest& request, const Target& target,
                     Routed& routed) {
  // Triage and case routes check the principal themselves (MayTriage, MaySee).
  if (RouteTriage(context, request, target.path, target.query, routed)) return;
  if (ConsoleRoutePattern(target.path)) {
    routed.reply = RouteConsoleApi(context, request, target.path, target.query, *routed.principal);
    return;
  }
  std::string_view id;
  const std::string_view pattern = FindPattern(target.path, &id);
  if (pattern.empty()) {
    routed.reply = Error(http::status::not_found, "no such route", request);
    return;
  }
  std::string allow;
  for (const RouteEntry& entry : kRoutes) {
    if (entry.pattern != pattern) continue;
    if (entry.method == request.method()) {
      if (!Allowed(*routed.principal, entry.access)) {
        routed.reply = Error(
            http::status::forbidden,
            "role " + std::string(auth::RoleName(routed.principal->role)) + " may not do this",
            request);
        return;
      }
      RouteCall call{context, request, target.path, target.query, id, *routed.principal, routed};
      entry.handler(call);
      return;
    }
    if (!allow.empty()) allow += ", ";
    const auto name = http::to_string(entry.method);
    allow.append(name.data(), name.size());
  }
  routed.reply = MethodNotAllowed(request, allow);
}

bool ChangesState(http::verb method) {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch ||
         method == http::verb::delete_;
}

}  // namespace

std::string RoutePattern(std::string_view target) {
  const std::string_view path = SplitTarget(target).path;
  if (path == "/healthz" || path == "/readyz") return std::string(path);
  if (auto pattern = TriageRoutePattern(path)) return *pattern;
  if (IsStaticPath(path)) return StaticRoutePattern(path);
  if (auto pattern = ConsoleRoutePattern(path)) return std::move(*pattern);
  std::string_view id;
  const std::string_view pattern = FindPattern(path, &id);
  return pattern.empty() ? "other" : std::string(pattern);
}

HttpResponse ErrorResponse(http::status status, std::string_view message, unsigned version,
                           bool keep_alive) {
  HttpResponse response{status, version};
  response.set(http::field::server, "gsoc");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(keep_alive);
  std::string body = "{\"error\":";
  AppendJsonString(body, message);
  body += '}';
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Routed RouteRequest(ApiContext& context, const HttpRequest& request, std::string_view peer) {
  const std::string_view raw_target{request.target().data(), request.target().size()};
  const Target target = SplitTarget(raw_target);
  Routed routed;
  routed.route = RoutePattern(raw_target);
  try {
    if (target.path == "/healthz" || target.path == "/readyz") {
      routed.reply = Probe(context, request, target.path == "/readyz");
    } else if (IsStaticPath(target.path)) {
      routed.reply = ServeStatic(request, target.path);
    } else if (auto principal = Authenticate(context, request); !principal) {
      routed.reply = Unauthorized(request);
    } else {
      routed.authenticated = true;
      routed.principal = std::move(*principal);
      RouteAuthorized(context, request, target, routed);
    }
  } catch (const std::exception& error) {
    routed.stream.reset();
    routed.reply = Error(http::status::internal_server_error, error.what(), request);
  }
  if (ChangesState(request.method())) AuditRequest(context, request, routed, peer);
  return routed;
}

}  // namespace gsoc::api
