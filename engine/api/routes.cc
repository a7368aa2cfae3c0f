#include "engine/api/routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <exception>

#include "engine/api/console_routes.h"
#include "engine/api/static_routes.h"
#include "engine/util/json_writer.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

// Beast 1.74 takes boost::string_view.
boost::beast::string_view Bsv(std::string_view text) { return {text.data(), text.size()}; }

constexpr std::string_view kAlertsPath = "/api/v1/alerts";
constexpr std::string_view kAlertPrefix = "/api/v1/alerts/";
constexpr std::string_view kStreamPath = "/api/v1/alerts/stream";
constexpr std::string_view kRulesPath = "/api/v1/rules";
constexpr std::string_view kReloadPath = "/api/v1/rules/reload";

struct Target {
  std::string_view path;
  std::string_view query;
};

Target SplitTarget(std::string_view target) {
  const size_t mark = target.find('?');
  if (mark == std::string_view::npos) return {target, {}};
  return {target.substr(0, mark), target.substr(mark + 1)};
}

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
  if (matched == 0) return std::nullopt;
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

HttpResponse ListAlerts(ApiContext& context, const HttpRequest& request, std::string_view query) {
  auto parsed = ParseAlertsQuery(query, std::chrono::system_clock::now());
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    return Error(http::status::bad_request, error->message, request);
  }
  if (!context.ResponseBudgetLeft()) {  // large replies in flight: bounded memory, retry
    HttpResponse busy =
        Error(http::status::service_unavailable, "busy sending other replies; retry", request);
    busy.set(http::field::retry_after, "1");
    return busy;
  }
  return AlertsReply(RunAlertsQuery(context.reader, std::get<AlertsQuery>(parsed),
                                    context.options.max_response_bytes),
                     request);
}

HttpResponse GetAlert(ApiContext& context, const HttpRequest& request, std::string_view id_text,
                      std::string_view query) {
  if (!query.empty()) return Error(http::status::bad_request, "no parameters here", request);
  const auto id = ParseDecimalId(id_text);
  if (!id) return Error(http::status::bad_request, "alert id must be a decimal number", request);
  auto alert = context.reader.Get(*id);
  if (!alert) return Error(http::status::not_found, "no alert " + std::to_string(*id), request);
  return Json(http::status::ok, std::move(alert->json), request);
}

// Parses a stream request; `Routed::reply` is set when it is refused.
void PrepareStream(const ApiContext& context, const HttpRequest& request, std::string_view query,
                   Routed& routed) {
  auto parsed = ParseStreamQuery(query, std::chrono::system_clock::now());
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    routed.reply = Error(http::status::bad_request, error->message, request);
    return;
  }
  StreamQuery stream = std::get<StreamQuery>(std::move(parsed));
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
  const uint64_t newest = std::max(context.reader.last_id(), context.hub.last_id());
  if (stream.last_event_id && *stream.last_event_id > newest) {
    routed.reply = Error(http::status::conflict,
                         "last event id " + std::to_string(*stream.last_event_id) +
                             " is above the newest alert id " + std::to_string(newest) +
                             "; resume from an id this server sent (or without one)",
                         request);
    return;
  }
  routed.stream = std::move(stream);
}

HttpResponse Rules(ApiContext& context, const HttpRequest& request, std::string_view query) {
  if (!query.empty()) return Error(http::status::bad_request, "no parameters here", request);
  if (!context.hooks.rules_json) {
    return Error(http::status::service_unavailable, "no rule set available", request);
  }
  return Json(http::status::ok, context.hooks.rules_json(), request);
}

HttpResponse Reload(ApiContext& context, const HttpRequest& request, std::string_view query) {
  if (!query.empty()) return Error(http::status::bad_request, "no parameters here", request);
  if (!context.hooks.reload) {
    return Error(http::status::service_unavailable, "reload is not available", request);
  }
  context.hooks.reload();
  return Json(http::status::accepted, R"({"status":"reloading"})", request);
}

HttpResponse Probe(const ApiContext& context, const HttpRequest& request, bool readiness) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return MethodNotAllowed(request, "GET, HEAD");
  }
  const bool ready = !readiness || !context.hooks.ready || context.hooks.ready();
  return MakeResponse(ready ? http::status::ok : http::status::service_unavailable,
                      ready ? "ok\n" : "not ready\n", "text/plain", request);
}

void RouteAuthorized(ApiContext& context, const HttpRequest& request, const Target& target,
                     Routed& routed) {
  const bool get = request.method() == http::verb::get;
  if (target.path == kReloadPath) {
    routed.reply = request.method() == http::verb::post ? Reload(context, request, target.query)
                                                        : MethodNotAllowed(request, "POST");
  } else if (ConsoleRoutePattern(target.path)) {
    routed.reply = RouteConsoleApi(context, request, target.path, target.query, *routed.principal);
  } else if (routed.route == "other") {
    routed.reply = Error(http::status::not_found, "no such route", request);
  } else if (!get) {
    routed.reply = MethodNotAllowed(request, "GET");
  } else if (target.path == kAlertsPath) {
    routed.reply = ListAlerts(context, request, target.query);
  } else if (target.path == kStreamPath) {
    PrepareStream(context, request, target.query, routed);
  } else if (target.path == kRulesPath) {
    routed.reply = Rules(context, request, target.query);
  } else {
    routed.reply =
        GetAlert(context, request, target.path.substr(kAlertPrefix.size()), target.query);
  }
}

}  // namespace

std::string RoutePattern(std::string_view target) {
  const std::string_view path = SplitTarget(target).path;
  if (path == "/healthz" || path == "/readyz" || path == kAlertsPath || path == kStreamPath ||
      path == kRulesPath || path == kReloadPath) {
    return std::string(path);
  }
  if (IsStaticPath(path)) return StaticRoutePattern(path);
  if (auto pattern = ConsoleRoutePattern(path)) return std::move(*pattern);
  if (path.starts_with(kAlertPrefix) && path.size() > kAlertPrefix.size() &&
      path.find('/', kAlertPrefix.size()) == std::string_view::npos) {
    return "/api/v1/alerts/{id}";
  }
  return "other";
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

HttpResponse JsonResponse(http::status status, std::string body, const HttpRequest& request) {
  return Json(status, std::move(body), request);
}

Routed RouteRequest(ApiContext& context, const HttpRequest& request) {
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
  return routed;
}

}  // namespace gsoc::api
