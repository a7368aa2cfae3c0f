// Matcher::Compile: rules -> atoms, Hyperscan databases (or the cache), scratch.
#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

#include "engine/match/matcher.h"
#include "engine/match/matcher_impl.h"
#include "engine/match/pattern.h"
#include "engine/util/regular_file.h"

namespace gsoc::match {

using internal::Atom;
using internal::AtomKind;
using internal::kNoIndex;
using rules::Condition;
using rules::MatchOp;

namespace {

constexpr bool kLiteralDatabases = false;

// A value translated for Hyperscan, before it gets a global pattern id.
struct PendingPattern {
  uint32_t group = 0;
  uint32_t field = 0;
  bool literal = false;
  std::string expression;
  unsigned flags = 0;
  bool prefilter = false;       // confirm with `pcre`
  std::string pcre_expression;  // for confirming or demoting
  uint32_t pcre_options = 0;
  size_t width = 0;  // minimum match length: longer is rarer (trigger choice)
};

// Patterns one of which must fire for a condition to be true (nullopt: none
// such), with a cost that estimates how often they fire.
struct Trigger {
  std::vector<uint32_t> patterns;
  double cost = 0;
};
using MaybeTrigger = std::optional<Trigger>;

struct PendingAtom {
  Atom atom;
  std::optional<PendingPattern> pattern;  // kMarked before registration
  internal::PcreCode pcre;                // kPcre, or the prefilter confirmer
  const char* fallback = nullptr;         // a user regex PCRE2 must run: why
};

// The line of `value` in its rule's file. The loader gives a rule's line
// only, so this looks for the start of the value's text at or after it
// (the prefix before any quote or backslash, which YAML may have escaped);
// the rule's line when it is not found.
rules::SourceLocation ValueLocation(const rules::Rule& rule, const rules::ValueMatcher& value) {
  rules::SourceLocation location = rule.location;
  std::string text;
  std::string error;
  if (location.file.empty() || value.text.empty() ||
      !ReadRegularFile(location.file, 4 << 20, &text, &error)) {
    return location;
  }
  std::string needle = value.text.substr(0, value.text.find_first_of("\\'\"")).substr(0, 40);
  if (needle.size() < 4) needle = value.text.substr(0, 40);
  int line = 1;
  for (size_t pos = 0; pos < text.size(); ++line) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    if (line >= rule.location.line &&
        std::string_view(text).substr(pos, eol - pos).find(needle) != std::string_view::npos) {
      location.line = line;
      return location;
    }
    pos = eol + 1;
  }
  return location;
}

size_t CountValues(const rules::Rule& rule) {
  size_t values = 0;
  for (const rules::Selection& selection : rule.selections) {
    for (const auto& alternative : selection.alternatives) {
      for (const rules::FieldPredicate& predicate : alternative) values += predicate.values.size();
    }
  }
  return values;
}

constexpr const char* kEmptyWidth =
    "can match the empty string (minimum width 0), so PCRE2 runs it on every event that has "
    "the field";
constexpr const char* kPrefilter =
    "needs PCRE2 to confirm every Hyperscan prefilter match (backreferences or lookaround)";
constexpr const char* kNoHyperscan =
    "is not supported by Hyperscan, so PCRE2 runs it on every event that has the field";

class Compiler {
 public:
  Compiler(internal::MatcherData& impl, const CompileOptions& options)
      : impl_(impl), options_(options) {}

  // Appends the rule's data to impl_ (and its warnings to `warnings`) or
  // returns false with `error` (location and reason) set.
  bool AddRule(const rules::Rule& rule, rules::RuleError* error,
               std::vector<rules::RuleError>* warnings);
  void BuildDatabases(CompileStats* stats);

 private:
  uint32_t FieldIndex(const std::string& name);
  bool TranslateValue(const rules::ValueMatcher& value, uint32_t field, bool keyword,
                      PendingAtom* out, std::string* reason);
  uint32_t GroupIndex(const std::optional<rules::EventFilter>& filter);
  uint32_t RegisterPattern(PendingPattern&& pattern, internal::PcreCode confirm, uint32_t rule);
  bool WithinPatternLimit(const std::vector<PendingAtom*>& marked, std::string* reason) const;
  MaybeTrigger ConditionTrigger(uint32_t rule, const Condition& condition) const;
  MaybeTrigger SelectionTrigger(uint32_t selection) const;
  MaybeTrigger PredicateTrigger(const internal::Predicate& predicate) const;
  void Demote(uint32_t pattern);
  void IndexGroups();
  void IndexScans();

