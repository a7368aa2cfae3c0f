#include "engine/rules/rule.h"

namespace gsoc::rules {

const char* MatchOpName(MatchOp op) {
  switch (op) {
    case MatchOp::kEquals:
      return "equals";
    case MatchOp::kContains:
      return "contains";
    case MatchOp::kStartsWith:
      return "startswith";
    case MatchOp::kEndsWith:
      return "endswith";
    case MatchOp::kRegex:
      return "re";
    case MatchOp::kCidr:
      return "cidr";
    case MatchOp::kExists:
      return "exists";
    case MatchOp::kLt:
      return "lt";
    case MatchOp::kLte:
      return "lte";
    case MatchOp::kGt:
      return "gt";
    case MatchOp::kGte:
      return "gte";
    case MatchOp::kNull:
      return "null";
    case MatchOp::kIndicator:
      return "indicator";
  }
  return "unknown";
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kInformational:
      return "informational";
    case Level::kLow:
      return "low";
    case Level::kMedium:
      return "medium";
    case Level::kHigh:
      return "high";
    case Level::kCritical:
      return "critical";
  }
  return "unknown";
}

std::string RuleError::ToString() const {
  std::string text = location.file + ":" + std::to_string(location.line) + ": ";
  if (!rule_id.empty()) text += "rule " + rule_id + ": ";
  return text + reason;
}

}  // namespace gsoc::rules
