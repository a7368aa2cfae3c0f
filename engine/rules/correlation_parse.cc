// Pass 1 of the correlation loader (correlation_loader.cc has the overview):
// one Sigma correlation document alone -> a Draft (meta, the `correlation:`
// keys, their syntax and what each type requires).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <utility>

#include "engine/rules/correlation_draft.h"
#include "engine/rules/correlation_rule.h"
#include "engine/rules/rule_metadata.h"
#include "engine/rules/sigma_internal.h"

namespace gsoc::correlate::loader_internal {
namespace {

using rules::internal::LineOf;
using rules::internal::Refusal;
using rules::internal::Refuse;

constexpr const char* kCorrelationKeys[] = {"type",     "rules",     "group-by",
                                            "timespan", "condition", "aliases",
                                            "generate", "suppress",  "absent"};
constexpr const char* kKnownKeysText =
    "type, rules, group-by, timespan, condition, aliases, generate, suppress, absent";

constexpr CorrelationType kTypes[] = {
    CorrelationType::kEventCount,      CorrelationType::kValueCount,     CorrelationType::kTemporal,
    CorrelationType::kTemporalOrdered, CorrelationType::kValueSum,       CorrelationType::kValueAvg,
    CorrelationType::kValueMedian,     CorrelationType::kValuePercentile};

constexpr const char* kSeveralFieldsReason =
    "'condition.field' lists several fields; gsoc supports one field per correlation (chain "
    "correlations, or count one field that holds the combination)";

// ---- scalars ----

bool Given(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

const std::string& ScalarText(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) Refuse(node, what + " must be a string");
  return node.Scalar();
}

std::string OptionalString(const YAML::Node& map, const char* key) {
  const YAML::Node node = map[key];
  if (!Given(node)) return "";
  return ScalarText(node, Quoted(key));
}

double ParseNumber(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) Refuse(node, what + " must be a number");
  std::string_view text = node.Scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    Refuse(node, what + " must be a number, not " + Quoted(node.Scalar()));
  return value;
}

std::optional<bool> ParseBool(const YAML::Node& node, const std::string& what) {
  if (!Given(node)) return std::nullopt;
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
    Refuse(node, what + " must be true or false");
  return value;
}

// "<integer><s|m|h|d>" (Sigma `timespan`); "0" too when `allow_zero`.
int64_t ParseDuration(const YAML::Node& node, const std::string& what, bool allow_zero) {
  static constexpr std::pair<char, int64_t> kUnits[] = {{'s', 1'000'000'000},
                                                        {'m', 60'000'000'000},
                                                        {'h', 3'600'000'000'000},
                                                        {'d', 86'400'000'000'000}};
  const std::string text = node.IsScalar() ? node.Scalar() : "";
  const std::string usage = what + " must be a whole number followed by s, m, h or d (e.g. 10m)";
  if (allow_zero && text == "0") return 0;
  int64_t count = -1;
  const char* const last = text.data() + text.size();
  const std::from_chars_result parsed = std::from_chars(text.data(), last, count);
  const char* const unit = parsed.ptr;
  if (parsed.ec != std::errc() || count < 0 || unit + 1 != last)
    Refuse(node, usage + ", not " + Quoted(text));
  const auto* found = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const auto& entry) { return entry.first == *unit; });
  if (found == std::end(kUnits)) Refuse(node, usage + ", not " + Quoted(text));
  if (count == 0 && !allow_zero) Refuse(node, what + " must be greater than 0");
  if (count > INT64_MAX / found->second) Refuse(node, what + " " + Quoted(text) + " is too long");
  return count * found->second;
}

// A list of distinct non-empty strings, at most `max` of them.
std::vector<std::string> StringList(const YAML::Node& node, const std::string& what, size_t max) {
  if (!node.IsSequence()) Refuse(node, what + " must be a list of strings");
  if (node.size() > max)
    Refuse(node, what + " has " + std::to_string(node.size()) + " entries; at most " +
                     std::to_string(max) + " are allowed");
  std::vector<std::string> items;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty())
      Refuse(item, what + " entries must be non-empty strings");
    if (std::find(items.begin(), items.end(), item.Scalar()) != items.end())
      Refuse(item, what + " lists " + Quoted(item.Scalar()) + " twice");
    items.push_back(item.Scalar());
  }
  return items;
}

// ---- meta ----

std::string DerivedId(const rules::SourceLocation& location) {
  return std::filesystem::path(location.file).stem().string() + ":" + std::to_string(location.line);
}

