// Sigma filters (sigma-filters-specification v2.1): each filter's selections
// are appended to every rule it names and the rule's condition becomes
// `(condition) and not (filter condition)`, as pySigma applies them. A rule
// keeps firing on every event the filter does not describe; rules the filter
// does not name are untouched.
#include <algorithm>
#include <cctype>

#include "engine/rules/sigma_loader.h"

namespace gsoc::rules {
namespace {

void ShiftSelections(Condition& condition, int offset) {
  if (condition.selection >= 0) condition.selection += offset;
  for (int& selection : condition.selections) selection += offset;
  for (Condition& child : condition.children) ShiftSelections(child, offset);
}

bool SameIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Every key the filter's logsource gives must equal the rule's.
bool LogSourceCovers(const LogSource& filter, const LogSource& rule) {
  return (filter.product.empty() || SameIgnoreCase(filter.product, rule.product)) &&
         (filter.service.empty() || SameIgnoreCase(filter.service, rule.service)) &&
         (filter.category.empty() || SameIgnoreCase(filter.category, rule.category));
}

void Apply(const SigmaFilter& filter, Rule& rule) {
  const int offset = static_cast<int>(rule.selections.size());
  for (const Selection& selection : filter.selections) {
    Selection copy = selection;
    copy.name = "filter " + filter.id + ": " + selection.name;
    rule.selections.push_back(std::move(copy));
  }
  Condition excluded;
  excluded.kind = Condition::Kind::kNot;
  excluded.children.push_back(filter.condition);
  ShiftSelections(excluded.children.front(), offset);
  Condition both;
  both.kind = Condition::Kind::kAnd;
  both.children.push_back(std::move(rule.condition));
  both.children.push_back(std::move(excluded));
  rule.condition = std::move(both);
}

RuleError FilterError(const SigmaFilter& filter, std::string reason) {
  RuleError error;
  error.code = "sigma.filter";
  error.location = filter.location;
  error.rule_id = filter.id;
  error.message = std::move(reason);
  return error;
}

}  // namespace

void ApplyFilters(LoadResult& result) {
  for (const SigmaFilter& filter : result.filters) {
    for (const std::string& name : filter.rules) {
      bool found = false;
      for (Rule& rule : result.rules) {
        if (rule.id != name && (rule.name.empty() || rule.name != name)) continue;
        found = true;
        if (!LogSourceCovers(filter.logsource, rule.logsource)) {
          result.refused.push_back(FilterError(
              filter, "filter's logsource does not match that of rule " + name + "; not applied"));
          continue;
        }
        Apply(filter, rule);
      }
      const bool skipped =
          std::find(result.skipped.begin(), result.skipped.end(), name) != result.skipped.end();
      if (!found && !skipped)
        result.refused.push_back(
            FilterError(filter, "filter names rule " + name + ", which is not loaded"));
    }
  }
}

}  // namespace gsoc::rules
