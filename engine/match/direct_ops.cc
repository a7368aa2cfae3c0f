#include "engine/match/direct_ops.h"

#include <charconv>
#include <cstring>

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

void KeywordValues(const EventBatch& batch, const Event& event, std::string* out) {
  out->clear();
  for (const Field& field : batch.FieldsOf(event)) {
    out->append(field.value);
    out->push_back('\n');
  }
}

}  // namespace gsoc::match::internal
