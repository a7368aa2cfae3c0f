// Private to gsoc_api: the query parameters of /api/v1/alerts and
// /api/v1/alerts/stream, parsed strictly, and the filter they give.
//
// Formats (documented in README.md):
//   since, until   RFC 3339 ("2026-11-25T10:00:00Z", fractions, "+07:00"
//                  offsets; a '+' that arrived unencoded and decoded to a
//                  space is accepted) or a duration back from now: a whole
//                  number with ms, s, m, h, d or w ("90s", "15m", "7d").
//   level          informational|low|medium|high|critical: exactly that
//                  level; with a trailing '+' (or its decoded form, a
//                  space): that level or higher.
//   after_id, before_id, last_event_id   decimal ids
//   limit          1..10000 (default 100); order asc|desc (default desc)
//   cursor         opaque: what next_cursor said (the last id of the page)
//   rule, agency, q   strings (q: case-insensitive substring of the JSON)
//   status         new|acknowledged|in_progress|closed, comma-separated (any of them)
//   assignee       the triage assignee, exactly (empty: unassigned)
// An unknown or repeated parameter, or a value that does not parse, is an
// error whose text names the parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/triage/triage_types.h"

namespace gsoc::api {

// The store's AlertFilter plus what it cannot say: an exact level, and the
// triage state (checked against the triage store: triage_routes.h).
struct ApiFilter {
  store::AlertFilter store;
  std::optional<rules::Level> exact_level;
  triage::TriageFilter triage;
};

// AlertFilter::Matches, plus exact_level; used on alerts from the live hub
// and on store pages when the level must be exact.
bool FilterMatches(const store::AlertFilter& filter, const store::StoredAlert& alert);
bool FilterMatches(const ApiFilter& filter, const store::StoredAlert& alert);

struct AlertsQuery {
  ApiFilter filter;
  size_t limit = 100;
  bool newest_first = true;
};

struct StreamQuery {
  ApiFilter filter;
  std::optional<uint64_t> last_event_id;
};

struct ParamError {
  std::string message;
};

// "a=1&b=x%20y" -> decoded (name, value) pairs, in order. '+' decodes to a
// space; a bad %-escape is an error.
std::variant<std::vector<std::pair<std::string, std::string>>, ParamError> ParseQueryString(
    std::string_view query);

std::variant<AlertsQuery, ParamError> ParseAlertsQuery(std::string_view query,
                                                       std::chrono::system_clock::time_point now);
std::variant<StreamQuery, ParamError> ParseStreamQuery(std::string_view query,
                                                       std::chrono::system_clock::time_point now);

// %-escapes decoded; '+' a space when plus_is_space (query strings), kept
// in a path segment. nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Exposed for tests.
std::optional<int64_t> ParseTimeParam(std::string_view text,
                                      std::chrono::system_clock::time_point now);
std::optional<int64_t> ParseRfc3339(std::string_view text);
std::optional<uint64_t> ParseDecimalId(std::string_view text);

// Runs `query` against `reader` in small store pages (so a page of large
// alerts is never held whole), honouring exact_level (which the store cannot
// filter on) by filtering until `limit` alerts are found or a bounded number
// have been examined. The alerts' JSON holds at most max_bytes (at least
// one alert is returned): the page then ends early. The cursor points after
// the last alert returned (or examined); 0 when nothing more matches.
store::QueryResult RunAlertsQuery(const store::AlertReader& reader, const AlertsQuery& query,
                                  size_t max_bytes = SIZE_MAX);

}  // namespace gsoc::api
