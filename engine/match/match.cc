// Matcher::Match, the hot path: scan each field that has databases once,
// mark fired patterns, evaluate candidate rules. No allocation (all buffers
// are sized in MakeScratch), no exceptions, no locks.
#include <algorithm>

#include "engine/match/direct_ops.h"
#include "engine/match/matcher.h"
#include "engine/match/matcher_impl.h"

namespace gsoc::match {

using internal::Atom;
using internal::AtomKind;
using internal::kNoIndex;
using rules::MatchOp;

namespace {

// PCRE2 program `index` on `value`; a limit hit is counted and is no match.
bool RunPcre(const internal::MatcherData& impl, internal::ScratchState& state, uint32_t index,
             std::string_view value) {
  const internal::PcreCode& code = impl.pcres[index];
  if (!code) return false;
  switch (internal::PcreSearch(code.get(), value, state.match_data.get(), *state.regex)) {
    case internal::PcreResult::kMatch:
      return true;
    case internal::PcreResult::kLimit:
      impl.pcre_limit_hits[index].fetch_add(1, std::memory_order_relaxed);
      return false;
    case internal::PcreResult::kNoMatch:
      return false;
  }
  return false;
}

// Whether the event passes MatcherData::filters[filter]: checked once an
// event (epoch), however many rules and scans ask.
bool FilterPasses(const internal::MatcherData& impl, internal::ScratchState& state,
                  const Event& event, uint32_t filter) {
  if (state.filter_epochs[filter] != state.epoch) {
    state.filter_epochs[filter] = state.epoch;
    state.filter_pass[filter] = impl.filters[filter].Matches(event);
  }
  return state.filter_pass[filter] != 0;
}

// Whether some rule with a pattern in the scan's databases may match the
// event (MatcherData::scan_filters).
bool ScanWanted(const internal::MatcherData& impl, internal::ScratchState& state,
                const Event& event, uint32_t scan) {
  const internal::Range& filters = impl.scan_filters[scan];
  if (filters.begin == filters.end) return true;
  for (uint32_t f = filters.begin; f < filters.end; ++f) {
    if (FilterPasses(impl, state, event, impl.scan_filter_ids[f])) return true;
  }
  return false;
}

// The text keywords search: the message, or for a JSON event without a
// message member its field values (KeywordsSearchValues), built into the
// scratch once an event however many scans and rules read it.
std::string_view KeywordText(internal::ScratchState& state, const EventBatch& batch,
                             const Event& event) {
  if (!internal::KeywordsSearchValues(event)) return event.message;
  if (state.keyword_epoch != state.epoch) {
    internal::KeywordValues(batch, event, &state.keyword_text);
    state.keyword_epoch = state.epoch;
  }
  return state.keyword_text;
}

// What a predicate on `name` reads: KeywordText for keywords (empty name).
FieldLookup PredicateField(internal::ScratchState& state, const EventBatch& batch,
                           const Event& event, const std::string& name) {
  if (name.empty()) return {true, KeywordText(state, batch, event)};
  return internal::LookupPredicateField(batch, event, name);
}

struct ScanContext {
  const internal::MatcherData* impl;
  internal::ScratchState* state;
  std::string_view value;
  uint32_t only_field;  // kNoIndex: every pattern of the database applies
};

int OnPattern(unsigned id, unsigned long long, unsigned long long, unsigned, void* context) {
  auto* scan = static_cast<ScanContext*>(context);
  internal::ScratchState& state = *scan->state;
  if (state.pattern_marks[id]) return 0;
  const internal::PatternInfo& pattern = scan->impl->patterns[id];
  if (scan->only_field != kNoIndex && pattern.field != scan->only_field) return 0;
  if (pattern.confirm != kNoIndex && !RunPcre(*scan->impl, state, pattern.confirm, scan->value)) {
    return 0;
  }
  state.pattern_marks[id] = 1;
  state.touched.push_back(id);
  for (uint32_t rule : pattern.rules) {
    if (!state.rule_marks[rule]) {
      state.rule_marks[rule] = 1;
      state.candidates.push_back(rule);
    }
  }
  return 0;
}

class Evaluator {
 public:
  Evaluator(const internal::MatcherData& impl, internal::ScratchState& state,
            const EventBatch& batch, const Event& event)
      : impl_(impl), state_(state), batch_(batch), event_(event) {}

  bool Rule(uint32_t rule) const {
    const internal::RuleData& data = impl_.rule_data[rule];
    // With rule groups the rule's group passed this filter (the group's);
    // without, filter_id is its filter's.
    if (data.filter_id != kNoIndex && !FilterPasses(impl_, state_, event_, data.filter_id))
      return false;
    return Eval(data.selections_begin, impl_.conditions.data() + data.condition_begin);
  }

