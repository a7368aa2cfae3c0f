// Sigma correlation documents -> CorrelationSet (contract: correlation_rule.h).
//
// Three passes:
//  1. Parse: each document alone (meta, the `correlation:` keys, their syntax
//     and what each type requires) into a Draft. A refused draft stays known
//     by id and name, so that a reference to it says so.
//  2. Resolve: `rules:` against detection rules and drafts (by id or name),
//     then `aliases` (they need the referenced rules' names) and `absent`.
//  3. Order: Kahn's algorithm over references between correlations;
//     refusals propagate to referring correlations; what is left is a cycle
//     or depends on one.
// The set is then built in that order: fingerprints, routes, silencing.
//
// Lines: a document from LoadSigma is its parsed YAML node, whose marks are
// lines and columns of the file, so every error names the exact line (and
// column, for syntax and shape errors). A document given as text (tests,
// tools) counts its lines from the document's first line.
//
// Exceptions (Refusal, YAML::Exception) are used only inside loading and end
// up as RuleErrors; LoadCorrelations never throws.
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

#include "engine/rules/correlation_rule.h"
#include "engine/rules/rule_metadata.h"
#include "engine/rules/sigma_internal.h"

namespace gsoc::correlate {
namespace {

using rules::internal::LineOf;
using rules::internal::Refusal;
using rules::internal::Refuse;

// Bounds against hostile rule files.
constexpr size_t kMaxRefs = 64;
constexpr size_t kMaxGroupBy = 16;
constexpr size_t kMaxAliases = kMaxGroupBy;  // each alias must be a group-by entry

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

// A `rules:` entry or `absent:` value as written, with its line.
struct Written {
  std::string text;
  int line = 0;  // 1-based, of the file or the document text (Draft::lines_of_file); 0 if unknown
};

struct Alias {
  Written name;
  std::vector<std::pair<Written, std::string>> fields;  // rule name -> event field
};

// A referenced rule during resolution: a detection rule or a draft.
struct Target {
  RuleRef::Kind kind = RuleRef::Kind::kDetection;
  uint32_t index = 0;  // into the detection rules or the drafts
  bool operator==(const Target&) const = default;
};

// One correlation document between parsing and building.
struct Draft {
  CorrelationRule rule;  // refs' indices point into drafts until the set is built
  std::vector<Written> refs;
  std::vector<Target> targets;  // resolved refs
  std::vector<Alias> aliases;
  std::optional<Written> absent;
  std::optional<rules::RuleError> error;  // set: refused
  bool lines_of_file = false;             // lines are the file's, not the document text's
};

// ---- errors ----

rules::RuleError MakeError(const Draft& draft, int line, std::string reason, int column = 0) {
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

// ---- resolution ----

std::string Where(const rules::SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line);
}

// Correlation ids must be unique among correlations and detection rules
// (state and alerts are keyed by them); later duplicates are refused.
void RefuseDuplicateIds(std::vector<Draft>& drafts, const std::vector<rules::Rule>& detection) {
  std::unordered_map<std::string, rules::SourceLocation> seen;
  for (const rules::Rule& rule : detection) seen.emplace(rule.id, rule.location);
  for (Draft& draft : drafts) {
    const auto [it, inserted] = seen.emplace(draft.rule.id, draft.rule.location);
    if (!inserted)
      RefuseDraft(draft, 0,
                  "duplicate id " + Quoted(draft.rule.id) + " (also " + Where(it->second) + ")");
  }
}

class RuleIndex {
 public:
  RuleIndex(const std::vector<rules::Rule>& detection, const std::vector<Draft>& drafts) {
    for (uint32_t i = 0; i < detection.size(); ++i) {
      Add(detection[i].id, {RuleRef::Kind::kDetection, i});
      Add(detection[i].name, {RuleRef::Kind::kDetection, i});
    }
    for (uint32_t i = 0; i < drafts.size(); ++i) {
      Add(drafts[i].rule.id, {RuleRef::Kind::kCorrelation, i});
      Add(drafts[i].rule.name, {RuleRef::Kind::kCorrelation, i});
    }
  }

