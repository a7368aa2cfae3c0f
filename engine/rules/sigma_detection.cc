// `detection` map -> Selections: maps (AND of fields), lists of maps (OR),
// keyword lists (plain values searched in the message).
#include "engine/rules/sigma_internal.h"

namespace gsoc::rules::internal {
namespace {

std::string KeyText(const YAML::Node& key) {
  if (!key.IsScalar()) Refuse(key, "detection keys must be plain names");
  return key.Scalar();
}

std::vector<FieldPredicate> BuildAlternative(const YAML::Node& map, const ValueContext& context) {
  if (map.size() == 0) Refuse(map, "an empty map in a selection matches nothing");
  std::vector<FieldPredicate> predicates;
  for (const auto& entry : map) {
    for (FieldPredicate& predicate : BuildPredicates(KeyText(entry.first), entry.second, context))
      predicates.push_back(std::move(predicate));
  }
  return predicates;
}

bool AllMaps(const YAML::Node& list) {
  for (const YAML::Node& item : list)
    if (!item.IsMap()) return false;
  return true;
}

bool AllPlainValues(const YAML::Node& list) {
  for (const YAML::Node& item : list)
    if (!item.IsScalar() && !item.IsNull()) return false;
  return true;
}

Selection BuildSelection(const std::string& name, const YAML::Node& node,
                         const ValueContext& context) {
  Selection selection{name, {}};
  if (node.IsNull()) Refuse(node, "selection '" + name + "' is empty");
  if (node.IsMap()) {
    selection.alternatives.push_back(BuildAlternative(node, context));
  } else if (node.IsScalar()) {
    selection.alternatives.push_back(BuildPredicates("", node, context));
  } else if (node.size() == 0) {
    Refuse(node, "selection '" + name + "' is an empty list");
  } else if (AllMaps(node)) {
    for (const YAML::Node& map : node)
      selection.alternatives.push_back(BuildAlternative(map, context));
  } else if (AllPlainValues(node)) {
    selection.alternatives.push_back(BuildPredicates("", node, context));
  } else {
    Refuse(node,
           "selection '" + name + "' must be a map, a list of maps or a list of plain values");
  }
  return selection;
}

}  // namespace

std::vector<Selection> BuildSelections(const YAML::Node& detection, const LoadOptions& options,
                                       ValueBudget& budget) {
  if (!detection.IsMap())
    Refuse(detection, "detection must be a map of selections and a condition");
  const ValueContext context{&options, &budget};
  std::vector<Selection> selections;
  for (const auto& entry : detection) {
    const std::string name = KeyText(entry.first);
    if (name == "condition") continue;
    if (name == "timeframe")
      Refuse(entry.first,
             "timeframe belongs to old aggregation rules; aggregation expressions are replaced by "
             "correlation rules; use a Sigma correlation rule");
    for (const Selection& existing : selections)
      if (existing.name == name) Refuse(entry.first, "selection '" + name + "' is defined twice");
    selections.push_back(BuildSelection(name, entry.second, context));
  }
  if (selections.empty()) Refuse(detection, "detection has no selections");
  return selections;
}

}  // namespace gsoc::rules::internal
