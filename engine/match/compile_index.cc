// Matcher::Compile's second half (compiler.h): candidate triggers, the
// per-group and per-field scan indexes, and the Hyperscan databases (or the
// on-disk cache).
#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <system_error>

#include "engine/match/compiler.h"
#include "engine/match/pattern.h"
#include "engine/util/parallel_for.h"

namespace gsoc::match {
namespace compile_internal {

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
  if (predicate.negated) return std::nullopt;  // true when its patterns do not fire
  MaybeTrigger result = predicate.all ? MaybeTrigger() : MaybeTrigger(Trigger());
  for (uint32_t i = predicate.atoms_begin; i < predicate.atoms_end; ++i) {
    const Atom& atom = impl_.atoms[i];
    MaybeTrigger one;
    const internal::PatternInfo* pattern =
        atom.kind == AtomKind::kMarked ? &impl_.patterns[atom.index] : nullptr;
    if (pattern != nullptr && pattern->demoted == kNoIndex && pattern->verify == kNoIndex) {
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
  internal::PcreCode code = internal::PcreCompile(text.PcreExpression(), text.pcre_options, &error);
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
    if (group_selectors.empty()) {
      impl_.unselected_groups.push_back(group);
      // ProgramNamed(programs, "") holds only when "" is listed.
      const bool needs_program =
          !programs.empty() && std::find(programs.begin(), programs.end(), "") == programs.end();
      if (!needs_program) impl_.unselected_programless_groups.push_back(group);
    }
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

// Compiles each spec on its own (Hyperscan's compiler is re-entrant) on up
// to options_.compile_threads threads. A pattern Hyperscan refuses is taken
// out of its spec and the rest compiled again; the result lists, per spec,
// the patterns taken out, for Demote to run in spec order afterwards.
std::vector<std::vector<uint32_t>> Compiler::CompileSpecs(
    std::vector<internal::DatabaseSpec>& specs, std::vector<internal::HsDatabase>* databases) {
  databases->clear();
  databases->resize(specs.size());  // null when every pattern was demoted
  std::vector<std::vector<uint32_t>> demoted(specs.size());
  ParallelFor(specs.size(), ThreadsPerCore(options_.compile_threads, 4), [&](size_t i) {
    internal::DatabaseSpec& spec = specs[i];
    while (!spec.patterns.empty()) {
      std::string error;
      int failed = -1;
      (*databases)[i] = internal::CompileDatabase(spec, &error, &failed);
      if ((*databases)[i]) break;
      if (failed < 0 || static_cast<size_t>(failed) >= spec.patterns.size()) {
        for (const internal::HsPatternSpec& pattern : spec.patterns)
          demoted[i].push_back(pattern.id);
        spec.patterns.clear();
      } else {
        demoted[i].push_back(spec.patterns[failed].id);
        spec.patterns.erase(spec.patterns.begin() + failed);
      }
    }
  });
  return demoted;
}

bool Compiler::InAffixTable(const PendingPattern& pattern) {
  return !pattern.literal && !pattern.prefilter && !pattern.anchored.empty() &&
         pattern.anchored.size() <= internal::AffixTable::kMaxLength &&
         (pattern.anchored_left || pattern.anchored_right);
}

std::optional<internal::LiteralCheck> Compiler::LiteralCheckOf(uint32_t pattern) const {
  using Kind = internal::LiteralCheck::Kind;
  const PendingPattern& text = pattern_text_[pattern];
  if (text.anchored.empty() || text.prefilter || impl_.patterns[pattern].confirm != kNoIndex)
    return std::nullopt;
  const Kind kind = text.anchored_left && text.anchored_right ? Kind::kWhole
                    : text.anchored_left                      ? Kind::kPrefix
                    : text.anchored_right                     ? Kind::kSuffix
                                                              : Kind::kContains;
  return internal::LiteralCheck(kind, text.anchored, (text.flags & HS_FLAG_CASELESS) == 0);
}

internal::AffixTable::Entry Compiler::AffixEntry(uint32_t pattern) const {
  using Kind = internal::AffixTable::Kind;
  const PendingPattern& text = pattern_text_[pattern];
  internal::AffixTable::Entry entry;
  entry.kind = text.anchored_left && text.anchored_right ? Kind::kWhole
               : text.anchored_left                      ? Kind::kPrefix
                                                         : Kind::kSuffix;
  entry.text = text.anchored;
  entry.cased = (text.flags & HS_FLAG_CASELESS) == 0;
  entry.pattern = pattern;
  return entry;
}

// Which patterns the event's scans hold: those some rule's trigger holds
// (they make candidates), those of rules without a trigger (evaluated for
// every event: a verify scan would run for each), and the keyword and
// message ones (their scan serves two views of the text). The others go
// to verify scans (MatcherData::verify_scans). Hyperscan may still refuse
// a pattern of either kind; the triggers are then made again (BuildDatabases).
std::vector<bool> Compiler::ScannedWithTheEvent(uint32_t keywords, uint32_t message) const {
  std::vector<bool> scanned(pattern_text_.size(), false);
  std::vector<bool> untriggered(impl_.rule_data.size(), false);
  for (uint32_t rule = 0; rule < impl_.rule_data.size(); ++rule) {
    const MaybeTrigger trigger = ConditionTrigger(rule, impl_.rules[rule].condition);
    if (!trigger) {
      untriggered[rule] = true;
      continue;
    }
    for (uint32_t pattern : trigger->patterns) scanned[pattern] = true;
  }
  for (uint32_t id = 0; id < pattern_text_.size(); ++id) {
    const uint32_t field = pattern_text_[id].field;
    if (field == keywords || field == message) scanned[id] = true;
    for (uint32_t rule : pattern_rules_[id]) {
      if (untriggered[rule]) scanned[id] = true;
    }
  }
  return scanned;
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
  // and a regex one, the anchored literals' AffixTable, and the verify
  // database; patterns in id order.
  const std::vector<bool> scanned = ScannedWithTheEvent(keywords, message);
  std::map<std::pair<uint32_t, uint32_t>, std::array<std::vector<uint32_t>, kKinds>> buckets;
  for (uint32_t id = 0; id < pattern_text_.size(); ++id) {
    const PendingPattern& text = pattern_text_[id];
    int kind = InAffixTable(text) ? kAffix : text.literal ? kLiteral : kRegex;
    if (kind != kAffix && !scanned[id]) kind = kVerify;
    buckets[{text.group, field_group[text.field]}][kind].push_back(id);
  }
  std::vector<internal::DatabaseSpec> specs;
  std::vector<std::pair<uint32_t, int>> spec_uses;  // group, kind
  for (const auto& [key, by_kind] : buckets) {
    for (int kind : {kLiteral, kRegex, kVerify}) {  // the databases (the affixes below)
      if (by_kind[kind].empty()) continue;
      internal::DatabaseSpec spec;
      spec.field = key.second;
      spec.literal = kind == kLiteral;
      for (uint32_t id : by_kind[kind]) {
        const PendingPattern& text = pattern_text_[id];
        spec.patterns.push_back({id, text.expression, text.flags});
      }
      if (kind == kVerify) stats->verify_patterns += spec.patterns.size();
      specs.push_back(std::move(spec));
      spec_uses.emplace_back(key.first, kind);
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
    std::vector<std::vector<uint32_t>> demoted = CompileSpecs(specs, &databases);
    bool demoted_any = false;
    for (const std::vector<uint32_t>& patterns : demoted) {
      for (uint32_t pattern : patterns) Demote(pattern);
      demoted_any |= !patterns.empty();
    }
    if (!cache_file.empty() && !demoted_any) internal::SaveCachedDatabases(cache_file, databases);
  }
  ScanOf scan_of;
  auto scan_for = [&](uint32_t group, uint32_t field) -> internal::FieldScan& {
    auto [it, inserted] = scan_of.emplace(std::make_pair(group, field), impl_.scans.size());
    if (inserted) impl_.scans.push_back({field, group, field == message ? keywords : kNoIndex, {}});
    return impl_.scans[it->second];
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!databases[i]) continue;
    const auto [group, kind] = spec_uses[i];
    if (kind == kVerify) {
      // One database a verify scan: its patterns, less any Hyperscan took
      // out (demoted, run as PCRE2), point at it.
      const auto verify = static_cast<uint32_t>(impl_.verify_scans.size());
      impl_.verify_scans.push_back({databases[i].get()});
      for (const internal::HsPatternSpec& pattern : specs[i].patterns) {
        impl_.patterns[pattern.id].verify = verify;
        if (auto check = LiteralCheckOf(pattern.id)) {
          impl_.patterns[pattern.id].check = impl_.literal_checks.size();
          impl_.literal_checks.push_back(std::move(*check));
        }
      }
    } else {
      scan_for(group, specs[i].field).databases.push_back(databases[i].get());
    }
    hs_alloc_scratch(databases[i].get(), &impl_.prototype_scratch);
    impl_.databases.push_back(std::move(databases[i]));
  }
  for (const auto& [key, by_kind] : buckets) {
    if (by_kind[kAffix].empty()) continue;
    std::vector<internal::AffixTable::Entry> entries;
    for (uint32_t id : by_kind[kAffix]) entries.push_back(AffixEntry(id));
    stats->affix_patterns += entries.size();
    scan_for(key.first, key.second).affix = impl_.affix_tables.size();
    impl_.affix_tables.emplace_back().Build(std::move(entries));
  }
  stats->databases = impl_.databases.size();
  IndexScans();
  IndexFilters(scan_of, field_group);
  IndexExact(scan_of, field_group);

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

// Without groups, the rules' distinct filters and which of them each scan
// serves (MatcherData::filters): from every atom's pattern (pattern_rules_),
// not only the triggers, as an evaluated rule reads the marks of all its
// atoms.
void Compiler::IndexFilters(const ScanOf& scan_of, const std::vector<uint32_t>& field_group) {
  impl_.scan_filters.assign(impl_.scans.size(), internal::Range{});
  if (impl_.grouped) return;  // a group's rules pass its filter: nothing to skip
  std::map<GroupKey, uint32_t> index;
  for (internal::RuleData& data : impl_.rule_data) {
    if (!data.filter) continue;
    auto [it, inserted] = index.emplace(KeyOf(*data.filter), impl_.filters.size());
    if (inserted) impl_.filters.push_back(*data.filter);
    data.filter_id = it->second;
  }
  // Per scan: its rules' filters, or none at all (always scanned) once one
  // of its rules has no filter.
  std::vector<std::set<uint32_t>> by_scan(impl_.scans.size());
  std::vector<bool> always(impl_.scans.size(), false);
  for (uint32_t id = 0; id < pattern_text_.size(); ++id) {
    const PendingPattern& text = pattern_text_[id];
    // A verify pattern is scanned for by its own scan, for candidates only.
    if (impl_.patterns[id].verify != kNoIndex) continue;
    auto scan = scan_of.find({text.group, field_group[text.field]});
    if (scan == scan_of.end()) continue;  // no database: demoted patterns run as PCRE2
    for (uint32_t rule : pattern_rules_[id]) {
      const uint32_t filter = impl_.rule_data[rule].filter_id;
      if (filter == kNoIndex) always[scan->second] = true;
      by_scan[scan->second].insert(filter);
    }
  }
  for (uint32_t scan = 0; scan < by_scan.size(); ++scan) {
    internal::Range& range = impl_.scan_filters[scan];
    range.begin = range.end = impl_.scan_filter_ids.size();
    if (always[scan]) continue;
    impl_.scan_filter_ids.insert(impl_.scan_filter_ids.end(), by_scan[scan].begin(),
                                 by_scan[scan].end());
    range.end = impl_.scan_filter_ids.size();
  }
}

// Scans (not the keyword one) whose patterns are all whole-value literals
// become ExactTable lookups; their databases stay, unused.
void Compiler::IndexExact(const ScanOf& scan_of, const std::vector<uint32_t>& field_group) {
  std::vector<std::vector<internal::ExactTable::Entry>> entries(impl_.scans.size());
  std::vector<bool> exact(impl_.scans.size(), true);
  for (uint32_t id = 0; id < pattern_text_.size(); ++id) {
    const PendingPattern& text = pattern_text_[id];
    // Not in the scan's databases: demoted (PCRE2) or in a verify scan.
    if (impl_.patterns[id].demoted != kNoIndex || impl_.patterns[id].verify != kNoIndex) continue;
    auto scan = scan_of.find({text.group, field_group[text.field]});
    if (scan == scan_of.end()) continue;
    if (text.exact.empty() || text.exact.size() > internal::ExactTable::kMaxLength ||
        text.prefilter || impl_.patterns[id].confirm != kNoIndex) {
      exact[scan->second] = false;
      continue;
    }
    const bool cased = (text.flags & HS_FLAG_CASELESS) == 0;
    entries[scan->second].push_back(
        {internal::ExactTable::Lower(text.exact), text.exact, cased, id});
  }
  for (uint32_t scan = 0; scan < impl_.scans.size(); ++scan) {
    if (!exact[scan] || entries[scan].empty() || impl_.scans[scan].keywords != kNoIndex) continue;
    impl_.scans[scan].exact = impl_.exact_tables.size();
    impl_.exact_tables.emplace_back().Build(std::move(entries[scan]));
  }
}

}  // namespace compile_internal

namespace internal {

std::string ExactTable::Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = LowerAscii(c);
  return lower;
}

void ExactTable::Build(std::vector<Entry> entries) {
  entries_ = std::move(entries);
  size_t capacity = 16;
  while (capacity < entries_.size() * 2) capacity *= 2;  // at most half full
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  longest_ = 0;
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    const uint64_t hash = ScanIndex::Hash(entries_[e].lower);
    longest_ = std::max(longest_, entries_[e].lower.size());
    uint64_t i = hash & mask_;
    while (slots_[i].entry != kNoIndex) i = (i + 1) & mask_;
    slots_[i] = {hash, e};
  }
}

void ScanIndex::Build(const std::vector<std::string>& names, const std::vector<uint32_t>& fields) {
  size_t capacity = 16;
  while (capacity < fields.size() * 2) capacity *= 2;  // at most half full
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  lengths_ = 0;
  for (uint32_t field : fields) {
    const std::string_view name = names[field];
    lengths_ |= uint64_t{1} << std::min<size_t>(name.size(), 63);
    const uint64_t hash = Hash(name);
    uint64_t i = hash & mask_;
    while (slots_[i].field != kNoIndex) i = (i + 1) & mask_;
    slots_[i] = {hash, field, name};
  }
}

}  // namespace internal

}  // namespace gsoc::match