  std::vector<Target> Find(const std::string& id_or_name) const {
    const auto it = targets_.find(id_or_name);
    return it == targets_.end() ? std::vector<Target>{} : it->second;
  }

 private:
  void Add(const std::string& key, Target target) {
    if (key.empty()) return;
    std::vector<Target>& targets = targets_[key];
    if (std::find(targets.begin(), targets.end(), target) == targets.end())
      targets.push_back(target);
  }

  std::unordered_map<std::string, std::vector<Target>> targets_;
};

struct Resolution {
  const std::vector<rules::Rule>& detection;
  const std::vector<Draft>& drafts;
  const RuleIndex& index;

  const std::string& NameOf(Target target) const {
    return target.kind == RuleRef::Kind::kDetection ? detection[target.index].name
                                                    : drafts[target.index].rule.name;
  }
};

Target ResolveRef(const Written& ref, uint32_t self, const Resolution& resolution) {
  const std::vector<Target> found = resolution.index.Find(ref.text);
  if (found.empty())
    throw Refusal(
        "'rules': no detection or correlation rule has the id or name " + Quoted(ref.text),
        ref.line);
  if (found.size() > 1)
    throw Refusal("'rules': " + Quoted(ref.text) + " is ambiguous: " +
                      std::to_string(found.size()) + " rules have this id or name",
                  ref.line);
  if (found.front() == Target{RuleRef::Kind::kCorrelation, self})
    throw Refusal("'rules': " + Quoted(ref.text) + " is this correlation itself (a cycle)",
                  ref.line);
  return found.front();
}

void ResolveRefs(Draft& draft, uint32_t self, const Resolution& resolution) {
  for (const Written& ref : draft.refs) {
    const Target target = ResolveRef(ref, self, resolution);
    const auto same = std::find(draft.targets.begin(), draft.targets.end(), target);
    if (same != draft.targets.end())
      throw Refusal("'rules': " + Quoted(draft.refs[same - draft.targets.begin()].text) + " and " +
                        Quoted(ref.text) + " are the same rule",
                    ref.line);
    draft.targets.push_back(target);
    draft.rule.refs.push_back({ref.text, target.kind, target.index, resolution.NameOf(target)});
  }
}

bool Names(const RuleRef& ref, const std::string& text) {
  return text == ref.written || (!ref.name.empty() && text == ref.name);
}

const std::string* AliasField(const Alias& alias, const RuleRef& ref) {
  for (const auto& [rule_name, field] : alias.fields)
    if (rule_name.text == ref.name && !ref.name.empty()) return &field;
  for (const auto& [rule_name, field] : alias.fields)
    if (rule_name.text == ref.written) return &field;
  return nullptr;
}

void CheckAliasNames(const Draft& draft) {
  for (const Alias& alias : draft.aliases)
    for (const auto& entry : alias.fields) {
      const Written& rule_name = entry.first;
      if (std::none_of(draft.rule.refs.begin(), draft.rule.refs.end(),
                       [&](const RuleRef& ref) { return Names(ref, rule_name.text); }))
        throw Refusal("alias " + Quoted(alias.name.text) + ": " + Quoted(rule_name.text) +
                          " is not the name of one of the correlation's rules",
                      rule_name.line);
    }
}

// group_fields[g][r]: the alias mapping's field for refs[r], else group_by[g].
void ResolveGroupFields(Draft& draft) {
  CheckAliasNames(draft);
  CorrelationRule& rule = draft.rule;
  for (const std::string& group : rule.group_by) {
    const auto alias = std::find_if(draft.aliases.begin(), draft.aliases.end(),
                                    [&](const Alias& a) { return a.name.text == group; });
    std::vector<std::string>& fields = rule.group_fields.emplace_back();
    for (const RuleRef& ref : rule.refs) {
      const std::string* field = alias == draft.aliases.end() ? nullptr : AliasField(*alias, ref);
      fields.push_back(field ? *field : group);
    }
  }
}

void ResolveAbsent(Draft& draft, const Resolution& resolution) {
  if (!draft.absent) return;
  const RuleRef& last = draft.rule.refs.back();
  const std::vector<Target> found = resolution.index.Find(draft.absent->text);
  const bool names_last = Names(last, draft.absent->text) ||
                          (found.size() == 1 && found.front() == draft.targets.back());
  if (!names_last)
    throw Refusal("'absent' must name the last of 'rules' (" + Quoted(last.written) + "), not " +
                      Quoted(draft.absent->text),
                  draft.absent->line);
  draft.rule.absent_last = true;
}

void Resolve(Draft& draft, uint32_t self, const Resolution& resolution) {
  if (draft.error) return;
  try {
    ResolveRefs(draft, self, resolution);
    ResolveGroupFields(draft);
    ResolveAbsent(draft, resolution);
  } catch (const Refusal& refusal) {
    RefuseDraft(draft, refusal.line(), refusal.what());
  }
}

// ---- order ----

// The line of `draft`'s reference to draft `target`.
int RefLine(const Draft& draft, uint32_t target) {
  for (size_t r = 0; r < draft.targets.size(); ++r)
    if (draft.targets[r] == Target{RuleRef::Kind::kCorrelation, target}) return draft.refs[r].line;
  return 0;
}

void RefuseReferrer(Draft& referrer, const Draft& refused, uint32_t refused_index) {
  RefuseDraft(referrer, RefLine(referrer, refused_index),
              "refers to refused correlation " + Quoted(refused.rule.id));
}

// Drafts left after Kahn's algorithm each refer to at least one other left
// draft; following such references from any of them ends in a cycle.
class CycleRefuser {
 public:
  CycleRefuser(std::vector<Draft>& drafts, const std::vector<bool>& left)
      : drafts_(drafts), left_(left), state_(drafts.size(), kUnvisited) {}

