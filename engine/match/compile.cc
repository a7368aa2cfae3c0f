// Matcher::Compile: rules -> atoms and patterns (this file), then triggers,
// scan indexes and the Hyperscan databases (compile_index.cc); the scratch.
#include <hs/hs.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "engine/match/compiler.h"
#include "engine/match/pattern.h"
#include "engine/rules/wildcard.h"
#include "engine/util/regular_file.h"

namespace gsoc::match {
namespace compile_internal {
namespace {

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

// Appends `condition` to `out` as ConditionNodes in prefix order.
void FlattenCondition(const Condition& condition, std::vector<internal::ConditionNode>& out) {
  using Node = internal::ConditionNode;
  const size_t at = out.size();
  out.emplace_back();
  auto children = [&](Node::Kind kind, uint32_t count) {
    out[at].kind = kind;
    out[at].value = count;
  };
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      out[at].value = condition.selection >= 0 ? static_cast<uint32_t>(condition.selection)
                                               : internal::kNoIndex;
      break;
    case Condition::Kind::kOneOf:
    case Condition::Kind::kAllOf:
      children(condition.kind == Condition::Kind::kOneOf ? Node::Kind::kOr : Node::Kind::kAnd,
               static_cast<uint32_t>(condition.selections.size()));
      for (int selection : condition.selections) {
        out.push_back({Node::Kind::kSelection, static_cast<uint32_t>(selection), 1});
      }
      break;
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr:
    case Condition::Kind::kNot:
      children(condition.kind == Condition::Kind::kAnd  ? Node::Kind::kAnd
               : condition.kind == Condition::Kind::kOr ? Node::Kind::kOr
                                                        : Node::Kind::kNot,
               static_cast<uint32_t>(condition.children.size()));
      for (const Condition& child : condition.children) FlattenCondition(child, out);
      break;
  }
  out[at].size = static_cast<uint32_t>(out.size() - at);
}

constexpr const char* kEmptyWidth =
    "can match the empty string (minimum width 0), so PCRE2 runs it on every event that has "
    "the field";
constexpr const char* kPrefilter =
    "needs PCRE2 to confirm every Hyperscan prefilter match (backreferences or lookaround)";
constexpr const char* kNoHyperscan =
    "is not supported by Hyperscan, so PCRE2 runs it on every event that has the field";

}  // namespace

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
    if (text.literal) pattern.pcre_expression = rules::LiteralToRegex(text.expression);
    pattern.pcre_options = internal::PcreOptions(text.flags);
    pattern.width = text.min_width;
    pattern.exact = std::move(text.exact);
    pattern.anchored = std::move(text.anchored);
    pattern.anchored_left = text.anchored_left;
    pattern.anchored_right = text.anchored_right;
    if (!kLiteralDatabases && pattern.literal) {
      pattern.literal = false;
      pattern.expression = std::move(pattern.pcre_expression);
      pattern.pcre_expression.clear();
    }
    bool use_pcre = false;
    if (text.user_regex) {
      std::string error;
      out->pcre = internal::PcreCompile(pattern.PcreExpression(), pattern.pcre_options, &error);
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
      out->pcre = internal::PcreCompile(pattern.PcreExpression(), pattern.pcre_options, &error);
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

Compiler::GroupKey Compiler::KeyOf(const rules::EventFilter& filter) {
  GroupKey key;
  std::get<0>(key) = SortedSet(filter.selectors);
  std::get<1>(key) = SortedSet(filter.programs);
  std::get<2>(key) = SortedSet(filter.facilities);
  for (EventFormat format : filter.formats) std::get<3>(key).push_back(static_cast<int>(format));
  std::get<3>(key) = SortedSet(std::get<3>(key));
  return key;
}

uint32_t Compiler::GroupIndex(const std::optional<rules::EventFilter>& filter) {
  GroupKey key;
  if (options_.group_by_logsource && filter) key = KeyOf(*filter);
  auto [it, inserted] = group_index_.emplace(key, group_keys_.size());
  if (inserted) group_keys_.push_back(std::move(key));
  return it->second;
}

uint32_t Compiler::RegisterPattern(PendingPattern&& pattern, internal::PcreCode confirm,
                                   uint32_t rule) {
  auto it = pattern_index_.find({pattern.group, KeyOf(pattern)});
  if (it == pattern_index_.end()) {
    const auto id = static_cast<uint32_t>(impl_.patterns.size());
    internal::PatternInfo info;
    info.group = pattern.group;
    info.field = pattern.field;
    if (pattern.prefilter) {
      std::string error;
      info.confirm = impl_.pcres.size();
      impl_.pcres.push_back(
          confirm ? std::move(confirm)
                  : internal::PcreCompile(pattern.PcreExpression(), pattern.pcre_options, &error));
      impl_.pcre_rules.emplace_back();
    }
    impl_.patterns.push_back(std::move(info));
    const PendingPattern& stored = pattern_text_.emplace_back(std::move(pattern));
    pattern_rules_.emplace_back();
    it = pattern_index_.emplace(std::make_pair(stored.group, KeyOf(stored)), id).first;
    if (contents_counted_) pattern_contents_.insert(KeyOf(stored));
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
bool Compiler::WithinPatternLimit(const std::vector<PendingAtom*>& marked, std::string* reason) {
  // At most one content per pattern id, and every marked atom new.
  if (impl_.patterns.size() + marked.size() <= options_.limits.max_patterns) return true;
  CountContents();
  std::unordered_set<PatternKey, PatternKeyHash> fresh;
  for (const PendingAtom* atom : marked) {
    const PatternKey key = KeyOf(*atom->pattern);
    if (!pattern_contents_.count(key)) fresh.insert(key);
  }
  const size_t total = pattern_contents_.size() + fresh.size();
  if (total <= options_.limits.max_patterns) return true;
  *reason = "the rule adds " + std::to_string(fresh.size()) +
            " Hyperscan pattern(s), which would make the rule set " + std::to_string(total) +
            ", more than rules.limits.max_patterns (" +
            std::to_string(options_.limits.max_patterns) + ")";
  return false;
}

void Compiler::CountContents() {
  if (contents_counted_) return;
  contents_counted_ = true;
  for (const PendingPattern& pattern : pattern_text_) pattern_contents_.insert(KeyOf(pattern));
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
    bool negated;
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
        PendingPredicate pending{FieldIndex(predicate.field), predicate.all, predicate.negated, {}};
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
  data.alternatives_begin = impl_.alternatives.size();
  data.predicates_begin = impl_.predicates.size();
  data.atoms_begin = impl_.atoms.size();
  for (auto& alternatives : selections) {
    internal::Range selection_range{static_cast<uint32_t>(impl_.alternatives.size()), 0};
    for (auto& predicates : alternatives) {
      internal::Range alternative_range{static_cast<uint32_t>(impl_.predicates.size()), 0};
      for (PendingPredicate& pending : predicates) {
        internal::Predicate predicate;
        predicate.field = pending.field;
        predicate.all = pending.all;
        predicate.negated = pending.negated;
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
  data.condition_begin = impl_.conditions.size();
  FlattenCondition(rule.condition, impl_.conditions);
  impl_.rule_data.push_back(std::move(data));
  for (auto& warning : rule_warnings) warnings->push_back(std::move(warning));
  return true;
}

}  // namespace compile_internal

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
  compile_internal::Compiler compiler(*impl, effective);
  for (rules::Rule& rule : rules) {
    impl->rules.push_back(std::move(rule));
    rules::RuleError error;
    if (!compiler.AddRule(impl->rules.back(), &error, &result.warnings)) {
      result.refused.push_back(std::move(error));
      impl->rules.pop_back();
    }
  }
  compiler.BuildDatabases(&result.stats);
  for (internal::Atom& atom : impl->atoms) {
    if (atom.kind != internal::AtomKind::kMarked) continue;
    const internal::PatternInfo& pattern = impl->patterns[atom.index];
    atom.mark_only = pattern.demoted == internal::kNoIndex && pattern.verify == internal::kNoIndex;
  }
  impl->regex_limits = options.regex;
  impl->pcre_limit_hits = std::make_unique<std::atomic<uint64_t>[]>(impl->pcres.size());
  result.stats.rules = impl->rules.size();
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.matcher.reset(new Matcher(std::move(impl)));
  return result;
}

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
  state->filter_epochs.assign(impl_->filters.size(), 0);
  state->filter_pass.assign(impl_->filters.size(), 0);
  state->verify_epochs.assign(impl_->verify_scans.size(), 0);
  state->check_epochs.assign(impl_->verify_scans.size(), 0);
  state->checks.assign(impl_->verify_scans.size(), 0);
  state->match_data = internal::PcreMakeMatchData();
  state->regex = std::make_unique<RegexMatchContext>(impl_->regex_limits);
  for (const auto& list : impl_->indicator_lists) {
    state->indicator_scratch.push_back(list->MakeScratch());
  }
  return std::unique_ptr<Scratch>(new Scratch(std::move(state)));
}

}  // namespace gsoc::match