rules::Level ParseLevel(const YAML::Node& doc) {
  const std::string text = OptionalString(doc, "level");
  if (text.empty()) return rules::Level::kMedium;
  for (const rules::Level level :
       {rules::Level::kInformational, rules::Level::kLow, rules::Level::kMedium,
        rules::Level::kHigh, rules::Level::kCritical})
    if (text == rules::LevelName(level)) return level;
  Refuse(doc["level"],
         "unknown level " + Quoted(text) + " (informational, low, medium, high, critical)");
}

std::vector<std::string> ParseTags(const YAML::Node& doc) {
  const YAML::Node node = doc["tags"];
  if (!Given(node)) return {};
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence()) Refuse(node, "'tags' must be a list of strings");
  std::vector<std::string> tags;
  for (const YAML::Node& tag : node) tags.push_back(ScalarText(tag, "'tags' entries"));
  return tags;
}

// Other top-level keys (author, date, references, falsepositives, taxonomy,
// related, license, fields, custom attributes...) are accepted and ignored,
// as for detection rules.
void ParseMeta(const YAML::Node& doc, CorrelationRule& rule) {
  const std::string id = OptionalString(doc, "id");
  if (!id.empty()) rule.id = id;
  rule.name = OptionalString(doc, "name");
  // The specification makes `title` mandatory, yet its own examples of
  // temporal correlations leave it out; an alert needs some title, so the
  // name (or id) stands in rather than refusing a rule the spec shows.
  rule.title = OptionalString(doc, "title");
  if (rule.title.empty()) rule.title = rule.name.empty() ? rule.id : rule.name;
  rule.description = OptionalString(doc, "description");
  rule.status = OptionalString(doc, "status");
  rule.level = ParseLevel(doc);
  rule.tags = ParseTags(doc);
  // Bounded like a detection rule's (tags are copied into every alert).
  rules::Rule meta;
  meta.description = std::move(rule.description);
  meta.tags = std::move(rule.tags);
  rule.metadata_truncated = rules::CapMetadata(meta);
  rule.description = std::move(meta.description);
  rule.tags = std::move(meta.tags);
}

// ---- the `correlation:` section ----

void CheckCorrelationKeys(const YAML::Node& section) {
  for (const auto& entry : section) {
    const std::string& key = ScalarText(entry.first, "correlation keys");
    if (std::find_if(std::begin(kCorrelationKeys), std::end(kCorrelationKeys),
                     [&](const char* known) { return key == known; }) == std::end(kCorrelationKeys))
      Refuse(entry.first,
             "unknown key " + Quoted(key) + " in correlation (" + kKnownKeysText + ")");
  }
}

CorrelationType ParseType(const YAML::Node& section) {
  const YAML::Node node = section["type"];
  if (!Given(node)) Refuse(section, "missing 'correlation.type'");
  const std::string& text = ScalarText(node, "'type'");
  for (const CorrelationType type : kTypes)
    if (text == CorrelationTypeName(type)) return type;
  Refuse(node, "unknown correlation type " + Quoted(text) +
                   " (event_count, value_count, temporal, temporal_ordered, value_sum, "
                   "value_avg, value_median, value_percentile)");
}

std::vector<Written> ParseRefs(const YAML::Node& section) {
  const YAML::Node node = section["rules"];
  if (!Given(node)) Refuse(section, "missing 'correlation.rules'");
  if (!node.IsSequence() || node.size() == 0)
    Refuse(node, "'rules' must be a non-empty list of rule ids or names");
  if (node.size() > kMaxRefs)
    Refuse(node, "'rules' lists " + std::to_string(node.size()) + " rules; at most " +
                     std::to_string(kMaxRefs) + " are allowed");
  std::vector<Written> refs;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty())
      Refuse(item, "'rules' entries must be rule ids or names");
    for (const Written& ref : refs)
      if (ref.text == item.Scalar()) Refuse(item, "'rules' lists " + Quoted(ref.text) + " twice");
    refs.push_back({item.Scalar(), LineOf(item)});
  }
  return refs;
}

// The specification calls group-by mandatory, but a correlation without it
// is meaningful (and pySigma accepts it): a missing or empty group-by is one
// global group, i.e. every input of the correlation falls into one group.
std::vector<std::string> ParseGroupBy(const YAML::Node& section) {
  const YAML::Node node = section["group-by"];
  if (!Given(node)) return {};
  return StringList(node, "'group-by'", kMaxGroupBy);
}