  void Run() {
    for (uint32_t i = 0; i < drafts_.size(); ++i)
      if (left_[i] && state_[i] == kUnvisited) Walk(i);
  }

 private:
  enum State : uint8_t { kUnvisited, kOnWalk, kDone };

  uint32_t NextLeft(uint32_t i) const {
    for (const Target& target : drafts_[i].targets)
      if (target.kind == RuleRef::Kind::kCorrelation && left_[target.index]) return target.index;
    return i;  // unreachable: a left draft waits on a left draft
  }

  void Walk(uint32_t start) {
    std::vector<uint32_t> path;
    uint32_t current = start;
    while (state_[current] == kUnvisited) {
      state_[current] = kOnWalk;
      path.push_back(current);
      current = NextLeft(current);
    }
    size_t cycle_start = path.size();
    if (state_[current] == kOnWalk)
      cycle_start = std::find(path.begin(), path.end(), current) - path.begin();
    for (size_t k = cycle_start; k < path.size(); ++k) RefuseInCycle(path, cycle_start, k);
    for (size_t k = cycle_start; k-- > 0;) {
      const uint32_t next = k + 1 < path.size() ? path[k + 1] : current;
      RefuseReferrer(drafts_[path[k]], drafts_[next], next);
    }
    for (const uint32_t i : path) state_[i] = kDone;
  }

  void RefuseInCycle(const std::vector<uint32_t>& path, size_t cycle_start, size_t at) {
    const size_t length = path.size() - cycle_start;
    std::string text;
    for (size_t step = 0; step <= length; ++step) {
      if (step > 0) text += " -> ";
      text += Quoted(drafts_[path[cycle_start + (at - cycle_start + step) % length]].rule.id);
    }
    const uint32_t next = path[cycle_start + (at - cycle_start + 1) % length];
    RefuseDraft(drafts_[path[at]], RefLine(drafts_[path[at]], next),
                "'rules' form a cycle: " + text);
  }

