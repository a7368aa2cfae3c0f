#include "engine/api/triage_routes.h"

#include <simdjson.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <map>

#include "engine/api/alert_query.h"
#include "engine/triage/triage_json.h"
#include "engine/triage/triage_store.h"
#include "engine/util/json_writer.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kTriagePath = "/api/v1/alerts/triage";
constexpr std::string_view kAlertPrefix = "/api/v1/alerts/";
constexpr std::string_view kHistorySuffix = "/history";
constexpr std::string_view kCasesPath = "/api/v1/cases";
constexpr std::string_view kCasePrefix = "/api/v1/cases/";
constexpr size_t kStorePageAlerts = 64;
constexpr size_t kIndexPageIds = 256;
constexpr size_t kMaxExaminedPages = 32;  // a filtered page examines at most 32 x limit alerts
constexpr size_t kMaxCaseLimit = 1000;
// Ids one text search (q=) request scans at most (see BoundTextScan).
constexpr uint64_t kMaxTextScanAlerts = 25'000;

HttpResponse Json(http::status status, std::string body, const HttpRequest& request) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "gsoc");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse Error(http::status status, std::string_view message, const HttpRequest& request) {
  return ErrorResponse(status, message, request.version(), request.keep_alive());
}

HttpResponse MethodNotAllowed(const HttpRequest& request, std::string_view allow) {
  HttpResponse response = Error(http::status::method_not_allowed, "method not allowed", request);
  response.set(http::field::allow, boost::beast::string_view(allow.data(), allow.size()));
  return response;
}

// A request body parsed as one JSON object, or the error reply.
struct Body {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
};

std::optional<std::string> ParseBody(const HttpRequest& request, Body& body) {
  const std::string& text = request.body();
  if (body.parser.parse(text).get(body.object) != simdjson::SUCCESS) {
    return "body: expected a JSON object";
  }
  return std::nullopt;
}

// An optional string member: false (and `error`) when present but not a string.
bool OptionalString(simdjson::dom::object& object, const char* key, std::string& out,
                    std::optional<std::string>& error) {
  simdjson::dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS || element.is_null()) return true;
  std::string_view text;
  if (element.get(text) != simdjson::SUCCESS) {
    error = std::string(key) + ": expected a string";
    return false;
  }
  out = text;
  return true;
}

std::optional<uint64_t> IdOf(simdjson::dom::element element) {
  uint64_t id = 0;
  if (element.get(id) == simdjson::SUCCESS) return id;
  std::string_view text;
  if (element.get(text) == simdjson::SUCCESS) return ParseDecimalId(text);
  return std::nullopt;
}

// "ids" or "alert_ids": decimal ids (numbers or strings), at most `max`.
std::optional<std::string> ReadIds(simdjson::dom::object& object, const char* key, size_t max,
                                   bool required, std::vector<uint64_t>& out) {
  simdjson::dom::array array;
  const auto found = object[key].get(array);
  if (found != simdjson::SUCCESS) {
    if (!required && object[key].error() == simdjson::NO_SUCH_FIELD) return std::nullopt;
    return std::string(key) + ": expected an array of alert ids";
  }
  if (array.size() > max) {
    return std::string(key) + ": at most " + std::to_string(max) + " ids per request";
  }
  for (simdjson::dom::element element : array) {
    const auto id = IdOf(element);
    if (!id) return std::string(key) + ": expected decimal alert ids";
    out.push_back(*id);
  }
  if (required && out.empty()) return std::string(key) + ": at least one id";
  return std::nullopt;
}

std::optional<std::string> ReadExpected(simdjson::dom::object& object,
                                        std::map<uint64_t, uint64_t>& out) {
  simdjson::dom::object expected;
  if (object["expected_versions"].get(expected) != simdjson::SUCCESS) {
    if (object["expected_versions"].error() == simdjson::NO_SUCH_FIELD) return std::nullopt;
    return std::string("expected_versions: expected an object {\"id\": version}");
  }
  for (auto field : expected) {
    const auto id = ParseDecimalId(field.key);
    uint64_t version = 0;
    if (!id || field.value.get(version) != simdjson::SUCCESS) {
      return std::string("expected_versions: expected {\"id\": version} with decimal numbers");
    }
    out[*id] = version;
  }
  return std::nullopt;
}