int64_t ParseTimespan(const YAML::Node& section) {
  const YAML::Node node = section["timespan"];
  if (!Given(node)) Refuse(section, "missing 'correlation.timespan'");
  return ParseDuration(node, "'timespan'", false);
}

// `field`: a string, or a list of one string.
std::string ParseConditionField(const YAML::Node& node) {
  YAML::Node text_node = node;
  if (node.IsSequence()) {
    if (node.size() > 1) Refuse(node, kSeveralFieldsReason);
    if (node.size() == 1) text_node = node[0];
  }
  if (!text_node.IsScalar() || text_node.Scalar().empty())
    Refuse(node, "'condition.field' must be a field name");
  return text_node.Scalar();
}

void SetBound(const YAML::Node& key, const YAML::Node& value, CountCondition& condition) {
  const std::string& name = key.Scalar();
  std::optional<double>* bound = name == "gt"    ? &condition.gt
                                 : name == "gte" ? &condition.gte
                                 : name == "lt"  ? &condition.lt
                                 : name == "lte" ? &condition.lte
                                 : name == "eq"  ? &condition.eq
                                 : name == "neq" ? &condition.neq
                                                 : nullptr;
  if (!bound)
    Refuse(key, "unknown key " + Quoted(name) + " in condition (gt, gte, lt, lte, eq, neq, field)");
  *bound = ParseNumber(value, "condition " + Quoted(name));
}

bool NeedsCondition(CorrelationType type) {
  return type != CorrelationType::kTemporal && type != CorrelationType::kTemporalOrdered;
}

bool NeedsField(CorrelationType type) {
  return type == CorrelationType::kValueCount || type == CorrelationType::kValueSum ||
         type == CorrelationType::kValueAvg || type == CorrelationType::kValueMedian ||
         type == CorrelationType::kValuePercentile;
}

// Contradictory bounds (gt 10 and lt 5) are accepted: such a condition
// never holds, like any other unsatisfiable Sigma condition.
void ParseCondition(const YAML::Node& section, CorrelationRule& rule) {
  const YAML::Node node = section["condition"];
  const std::string type = CorrelationTypeName(rule.type);
  if (!Given(node)) {
    if (NeedsCondition(rule.type)) Refuse(section, type + " needs 'condition' (e.g. gte: 10)");
    return;
  }
  if (!node.IsMap())
    Refuse(node, "'condition' must be a map of bounds (gt, gte, lt, lte, eq, neq) and field");
  for (const auto& entry : node) {
    const std::string& key = ScalarText(entry.first, "condition keys");
    if (key != "field") {
      SetBound(entry.first, entry.second, rule.condition);
      continue;
    }
    if (!NeedsField(rule.type))
      Refuse(entry.first,
             "'condition.field' is only for value_count, value_sum, value_avg, value_median and "
             "value_percentile");
    rule.field = ParseConditionField(entry.second);
  }
  if (rule.condition.empty()) Refuse(node, "'condition' has no bound (gt, gte, lt, lte, eq, neq)");
  if (NeedsField(rule.type) && rule.field.empty())
    Refuse(node, type + " needs 'condition.field' (the field to count, sum or average)");
}

Alias ParseAlias(const YAML::Node& key, const YAML::Node& mapping,
                 const std::vector<std::string>& group_by) {
  Alias alias{{ScalarText(key, "alias names"), LineOf(key)}, {}};
  if (std::find(group_by.begin(), group_by.end(), alias.name.text) == group_by.end())
    Refuse(key, "alias " + Quoted(alias.name.text) + " is not used in group-by");
  if (!mapping.IsMap() || mapping.size() == 0)
    Refuse(Given(mapping) ? mapping : key,
           "alias " + Quoted(alias.name.text) + " must map rule names to fields");
  if (mapping.size() > kMaxRefs)
    Refuse(mapping, "alias " + Quoted(alias.name.text) + " is too large");
  for (const auto& entry : mapping) {
    const std::string& rule_name = ScalarText(entry.first, "alias rule names");
    const std::string& field = ScalarText(entry.second, "alias fields");
    if (field.empty()) Refuse(entry.second, "alias fields must not be empty");
    alias.fields.push_back({{rule_name, LineOf(entry.first)}, field});
  }
  return alias;
}

std::vector<Alias> ParseAliases(const YAML::Node& section,
                                const std::vector<std::string>& group_by) {
  const YAML::Node node = section["aliases"];
  if (!Given(node)) return {};
  if (!node.IsMap()) Refuse(node, "'aliases' must be a map: alias -> {rule name: field}");
  if (node.size() > kMaxAliases)
    Refuse(node, "'aliases' has " + std::to_string(node.size()) + " entries; at most " +
                     std::to_string(kMaxAliases) + " are allowed");
  std::vector<Alias> aliases;
  for (const auto& entry : node) aliases.push_back(ParseAlias(entry.first, entry.second, group_by));
  return aliases;
}