  using PatternKey = std::tuple<uint32_t, bool, unsigned, std::string>;  // field, literal, ...

  internal::MatcherData& impl_;
  const CompileOptions& options_;
  std::map<std::string, uint32_t> field_index_;
  // The EventFilter of a group's rules, less `carries`: selectors,
  // programs, facilities, formats, each sorted.
  using GroupKey = std::tuple<std::vector<uint16_t>, std::vector<std::string>, std::vector<int>,
                              std::vector<int>>;
  std::map<GroupKey, uint32_t> group_index_;
  std::vector<GroupKey> group_keys_;  // by group
  // Pattern ids by group and content; the limit counts contents once,
  // however many groups hold them (the set's size before the groups).
  std::map<std::pair<uint32_t, PatternKey>, uint32_t> pattern_index_;
  std::set<PatternKey> pattern_contents_;
  std::vector<PendingPattern> pattern_text_;          // by pattern id
  std::vector<std::vector<uint32_t>> pattern_rules_;  // by pattern id: rules with an atom on it
  std::map<std::string, uint32_t> indicator_index_;
};

uint32_t Compiler::FieldIndex(const std::string& name) {
  auto [it, inserted] = field_index_.emplace(name, impl_.field_names.size());
  if (inserted) impl_.field_names.push_back(name);
  return it->second;
}

bool Compiler::TranslateValue(const rules::ValueMatcher& value, uint32_t field, bool keyword,
                              PendingAtom* out, std::string* reason) {
  out->atom.op = value.op;
  out->atom.value = &value;
  if (internal::IsStringOp(value.op)) {
    internal::PatternText text = internal::Translate(value);
    PendingPattern pattern;
    pattern.field = field;
    pattern.literal = text.literal;
    pattern.expression = text.expression;
    pattern.flags = text.flags;
    pattern.pcre_expression =
        text.literal ? internal::RegexForLiteral(text.expression) : text.expression;
    pattern.pcre_options = internal::PcreOptions(text.flags);
    pattern.width = text.min_width;
    if (!kLiteralDatabases && pattern.literal) {
      pattern.literal = false;
      pattern.expression = pattern.pcre_expression;
    }
    bool use_pcre = false;
    if (text.user_regex) {
      std::string error;
      out->pcre = internal::PcreCompile(pattern.pcre_expression, pattern.pcre_options, &error);
      if (!out->pcre) {
        *reason = "regex '" + value.text + "': " + error;
        return false;
      }
      hs_expr_info_t* info = nullptr;
      hs_compile_error_t* hs_error = nullptr;
      if (hs_expression_info(text.expression.c_str(), text.flags, &info, &hs_error) == HS_SUCCESS) {
        use_pcre = info->min_width == 0;
        pattern.width = info->min_width;
        if (!use_pcre) out->pcre.reset();
        if (use_pcre) out->fallback = kEmptyWidth;
      } else {
        hs_free_compile_error(hs_error);
        hs_error = nullptr;
        // Backreferences, lookaround...: Hyperscan finds a superset, PCRE2 confirms.
        if (hs_expression_info(text.expression.c_str(), text.flags | HS_FLAG_PREFILTER, &info,
                               &hs_error) == HS_SUCCESS) {
          use_pcre = info->min_width == 0;
          pattern.width = info->min_width;
          pattern.prefilter = !use_pcre;
          pattern.flags |= HS_FLAG_PREFILTER;
          out->fallback = use_pcre ? kEmptyWidth : kPrefilter;
        } else {
          hs_free_compile_error(hs_error);
          use_pcre = true;
          out->fallback = kNoHyperscan;
        }
      }
      std::free(info);
    } else if (text.min_width == 0) {
      std::string error;
      out->pcre = internal::PcreCompile(pattern.pcre_expression, pattern.pcre_options, &error);
      if (!out->pcre) {
        *reason = "value '" + value.text + "': " + error;
        return false;
      }
      use_pcre = true;
    }
    if (use_pcre) {
      out->atom.kind = AtomKind::kPcre;
    } else {
      out->atom.kind = AtomKind::kMarked;
      out->pattern = std::move(pattern);
    }
    return true;
  }
  out->atom.kind = AtomKind::kDirect;
  switch (value.op) {
    case MatchOp::kCidr:
      if (!value.cidr) {
        *reason = "cidr value '" + value.text + "' has no parsed prefix";
        return false;
      }
      return true;
    case MatchOp::kFieldRef:  // the other field, looked up like a predicate's
      out->atom.index = FieldIndex(value.text);
      return true;
    case MatchOp::kIndicator: {
      const indicators::IndicatorRegistry* registry = options_.indicators;
      auto it = registry ? registry->find(value.indicator_list)
                         : indicators::IndicatorRegistry::const_iterator();
      if (registry == nullptr || it == registry->end() || !it->second) {
        *reason = "indicator list '%" + value.indicator_list + "%' is not loaded";
        return false;
      }
      auto [index, inserted] =
          indicator_index_.emplace(value.indicator_list, impl_.indicator_lists.size());
      if (inserted) impl_.indicator_lists.push_back(it->second);
      out->atom.index = index->second;
      out->atom.indicator_contains = keyword || value.text == "contains";
      return true;
    }
    default:
      return true;
  }
}

template <typename T>
std::vector<T> SortedSet(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

uint32_t Compiler::GroupIndex(const std::optional<rules::EventFilter>& filter) {
  GroupKey key;
  if (options_.group_by_logsource && filter) {
    std::get<0>(key) = SortedSet(filter->selectors);
    std::get<1>(key) = SortedSet(filter->programs);
    std::get<2>(key) = SortedSet(filter->facilities);
    for (EventFormat format : filter->formats) std::get<3>(key).push_back(static_cast<int>(format));
    std::get<3>(key) = SortedSet(std::get<3>(key));
  }
  auto [it, inserted] = group_index_.emplace(key, group_keys_.size());
  if (inserted) group_keys_.push_back(std::move(key));
  return it->second;
}

uint32_t Compiler::RegisterPattern(PendingPattern&& pattern, internal::PcreCode confirm,
                                   uint32_t rule) {
  auto content = std::make_tuple(pattern.field, pattern.literal, pattern.flags, pattern.expression);
  pattern_contents_.insert(content);
  auto [it, inserted] = pattern_index_.emplace(std::make_pair(pattern.group, std::move(content)),
                                               impl_.patterns.size());
  if (inserted) {
    internal::PatternInfo info;
    info.group = pattern.group;
    info.field = pattern.field;
    if (pattern.prefilter) {
      std::string error;
      info.confirm = impl_.pcres.size();
      impl_.pcres.push_back(
          confirm ? std::move(confirm)
                  : internal::PcreCompile(pattern.pcre_expression, pattern.pcre_options, &error));
      impl_.pcre_rules.emplace_back();
    }
    impl_.patterns.push_back(std::move(info));
    pattern_text_.push_back(std::move(pattern));
    pattern_rules_.emplace_back();
  }
  std::vector<uint32_t>& rules = pattern_rules_[it->second];
  if (rules.empty() || rules.back() != rule) {
    rules.push_back(rule);
    const uint32_t confirm_index = impl_.patterns[it->second].confirm;
    if (confirm_index != kNoIndex) impl_.pcre_rules[confirm_index].push_back(rule);
  }
  return it->second;
}

// The rule's new Hyperscan patterns (after deduplication against the set
// and within the rule) must keep the set within max_patterns.
bool Compiler::WithinPatternLimit(const std::vector<PendingAtom*>& marked,
                                  std::string* reason) const {
  std::set<PatternKey> fresh;
  for (const PendingAtom* atom : marked) {
    const PendingPattern& p = *atom->pattern;
    auto key = std::make_tuple(p.field, p.literal, p.flags, p.expression);
    if (!pattern_contents_.count(key)) fresh.insert(std::move(key));
  }
  const size_t total = pattern_contents_.size() + fresh.size();
  if (total <= options_.limits.max_patterns) return true;
  *reason = "the rule adds " + std::to_string(fresh.size()) +
            " Hyperscan pattern(s), which would make the rule set " + std::to_string(total) +
            ", more than rules.limits.max_patterns (" +
            std::to_string(options_.limits.max_patterns) + ")";
  return false;
}

bool ValidCondition(const Condition& condition, size_t selections) {
  auto valid = [&](int s) { return s >= 0 && static_cast<size_t>(s) < selections; };
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      return valid(condition.selection);
    case Condition::Kind::kOneOf:
    case Condition::Kind::kAllOf:
      return std::all_of(condition.selections.begin(), condition.selections.end(), valid);
    case Condition::Kind::kNot:
      if (condition.children.size() != 1) return false;
      break;
    default:
      if (condition.children.empty()) return false;
  }
  for (const Condition& child : condition.children) {
    if (!ValidCondition(child, selections)) return false;
  }
  return true;
}

bool Compiler::AddRule(const rules::Rule& rule, rules::RuleError* error,
                       std::vector<rules::RuleError>* warnings) {
  error->code = "sigma.compile";
  error->location = rule.location;
  error->rule_id = rule.id;
  std::string* reason = &error->message;
  if (!ValidCondition(rule.condition, rule.selections.size())) {
    *reason = "condition refers to a missing selection or has a malformed operator";
    return false;
  }
  if (const size_t values = CountValues(rule); values > options_.limits.max_values_per_rule) {
    *reason = "the rule has " + std::to_string(values) +
              " values, more than rules.limits.max_values_per_rule (" +
              std::to_string(options_.limits.max_values_per_rule) + ")";
    return false;
  }
  std::optional<rules::EventFilter> filter;
  if (options_.logsources != nullptr) {
    filter = options_.logsources->Resolve(rule.logsource);
    if (!filter) {
      *reason = "logsource {product: '" + rule.logsource.product + "', service: '" +
                rule.logsource.service + "', category: '" + rule.logsource.category +
                "'} has no mapping";
      return false;
    }
  }
  // Translate everything first: a refused rule leaves nothing behind.
  struct PendingPredicate {
    uint32_t field;
    bool all;
    std::vector<PendingAtom> atoms;
  };
  std::vector<std::vector<std::vector<PendingPredicate>>> selections;
  std::vector<PendingAtom*> marked;
  std::vector<rules::RuleError> rule_warnings;
  for (const rules::Selection& selection : rule.selections) {
    auto& alternatives = selections.emplace_back();
    for (const auto& alternative : selection.alternatives) {
      auto& predicates = alternatives.emplace_back();
      for (const rules::FieldPredicate& predicate : alternative) {
        PendingPredicate pending{FieldIndex(predicate.field), predicate.all, {}};
        for (const rules::ValueMatcher& value : predicate.values) {
          PendingAtom atom;
          if (!TranslateValue(value, pending.field, predicate.field.empty(), &atom, reason)) {
            error->location = ValueLocation(rule, value);
            return false;
          }
          if (atom.fallback != nullptr) {
            const std::string why = "regex '" + value.text + "' " + atom.fallback;
            if (options_.refuse_pcre_fallback) {
              *reason = why + "; refused with rules.strict";
              error->location = ValueLocation(rule, value);
              return false;
            }
            rules::RuleError warning;
            warning.severity = Severity::kWarning;
            warning.code = "sigma.pcre2_fallback";
            warning.location = ValueLocation(rule, value);
            warning.rule_id = rule.id;
            warning.message = why;
            rule_warnings.push_back(std::move(warning));
          }
          pending.atoms.push_back(std::move(atom));
        }
        predicates.push_back(std::move(pending));
      }
    }
  }
  for (auto& alternatives : selections) {
    for (auto& predicates : alternatives) {
      for (PendingPredicate& pending : predicates) {
        for (PendingAtom& atom : pending.atoms) {
          if (atom.atom.kind == AtomKind::kMarked) marked.push_back(&atom);
        }
      }
    }
  }
  if (!WithinPatternLimit(marked, reason)) return false;
  const auto rule_index = static_cast<uint32_t>(impl_.rule_data.size());
  internal::RuleData data;
  data.group = GroupIndex(filter);
  data.filter = std::move(filter);
  data.selections_begin = impl_.selections.size();
  for (auto& alternatives : selections) {
    internal::Range selection_range{static_cast<uint32_t>(impl_.alternatives.size()), 0};
    for (auto& predicates : alternatives) {
      internal::Range alternative_range{static_cast<uint32_t>(impl_.predicates.size()), 0};
      for (PendingPredicate& pending : predicates) {
        internal::Predicate predicate;
        predicate.field = pending.field;
        predicate.all = pending.all;
        predicate.atoms_begin = impl_.atoms.size();
        for (PendingAtom& atom : pending.atoms) {
          if (atom.atom.kind == AtomKind::kMarked) {
            atom.pattern->group = data.group;
            atom.atom.index =
                RegisterPattern(std::move(*atom.pattern), std::move(atom.pcre), rule_index);
          } else if (atom.atom.kind == AtomKind::kPcre) {
            atom.atom.index = impl_.pcres.size();
            impl_.pcres.push_back(std::move(atom.pcre));
            impl_.pcre_rules.push_back({rule_index});
          }
          impl_.atoms.push_back(atom.atom);
        }
        predicate.atoms_end = impl_.atoms.size();
        impl_.predicates.push_back(predicate);
      }
      alternative_range.end = impl_.predicates.size();
      impl_.alternatives.push_back(alternative_range);
    }
    selection_range.end = impl_.alternatives.size();
    impl_.selections.push_back(selection_range);
  }
  impl_.rule_data.push_back(std::move(data));
  for (auto& warning : rule_warnings) warnings->push_back(std::move(warning));
  return true;
}

// Candidate selection: a rule is evaluated only when a pattern of its
// trigger fired. The trigger is a set of patterns one of which must fire for
// the condition to be true: an AND takes the cheapest child (e.g. `message
// contains "Failed password"` rather than `program: sshd`), an OR the union;
// `not` has none. A rule without a trigger is evaluated for every event.
namespace {

MaybeTrigger Union(MaybeTrigger a, const MaybeTrigger& b) {
  if (!a || !b) return std::nullopt;
  a->patterns.insert(a->patterns.end(), b->patterns.begin(), b->patterns.end());
  a->cost += b->cost;
  return a;
}

MaybeTrigger Cheapest(MaybeTrigger a, MaybeTrigger b) {
  if (!a) return b;
  if (!b) return a;
  return b->cost < a->cost ? b : a;
}

}  // namespace

MaybeTrigger Compiler::PredicateTrigger(const internal::Predicate& predicate) const {
  MaybeTrigger result = predicate.all ? MaybeTrigger() : MaybeTrigger(Trigger());
  for (uint32_t i = predicate.atoms_begin; i < predicate.atoms_end; ++i) {
    const Atom& atom = impl_.atoms[i];
    MaybeTrigger one;
    if (atom.kind == AtomKind::kMarked && impl_.patterns[atom.index].demoted == kNoIndex) {
      // Shorter patterns fire more often.
      one = Trigger{{atom.index}, 1.0 / (1.0 + pattern_text_[atom.index].width)};
    }
    result =
        predicate.all ? Cheapest(std::move(result), std::move(one)) : Union(std::move(result), one);
  }
  if (!predicate.all && predicate.atoms_begin == predicate.atoms_end)
    return Trigger();  // never true
  return result;
}

MaybeTrigger Compiler::SelectionTrigger(uint32_t selection) const {
  MaybeTrigger result = Trigger();  // no alternative: never true
  const internal::Range& alternatives = impl_.selections[selection];
  for (uint32_t a = alternatives.begin; a < alternatives.end && result; ++a) {
    MaybeTrigger best;
    const internal::Range& predicates = impl_.alternatives[a];
    for (uint32_t p = predicates.begin; p < predicates.end; ++p) {
      best = Cheapest(std::move(best), PredicateTrigger(impl_.predicates[p]));
    }
    result = Union(std::move(result), best);
  }
  return result;
}

MaybeTrigger Compiler::ConditionTrigger(uint32_t rule, const Condition& condition) const {
  uint32_t base = impl_.rule_data[rule].selections_begin;
  MaybeTrigger result;
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      if (condition.selection < 0) return Trigger();
      return SelectionTrigger(base + condition.selection);
    case Condition::Kind::kAnd:
      for (const Condition& child : condition.children) {
        result = Cheapest(std::move(result), ConditionTrigger(rule, child));
      }
      return result;
    case Condition::Kind::kOr:
      result = Trigger();
      for (const Condition& child : condition.children) {
        result = Union(std::move(result), ConditionTrigger(rule, child));
      }
      return condition.children.empty() ? MaybeTrigger() : result;
    case Condition::Kind::kNot:
      return std::nullopt;
    case Condition::Kind::kOneOf:
      result = Trigger();
      for (int s : condition.selections)
        result = Union(std::move(result), SelectionTrigger(base + s));
      return result;
    case Condition::Kind::kAllOf:
      for (int s : condition.selections) {
        result = Cheapest(std::move(result), SelectionTrigger(base + s));
      }
      return result;
  }
  return std::nullopt;
}

