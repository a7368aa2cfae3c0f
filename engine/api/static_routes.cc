#include "engine/api/static_routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "engine/api/console_assets.h"

namespace gsoc::api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr std::string_view kCsp =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

boost::beast::string_view Bsv(std::string_view text) { return {text.data(), text.size()}; }

const ConsoleAsset* FindAsset(std::string_view path) {
  if (path == "/" || path.empty()) path = "/index.html";
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

void SetSecurityHeaders(HttpResponse& response) {
  response.set(http::field::server, "gsoc");
  response.set("Content-Security-Policy", Bsv(kCsp));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set("X-Frame-Options", "DENY");
}

}  // namespace

bool IsStaticPath(std::string_view path) {
  return path == "/" || path == "/index.html" || path == "/favicon.ico" ||
         (path.starts_with(kAssetsPrefix) && path.size() > kAssetsPrefix.size());
}

std::string StaticRoutePattern(std::string_view path) {
  return path.starts_with(kAssetsPrefix) ? "/assets/{file}" : "/";
}

HttpResponse ServeStatic(const HttpRequest& request, std::string_view path) {
  const bool head = request.method() == http::verb::head;
  if (request.method() != http::verb::get && !head) {
    HttpResponse refused = ErrorResponse(http::status::method_not_allowed, "method not allowed",
                                         request.version(), request.keep_alive());
    refused.set(http::field::allow, "GET, HEAD");
    return refused;
  }
  const ConsoleAsset* asset = FindAsset(path);
  if (!asset) {
    const bool built = !ConsoleAssets().empty();
    HttpResponse missing = ErrorResponse(
        http::status::not_found,
        built ? "no such file" : "the console is not built into this gsocd (GSOC_CONSOLE=OFF)",
        request.version(), request.keep_alive());
    SetSecurityHeaders(missing);
    return missing;
  }
  HttpResponse response{http::status::ok, request.version()};
  SetSecurityHeaders(response);
  response.set(http::field::content_type, Bsv(asset->content_type));
  response.set(http::field::cache_control,
               asset->immutable ? "public, max-age=31536000, immutable" : "no-store");
  response.keep_alive(request.keep_alive());
  if (head) {
    response.content_length(asset->data.size());
  } else {
    response.body().assign(asset->data);
    response.prepare_payload();
  }
  return response;
}

}  // namespace gsoc::api
