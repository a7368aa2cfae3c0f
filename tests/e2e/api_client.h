// Small API client helpers shared by the e2e tests of the store and the
// aggregation (the token gsocd generated, every stored alert).
#pragma once

#include <simdjson.h>

#include <cctype>
#include <string>
#include <vector>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {

// The API token gsocd generated under `dir`/var.
inline std::string ApiToken(const TempDir& dir) {
  std::string token = ReadFile(dir / "var/api-token");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

// Every stored alert as minified JSON, oldest first, following the cursor.
inline std::vector<std::string> StoredAlertJsons(uint16_t port, const std::string& token) {
  std::vector<std::string> alerts;
  std::string cursor;
  simdjson::dom::parser parser;
  for (int page = 0; page < 10000; ++page) {
    const std::string target = "/api/v1/alerts?order=asc&limit=1000" +
                               (cursor.empty() ? std::string() : "&cursor=" + cursor);
    const HttpResult reply = HttpRequest(port, "GET", target, {"Authorization: Bearer " + token});
    if (reply.status != 200) {
      ADD_FAILURE() << target << ": " << reply.status << " " << reply.body;
      return alerts;
    }
    simdjson::dom::element root;
    if (parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << reply.body.substr(0, 200);
      return alerts;
    }
    for (auto alert : simdjson::dom::array(root["alerts"])) {
      alerts.push_back(simdjson::minify(alert));
    }
    std::string_view next;
    if (root["next_cursor"].get(next) != simdjson::SUCCESS) break;  // null: the end
    cursor = std::string(next);
  }
  return alerts;
}

}  // namespace gsoc::e2e
