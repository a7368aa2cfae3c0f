// Private to gsoc_api: the web console's static files on the API port
// (GET/HEAD / and /assets/..., no authentication: they hold no data; the
// console asks for a token and sends it on every API call).
//
// Headers: Content-Type by extension; hashed assets "Cache-Control: public,
// max-age=31536000, immutable", index.html and the others "no-store"/"no-cache";
// every reply carries Content-Security-Policy "default-src 'self'" (no inline
// script, no other origin), X-Content-Type-Options nosniff, Referrer-Policy
// no-referrer and X-Frame-Options DENY.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/api/routes.h"

namespace gsoc::api {

// Whether `path` belongs to the console's static files ("/", "/index.html",
// "/assets/...").
bool IsStaticPath(std::string_view path);
// The route pattern for the metrics ("/" or "/assets/{file}").
std::string StaticRoutePattern(std::string_view path);
// The reply for a static path: the file, 404, or 405 for methods other
// than GET and HEAD.
HttpResponse ServeStatic(const HttpRequest& request, std::string_view path);

}  // namespace gsoc::api
