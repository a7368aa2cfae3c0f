// Fuzzes the API's query-string parsing (/api/v1/alerts and the stream):
// any text gives a query or an error naming the problem, never a crash.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/api/alert_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'600'800));
  const auto alerts = gsoc::api::ParseAlertsQuery(text, now);
  if (const auto* query = std::get_if<gsoc::api::AlertsQuery>(&alerts)) {
    if (query->limit < 1 || query->limit > 10000) std::abort();
  } else if (std::get<gsoc::api::ParamError>(alerts).message.empty()) {
    std::abort();
  }
  const auto stream = gsoc::api::ParseStreamQuery(text, now);
  if (const auto* error = std::get_if<gsoc::api::ParamError>(&stream)) {
    if (error->message.empty()) std::abort();
  }
  return 0;
}