// sigma-cli reads `generate` inside `correlation:`; the specification lists
// it as a rule attribute (top level). Both are accepted; they must agree.
bool ParseGenerate(const YAML::Node& doc, const YAML::Node& section) {
  const std::optional<bool> inner = ParseBool(section["generate"], "'generate'");
  const std::optional<bool> outer = ParseBool(doc["generate"], "'generate'");
  if (inner && outer && *inner != *outer)
    Refuse(doc["generate"],
           "'generate' is given at the top level and in correlation with different values");
  return inner.value_or(outer.value_or(false));
}

int64_t ParseSuppress(const YAML::Node& section, int64_t timespan_ns) {
  const YAML::Node node = section["suppress"];
  if (!Given(node)) return timespan_ns;
  return ParseDuration(node, "'suppress'", true);
}

std::optional<Written> ParseAbsent(const YAML::Node& section, CorrelationType type,
                                   size_t ref_count) {
  const YAML::Node node = section["absent"];
  if (!Given(node)) return std::nullopt;
  if (type != CorrelationType::kTemporalOrdered)
    Refuse(node, "'absent' is only for temporal_ordered correlations");
  if (ref_count < 2) Refuse(node, "'absent' needs at least 2 rules (the last one is absent)");
  return Written{ScalarText(node, "'absent'"), LineOf(node)};
}

void ParseDraft(const rules::CorrelationDocument& document, Draft& draft) {
  const YAML::Node doc = document.node ? *document.node : YAML::Load(document.yaml);
  if (!doc.IsMap()) Refuse(doc, "a correlation document must be a map");
  CorrelationRule& rule = draft.rule;
  ParseMeta(doc, rule);
  const YAML::Node section = doc["correlation"];
  if (!section.IsMap()) Refuse(Given(section) ? section : doc, "'correlation' must be a map");
  CheckCorrelationKeys(section);
  rule.type = ParseType(section);
  rule.revision = rules::RevisionHasher()
                      .Add(rule.id)
                      .Add(rule.name)
                      .Add(rule.title)
                      .Add(rule.description)
                      .Add(rule.status)
                      .Add(static_cast<uint64_t>(rule.level))
                      .Add(rule.tags)
                      .Add(CorrelationTypeName(rule.type))
                      .Add(static_cast<uint64_t>(rule.metadata_truncated))
                      .value();
  draft.refs = ParseRefs(section);
  rule.group_by = ParseGroupBy(section);
  rule.timespan_ns = ParseTimespan(section);
  ParseCondition(section, rule);
  draft.aliases = ParseAliases(section, rule.group_by);
  rule.generate = ParseGenerate(doc, section);
  rule.suppress_ns = ParseSuppress(section, rule.timespan_ns);
  draft.absent = ParseAbsent(section, rule.type, draft.refs.size());
}

}  // namespace

Draft ParseDocument(const rules::CorrelationDocument& document) {
  Draft draft;
  draft.rule.location = document.location;
  draft.rule.id = DerivedId(document.location);
  draft.lines_of_file = document.node != nullptr;
  try {
    ParseDraft(document, draft);
  } catch (const Refusal& refusal) {
    draft.error = MakeError(draft, refusal.line(), refusal.what(), refusal.column());
  } catch (const YAML::Exception& e) {
    draft.error =
        MakeError(draft, e.mark.line >= 0 ? e.mark.line + 1 : 0, "invalid correlation: " + e.msg);
  }
  return draft;
}

// ---- errors ----

rules::RuleError MakeError(const Draft& draft, int line, std::string reason, int column) {
  const CorrelationRule& rule = draft.rule;
  rules::RuleError error;
  error.code = "correlation.rule";
  error.location.file = rule.location.file;
  error.location.line = rule.location.line;
  if (line > 0 && draft.lines_of_file) {
    error.location.line = line;
    error.location.column = column;
  } else if (line > 0) {
    error.location.line = rule.location.line > 0 ? rule.location.line + line - 1 : line;
  }
  error.rule_id = rule.id;
  error.message = std::move(reason);
  return error;
}

void RefuseDraft(Draft& draft, int line, std::string reason) {
  if (!draft.error) draft.error = MakeError(draft, line, std::move(reason));
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace gsoc::correlate::loader_internal