 private:
  using Node = internal::ConditionNode;

  bool Eval(uint32_t base, const Node* node) const {
    const Node* child = node + 1;
    switch (node->kind) {
      case Node::Kind::kSelection:
        return node->value != kNoIndex && Selection(base + node->value);
      case Node::Kind::kAnd:
        for (uint32_t c = 0; c < node->value; ++c, child += child->size) {
          if (!Eval(base, child)) return false;
        }
        return true;
      case Node::Kind::kOr:
        for (uint32_t c = 0; c < node->value; ++c, child += child->size) {
          if (Eval(base, child)) return true;
        }
        return false;
      case Node::Kind::kNot:
        return node->value != 0 && !Eval(base, child);
    }
    return false;
  }

  bool Selection(uint32_t selection) const {
    const internal::Range& alternatives = impl_.selections[selection];
    for (uint32_t a = alternatives.begin; a < alternatives.end; ++a) {
      const internal::Range& predicates = impl_.alternatives[a];
      bool all_true = true;
      for (uint32_t p = predicates.begin; p < predicates.end && all_true; ++p) {
        all_true = Predicate(impl_.predicates[p]);
      }
      if (all_true) return true;
    }
    return false;
  }

  bool Predicate(const internal::Predicate& predicate) const {
    if (!predicate.negated) return AtomsHold(predicate);
    // Presence first: an absent field answers without the atoms (and the
    // verify scans they may start).
    return Lookup(predicate).present && FieldRefsPresent(predicate) && !AtomsHold(predicate);
  }

  // Whether the fields the predicate's fieldref values name are present
  // (a |fieldref|neq compares with an absent field: no answer).
  bool FieldRefsPresent(const internal::Predicate& predicate) const {
    for (uint32_t i = predicate.atoms_begin; i < predicate.atoms_end; ++i) {
      const Atom& atom = impl_.atoms[i];
      if (atom.kind == AtomKind::kDirect && atom.op == MatchOp::kFieldRef &&
          !internal::LookupPredicateField(batch_, event_, impl_.field_names[atom.index]).present)
        return false;
    }
    return true;
  }

  // The predicate's atoms, ANDed with |all, else ORed.
  bool AtomsHold(const internal::Predicate& predicate) const {
    for (uint32_t i = predicate.atoms_begin; i < predicate.atoms_end; ++i) {
      bool result = AtomTrue(predicate, impl_.atoms[i]);
      if (predicate.all && !result) return false;
      if (!predicate.all && result) return true;
    }
    return predicate.all;
  }

  bool AtomTrue(const internal::Predicate& predicate, const Atom& atom) const {
    if (atom.kind == AtomKind::kMarked) {
      if (atom.mark_only) return state_.pattern_marks[atom.index] == 1;
      const internal::PatternInfo& pattern = impl_.patterns[atom.index];
      if (pattern.demoted != kNoIndex) return Pcre(predicate, pattern.demoted);
      if (pattern.verify != kNoIndex && state_.pattern_marks[atom.index] == 0 &&
          state_.verify_epochs[pattern.verify] != state_.epoch) {
        if (pattern.check != kNoIndex && CheckBudget(pattern.verify)) {
          Check(predicate, atom.index, pattern.check);
        } else {
          Verify(predicate, pattern.verify);
        }
      }
      return state_.pattern_marks[atom.index] == 1;
    }
    if (atom.kind == AtomKind::kPcre) return Pcre(predicate, atom.index);
    FieldLookup field = Lookup(predicate);
    const rules::ValueMatcher& value = *atom.value;
    switch (atom.op) {
      case MatchOp::kExists:
        return field.present == value.exists;
      case MatchOp::kNull:
        return !field.present || field.value.empty();
      case MatchOp::kCidr: {
        std::array<uint8_t, 16> address;
        return field.present && ParseIpAddress(field.value, address) &&
               value.cidr->Contains(address);
      }
      case MatchOp::kLt:
      case MatchOp::kLte:
      case MatchOp::kGt:
      case MatchOp::kGte:
        return field.present && internal::CompareNumber(atom.op, field.value, value.number);
      case MatchOp::kFieldRef:
        return field.present &&
               internal::EqualsFieldRef(field, internal::LookupPredicateField(
                                                   batch_, event_, impl_.field_names[atom.index]));
      case MatchOp::kTimePart:
        return field.present &&
               internal::TimePartEquals(field.value, value.time_part, value.number);
      case MatchOp::kIndicator: {
        if (!field.present) return false;
        const indicators::IndicatorList& list = *impl_.indicator_lists[atom.index];
        return atom.indicator_contains
                   ? list.ContainsSubstring(field.value, *state_.indicator_scratch[atom.index])
                   : list.Matches(field.value);
      }
      default:
        return false;
    }
  }