  std::vector<Draft>& drafts_;
  const std::vector<bool>& left_;
  std::vector<State> state_;
};

// Kahn's algorithm over references between correlations, taking ready
// drafts in document order; a refusal propagates to every referrer.
class DraftOrder {
 public:
  explicit DraftOrder(std::vector<Draft>& drafts)
      : drafts_(drafts), referrers_(drafts.size()), waiting_(drafts.size(), 0) {
    for (uint32_t i = 0; i < drafts_.size(); ++i) {
      if (drafts_[i].error) continue;
      for (const Target& target : drafts_[i].targets)
        if (target.kind == RuleRef::Kind::kCorrelation) {
          referrers_[target.index].push_back(i);
          ++waiting_[i];
        }
    }
  }

  // The accepted drafts, each after every draft it refers to; the others
  // are refused (a cycle, or a reference to a refused correlation).
  std::vector<uint32_t> Run() {
    for (uint32_t i = 0; i < drafts_.size(); ++i) {
      if (drafts_[i].error)
        refused_.push_back(i);
      else if (waiting_[i] == 0)
        ready_.insert(i);
    }
    while (!refused_.empty() || !ready_.empty()) {
      if (!refused_.empty())
        PropagateRefusal();
      else
        AcceptNext();
    }
    RefuseCycles();
    return order_;
  }

 private:
  void PropagateRefusal() {
    const uint32_t refused = refused_.back();
    refused_.pop_back();
    for (const uint32_t referrer : referrers_[refused]) {
      if (drafts_[referrer].error) continue;
      RefuseReferrer(drafts_[referrer], drafts_[refused], refused);
      refused_.push_back(referrer);
    }
  }

  void AcceptNext() {
    const uint32_t next = *ready_.begin();
    ready_.erase(ready_.begin());
    order_.push_back(next);
    for (const uint32_t referrer : referrers_[next])
      if (!drafts_[referrer].error && --waiting_[referrer] == 0) ready_.insert(referrer);
  }

  void RefuseCycles() {
    std::vector<bool> left(drafts_.size(), false);
    for (uint32_t i = 0; i < drafts_.size(); ++i) left[i] = !drafts_[i].error;
    for (const uint32_t i : order_) left[i] = false;
    CycleRefuser(drafts_, left).Run();
  }

