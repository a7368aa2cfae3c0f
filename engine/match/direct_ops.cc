#include "engine/match/direct_ops.h"

#include <charconv>
#include <cstring>
#include <iterator>

#include "engine/util/time_format.h"

namespace gsoc::match::internal {

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool CompareNumber(rules::MatchOp op, std::string_view field_value, double number) {
  double value = 0;
  if (!ParseNumber(field_value, &value)) return false;
  switch (op) {
    case rules::MatchOp::kLt:
      return value < number;
    case rules::MatchOp::kLte:
      return value <= number;
    case rules::MatchOp::kGt:
      return value > number;
    case rules::MatchOp::kGte:
      return value >= number;
    default:
      return false;
  }
}

namespace {

// `count` decimal digits at `text[at]`, or -1.
int Digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// ISO 8601 week number (1-53) of a valid date: the week holding its year's
// first Thursday is week 1, so a date's week is counted in the year of its
// week's Thursday (which may be the year before or after).
int IsoWeek(int year, unsigned month, unsigned day) {
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday 0 (1970-01-01 was a Thursday)
  const int64_t thursday = days - weekday + 3;
  int64_t year_start = DaysFromCivil(year, 1, 1);
  if (thursday < year_start) {
    year_start = DaysFromCivil(year - 1, 1, 1);
  } else if (const int64_t next = DaysFromCivil(year + 1, 1, 1); thursday >= next) {
    year_start = next;
  }
  return static_cast<int>((thursday - year_start) / 7 + 1);
}

}  // namespace

bool TimePartEquals(std::string_view text, rules::TimePart part, double number) {
  const int year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || text[4] != '-' || text[7] != '-' ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month)))
    return false;
  const bool has_time = text.size() >= 16 && (text[10] == 'T' || text[10] == ' ') &&
                        text[13] == ':' && Digits(text, 11, 2) >= 0 && Digits(text, 14, 2) >= 0;
  const int hour = has_time ? Digits(text, 11, 2) : -1;
  const int minute = has_time ? Digits(text, 14, 2) : -1;
  if (has_time && (hour > 23 || minute > 59)) return false;
  if (part == rules::TimePart::kWeek)
    return IsoWeek(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) == number;
  const int by_part[] = {-1, minute, hour, day, -1, month, year};  // rules::TimePart order
  const size_t index = static_cast<size_t>(part);
  return index < std::size(by_part) && by_part[index] >= 0 && by_part[index] == number;
}

void KeywordValues(const EventBatch& batch, const Event& event, std::string* out) {
  out->clear();
  for (const Field& field : batch.FieldsOf(event)) {
    out->append(field.value);
    out->push_back('\n');
  }
}

}  // namespace gsoc::match::internal
