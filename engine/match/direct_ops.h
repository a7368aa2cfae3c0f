// Values evaluated without Hyperscan (private to engine/match, shared by
// the matcher and the reference evaluator): number parsing and comparison
// (IP addresses: engine/util/ip_address.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/event/event_batch.h"
#include "engine/event/field_access.h"
#include "engine/rules/rule.h"
#include "engine/util/ip_address.h"

namespace gsoc::match::internal {

// The whole text as a decimal number (std::from_chars); false otherwise.
bool ParseNumber(std::string_view text, double* out);
// kFieldRef: both fields present and equal, ASCII case-insensitively (Sigma
// string values are caseless by default).
inline bool EqualsFieldRef(const FieldLookup& field, const FieldLookup& other) {
  if (!field.present || !other.present || field.value.size() != other.value.size()) return false;
  for (size_t i = 0; i < field.value.size(); ++i) {
    char a = field.value[i], b = other.value[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}
// kLt/kLte/kGt/kGte: `field_value op number`; non-numeric -> false.
bool CompareNumber(rules::MatchOp op, std::string_view field_value, double number);
// kTimePart: the field, a timestamp written `YYYY-MM-DD` then optionally
// `T` or a space and `HH:MM` (anything may follow), has `part` equal to
// `number`, read as written (no zone conversion); the week is the ISO 8601
// week number. Anything else, or a part the text lacks (the hour of a
// date), is false.
bool TimePartEquals(std::string_view field_value, rules::TimePart part, double number);

// Whether keywords search the event's field values instead of its message:
// a JSON event whose message is its whole line (no `message`/`msg` member).
// A keyword is text a value holds, and the line holds it escaped (a quote,
// an inner backslash) among member names and JSON syntax.
inline bool KeywordsSearchValues(const Event& event) {
  return event.format == EventFormat::kJson && event.message.data() == event.raw.data() &&
         event.message.size() == event.raw.size();
}
// Those values (the unescaped field values), each followed by '\n', into
// `out` (cleared first).
void KeywordValues(const EventBatch& batch, const Event& event, std::string* out);

// The value a predicate reads: keywords (empty field name) read the message
// (callers first take KeywordsSearchValues's text for the events it names),
// other names GetField.
inline FieldLookup LookupPredicateField(const EventBatch& batch, const Event& event,
                                        std::string_view field) {
  if (field.empty()) return {true, event.message};
  return GetField(batch, event, field);
}

}  // namespace gsoc::match::internal
