// CorrelationType names and CountCondition: the small value methods of the
// correlation model.
#include "engine/rules/correlation_rule.h"

#include <charconv>
#include <cmath>

namespace gsoc::correlate {
namespace {

// Integral values print as integers ("gte 10", "gt 1000000"); others as the
// shortest text that reads back to the same double.
std::string FormatBound(double value) {
  if (std::trunc(value) == value && std::fabs(value) < 1e15)
    return std::to_string(static_cast<int64_t>(value));
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

void AppendBound(const char* name, const std::optional<double>& bound, std::string& text) {
  if (!bound) return;
  if (!text.empty()) text += " and ";
  text += name;
  text += ' ';
  text += FormatBound(*bound);
}

}  // namespace

const char* CorrelationTypeName(CorrelationType type) {
  switch (type) {
    case CorrelationType::kEventCount:
      return "event_count";
    case CorrelationType::kValueCount:
      return "value_count";
    case CorrelationType::kTemporal:
      return "temporal";
    case CorrelationType::kTemporalOrdered:
      return "temporal_ordered";
    case CorrelationType::kValueSum:
      return "value_sum";
    case CorrelationType::kValueAvg:
      return "value_avg";
    case CorrelationType::kValueMedian:
      return "value_median";
    case CorrelationType::kValuePercentile:
      return "value_percentile";
  }
  return "unknown";
}

bool CountCondition::Holds(double value) const {
  if (gt && !(value > *gt)) return false;
  if (gte && !(value >= *gte)) return false;
  if (lt && !(value < *lt)) return false;
  if (lte && !(value <= *lte)) return false;
  if (eq && !(value == *eq)) return false;
  if (neq && !(value != *neq)) return false;
  return true;
}

bool CountCondition::empty() const { return !gt && !gte && !lt && !lte && !eq && !neq; }

bool CountCondition::HasUpperBound() const { return lt || lte || eq || neq; }

std::string CountCondition::ToString() const {
  std::string text;
  AppendBound("gt", gt, text);
  AppendBound("gte", gte, text);
  AppendBound("lt", lt, text);
  AppendBound("lte", lte, text);
  AppendBound("eq", eq, text);
  AppendBound("neq", neq, text);
  return text;
}

}  // namespace gsoc::correlate