std::optional<std::string> ReadChange(Body& body, triage::Change& change,
                                      std::vector<uint64_t>& ids,
                                      const triage::TriageLimits& limits) {
  auto& object = body.object;
  if (auto error = ReadIds(object, "ids", limits.max_ids_per_request, true, ids)) return error;
  std::string action, reason;
  std::optional<std::string> error;
  if (!OptionalString(object, "action", action, error) ||
      !OptionalString(object, "assignee", change.assignee, error) ||
      !OptionalString(object, "note", change.note, error) ||
      !OptionalString(object, "reason", reason, error)) {
    return error;
  }
  const auto parsed = triage::ParseAction(action);
  if (!parsed) return std::string("action: expected ack, start, assign, note, close or reopen");
  change.action = *parsed;
  if (!reason.empty()) {
    const auto value = triage::ParseReason(reason);
    if (!value)
      return std::string("reason: expected true_positive, false_positive, benign or duplicate");
    change.reason = *value;
  }
  if (auto expected = ReadExpected(object, change.expected_versions)) return expected;
  return triage::ValidateChange(change, limits);
}

void AppendResult(std::string& out, const triage::ChangeResult& result) {
  out += "{\"id\":" + std::to_string(result.id) + ",\"ok\":";
  if (result.error == triage::ChangeError::kNone) {
    out += "true";
  } else {
    out += "false,\"error\":\"";
    out += triage::ChangeErrorName(result.error);
    out += "\",\"detail\":";
    AppendJsonString(out, result.detail);
  }
  out += ",\"triage\":";
  triage::AppendTriageJson(out, result.state);
  out += '}';
}

HttpResponse PostTriage(ApiContext& context, const HttpRequest& request,
                        const auth::Principal& principal) {
  triage::TriageStore& store = *context.hooks.triage;
  if (!principal.MayTriage())
    return Error(http::status::forbidden, "this token may not triage", request);
  Body body;
  triage::Change change;
  std::vector<uint64_t> ids;
  auto error = ParseBody(request, body);
  if (!error) error = ReadChange(body, change, ids, store.limits());
  if (error) return Error(http::status::bad_request, *error, request);
  change.author = principal.name;
  std::vector<triage::ChangeTarget> targets;
  std::vector<bool> found(ids.size(), false);
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto alert = context.reader.Get(ids[i]);
    if (!alert || !principal.MaySee(alert->agency)) continue;  // invisible: not found
    found[i] = true;
    targets.push_back({ids[i], alert->agency, alert->time_ns});
  }
  const std::vector<triage::ChangeResult> results = store.Apply(change, targets);
  std::string out = "{\"results\":[";
  for (size_t i = 0, next = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    if (found[i]) {
      AppendResult(out, results[next++]);
    } else {
      out += "{\"id\":" + std::to_string(ids[i]) + ",\"ok\":false,\"error\":\"not_found\"}";
    }
  }
  out += "]}";
  return Json(http::status::ok, std::move(out), request);
}

// The alert `id_text` if the principal may see it.
std::optional<store::StoredAlert> VisibleAlert(const ApiContext& context,
                                               const auth::Principal& principal,
                                               std::string_view id_text) {
  const auto id = ParseDecimalId(id_text);
  if (!id) return std::nullopt;
  auto alert = context.reader.Get(*id);
  if (!alert || !principal.MaySee(alert->agency)) return std::nullopt;
  return alert;
}

HttpResponse GetHistory(ApiContext& context, const HttpRequest& request, std::string_view id_text,
                        const auth::Principal& principal) {
  if (request.method() != http::verb::get) return MethodNotAllowed(request, "GET");
  const auto alert = VisibleAlert(context, principal, id_text);
  if (!alert) return Error(http::status::not_found, "no alert " + std::string(id_text), request);
  std::string out = "{\"history\":[";
  const auto history = context.hooks.triage->History(alert->id);
  for (size_t i = 0; i < history.size(); ++i) {
    if (i) out += ',';
    triage::AppendHistoryJson(out, history[i]);
  }
  out += "]}";
  return Json(http::status::ok, std::move(out), request);
}