  // Runs verify scan `verify` over the predicate's field, once an event:
  // it marks its patterns as the event's scans mark theirs (it holds only
  // patterns of that field, none a trigger: no rule becomes a candidate).
  void Verify(const internal::Predicate& predicate, uint32_t verify) const {
    if (state_.verify_epochs[verify] == state_.epoch) return;
    state_.verify_epochs[verify] = state_.epoch;
    const FieldLookup field = Lookup(predicate);
    if (!field.present || field.value.empty()) return;  // every pattern needs >= 1 byte
    ScanContext context{&impl_, &state_, field.value, kNoIndex};
    for (hs_database_t* db : impl_.verify_scans[verify]) {
      ++state_.counts.scans;
      ++state_.counts.verifies;
      hs_scan(db, field.value.data(), static_cast<unsigned>(field.value.size()), 0, state_.hs,
              OnPattern, &context);
    }
  }

  // Whether verify scan `verify` may answer one more pattern by a
  // LiteralCheck this event (MatcherData::kDirectChecks).
  bool CheckBudget(uint32_t verify) const {
    if (state_.check_epochs[verify] != state_.epoch) {
      state_.check_epochs[verify] = state_.epoch;
      state_.checks[verify] = 0;
    }
    if (state_.checks[verify] == internal::MatcherData::kDirectChecks) return false;
    ++state_.checks[verify];
    return true;
  }

  // Marks verify pattern `id` found (1) or absent (2) by its LiteralCheck.
  void Check(const internal::Predicate& predicate, uint32_t id, uint32_t check) const {
    ++state_.counts.literal_checks;
    const FieldLookup field = Lookup(predicate);
    state_.pattern_marks[id] =
        field.present && impl_.literal_checks[check].Matches(field.value) ? 1 : 2;
    state_.touched.push_back(id);
  }

  bool Pcre(const internal::Predicate& predicate, uint32_t index) const {
    FieldLookup field = Lookup(predicate);
    return field.present && RunPcre(impl_, state_, index, field.value);
  }

  FieldLookup Lookup(const internal::Predicate& predicate) const {
    return PredicateField(state_, batch_, event_, impl_.field_names[predicate.field]);
  }

  const internal::MatcherData& impl_;
  internal::ScratchState& state_;
  const EventBatch& batch_;
  const Event& event_;
};

}  // namespace

std::vector<Matcher::RuleLimitHits> Matcher::regex_limit_hits() const {
  std::vector<uint64_t> by_rule(impl_->rules.size(), 0);
  for (size_t i = 0; i < impl_->pcres.size(); ++i) {
    const uint64_t hits = impl_->pcre_limit_hits[i].load(std::memory_order_relaxed);
    if (hits == 0) continue;
    for (uint32_t rule : impl_->pcre_rules[i]) by_rule[rule] += hits;
  }
  std::vector<RuleLimitHits> out;
  for (size_t rule = 0; rule < by_rule.size(); ++rule) {
    if (by_rule[rule] > 0) out.push_back({rule, by_rule[rule]});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RuleLimitHits& a, const RuleLimitHits& b) { return a.hits > b.hits; });
  return out;
}

