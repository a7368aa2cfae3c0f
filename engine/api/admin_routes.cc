// Identity, tokens and the audit log: /api/v1/whoami, /api/v1/tokens,
// /api/v1/audit (see README.md "Tokens and roles").
#include <simdjson.h>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <stdexcept>

#include "engine/api/route_handlers.h"
#include "engine/auth/auth_store.h"
#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

constexpr size_t kDefaultAuditLimit = 100;
constexpr size_t kMaxAuditLimit = 1000;

void AppendKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out += ':';
}

void AppendTime(std::string& out, int64_t ns) {
  char buffer[32];
  AppendJsonString(out, FormatRfc3339Millis(ns, buffer));
}

void AppendAgencies(std::string& out, const std::vector<std::string>& agencies) {
  out += '[';
  for (size_t i = 0; i < agencies.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, agencies[i]);
  }
  out += ']';
}

// "token_id","name","role","agencies" of an identity (no braces).
void AppendIdentity(std::string& out, std::string_view id, std::string_view name, auth::Role role,
                    const std::vector<std::string>& agencies) {
  AppendKey(out, "token_id");
  AppendJsonString(out, id);
  out += ',';
  AppendKey(out, "name");
  AppendJsonString(out, name);
  out += ',';
  AppendKey(out, "role");
  AppendJsonString(out, auth::RoleName(role));
  out += ',';
  AppendKey(out, "agencies");
  AppendAgencies(out, agencies);
}

// The token store, or a 503 reply when this server has none.
auth::AuthStore* StoreOr503(RouteCall& call) {
  if (call.context.hooks.auth == nullptr) {
    call.routed.reply = Error(http::status::service_unavailable,
                              "no token store (tokens come from the configuration)", call.request);
  }
  return call.context.hooks.auth;
}

bool NoQuery(RouteCall& call) {
  if (call.query.empty()) return true;
  call.routed.reply = Error(http::status::bad_request, "no parameters here", call.request);
  return false;
}

struct TokenRequest {
  auth::Role role = auth::Role::kViewer;
  std::vector<std::string> agencies;
  std::string name;
};

// Parses {"role","agencies":[...],"name"}; returns the error text, or empty.
std::string ParseTokenRequest(std::string_view body, TokenRequest& out) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  const simdjson::padded_string padded(body);
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return "body: expected a JSON object";
  bool has_role = false;
  for (auto [key, value] : root) {
    std::string_view text;
    if (key == "role") {
      if (value.get(text) != simdjson::SUCCESS) return "role: expected a string";
      const auto role = auth::ParseRole(text);
      if (!role) return "role: one of admin, analyst, agency-analyst, viewer";
      out.role = *role;
      has_role = true;
    } else if (key == "name") {
      if (value.get(text) != simdjson::SUCCESS) return "name: expected a string";
      out.name = std::string(text);
    } else if (key == "agencies") {
      simdjson::dom::array array;
      if (value.get(array) != simdjson::SUCCESS) return "agencies: expected an array of strings";
      for (simdjson::dom::element item : array) {
        if (item.get(text) != simdjson::SUCCESS) return "agencies: expected an array of strings";
        if (out.agencies.size() > auth::kMaxAgencies) return "agencies: too many";
        out.agencies.emplace_back(text);
      }
    } else {
      return "unknown field " + std::string(key);
    }
  }
  if (!has_role) return "role: required";
  return auth::ValidateTokenRequest(out.role, out.agencies, out.name);
}

}  // namespace

void WhoAmI(RouteCall& call) {
  if (!NoQuery(call)) return;
  const auth::Principal& p = call.principal;
  std::string body = "{";
  AppendIdentity(body, p.token_id, p.name, p.role, p.agencies);
  body += '}';
  call.routed.reply = Json(http::status::ok, std::move(body), call.request);
}

void CreateToken(RouteCall& call) {
  if (!NoQuery(call)) return;
  auth::AuthStore* store = StoreOr503(call);
  if (store == nullptr) return;
  TokenRequest parsed;
  if (std::string error = ParseTokenRequest(call.request.body(), parsed); !error.empty()) {
    call.routed.reply = Error(http::status::bad_request, error, call.request);
    return;
  }
  auth::CreatedToken created;
  try {
    created = store->CreateToken(parsed.role, std::move(parsed.agencies), std::move(parsed.name));
  } catch (const std::invalid_argument& error) {
    call.routed.reply = Error(http::status::bad_request, error.what(), call.request);
    return;
  }
  const auth::TokenInfo& info = created.info;
  std::string body = "{";
  AppendIdentity(body, info.token_id, info.name, info.role, info.agencies);
  body += ',';
  AppendKey(body, "token");
  AppendJsonString(body, created.token);
  body += '}';
  call.routed.reply = Json(http::status::created, std::move(body), call.request);
}