// The alerts of `ids` for a case: each must exist and be visible.
std::variant<std::vector<triage::CaseAlert>, std::string> CaseAlerts(
    const ApiContext& context, const auth::Principal& principal, const std::vector<uint64_t>& ids) {
  std::vector<triage::CaseAlert> out;
  for (uint64_t id : ids) {
    const auto alert = context.reader.Get(id);
    if (!alert || !principal.MaySee(alert->agency)) return "no alert " + std::to_string(id);
    out.push_back({id, alert->agency, alert->level});
  }
  return out;
}

std::string CaseBody(const triage::Case& value, bool full) {
  std::string out;
  triage::AppendCaseJson(out, value, full);
  return out;
}

HttpResponse ListCases(ApiContext& context, const HttpRequest& request, std::string_view query,
                       const auth::Principal& principal) {
  auto parsed = ParseQueryString(query);
  if (auto* error = std::get_if<ParamError>(&parsed)) {
    return Error(http::status::bad_request, error->message, request);
  }
  std::optional<triage::CaseStatus> status;
  std::string agency;
  size_t limit = 100;
  uint64_t before = UINT64_MAX;
  for (const auto& [name, value] : std::get<0>(parsed)) {
    if (name == "status" && (status = triage::ParseCaseStatus(value))) continue;
    if (name == "agency") {
      agency = value;
      continue;
    }
    const auto number = ParseDecimalId(value);
    if (name == "limit" && number && *number >= 1 && *number <= kMaxCaseLimit) {
      limit = *number;
    } else if (name == "before" && number) {
      before = *number;
    } else {
      return Error(
          http::status::bad_request,
          "bad parameter '" + name +
              "' (status: open|in_progress|closed, agency, limit: 1..1000, before: a case id)",
          request);
    }
  }
  auto visible = [&](const triage::Case& value) {
    return principal.MaySee(value.agency) && (!status || value.status == *status) &&
           (agency.empty() || value.agency == agency);
  };
  const auto cases = context.hooks.triage->ListCases(visible, before, limit);
  std::string out = "{\"cases\":[";
  for (size_t i = 0; i < cases.size(); ++i) {
    if (i) out += ',';
    triage::AppendCaseJson(out, cases[i], false);
  }
  out += "],\"next_cursor\":";
  out += cases.size() == limit ? "\"" + std::to_string(cases.back().id) + "\"" : "null";
  out += '}';
  return Json(http::status::ok, std::move(out), request);
}

HttpResponse CreateCase(ApiContext& context, const HttpRequest& request,
                        const auth::Principal& principal) {
  if (!principal.MayTriage())
    return Error(http::status::forbidden, "this token may not change cases", request);
  triage::TriageStore& store = *context.hooks.triage;
  Body body;
  triage::NewCase fresh;
  std::vector<uint64_t> ids;
  auto error = ParseBody(request, body);
  if (!error && OptionalString(body.object, "title", fresh.title, error)) {
    OptionalString(body.object, "agency", fresh.agency, error);
  }
  if (!error) error = ReadIds(body.object, "alert_ids", store.limits().max_case_alerts, false, ids);
  if (error) return Error(http::status::bad_request, *error, request);
  if (!principal.MaySee(fresh.agency)) {
    return Error(http::status::forbidden, "this token may not see agency " + fresh.agency, request);
  }
  auto alerts = CaseAlerts(context, principal, ids);
  if (auto* message = std::get_if<std::string>(&alerts)) {
    return Error(http::status::bad_request, *message, request);
  }
  auto created = store.CreateCase(fresh, principal.name, std::get<0>(alerts));
  if (auto* message = std::get_if<std::string>(&created)) {
    return Error(http::status::bad_request, *message, request);
  }
  return Json(http::status::created, CaseBody(std::get<triage::Case>(created), true), request);
}

