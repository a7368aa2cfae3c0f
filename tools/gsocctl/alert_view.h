// How gsocctl shows alerts (alert_view.cc): the tail/query line and the
// `gsocctl alert` detail. Not thread-safe: prints to stdout.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>

namespace gsoc::ctl::alert_view {

// The alert's id, as a number or a decimal string; 0 when it has none.
uint64_t AlertIdOf(simdjson::dom::element alert);

// One line per alert (`json`: the alert's JSON as served), or the JSON itself.
void PrintAlertLine(const std::string& json, bool as_json, bool color);

// The whole alert; false when `json` is not an alert.
bool PrintAlertDetail(const std::string& json, bool color);

}  // namespace gsoc::ctl::alert_view
