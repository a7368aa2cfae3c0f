#include "engine/api/alert_query.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "engine/util/time_format.h"

namespace gsoc::api {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kMaxLimit = 10000;
constexpr size_t kMaxExactLevelPages = 32;  // exact level: at most 32 x limit alerts examined
constexpr size_t kStorePageAlerts = 64;     // alerts per store read (bounds one read's memory)

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> UrlDecode(std::string_view text) { return PercentDecode(text, true); }

// Reads exactly `width` digits at text[pos]; advances pos.
std::optional<unsigned> ReadDigits(std::string_view text, size_t& pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  unsigned value = 0;
  for (size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  pos += width;
  return value;
}

bool Expect(std::string_view text, size_t& pos, std::string_view accepted) {
  if (pos >= text.size() || accepted.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// Fraction after '.': one or more digits, nanoseconds kept, the rest ignored.
std::optional<int64_t> ReadFraction(std::string_view text, size_t& pos) {
  const size_t start = pos;
  int64_t nanos = 0;
  int64_t scale = 100'000'000;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    nanos += (text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return nanos;
}

// "Z", "+07:00", "-05:30"; a space stands for an unencoded '+'.
std::optional<int64_t> ReadOffsetSeconds(std::string_view text, size_t& pos) {
  if (pos >= text.size()) return std::nullopt;
  const char sign = text[pos++];
  if (sign == 'Z' || sign == 'z') return 0;
  if (sign != '+' && sign != '-' && sign != ' ') return std::nullopt;
  const auto hours = ReadDigits(text, pos, 2);
  if (!hours || !Expect(text, pos, ":")) return std::nullopt;
  const auto minutes = ReadDigits(text, pos, 2);
  if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const int64_t seconds = *hours * 3600 + *minutes * 60;
  return sign == '-' ? -seconds : seconds;
}

std::optional<int64_t> ParseDurationBack(std::string_view text,
                                         std::chrono::system_clock::time_point now) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  const std::string_view unit = text.substr(digits);
  int64_t unit_ns = 0;
  if (unit == "ms")
    unit_ns = 1'000'000;
  else if (unit == "s")
    unit_ns = kNanosPerSecond;
  else if (unit == "m")
    unit_ns = 60 * kNanosPerSecond;
  else if (unit == "h")
    unit_ns = 3600 * kNanosPerSecond;
  else if (unit == "d")
    unit_ns = 86400 * kNanosPerSecond;
  else if (unit == "w")
    unit_ns = 7 * 86400 * kNanosPerSecond;
  else
    return std::nullopt;
  if (value > INT64_MAX / unit_ns) return std::nullopt;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  return now_ns - value * unit_ns;
}

std::optional<rules::Level> LevelFromName(std::string_view name) {
  for (auto level : {rules::Level::kInformational, rules::Level::kLow, rules::Level::kMedium,
                     rules::Level::kHigh, rules::Level::kCritical}) {
    if (name == rules::LevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<std::string> ApplyLevel(std::string_view value, ApiFilter& filter) {
  const bool at_least = !value.empty() && (value.back() == '+' || value.back() == ' ');
  if (at_least) value.remove_suffix(1);
  const auto level = LevelFromName(value);
  if (!level) {
    return "level: expected informational, low, medium, high or critical, optionally followed "
           "by '+' (at least)";
  }
  filter.store.min_level = *level;
  if (!at_least) filter.exact_level = *level;
  return std::nullopt;
}

std::optional<std::string> ApplyTime(std::string_view name, std::string_view value,
                                     std::chrono::system_clock::time_point now, int64_t& out) {
  const auto nanos = ParseTimeParam(value, now);
  if (!nanos) {
    return std::string(name) +
           ": expected an RFC 3339 time (2026-11-25T10:00:00Z) or a duration back from now "
           "(90s, 15m, 1h, 7d)";
  }
  out = *nanos;
  return std::nullopt;
}

std::optional<std::string> ApplyId(std::string_view name, std::string_view value, uint64_t& out) {
  const auto id = ParseDecimalId(value);
  if (!id) return std::string(name) + ": expected a decimal alert id";
  out = *id;
  return std::nullopt;
}

std::optional<std::string> ApplyStatus(std::string_view value, ApiFilter& filter) {
  while (true) {
    const size_t comma = value.find(',');
    const auto status = triage::ParseStatus(value.substr(0, comma));
    if (!status) {
      return std::string(
          "status: expected new, acknowledged, in_progress or closed (comma-separated)");
    }
    filter.triage.statuses.push_back(*status);
    if (comma == std::string_view::npos) return std::nullopt;
    value.remove_prefix(comma + 1);
  }
}

// The filters both routes share: false when `name` is not one of them;
// otherwise `error` tells whether the value was accepted.
bool ApplyCommonFilter(const std::string& name, const std::string& value,
                       std::chrono::system_clock::time_point now, ApiFilter& filter,
                       std::optional<std::string>& error) {
  if (name == "since")
    error = ApplyTime(name, value, now, filter.store.since_ns);
  else if (name == "until")
    error = ApplyTime(name, value, now, filter.store.until_ns);
  else if (name == "level")
    error = ApplyLevel(value, filter);
  else if (name == "rule")
    filter.store.rule = value;
  else if (name == "agency")
    filter.store.agency = value;
  else if (name == "q")
    filter.store.q = value;
  else if (name == "status")
    error = ApplyStatus(value, filter);
  else if (name == "assignee")
    filter.triage.assignee = value;
  else
    return false;
  return true;
}

std::optional<std::string> ApplyAlertsParam(const std::string& name, const std::string& value,
                                            std::chrono::system_clock::time_point now,
                                            AlertsQuery& query, std::optional<uint64_t>& cursor) {
  std::optional<std::string> error;
  if (ApplyCommonFilter(name, value, now, query.filter, error)) return error;
  if (name == "after_id") return ApplyId(name, value, query.filter.store.after_id);
  if (name == "before_id") return ApplyId(name, value, query.filter.store.before_id);
  if (name == "cursor") {
    const auto id = ParseDecimalId(value);
    if (!id || *id == 0) return std::string("cursor: not a cursor this API returned");
    cursor = *id;
    return std::nullopt;
  }
  if (name == "limit") {
    const auto limit = ParseDecimalId(value);
    if (!limit || *limit < 1 || *limit > kMaxLimit) {
      return std::string("limit: expected a whole number from 1 to 10000");
    }
    query.limit = static_cast<size_t>(*limit);
    return std::nullopt;
  }
  if (name == "order") {
    if (value != "asc" && value != "desc") return std::string("order: expected asc or desc");
    query.newest_first = value == "desc";
    return std::nullopt;
  }
  return "unknown parameter '" + name + "'";
}

std::optional<std::string> ApplyStreamParam(const std::string& name, const std::string& value,
                                            std::chrono::system_clock::time_point now,
                                            StreamQuery& query) {
  std::optional<std::string> error;
  if (ApplyCommonFilter(name, value, now, query.filter, error)) return error;
  if (name == "last_event_id") {
    uint64_t id = 0;
    if ((error = ApplyId(name, value, id))) return error;
    query.last_event_id = id;
    return std::nullopt;
  }
  return "unknown parameter '" + name + "'";
}

// Decodes the query and rejects repeated names; calls apply(name, value).
template <class Apply>
std::optional<std::string> ForEachParam(std::string_view query, Apply&& apply) {
  auto parsed = ParseQueryString(query);
  if (auto* error = std::get_if<ParamError>(&parsed)) return error->message;
  std::set<std::string> seen;
  for (const auto& [name, value] : std::get<Pairs>(parsed)) {
    if (!seen.insert(name).second) return "parameter '" + name + "' given more than once";
    if (auto error = apply(name, value)) return error;
  }
  return std::nullopt;
}

bool AcceptedAfterExactLevel(const store::QueryResult& page, size_t from, rules::Level level) {
  for (size_t i = from; i < page.alerts.size(); ++i) {
    if (page.alerts[i].level == level) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

bool FilterMatches(const store::AlertFilter& filter, const store::StoredAlert& alert) {
  return filter.Matches(alert);  // the store's own semantics, one definition
}

bool FilterMatches(const ApiFilter& filter, const store::StoredAlert& alert) {
  if (filter.exact_level && alert.level != *filter.exact_level) return false;
  return FilterMatches(filter.store, alert);
}

std::variant<Pairs, ParamError> ParseQueryString(std::string_view query) {
  Pairs pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    auto name = UrlDecode(part.substr(0, eq));
    auto value = UrlDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!name || !value) return ParamError{"bad %-escape in the query string"};
    pairs.emplace_back(std::move(*name), std::move(*value));
  }
  return pairs;
}

std::optional<uint64_t> ParseDecimalId(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  const auto year = ReadDigits(text, pos, 4);
  if (!year || !Expect(text, pos, "-")) return std::nullopt;
  const auto month = ReadDigits(text, pos, 2);
  if (!month || !Expect(text, pos, "-")) return std::nullopt;
  const auto day = ReadDigits(text, pos, 2);
  if (!day || !Expect(text, pos, "Tt ")) return std::nullopt;
  const auto hour = ReadDigits(text, pos, 2);
  if (!hour || !Expect(text, pos, ":")) return std::nullopt;
  const auto minute = ReadDigits(text, pos, 2);
  if (!minute || !Expect(text, pos, ":")) return std::nullopt;
  const auto second = ReadDigits(text, pos, 2);
  if (!second) return std::nullopt;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const auto nanos = ReadFraction(text, pos);
    if (!nanos) return std::nullopt;
    fraction = *nanos;
  }
  const auto offset = ReadOffsetSeconds(text, pos);
  if (!offset || pos != text.size()) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > DaysInMonth(*year, *month)) {
    return std::nullopt;
  }
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  // Nanoseconds since the epoch fit in int64 for years 1678..2261.
  if (*year < 1678 || *year > 2261) return std::nullopt;
  const int64_t seconds =
      DaysFromCivil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second - *offset;
  return seconds * kNanosPerSecond + fraction;
}

std::optional<int64_t> ParseTimeParam(std::string_view text,
                                      std::chrono::system_clock::time_point now) {
  if (auto nanos = ParseRfc3339(text)) return nanos;
  return ParseDurationBack(text, now);
}

std::variant<AlertsQuery, ParamError> ParseAlertsQuery(std::string_view query,
                                                       std::chrono::system_clock::time_point now) {
  AlertsQuery result;
  std::optional<uint64_t> cursor;
  auto error = ForEachParam(query, [&](const std::string& name, const std::string& value) {
    return ApplyAlertsParam(name, value, now, result, cursor);
  });
  if (error) return ParamError{std::move(*error)};
  if (cursor) {
    auto& filter = result.filter.store;
    if (result.newest_first)
      filter.before_id = std::min(filter.before_id, *cursor);
    else
      filter.after_id = std::max(filter.after_id, *cursor);
  }
  return result;
}

std::variant<StreamQuery, ParamError> ParseStreamQuery(std::string_view query,
                                                       std::chrono::system_clock::time_point now) {
  StreamQuery result;
  auto error = ForEachParam(query, [&](const std::string& name, const std::string& value) {
    return ApplyStreamParam(name, value, now, result);
  });
  if (error) return ParamError{std::move(*error)};
  return result;
}

namespace {

// Adds `page` to `result` until `limit` alerts or `max_bytes`; true when the
// result is complete (result.next_cursor set).
bool TakeFromPage(store::QueryResult& page, const AlertsQuery& query, size_t max_bytes,
                  store::QueryResult& result, size_t& bytes) {
  const auto& level = query.filter.exact_level;
  for (size_t i = 0; i < page.alerts.size(); ++i) {
    store::StoredAlert& alert = page.alerts[i];
    if (level && alert.level != *level) continue;
    if (!result.alerts.empty() && bytes + alert.json.size() > max_bytes) {
      result.next_cursor = result.alerts.back().id;  // the page ends early: continue here
      return true;
    }
    bytes += alert.json.size();
    result.alerts.push_back(std::move(alert));
    if (result.alerts.size() < query.limit) continue;
    const bool more = page.next_cursor != 0 || (level ? AcceptedAfterExactLevel(page, i + 1, *level)
                                                      : i + 1 < page.alerts.size());
    result.next_cursor = more ? result.alerts.back().id : 0;
    return true;
  }
  return false;
}

}  // namespace

store::QueryResult RunAlertsQuery(const store::AlertReader& reader, const AlertsQuery& query,
                                  size_t max_bytes) {
  store::QueryRequest request{query.filter.store, kStorePageAlerts, query.newest_first};
  const size_t max_examined = kMaxExactLevelPages * std::max<size_t>(query.limit, kStorePageAlerts);
  store::QueryResult result;
  size_t bytes = 0;
  size_t examined = 0;
  for (size_t pages = 0; examined < max_examined && pages < max_examined; ++pages) {
    if (!query.filter.exact_level) {
      request.limit = std::min(kStorePageAlerts, query.limit - result.alerts.size());
    }
    store::QueryResult page = reader.Query(request);
    examined += page.alerts.size();
    if (TakeFromPage(page, query, max_bytes, result, bytes)) return result;
    result.next_cursor = page.next_cursor;
    if (page.next_cursor == 0) return result;
    if (query.newest_first)
      request.filter.before_id = page.next_cursor;
    else
      request.filter.after_id = page.next_cursor;
  }
  return result;  // a partial page; the cursor continues after what was examined
}

}  // namespace gsoc::api