std::optional<std::string> ReadCaseChange(Body& body, triage::CaseChange& change,
                                          const triage::TriageLimits& limits) {
  auto& object = body.object;
  std::optional<std::string> error;
  std::string status;
  if (!OptionalString(object, "action", change.action, error) ||
      !OptionalString(object, "assignee", change.assignee, error) ||
      !OptionalString(object, "note", change.note, error) ||
      !OptionalString(object, "status", status, error)) {
    return error;
  }
  if (!status.empty() && !(change.status = triage::ParseCaseStatus(status))) {
    return std::string("status: open, in_progress or closed");
  }
  if (auto ids =
          ReadIds(object, "alert_ids", limits.max_ids_per_request, false, change.alert_ids)) {
    return ids;
  }
  uint64_t version = 0;
  if (object["expected_version"].get(version) == simdjson::SUCCESS) {
    change.expected_version = version;
  } else if (object["expected_version"].error() != simdjson::NO_SUCH_FIELD) {
    return std::string("expected_version: expected a number");
  }
  return std::nullopt;
}

HttpResponse ChangeCase(ApiContext& context, const HttpRequest& request, uint64_t id,
                        const auth::Principal& principal) {
  if (!principal.MayTriage())
    return Error(http::status::forbidden, "this token may not change cases", request);
  triage::TriageStore& store = *context.hooks.triage;
  Body body;
  triage::CaseChange change;
  auto error = ParseBody(request, body);
  if (!error) error = ReadCaseChange(body, change, store.limits());
  if (error) return Error(http::status::bad_request, *error, request);
  std::vector<triage::CaseAlert> alerts;
  if (change.action == "add_alerts") {
    auto found = CaseAlerts(context, principal, change.alert_ids);
    if (auto* message = std::get_if<std::string>(&found)) {
      return Error(http::status::bad_request, *message, request);
    }
    alerts = std::get<0>(std::move(found));
  }
  using Outcome = triage::CaseChangeResult::Outcome;
  const auto result = store.ChangeCase(id, change, principal.name, alerts);
  switch (result.outcome) {
    case Outcome::kOk:
      return Json(http::status::ok, CaseBody(result.value, true), request);
    case Outcome::kNotFound:
      return Error(http::status::not_found, result.error, request);
    case Outcome::kConflict:
      return Json(http::status::conflict,
                  "{\"error\":\"conflict\",\"case\":" + CaseBody(result.value, true) + "}",
                  request);
    case Outcome::kInvalid:
      break;
  }
  return Error(http::status::bad_request, result.error, request);
}

HttpResponse CaseRoute(ApiContext& context, const HttpRequest& request, std::string_view id_text,
                       std::string_view query, const auth::Principal& principal) {
  if (!query.empty()) return Error(http::status::bad_request, "no parameters here", request);
  const auto id = ParseDecimalId(id_text);
  const auto value = id ? context.hooks.triage->GetCase(*id) : std::nullopt;
  if (!value || !principal.MaySee(value->agency)) {
    return Error(http::status::not_found, "no case " + std::string(id_text), request);
  }
  if (request.method() == http::verb::get)
    return Json(http::status::ok, CaseBody(*value, true), request);
  if (request.method() == http::verb::post) return ChangeCase(context, request, *id, principal);
  return MethodNotAllowed(request, "GET, POST");
}

HttpResponse Dispatch(ApiContext& context, const HttpRequest& request, std::string_view path,
                      std::string_view query, const auth::Principal& principal) {
  const auto method = request.method();
  if (path == kTriagePath) {
    if (method != http::verb::post) return MethodNotAllowed(request, "POST");
    return PostTriage(context, request, principal);
  }
  if (path == kCasesPath) {
    if (method == http::verb::get) return ListCases(context, request, query, principal);
    if (method == http::verb::post) return CreateCase(context, request, principal);
    return MethodNotAllowed(request, "GET, POST");
  }
  if (path.starts_with(kCasePrefix)) {
    return CaseRoute(context, request, path.substr(kCasePrefix.size()), query, principal);
  }
  const std::string_view id =
      path.substr(kAlertPrefix.size(), path.size() - kAlertPrefix.size() - kHistorySuffix.size());
  return GetHistory(context, request, id, principal);
}

}  // namespace

