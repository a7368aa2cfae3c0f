#include "engine/rules/rule.h"

namespace gsoc::rules {

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
