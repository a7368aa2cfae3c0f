// Private to gsoc_api: request -> response for every route but the stream,
// which the session runs itself (routes.cc decides and parses it).
// Never throws: a handler's exception becomes a 500.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "engine/api/alert_query.h"
#include "engine/api/api_context.h"
#include "engine/auth/principal.h"

namespace gsoc::api {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct Routed {
  std::string route;                         // the pattern, for gsoc_api_requests_total
  std::optional<HttpResponse> reply;         // unless a stream is to start
  std::optional<StreamQuery> stream;         // the parsed stream request (authorized)
  bool authenticated = false;                // the request carried a valid token
  std::optional<auth::Principal> principal;  // who, when authenticated
};

Routed RouteRequest(ApiContext& context, const HttpRequest& request);

// The route pattern for a target ("/api/v1/alerts/17?x" -> "/api/v1/alerts/{id}";
// unknown -> "other").
std::string RoutePattern(std::string_view target);

// A JSON reply (Cache-Control: no-store), version and keep-alive as in `request`.
HttpResponse JsonResponse(boost::beast::http::status status, std::string body,
                          const HttpRequest& request);

// {"error": message} with `status`; `version` and keep-alive as in `request`.
HttpResponse ErrorResponse(boost::beast::http::status status, std::string_view message,
                           unsigned version, bool keep_alive);

}  // namespace gsoc::api