void Compiler::Demote(uint32_t pattern) {
  const PendingPattern& text = pattern_text_[pattern];
  std::string error;
  // The PCRE2 program is equivalent (no PREFILTER: the exact expression).
  internal::PcreCode code = internal::PcreCompile(text.pcre_expression, text.pcre_options, &error);
  impl_.patterns[pattern].demoted = impl_.pcres.size();
  impl_.pcres.push_back(
      std::move(code));  // null: the atom is false (cannot happen for valid rules)
  impl_.pcre_rules.push_back(pattern_rules_[pattern]);
}

// Header names are resolved by GetField beyond the event's own fields
// (engine/event/field_access.h), and the keyword scan also reads the
// message: those scans keep the lookup by name. The others are found per
// event field (field_scans) and per group (field_group_scans).
void Compiler::IndexScans() {
  static constexpr std::string_view kHeaderNames[] = {"",    "message", "host",     "program",
                                                      "pid", "msgid",   "facility", "severity"};
  const size_t fields = impl_.field_names.size();
  std::vector<std::vector<internal::MatcherData::GroupScan>> by_field(fields);
  std::vector<std::vector<uint32_t>> header_scans(impl_.group_count);
  std::vector<uint32_t> by_event_field;
  for (uint32_t i = 0; i < impl_.scans.size(); ++i) {
    const internal::FieldScan& scan = impl_.scans[i];
    const std::string& name = impl_.field_names[scan.field];
    const bool header =
        std::find(std::begin(kHeaderNames), std::end(kHeaderNames), name) != std::end(kHeaderNames);
    if (header || scan.keywords != kNoIndex) {
      header_scans[scan.group].push_back(i);
      continue;
    }
    if (by_field[scan.field].empty()) by_event_field.push_back(scan.field);
    by_field[scan.field].push_back({scan.group, i});
  }
  impl_.field_group_scans.assign(fields, internal::Range{});
  for (uint32_t field : by_event_field) {
    auto& scans = by_field[field];
    std::sort(scans.begin(), scans.end(),
              [](const auto& a, const auto& b) { return a.group < b.group; });
    internal::Range& range = impl_.field_group_scans[field];
    range.begin = impl_.group_scans.size();
    impl_.group_scans.insert(impl_.group_scans.end(), scans.begin(), scans.end());
    range.end = impl_.group_scans.size();
  }
  impl_.group_header_scans.clear();
  for (const std::vector<uint32_t>& scans : header_scans) {
    internal::Range range{static_cast<uint32_t>(impl_.header_scans.size()), 0};
    impl_.header_scans.insert(impl_.header_scans.end(), scans.begin(), scans.end());
    range.end = impl_.header_scans.size();
    impl_.group_header_scans.push_back(range);
  }
  impl_.field_scans.Build(impl_.field_names, by_event_field);
}

