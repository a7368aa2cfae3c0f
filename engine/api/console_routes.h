// Private to gsoc_api: the routes the web console adds to the API.
//   GET /api/v1/overview?agency=A   per-agency counts (overview.h): 24 hourly
//       and 7 daily buckets by level, top rules and sources, open/closed.
//       Without `agency`: the sum over every agency the token may see. An
//       agency the token may not see is 403.
//   GET /api/v1/rules/{id}          one rule of the running set (by id or
//       name): title, description, references, falsepositives, tags...; 404
//       when no such rule.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/api/api_context.h"
#include "engine/api/routes.h"
#include "engine/auth/principal.h"

namespace gsoc::api {

// The route pattern of a console API path, or nullopt when not one.
std::optional<std::string> ConsoleRoutePattern(std::string_view path);

// The reply for a console API path (ConsoleRoutePattern said yes), for an
// authenticated request.
HttpResponse RouteConsoleApi(ApiContext& context, const HttpRequest& request, std::string_view path,
                             std::string_view query, const auth::Principal& principal);

}  // namespace gsoc::api
