#include "engine/util/diagnostic.h"

namespace gsoc {

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kWarning ? "warning" : "error";
}

std::string Diagnostic::ToString() const {
  std::string text = location.file;
  if (location.line > 0) {
    text += ":" + std::to_string(location.line);
    if (location.column > 0) text += ":" + std::to_string(location.column);
  }
  text += ": ";
  if (severity == Severity::kWarning) text += "warning: ";
  if (!rule_id.empty()) {
    text += "rule " + rule_id + ": ";
  } else if (!key.empty()) {
    text += key + ": ";
  }
  return text + message;
}

}  // namespace gsoc