// Which groups each selector makes eligible (a group holds the rules of
// one selector set, so a selector is in many groups: Sysmon 1 in
// process_creation's {Sysmon 1, Security 4688} and in the Sysmon service's).
void Compiler::IndexGroups() {
  impl_.group_count = group_keys_.size();
  impl_.grouped = options_.group_by_logsource;
  size_t selectors = options_.logsources ? options_.logsources->selector_count() : 0;
  std::vector<std::vector<uint32_t>> by_selector(selectors);
  for (uint32_t group = 0; group < group_keys_.size(); ++group) {
    const auto& [group_selectors, programs, facilities, formats] = group_keys_[group];
    rules::EventFilter filter;
    filter.selectors = group_selectors;
    filter.programs = programs;
    filter.facilities = facilities;
    for (int format : formats) filter.formats.push_back(static_cast<EventFormat>(format));
    impl_.group_checks.push_back(!programs.empty() || !facilities.empty() || !formats.empty());
    impl_.group_filters.push_back(std::move(filter));
    if (group_selectors.empty()) impl_.unselected_groups.push_back(group);
    for (uint16_t selector : group_selectors) {
      if (selector >= by_selector.size()) by_selector.resize(selector + size_t{1});
      by_selector[selector].push_back(group);
    }
  }
  for (const std::vector<uint32_t>& groups : by_selector) {
    internal::Range range{static_cast<uint32_t>(impl_.selector_group_ids.size()), 0};
    impl_.selector_group_ids.insert(impl_.selector_group_ids.end(), groups.begin(), groups.end());
    range.end = impl_.selector_group_ids.size();
    impl_.selector_groups.push_back(range);
  }
}