void Matcher::Match(const EventBatch& batch, const Event& event, Scratch& scratch,
                    const std::function<void(size_t rule_index)>& on_match) const {
  Scratch::State& state = *scratch.state_;
  const internal::MatcherData& impl = *impl_;
  for (uint32_t id : state.touched) state.pattern_marks[id] = 0;
  state.touched.clear();
  for (uint32_t rule : state.candidates) state.rule_marks[rule] = 0;
  state.candidates.clear();
  if (++state.epoch == 0) {  // wrapped: nothing may look done for this event already
    std::fill(state.field_epochs.begin(), state.field_epochs.end(), 0);
    std::fill(state.group_epochs.begin(), state.group_epochs.end(), 0);
    std::fill(state.filter_epochs.begin(), state.filter_epochs.end(), 0);
    std::fill(state.verify_epochs.begin(), state.verify_epochs.end(), 0);
    std::fill(state.check_epochs.begin(), state.check_epochs.end(), 0);
    state.keyword_epoch = 0;
    state.epoch = 1;
  }
  const uint32_t epoch = state.epoch;

  // The groups whose filter the event passes: those its selectors name,
  // and those that name none.
  state.groups.clear();
  auto add_group = [&](uint32_t group) {
    if (state.group_epochs[group] == epoch) return;
    state.group_epochs[group] = epoch;
    if (impl.group_checks[group] && !impl.group_filters[group].Matches(event)) return;
    state.groups.push_back(group);
  };
  for (uint32_t group :
       event.program.empty() ? impl.unselected_programless_groups : impl.unselected_groups)
    add_group(group);
  for (uint8_t i = 0; i < event.selector_count && i < Event::kMaxSelectors; ++i) {
    const uint16_t selector = event.selectors[i];
    if (selector >= impl.selector_groups.size()) continue;
    const internal::Range& groups = impl.selector_groups[selector];
    for (uint32_t g = groups.begin; g < groups.end; ++g) add_group(impl.selector_group_ids[g]);
  }
  ++state.counts.events;
  state.counts.groups += state.groups.size();

  ScanContext context{&impl, &state, {}, kNoIndex};
  auto scan_value = [&](uint32_t scan_index, std::string_view value, uint32_t only) {
    if (value.empty()) return;  // every pattern needs >= 1 byte
    const internal::FieldScan& scan = impl.scans[scan_index];
    context.value = value;
    context.only_field = only;
    auto found = [&](uint32_t id) { OnPattern(id, 0, 0, 0, &context); };
    if (scan.exact != kNoIndex) {
      impl.exact_tables[scan.exact].Find(value, found);
      return;
    }
    if (scan.affix != kNoIndex) impl.affix_tables[scan.affix].Find(value, found);
    for (hs_database_t* db : scan.databases) {
      ++state.counts.scans;
      hs_scan(db, value.data(), static_cast<unsigned>(value.size()), 0, state.hs, OnPattern,
              &context);
    }
  };
  // The event's own fields, each found in the index in one probe (the first
  // field of a name is its value, as GetField has it), scanned against the
  // eligible groups that have patterns for it.
  using GroupScan = internal::MatcherData::GroupScan;
  for (const Field& field : batch.FieldsOf(event)) {
    const uint32_t index = impl.field_scans.Find(field.name);
    if (index == kNoIndex || state.field_epochs[index] == epoch) continue;
    state.field_epochs[index] = epoch;
    const internal::Range& range = impl.field_group_scans[index];
    const GroupScan* begin = impl.group_scans.data() + range.begin;
    const GroupScan* end = impl.group_scans.data() + range.end;
    for (uint32_t group : state.groups) {
      const GroupScan* it = std::lower_bound(
          begin, end, group, [](const GroupScan& scan, uint32_t g) { return scan.group < g; });
      if (it != end && it->group == group && ScanWanted(impl, state, event, it->scan))
        scan_value(it->scan, field.value, kNoIndex);
    }
  }
  for (uint32_t group : state.groups) {
    const internal::Range& scans = impl.group_header_scans[group];
    for (uint32_t s = scans.begin; s < scans.end; ++s) {
      const uint32_t scan_index = impl.header_scans[s];
      if (!ScanWanted(impl, state, event, scan_index)) continue;
      const internal::FieldScan& scan = impl.scans[scan_index];
      FieldLookup field = PredicateField(state, batch, event, impl.field_names[scan.field]);
      if (scan.keywords == kNoIndex) {
        if (field.present) scan_value(scan_index, field.value, kNoIndex);
        continue;
      }
      const std::string_view message = KeywordText(state, batch, event);
      if (field.present && field.value.data() == message.data() &&
          field.value.size() == message.size()) {
        scan_value(scan_index, message, kNoIndex);
      } else {
        if (field.present) scan_value(scan_index, field.value, scan.field);
        scan_value(scan_index, message, scan.keywords);
      }
    }
    // Rules of the group that can match with no pattern fired.
    const internal::Range& always = impl.group_always[group];
    for (uint32_t a = always.begin; a < always.end; ++a) {
      const uint32_t rule = impl.always_candidates[a];
      if (!state.rule_marks[rule]) {
        state.rule_marks[rule] = 1;
        state.candidates.push_back(rule);
      }
    }
  }

  // Candidates (fired or always) in rule order.
  std::sort(state.candidates.begin(), state.candidates.end());
  state.counts.rules_evaluated += state.candidates.size();
  for (uint32_t rule : state.candidates) {
    const internal::RuleData& data = impl.rule_data[rule];
    __builtin_prefetch(impl.selections.data() + data.selections_begin);
    __builtin_prefetch(impl.alternatives.data() + data.alternatives_begin);
    __builtin_prefetch(impl.predicates.data() + data.predicates_begin);
    __builtin_prefetch(impl.atoms.data() + data.atoms_begin);
    __builtin_prefetch(impl.conditions.data() + data.condition_begin);
  }
  Evaluator evaluator(impl, state, batch, event);
  for (uint32_t rule : state.candidates) {
    if (evaluator.Rule(rule)) on_match(rule);
  }
}

}  // namespace gsoc::match