std::optional<std::string> TriageRoutePattern(std::string_view path) {
  if (path == kTriagePath || path == kCasesPath) return std::string(path);
  if (path.starts_with(kCasePrefix) && path.size() > kCasePrefix.size() &&
      path.find('/', kCasePrefix.size()) == std::string_view::npos) {
    return "/api/v1/cases/{id}";
  }
  if (path.starts_with(kAlertPrefix) && path.ends_with(kHistorySuffix) &&
      path.size() > kAlertPrefix.size() + kHistorySuffix.size() &&
      path.find('/', kAlertPrefix.size()) == path.size() - kHistorySuffix.size()) {
    return "/api/v1/alerts/{id}/history";
  }
  return std::nullopt;
}

bool RouteTriage(ApiContext& context, const HttpRequest& request, std::string_view path,
                 std::string_view query, Routed& routed) {
  if (!TriageRoutePattern(path)) return false;
  if (!context.hooks.triage) {
    routed.reply = Error(http::status::service_unavailable, "triage is not available", request);
  } else {
    routed.reply = Dispatch(context, request, path, query, *routed.principal);
  }
  return true;
}

std::vector<triage::TriageState> TriageStates(const triage::TriageStore* triage,
                                              std::span<const uint64_t> ids) {
  if (triage) return triage->GetMany(ids);
  std::vector<triage::TriageState> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) out[i].id = ids[i];
  return out;
}

void AttachTriage(const triage::TriageStore* triage, std::span<store::StoredAlert> alerts) {
  std::vector<uint64_t> ids;
  ids.reserve(alerts.size());
  for (const auto& alert : alerts) ids.push_back(alert.id);
  const auto states = TriageStates(triage, ids);
  for (size_t i = 0; i < alerts.size(); ++i) triage::AttachTriageJson(alerts[i].json, states[i]);
}

bool TriageEventVisible(const ApiFilter& filter, const std::string& agency,
                        const triage::TriageState& state) {
  if (!filter.store.agency.empty() && filter.store.agency != agency) return false;
  if (!filter.store.AgencyAllowed(agency)) return false;  // a scoped principal's stream
  return filter.triage.Matches(state);
}