void Compiler::BuildDatabases(CompileStats* stats) {
  IndexGroups();
  // Keywords read event.message, `message` reads GetField (usually the same
  // bytes): their patterns share databases, scanned once when the two views
  // are the same and twice, each time marking only its own field, otherwise.
  std::vector<uint32_t> field_group(impl_.field_names.size());
  uint32_t keywords = kNoIndex, message = kNoIndex;
  for (uint32_t field = 0; field < field_group.size(); ++field) {
    field_group[field] = field;
    if (impl_.field_names[field].empty()) keywords = field;
    if (impl_.field_names[field] == "message") message = field;
  }
  if (keywords != kNoIndex && message != kNoIndex) field_group[keywords] = message;

  // Per rule group and field group, a literal database (hs_compile_lit_multi)
  // and a regex one; patterns in id order.
  std::map<std::pair<uint32_t, uint32_t>, std::array<std::vector<uint32_t>, 2>> buckets;
  for (uint32_t id = 0; id < pattern_text_.size(); ++id) {
    const PendingPattern& text = pattern_text_[id];
    buckets[{text.group, field_group[text.field]}][text.literal ? 0 : 1].push_back(id);
  }
  std::vector<internal::DatabaseSpec> specs;
  std::vector<uint32_t> spec_groups;
  for (const auto& [key, by_kind] : buckets) {
    for (int kind = 0; kind < 2; ++kind) {
      if (by_kind[kind].empty()) continue;
      internal::DatabaseSpec spec;
      spec.field = key.second;
      spec.literal = kind == 0;
      for (uint32_t id : by_kind[kind]) {
        const PendingPattern& text = pattern_text_[id];
        spec.patterns.push_back({id, text.expression, text.flags});
      }
      specs.push_back(std::move(spec));
      spec_groups.push_back(key.first);
    }
  }
  stats->patterns = pattern_text_.size();
  stats->groups = impl_.group_count;

  std::vector<internal::HsDatabase> databases;
  std::filesystem::path cache_file;
  if (!options_.cache_dir.empty() && !specs.empty()) {
    // The hash covers each database's contents; which group uses it is
    // recomputed (spec_groups), so it need not be hashed.
    cache_file = internal::CacheFile(options_.cache_dir, internal::HashDatabaseSpecs(specs));
    stats->from_cache = internal::LoadCachedDatabases(cache_file, specs.size(), &databases);
  }
  if (!stats->from_cache) {
    databases.clear();
    bool demoted_any = false;
    for (size_t i = 0; i < specs.size(); ++i) {
      internal::DatabaseSpec& spec = specs[i];
      internal::HsDatabase db;
      while (!spec.patterns.empty()) {
        std::string error;
        int failed = -1;
        db = internal::CompileDatabase(spec, &error, &failed);
        if (db) break;
        demoted_any = true;
        if (failed < 0 || static_cast<size_t>(failed) >= spec.patterns.size()) {
          for (const internal::HsPatternSpec& pattern : spec.patterns) Demote(pattern.id);
          spec.patterns.clear();
        } else {
          Demote(spec.patterns[failed].id);
          spec.patterns.erase(spec.patterns.begin() + failed);
        }
      }
      databases.push_back(std::move(db));  // null when every pattern was demoted
    }
    if (!cache_file.empty() && !demoted_any) internal::SaveCachedDatabases(cache_file, databases);
  }
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> scan_of;  // (group, field) -> scan
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!databases[i]) continue;
    const uint32_t field = specs[i].field;
    const uint32_t group = spec_groups[i];
    auto [it, inserted] = scan_of.emplace(std::make_pair(group, field), impl_.scans.size());
    if (inserted) impl_.scans.push_back({field, group, field == message ? keywords : kNoIndex, {}});
    impl_.scans[it->second].databases.push_back(databases[i].get());
    hs_alloc_scratch(databases[i].get(), &impl_.prototype_scratch);
    impl_.databases.push_back(std::move(databases[i]));
  }
  stats->databases = impl_.databases.size();
  IndexScans();

  std::vector<std::vector<uint32_t>> always(impl_.group_count);
  for (uint32_t rule = 0; rule < impl_.rule_data.size(); ++rule) {
    MaybeTrigger trigger = ConditionTrigger(rule, impl_.rules[rule].condition);
    impl_.rule_data[rule].always_candidate = !trigger;
    if (!trigger) {
      always[impl_.rule_data[rule].group].push_back(rule);
      continue;
    }
    for (uint32_t pattern : trigger->patterns) {
      std::vector<uint32_t>& rules = impl_.patterns[pattern].rules;
      if (rules.empty() || rules.back() != rule) rules.push_back(rule);
    }
  }
  for (const std::vector<uint32_t>& rules : always) {
    internal::Range range{static_cast<uint32_t>(impl_.always_candidates.size()), 0};
    impl_.always_candidates.insert(impl_.always_candidates.end(), rules.begin(), rules.end());
    range.end = impl_.always_candidates.size();
    impl_.group_always.push_back(range);
  }
}

}  // namespace

Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::~Matcher() = default;

