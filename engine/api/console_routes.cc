#include "engine/api/console_routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <variant>

#include "engine/alert/alert.h"
#include "engine/api/alert_query.h"
#include "engine/api/overview.h"
#include "engine/api/route_handlers.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kOverviewPath = "/api/v1/overview";
constexpr std::string_view kRulePrefix = "/api/v1/rules/";
constexpr std::string_view kReloadPath = "/api/v1/rules/reload";
constexpr size_t kMaxRuleIdBytes = 512;

HttpResponse Ok(std::string body, const HttpRequest& request) {
  return Json(http::status::ok, std::move(body), request);
}

HttpResponse Overview(const ApiContext& context, const HttpRequest& request, std::string_view query,
                      const auth::Principal& principal) {
  auto parsed = ParseQueryString(query);
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    return Error(http::status::bad_request, error->message, request);
  }
  std::optional<std::string> agency;
  for (auto& [name, value] : std::get<0>(parsed)) {
    if (name != "agency")
      return Error(http::status::bad_request, "unknown parameter " + name, request);
    if (agency) return Error(http::status::bad_request, "agency: given twice", request);
    if (!value.empty()) agency = std::move(value);
  }
  if (agency && !principal.MaySee(*agency)) {
    return Error(http::status::forbidden, "this token may not see that agency", request);
  }
  if (!context.hooks.overview) {
    return Error(http::status::service_unavailable, "no overview available", request);
  }
  std::vector<std::string> agencies;  // empty: every agency
  if (agency) {
    agencies.push_back(*agency);
  } else if (!principal.SeesAllAgencies()) {
    agencies = principal.agencies;
    if (agencies.empty()) agencies.push_back({});  // sees none: an agency no alert has
  }
  const auto counts = context.hooks.overview->Counts(agencies, std::chrono::system_clock::now());
  return Ok(OverviewJson(counts, agency), request);
}

// `revision` (an alert's rule.revision, 16 hex digits), or 0 when not given.
std::variant<uint64_t, std::string> RevisionParam(std::string_view query) {
  auto parsed = ParseQueryString(query);
  if (auto* error = std::get_if<ParamError>(&parsed)) return error->message;
  uint64_t revision = 0;
  for (const auto& [name, value] : std::get<0>(parsed)) {
    if (name != "revision") return "unknown parameter " + name;
    if (revision != 0) return std::string("revision: given twice");
    const std::optional<uint64_t> parsed_revision = ParseHexId(value);
    if (!parsed_revision || *parsed_revision == 0) return std::string("revision: 16 hex digits");
    revision = *parsed_revision;
  }
  return revision;
}

HttpResponse Rule(const ApiContext& context, const HttpRequest& request, std::string_view id_text,
                  std::string_view query) {
  const auto revision = RevisionParam(query);
  if (const auto* error = std::get_if<std::string>(&revision)) {
    return Error(http::status::bad_request, *error, request);
  }
  const auto id = PercentDecode(id_text, false);  // a path: '+' is a '+'
  if (!id) return Error(http::status::bad_request, "rule id: bad %-escape", request);
  if (id->empty() || id->size() > kMaxRuleIdBytes) {
    return Error(http::status::bad_request, "rule id: 1 to 512 bytes", request);
  }
  if (!context.hooks.rule_detail_json) {
    return Error(http::status::service_unavailable, "no rule set available", request);
  }
  auto body = context.hooks.rule_detail_json(*id, std::get<uint64_t>(revision));
  if (!body) return Error(http::status::not_found, "no rule " + *id, request);
  return Ok(std::move(*body), request);
}

}  // namespace

std::optional<std::string> ConsoleRoutePattern(std::string_view path) {
  if (path == kOverviewPath) return std::string(kOverviewPath);
  if (path.starts_with(kRulePrefix) && path.size() > kRulePrefix.size() && path != kReloadPath &&
      path.find('/', kRulePrefix.size()) == std::string_view::npos) {
    return "/api/v1/rules/{id}";
  }
  return std::nullopt;
}

HttpResponse RouteConsoleApi(ApiContext& context, const HttpRequest& request, std::string_view path,
                             std::string_view query, const auth::Principal& principal) {
  if (request.method() != http::verb::get) {
    HttpResponse refused = Error(http::status::method_not_allowed, "method not allowed", request);
    refused.set(http::field::allow, "GET");
    return refused;
  }
  if (path == kOverviewPath) return Overview(context, request, query, principal);
  return Rule(context, request, path.substr(kRulePrefix.size()), query);
}

}  // namespace gsoc::api
