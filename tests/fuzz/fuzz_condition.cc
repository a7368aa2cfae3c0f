// Fuzzes ParseCondition: never throws or crashes (deep nesting included), and
// a parsed tree only refers to existing selections.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/rules/sigma_loader.h"

namespace {

using gsoc::rules::Condition;

void Check(bool ok) {
  if (!ok) std::abort();
}

void Verify(const Condition& condition, int selections, int depth) {
  Check(depth < 1000);
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      Check(condition.selection >= 0 && condition.selection < selections);
      break;
    case Condition::Kind::kOneOf:
    case Condition::Kind::kAllOf:
      Check(!condition.selections.empty());
      for (int index : condition.selections) Check(index >= 0 && index < selections);
      break;
    case Condition::Kind::kNot:
      Check(condition.children.size() == 1);
      break;
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr:
      Check(condition.children.size() >= 2);
      break;
  }
  for (const Condition& child : condition.children) Verify(child, selections, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<gsoc::rules::Selection> selections = {
      {"a", {}},       {"b", {}},      {"sel_1", {}}, {"sel_2", {}},
      {"_filter", {}}, {"filter", {}}, {"1", {}}};
  const std::string text(reinterpret_cast<const char*>(data), size);
  Condition condition;
  std::string error;
  if (gsoc::rules::ParseCondition(text, selections, &condition, &error)) {
    Verify(condition, static_cast<int>(selections.size()), 0);
  } else {
    Check(!error.empty());
  }
  return 0;
}