namespace {

// Adds `alert` unless the page is full (limit or bytes); true when full.
bool Take(store::StoredAlert& alert, const triage::TriageState& state, const AlertsQuery& query,
          size_t max_bytes, store::QueryResult& result, size_t& bytes) {
  triage::AttachTriageJson(alert.json, state);
  if (!result.alerts.empty() && bytes + alert.json.size() > max_bytes) {
    result.next_cursor = result.alerts.back().id;
    return true;
  }
  bytes += alert.json.size();
  result.alerts.push_back(std::move(alert));
  if (result.alerts.size() < query.limit) return false;
  result.next_cursor = result.alerts.back().id;  // possibly nothing after: an empty next page
  return true;
}

// Alerts from the status/assignee indexes, the other filters checked on each.
store::QueryResult QueryByIndex(const ApiContext& context, const AlertsQuery& query,
                                size_t max_bytes) {
  const triage::TriageStore& triage = *context.hooks.triage;
  triage::TriageFilter index_filter = query.filter.triage;
  if (!query.filter.store.agency.empty()) {
    index_filter.agencies = std::vector<std::string>{query.filter.store.agency};
  } else {
    index_filter.agencies = query.filter.store.allowed_agencies;
  }
  uint64_t after = query.filter.store.after_id;
  uint64_t before = query.filter.store.before_id;
  const size_t max_examined = kMaxExaminedPages * std::max(query.limit, kStorePageAlerts);
  store::QueryResult result;
  size_t bytes = 0;
  for (size_t examined = 0; examined < max_examined;) {
    const auto ids =
        triage.FindIds(index_filter, after, before, query.newest_first, kIndexPageIds);
    if (ids.empty()) {
      result.next_cursor = 0;
      return result;
    }
    const auto states = triage.GetMany(ids);
    for (size_t i = 0; i < ids.size(); ++i) {
      ++examined;
      auto alert = context.reader.Get(ids[i]);
      if (!alert || !FilterMatches(query.filter, *alert)) continue;
      if (Take(*alert, states[i], query, max_bytes, result, bytes)) return result;
    }
    (query.newest_first ? before : after) = ids.back();
    result.next_cursor = ids.back();
  }
  return result;
}

// Store pages, each alert's state checked (status new, or unassigned).
store::QueryResult QueryByScan(const ApiContext& context, const AlertsQuery& query,
                               size_t max_bytes) {
  store::QueryRequest request{query.filter.store, kStorePageAlerts, query.newest_first};
  const size_t max_examined = kMaxExaminedPages * std::max(query.limit, kStorePageAlerts);
  store::QueryResult result;
  size_t bytes = 0;
  for (size_t examined = 0; examined < max_examined;) {
    store::QueryResult page = context.reader.Query(request);
    examined += page.alerts.size();
    std::vector<uint64_t> ids;
    for (const auto& alert : page.alerts) ids.push_back(alert.id);
    const auto states = TriageStates(context.hooks.triage, ids);
    for (size_t i = 0; i < page.alerts.size(); ++i) {
      if (!FilterMatches(query.filter, page.alerts[i]) || !query.filter.triage.Matches(states[i])) {
        continue;
      }
      if (Take(page.alerts[i], states[i], query, max_bytes, result, bytes)) return result;
    }
    result.next_cursor = page.next_cursor;
    if (page.next_cursor == 0) return result;
    (query.newest_first ? request.filter.before_id : request.filter.after_id) = page.next_cursor;
  }
  return result;
}

store::QueryResult RunAlertsQueryInWindow(const ApiContext& context, const AlertsQuery& query,
                                          size_t max_bytes) {
  if (query.filter.triage.empty()) {
    store::QueryResult result = RunAlertsQuery(context.reader, query, max_bytes);
    AttachTriage(context.hooks.triage, result.alerts);
    return result;
  }
  if (context.hooks.triage && query.filter.triage.UsesIndex()) {
    return QueryByIndex(context, query, max_bytes);
  }
  return QueryByScan(context, query, max_bytes);
}

// Text search (q) reads every record of its id range: one request scans at
// most kMaxTextScanAlerts ids (the newest before the cursor, or the oldest
// after it). Narrows `query` to that window and returns the cursor that
// continues past it (0 when the window is the whole range).
uint64_t BoundTextScan(const store::AlertReader& reader, AlertsQuery& query) {
  store::AlertFilter& filter = query.filter.store;
  if (filter.q.empty()) return 0;
  const uint64_t window = kMaxTextScanAlerts;
  if (query.newest_first) {
    const uint64_t high = std::min(filter.before_id, reader.last_id() + 1);  // exclusive
    if (high <= window || high - window - 1 <= filter.after_id) return 0;
    filter.after_id = high - window - 1;
    return filter.after_id + 1;  // the next page: ids below it
  }
  const uint64_t high = std::min(filter.before_id, reader.last_id() + 1);  // exclusive
  if (filter.after_id >= high || high - filter.after_id <= window + 1) return 0;
  filter.before_id = filter.after_id + window + 1;
  return filter.before_id - 1;  // the next page: ids above it
}

}  // namespace

store::QueryResult RunAlertsQueryWithTriage(const ApiContext& context, const AlertsQuery& asked,
                                            size_t max_bytes) {
  AlertsQuery query = asked;
  const uint64_t window_cursor = BoundTextScan(context.reader, query);
  store::QueryResult result = RunAlertsQueryInWindow(context, query, max_bytes);
  if (result.next_cursor == 0) result.next_cursor = window_cursor;
  return result;
}

}  // namespace gsoc::api
