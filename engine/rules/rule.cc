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

}  // namespace gsoc::rules