void ListTokens(RouteCall& call) {
  if (!NoQuery(call)) return;
  auth::AuthStore* store = StoreOr503(call);
  if (store == nullptr) return;
  std::string body = "{\"tokens\":[";
  bool first = true;
  for (const auth::TokenInfo& info : store->ListTokens()) {
    if (!first) body += ',';
    first = false;
    body += '{';
    AppendIdentity(body, info.token_id, info.name, info.role, info.agencies);
    body += ",\"created_at\":";
    AppendTime(body, info.created_ns);
    body += info.revoked ? ",\"revoked\":true}" : ",\"revoked\":false}";
  }
  body += "]}";
  call.routed.reply = Json(http::status::ok, std::move(body), call.request);
}

void RevokeToken(RouteCall& call) {
  if (!NoQuery(call)) return;
  auth::AuthStore* store = StoreOr503(call);
  if (store == nullptr) return;
  if (!store->Revoke(call.id)) {
    call.routed.reply = Error(http::status::not_found, "no such token", call.request);
    return;
  }
  std::string body = "{\"token_id\":";
  AppendJsonString(body, call.id);
  body += ",\"revoked\":true}";
  call.routed.reply = Json(http::status::ok, std::move(body), call.request);
}

void ReadAuditLog(RouteCall& call) {
  auth::AuthStore* store = StoreOr503(call);
  if (store == nullptr) return;
  auto params = ParseQueryString(call.query);
  if (auto* error = std::get_if<ParamError>(&params)) {
    call.routed.reply = Error(http::status::bad_request, error->message, call.request);
    return;
  }
  size_t limit = kDefaultAuditLimit;
  uint64_t before = UINT64_MAX;
  for (const auto& [name, value] : std::get<0>(params)) {
    const auto number = ParseDecimalId(value);
    if (name == "limit" && number && *number >= 1 && *number <= kMaxAuditLimit) {
      limit = *number;
    } else if (name == "before" && number) {
      before = *number;
    } else {
      call.routed.reply =
          Error(http::status::bad_request,
                "parameter " + name + ": expected limit (1..1000) or before (a seq)", call.request);
      return;
    }
  }
  std::string body = "{\"entries\":[";
  bool first = true;
  for (const auth::AuditEntry& entry : store->ReadAudit(limit, before)) {
    if (!first) body += ',';
    first = false;
    body += "{\"seq\":" + std::to_string(entry.seq) + ",\"time\":";
    AppendTime(body, entry.time_ns);
    const std::pair<std::string_view, const std::string*> fields[] = {
        {"token_id", &entry.token_id}, {"name", &entry.name},     {"method", &entry.method},
        {"route", &entry.route},       {"target", &entry.target}, {"peer", &entry.peer}};
    for (const auto& [key, value] : fields) {
      body += ',';
      AppendKey(body, key);
      AppendJsonString(body, *value);
    }
    body += ",\"status\":" + std::to_string(entry.status) + "}";
  }
  body += "]}";
  call.routed.reply = Json(http::status::ok, std::move(body), call.request);
}

void AuditRequest(ApiContext& context, const HttpRequest& request, const Routed& routed,
                  std::string_view peer) {
  if (context.hooks.auth == nullptr) return;
  auth::AuditEntry entry;
  if (routed.principal) {
    entry.token_id = routed.principal->token_id;
    entry.name = routed.principal->name;
  }
  const auto method = request.method_string();
  entry.method.assign(method.data(), method.size());
  entry.route = routed.route;
  const auto target = request.target();
  entry.target.assign(target.data(), std::min(target.size(), auth::kMaxAuditTargetBytes));
  entry.peer = std::string(peer);
  entry.status = routed.reply ? static_cast<int>(routed.reply->result_int()) : 200;
  context.hooks.auth->AppendAudit(std::move(entry));
}

}  // namespace gsoc::api