const std::vector<rules::Rule>& Matcher::rules() const { return impl_->rules; }

Matcher::CompileResult Matcher::Compile(std::vector<rules::Rule> rules,
                                        const CompileOptions& options) {
  auto start = std::chrono::steady_clock::now();
  CompileResult result;
  auto impl = std::make_unique<Impl>();
  // Atoms point at ValueMatchers of impl->rules: no reallocation after this.
  impl->rules.reserve(rules.size());
  CompileOptions effective = options;
  if (rules.size() < options.group_min_rules) effective.group_by_logsource = false;
  Compiler compiler(*impl, effective);
  for (rules::Rule& rule : rules) {
    impl->rules.push_back(std::move(rule));
    rules::RuleError error;
    if (!compiler.AddRule(impl->rules.back(), &error, &result.warnings)) {
      result.refused.push_back(std::move(error));
      impl->rules.pop_back();
    }
  }
  compiler.BuildDatabases(&result.stats);
  impl->regex_limits = options.regex;
  impl->pcre_limit_hits = std::make_unique<std::atomic<uint64_t>[]>(impl->pcres.size());
  result.stats.rules = impl->rules.size();
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.matcher.reset(new Matcher(std::move(impl)));
  return result;
}

namespace internal {

void ScanIndex::Build(const std::vector<std::string>& names, const std::vector<uint32_t>& fields) {
  size_t capacity = 16;
  while (capacity < fields.size() * 2) capacity *= 2;  // at most half full
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (uint32_t field : fields) {
    const std::string_view name = names[field];
    const uint64_t hash = Hash(name);
    uint64_t i = hash & mask_;
    while (slots_[i].field != kNoIndex) i = (i + 1) & mask_;
    slots_[i] = {hash, field, name};
  }
}

}  // namespace internal

