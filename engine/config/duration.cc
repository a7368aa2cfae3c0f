#include "engine/config/duration.h"

#include <charconv>

namespace gsoc {

namespace {

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

std::optional<uint64_t> ParseWithUnits(std::string_view text, std::initializer_list<Unit> units,
                                       uint64_t default_factor) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view suffix(end, text.data() + text.size() - end);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  uint64_t factor = default_factor;
  if (!suffix.empty()) {
    bool found = false;
    for (const Unit& unit : units) {
      if (suffix == unit.suffix) {
        factor = unit.factor;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  if (factor != 0 && value > UINT64_MAX / factor) return std::nullopt;
  return value * factor;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto ms = ParseWithUnits(
      text, {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}, 1000);
  if (!ms || *ms > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(*ms));
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  return ParseWithUnits(text,
                        {{"B", 1},
                         {"KiB", 1024},
                         {"MiB", 1024 * 1024},
                         {"GiB", 1024ull * 1024 * 1024},
                         {"KB", 1000},
                         {"MB", 1000 * 1000},
                         {"GB", 1000ull * 1000 * 1000}},
                        1);
}

std::optional<int32_t> ParseUtcOffset(std::string_view text) {
  if (text == "UTC" || text == "Z" || text == "utc") return 0;
  // Exactly +HH, +HHMM or +HH:MM (or -).
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  auto two_digits = [&](size_t at) -> int {
    if (at + 2 > text.size() || text[at] < '0' || text[at] > '9' || text[at + 1] < '0' ||
        text[at + 1] > '9') {
      return -1;
    }
    return (text[at] - '0') * 10 + (text[at + 1] - '0');
  };
  const int hours = two_digits(1);
  int minutes = 0;
  if (text.size() == 3) {
    minutes = 0;
  } else if (text.size() == 5) {
    minutes = two_digits(3);
  } else if (text.size() == 6 && text[3] == ':') {
    minutes = two_digits(4);
  } else {
    return std::nullopt;
  }
  if (hours < 0 || minutes < 0 || hours > 14 || minutes > 59) return std::nullopt;
  return sign * (hours * 3600 + minutes * 60);
}

}  // namespace gsoc
