// Fuzzes the API routes (RouteRequest) with a raw HTTP request sent once
// with a token of each role, over a real store holding alerts of agencies A
// and B. Checks: no crash; the agency-analyst of A never receives a byte of
// B (reply headers, body, and the stream it would start); a viewer, an
// analyst and an agency-analyst never get a state-changing route past 403
// except the ones their role allows.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "tests/engine/api/scoped_api_fixture.h"

namespace {

namespace http = boost::beast::http;
using gsoc::api::testing::ScopedApi;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::string ReplyBytes(const gsoc::api::Routed& routed) {
  if (!routed.reply) return {};
  std::string out;
  for (const auto& field : *routed.reply) {
    out.append(field.name_string().data(), field.name_string().size()) += ": ";
    out.append(field.value().data(), field.value().size()) += "\r\n";
  }
  return out + routed.reply->body();
}

bool ChangesState(http::verb method) {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch ||
         method == http::verb::delete_;
}

std::filesystem::path api_dir;

void RemoveApiDir() {
  std::error_code ignored;
  std::filesystem::remove_all(api_dir, ignored);
}

// Kept for the whole run (never destroyed: the fuzzer may exit from any
// thread); its store's files are removed when the process exits.
ScopedApi* MakeApi() {
  auto* api = new ScopedApi("fuzz", 24);
  api_dir = api->dir();
  std::atexit(RemoveApiDir);
  return api;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScopedApi* api = MakeApi();
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(16 * 1024);
  parser.header_limit(16 * 1024);
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(data, size), error);
  if (error || !parser.is_done()) return 0;
  gsoc::api::HttpRequest request = parser.release();
  const std::string tokens[] = {api->admin, api->analyst, api->agency_a, api->viewer, ""};
  for (const std::string& token : tokens) {
    if (token.empty()) {
      request.erase(http::field::authorization);
    } else {
      request.set(http::field::authorization, "Bearer " + token);
    }
    const gsoc::api::Routed routed = api->Route(request);
    Check(routed.reply.has_value() != routed.stream.has_value());
    const int status = routed.reply ? static_cast<int>(routed.reply->result_int()) : 200;
    // The console's static files are served to anyone: they hold no data.
    const bool open_route = routed.route == "/healthz" || routed.route == "/readyz" ||
                            routed.route == "/" || routed.route == "/assets/{file}";
    if (token.empty() && !open_route) Check(status == 401);
    if (open_route) Check(!gsoc::api::testing::HoldsAgencyB(ReplyBytes(routed), api->ids_b));
    if (token == api->agency_a) {
      std::string bytes = ReplyBytes(routed);
      if (routed.stream) bytes += api->StreamBytes(routed);
      // An error may quote the request (an unknown parameter): B's name the
      // client wrote itself is not a leak; B's secret and ids still are.
      const std::string_view target{request.target().data(), request.target().size()};
      if (target.find(gsoc::api::testing::kAgencyB) != std::string_view::npos) {
        for (size_t at; (at = bytes.find(gsoc::api::testing::kAgencyB)) != std::string::npos;) {
          bytes.erase(at, std::string_view(gsoc::api::testing::kAgencyB).size());
        }
      }
      Check(!gsoc::api::testing::HoldsAgencyB(bytes, api->ids_b));
    }
    if (token != api->admin && ChangesState(request.method()) && status < 400) {
      Check(routed.route == "/api/v1/alerts/triage" || routed.route.starts_with("/api/v1/cases"));
      Check(token != api->viewer);
    }
  }
  return 0;
}
