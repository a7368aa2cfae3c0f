// Values evaluated without Hyperscan (private to engine/match, shared by
// the matcher and the reference evaluator): number parsing and comparison
// (IP addresses: engine/util/ip_address.h).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/event/event_batch.h"
#include "engine/event/field_access.h"
#include "engine/rules/rule.h"
#include "engine/util/ip_address.h"

namespace gsoc::match::internal {

// The whole text as a decimal number (std::from_chars); false otherwise.
bool ParseNumber(std::string_view text, double* out);
// kLt/kLte/kGt/kGte: `field_value op number`; non-numeric -> false.
bool CompareNumber(rules::MatchOp op, std::string_view field_value, double number);

// The value a predicate reads: keywords (empty field name) read the message.
inline FieldLookup LookupPredicateField(const EventBatch& batch, const Event& event,
                                        std::string_view field) {
  if (field.empty()) return {true, event.message};
  return GetField(batch, event, field);
}

}  // namespace gsoc::match::internal
