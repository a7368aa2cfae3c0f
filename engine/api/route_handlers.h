// Private to gsoc_api: what a route handler is given, the reply helpers,
// and the handlers that live outside routes.cc.
//
// A route is one line of the table in routes.cc: pattern ("{id}" matches one
// path segment), method, the access it needs, handler. RouteRequest has
// authenticated the request and checked the access before a handler runs;
// a handler sets `call.routed.reply` (or `routed.stream`) and never throws
// on bad input (an exception becomes a 500).
#pragma once

#include <string>
#include <string_view>

#include "engine/api/routes.h"

namespace gsoc::api {

enum class Access : uint8_t {
  kRead,    // every authenticated principal (data scoped to its agencies)
  kTriage,  // Principal::MayTriage (not viewers)
  kAdmin,   // Principal::IsAdmin
};

struct RouteCall {
  ApiContext& context;
  const HttpRequest& request;
  std::string_view path;
  std::string_view query;  // after '?', still encoded
  std::string_view id;     // the segment the pattern's {id} matched (empty if none)
  const auth::Principal& principal;
  Routed& routed;
};

using RouteHandler = void (*)(RouteCall& call);

HttpResponse MakeResponse(boost::beast::http::status status, std::string body,
                          std::string_view content_type, const HttpRequest& request);
HttpResponse Json(boost::beast::http::status status, std::string body, const HttpRequest& request);
HttpResponse Error(boost::beast::http::status status, std::string_view message,
                   const HttpRequest& request);

// Restricts `filter` to what `principal` may see (agency-analyst: its agencies).
void ScopeFilter(const auth::Principal& principal, store::AlertFilter& filter);

// admin_routes.cc: identity, tokens and the audit log.
void WhoAmI(RouteCall& call);        // GET /api/v1/whoami
void CreateToken(RouteCall& call);   // POST /api/v1/tokens
void ListTokens(RouteCall& call);    // GET /api/v1/tokens
void RevokeToken(RouteCall& call);   // DELETE /api/v1/tokens/{id}
void ReadAuditLog(RouteCall& call);  // GET /api/v1/audit
// Records a state-changing request in the audit log (when there is one).
void AuditRequest(ApiContext& context, const HttpRequest& request, const Routed& routed,
                  std::string_view peer);

}  // namespace gsoc::api
