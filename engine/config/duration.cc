#include "engine/config/duration.h"

#include <charconv>
#include <string>

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
  auto ms = ParseWithUnits(text,
                           {{"ms", 1},
                            {"s", 1000},
                            {"m", 60'000},
                            {"h", 3'600'000},
                            {"d", 86'400'000}},
                           1000);
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
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : text.substr(1)) {
    if (c == ':') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits.push_back(c);
  }
  if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
  const int hours = std::stoi(digits.substr(0, 2));
  const int minutes = digits.size() == 4 ? std::stoi(digits.substr(2, 2)) : 0;
  if (hours > 14 || minutes > 59) return std::nullopt;
  return sign * (hours * 3600 + minutes * 60);
}

}  // namespace gsoc