  std::vector<Draft>& drafts_;
  std::vector<std::vector<uint32_t>> referrers_;  // by referenced draft
  std::vector<size_t> waiting_;                   // references not yet accepted
  std::vector<uint32_t> refused_;                 // refusals still to propagate
  std::set<uint32_t> ready_;
  std::vector<uint32_t> order_;
};

// ---- building the set ----

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

void AppendText(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

// Canonical, length-prefixed text of what shapes state. The id is part of
// it so that two otherwise identical correlations never share state; a
// referenced correlation contributes its id and a hash of its fingerprint
// (a change below changes every correlation above, in bounded space).
std::string Fingerprint(const CorrelationRule& rule, const std::vector<rules::Rule>& detection,
                        const std::vector<CorrelationRule>& built) {
  std::string out = "gsoc-correlation/1|id=";
  AppendText(out, rule.id);
  out += "|type=";
  out += CorrelationTypeName(rule.type);
  out += "|refs=";
  for (const RuleRef& ref : rule.refs) {
    if (ref.kind == RuleRef::Kind::kDetection) {
      out += 'd';
      AppendText(out, detection[ref.index].id);
    } else {
      out += 'c';
      AppendText(out, built[ref.index].id);
      char hash[20];
      std::snprintf(hash, sizeof(hash), "#%016llx",
                    static_cast<unsigned long long>(Fnv1a(built[ref.index].fingerprint)));
      out += hash;
    }
    out += ',';
  }
  out += "|group_by=";
  for (const std::string& group : rule.group_by) AppendText(out, group);
  out += "|group_fields=";
  for (const std::vector<std::string>& fields : rule.group_fields) {
    for (const std::string& field : fields) AppendText(out, field);
    out += ';';
  }
  out += "|timespan_ns=" + std::to_string(rule.timespan_ns) + "|condition=";
  AppendText(out, rule.condition.ToString());
  out += "|field=";
  AppendText(out, rule.field);
  out += rule.absent_last ? "|absent=1" : "|absent=0";
  return out;
}

void BuildRoutes(CorrelationSet& set, size_t detection_count) {
  set.detection_routes.assign(detection_count, {});
  set.correlation_routes.assign(set.rules.size(), {});
  for (uint32_t r = 0; r < set.rules.size(); ++r) {
    const std::vector<RuleRef>& refs = set.rules[r].refs;
    for (uint32_t k = 0; k < refs.size(); ++k) {
      auto& routes =
          refs[k].kind == RuleRef::Kind::kDetection ? set.detection_routes : set.correlation_routes;
      routes[refs[k].index].push_back({r, k});
    }
  }
}

// A referenced rule alerts on its own only when a correlation referring to
// it says `generate: true`.
std::vector<bool> Silenced(const std::vector<std::vector<Route>>& routes,
                           const std::vector<CorrelationRule>& rules) {
  std::vector<bool> silenced(routes.size(), false);
  for (size_t i = 0; i < routes.size(); ++i)
    silenced[i] = !routes[i].empty() &&
                  std::none_of(routes[i].begin(), routes[i].end(),
                               [&](const Route& route) { return rules[route.rule].generate; });
  return silenced;
}

CorrelationSet BuildSet(std::vector<Draft>& drafts, const std::vector<uint32_t>& order,
                        const std::vector<rules::Rule>& detection) {
  std::vector<uint32_t> position(drafts.size(), 0);
  for (uint32_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  CorrelationSet set;
  for (const uint32_t i : order) {
    CorrelationRule rule = std::move(drafts[i].rule);
    for (RuleRef& ref : rule.refs)
      if (ref.kind == RuleRef::Kind::kCorrelation) ref.index = position[ref.index];
    rule.fingerprint = Fingerprint(rule, detection, set.rules);
    set.rules.push_back(std::move(rule));
  }
  BuildRoutes(set, detection.size());
  set.detection_silenced = Silenced(set.detection_routes, set.rules);
  set.correlation_silenced = Silenced(set.correlation_routes, set.rules);
  return set;
}

CorrelationLoadResult Load(const std::vector<rules::CorrelationDocument>& documents,
                           const std::vector<rules::Rule>& detection) {
  std::vector<Draft> drafts;
  drafts.reserve(documents.size());
  for (const rules::CorrelationDocument& document : documents)
    drafts.push_back(ParseDocument(document));
  RefuseDuplicateIds(drafts, detection);
  const RuleIndex index(detection, drafts);
  const Resolution resolution{detection, drafts, index};
  for (uint32_t i = 0; i < drafts.size(); ++i) Resolve(drafts[i], i, resolution);
  const std::vector<uint32_t> order = DraftOrder(drafts).Run();
  CorrelationLoadResult result;
  for (const Draft& draft : drafts)
    if (draft.error) result.refused.push_back(*draft.error);
  result.set = std::make_shared<const CorrelationSet>(BuildSet(drafts, order, detection));
  return result;
}

}  // namespace

CorrelationLoadResult LoadCorrelations(const std::vector<rules::CorrelationDocument>& documents,
                                       const std::vector<rules::Rule>& detection_rules) {
  try {
    return Load(documents, detection_rules);
  } catch (const std::exception& e) {
    CorrelationLoadResult result;
    rules::RuleError error;
    error.code = "correlation.load";
    error.message = std::string("cannot load correlation rules: ") + e.what();
    result.refused.push_back(std::move(error));
    auto set = std::make_shared<CorrelationSet>();
    set->detection_routes.assign(detection_rules.size(), {});
    set->detection_silenced.assign(detection_rules.size(), false);
    result.set = std::move(set);
    return result;
  }
}

}  // namespace gsoc::correlate