Matcher::Scratch::Scratch(std::unique_ptr<State> state) : state_(std::move(state)) {}
Matcher::Scratch::~Scratch() = default;
const Matcher::Scratch::Counts& Matcher::Scratch::counts() const { return state_->counts; }

std::unique_ptr<Matcher::Scratch> Matcher::MakeScratch() const {
  auto state = std::make_unique<Scratch::State>();
  if (impl_->prototype_scratch != nullptr) {
    hs_clone_scratch(impl_->prototype_scratch, &state->hs);
  }
  state->pattern_marks.assign(impl_->patterns.size(), 0);
  state->touched.reserve(impl_->patterns.size());
  state->rule_marks.assign(impl_->rules.size(), 0);
  state->candidates.reserve(impl_->rules.size());
  state->field_epochs.assign(impl_->field_names.size(), 0);
  state->group_epochs.assign(impl_->group_count, 0);
  state->groups.reserve(impl_->group_count);
  state->match_data = internal::PcreMakeMatchData();
  state->regex = std::make_unique<RegexMatchContext>(impl_->regex_limits);
  for (const auto& list : impl_->indicator_lists) {
    state->indicator_scratch.push_back(list->MakeScratch());
  }
  return std::unique_ptr<Scratch>(new Scratch(std::move(state)));
}

}  // namespace gsoc::match
