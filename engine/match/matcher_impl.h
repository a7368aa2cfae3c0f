// The compiled form of a rule set (private to engine/match): shared by
// compile.cc (builds it) and match.cc (the hot path).
//
// Rules -> selections -> alternatives -> predicates -> atoms (one per
// ValueMatcher), all in flat arrays indexed by offsets. A string atom is
// either a Hyperscan pattern id (marked when the pattern fires on the
// predicate's field value; deduplicated across rules) or a PCRE2 program
// run directly (patterns that match the empty value, or Hyperscan could not
// take). Other ops are evaluated directly.
#pragma once

#include <hs/hs.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/indicators/indicator_list.h"
#include "engine/match/affix_table.h"
#include "engine/match/database.h"
#include "engine/match/literal_check.h"
#include "engine/match/matcher.h"
#include "engine/match/pcre.h"
#include "engine/rules/logsource_map.h"
#include "engine/rules/rule.h"
#include "engine/util/ascii.h"
#include "engine/util/hash.h"

namespace gsoc::match {

namespace internal {

inline constexpr uint32_t kNoIndex = UINT32_MAX;

enum class AtomKind : uint8_t {
  kMarked,  // Hyperscan pattern `index`
  kPcre,    // PCRE2 program `index` on the field value
  kDirect,  // cidr, exists, null, numeric, indicator
};

struct Atom {
  AtomKind kind = AtomKind::kDirect;
  rules::MatchOp op = rules::MatchOp::kEquals;
  uint32_t index = kNoIndex;        // pattern id / pcre index / indicator index
  bool indicator_contains = false;  // kIndicator: ContainsSubstring instead of Matches
  // kMarked: the pattern is neither demoted nor verified, so its mark alone
  // answers (set once the databases are built; the evaluator then need not
  // read PatternInfo, a cache miss an atom over a corpus-sized rule set).
  bool mark_only = false;
  const rules::ValueMatcher* value = nullptr;
};

struct Predicate {
  uint32_t field = 0;  // index into MatcherData::field_names
  bool all = false;
  bool negated = false;  // |neq: the field present and the atoms' result false
  uint32_t atoms_begin = 0;
  uint32_t atoms_end = 0;
};

struct Range {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// A rule's condition tree, flattened into MatcherData::conditions in
// prefix order: a node's children follow it, each `size` nodes long, so a
// rule's condition is one contiguous run (Rule::condition's nested vectors
// were a cache miss a level). `of x` becomes kAnd / kOr over kSelection
// nodes (the same truth: none of an empty `1 of` holds, all of an empty
// `all of` do).
struct ConditionNode {
  enum class Kind : uint8_t { kSelection, kAnd, kOr, kNot };
  Kind kind = Kind::kSelection;
  uint32_t value = 0;  // kSelection: the selection (kNoIndex: none); else the child count
  uint32_t size = 1;   // nodes in this subtree, itself included
};

struct RuleData {
  std::optional<rules::EventFilter> filter;
  uint32_t selections_begin = 0;  // into MatcherData::selections (each a Range of alternatives)
  // Where the rule's alternatives, predicates and atoms start: the matcher
  // prefetches the four arrays for every candidate at once, rather than
  // meet a cache miss at each step of the chain.
  uint32_t alternatives_begin = 0;
  uint32_t predicates_begin = 0;
  uint32_t atoms_begin = 0;
  uint32_t condition_begin = 0;   // into MatcherData::conditions
  uint32_t group = 0;             // its rule group (MatcherData, "Rule groups")
  uint32_t filter_id = kNoIndex;  // MatcherData::filters (ungrouped only; kNoIndex: none)
  bool always_candidate = false;  // can match with no Hyperscan atom fired
};

struct PatternInfo {
  uint32_t group = 0;  // patterns are deduplicated within a rule group only
  uint32_t field = 0;
  uint32_t confirm = kNoIndex;  // PCRE2 program confirming a prefilter match
  uint32_t demoted = kNoIndex;  // PCRE2 program replacing the pattern (no database took it)
  // MatcherData::verify_scans: the pattern is no trigger, so it is scanned
  // for only when a candidate rule reads it (kNoIndex: with the event).
  uint32_t verify = kNoIndex;
  // MatcherData::literal_checks: how a candidate checks this verify pattern
  // on its own (a literal), while its scan's budget lasts (kNoIndex: scan).
  uint32_t check = kNoIndex;
  std::vector<uint32_t> rules;  // rules this pattern triggers (makes candidates), ascending
};

struct FieldScan {
  uint32_t field = 0;
  uint32_t group = 0;
  uint32_t keywords = kNoIndex;           // set on the `message` scan: the keyword field shares it
  std::vector<hs_database_t*> databases;  // owned by MatcherData::databases
  uint32_t exact = kNoIndex;              // MatcherData::exact_tables: a lookup, not a scan
  uint32_t affix = kNoIndex;              // MatcherData::affix_tables: its anchored literals
};

// Field name -> field index, so an event's own fields find their scans in
// one probe each instead of every scan searching the event (open
// addressing, FNV-1a; built once at compile, read-only afterwards).
class ScanIndex {
 public:
  // Indexes each field f of `fields` under names[f].
  void Build(const std::vector<std::string>& names, const std::vector<uint32_t>& fields);
  // The index of field `name`, or kNoIndex.
  uint32_t Find(std::string_view name) const {
    // Most of an event's fields have no scan: a name of a length no indexed
    // name has is not hashed at all.
    if ((lengths_ >> std::min<size_t>(name.size(), 63) & 1) == 0) return kNoIndex;
    const uint64_t hash = Hash(name);
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.field == kNoIndex) return kNoIndex;
      if (slot.hash == hash && slot.name == name) return slot.field;
    }
  }
  // Field names differ in their first and last eight bytes (SourceImage /
  // TargetImage, ...UserName / ...LogonId), which ShortStringHash reads in
  // fixed-size loads: it runs for every field of every event (a memcpy of n
  // bytes was a quarter of Match's own time with the shipped pack).
  static uint64_t Hash(std::string_view text) { return ShortStringHash(text); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t field = kNoIndex;
    std::string_view name;  // into MatcherData::field_names
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  uint64_t lengths_ = 0;  // bit n: an indexed name of length n (n < 63); bit 63: longer
};

// The patterns of a scan that are all `equals` without wildcards (`action:
// failure`, `user: root`), by value: one probe replaces an hs_scan call,
// whose fixed cost dominates on such short values. Same answers: Hyperscan
// runs them as ^literal\z, CASELESS folding ASCII letters only, as here.
class ExactTable {
 public:
  static constexpr size_t kMaxLength = 128;  // longer literals keep the scan
  struct Entry {
    std::string lower;  // ASCII lower-case: the key
    std::string text;   // as written, for a cased pattern
    bool cased = false;
    uint32_t pattern = 0;
  };
  static char LowerAscii(char c) { return AsciiLowerChar(c); }
  static std::string Lower(std::string_view text);
  void Build(std::vector<Entry> entries);
  // Calls found(pattern id) for every pattern equal to `value`.
  template <typename Found>
  void Find(std::string_view value, Found&& found) const {
    if (value.size() > longest_ || slots_.empty()) return;
    char buffer[kMaxLength];
    for (size_t i = 0; i < value.size(); ++i) buffer[i] = LowerAscii(value[i]);
    const std::string_view lower(buffer, value.size());
    const uint64_t hash = ScanIndex::Hash(lower);
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.entry == kNoIndex) return;
      if (slot.hash != hash) continue;
      const Entry& entry = entries_[slot.entry];
      if (entry.lower == lower && (!entry.cased || entry.text == value)) found(entry.pattern);
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t entry = kNoIndex;
  };
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t longest_ = 0;
};

struct MatcherData {
  std::vector<rules::Rule> rules;
  std::vector<RuleData> rule_data;
  std::vector<Range> selections;    // alternatives of each selection
  std::vector<Range> alternatives;  // predicates of each alternative
  std::vector<Predicate> predicates;
  std::vector<Atom> atoms;
  std::vector<ConditionNode> conditions;
  std::vector<std::string> field_names;  // "" = keywords (the message)
  std::vector<PatternInfo> patterns;
  std::vector<PcreCode> pcres;
  std::vector<std::vector<uint32_t>> pcre_rules;  // rules using each PCRE2 program
  // Per PCRE2 program: matches stopped by a RegexLimits bound (relaxed).
  std::unique_ptr<std::atomic<uint64_t>[]> pcre_limit_hits;
  RegexLimits regex_limits;
  std::vector<std::shared_ptr<const indicators::IndicatorList>> indicator_lists;
  std::vector<HsDatabase> databases;
  std::vector<FieldScan> scans;
  std::vector<ExactTable> exact_tables;
  std::vector<AffixTable> affix_tables;
  // Verify scans: per rule group and field, the databases of the patterns
  // no rule's trigger holds (a `filter` of `selection and not filter`, the
  // other values of an AND): scanned only when a candidate rule reads one
  // of them, at most once an event (ScratchState::verify_epochs). An event
  // that makes no rule reading the field a candidate skips them (common
  // short literals such as ' -p' in CommandLine made every process creation
  // event's scan report dozens of matches). Owned by `databases`.
  std::vector<std::vector<hs_database_t*>> verify_scans;
  // A candidate reading a literal of a verify scan checks it alone
  // (LiteralCheck) up to kDirectChecks times a scan and event; the next
  // one runs the scan, which answers for all its patterns at once. An event
  // thus reads a field at most kDirectChecks + 1 more times, whatever rules
  // it makes candidates.
  static constexpr uint32_t kDirectChecks = 4;
  std::vector<LiteralCheck> literal_checks;

  // Rule groups: rules with the same EventFilter (selectors, programs,
  // facilities, formats; not `carries`) form one group. Patterns,
  // databases, scans and always-candidates are per group, and an event
  // scans only the groups whose filter it passes: those its selectors
  // (Event::selectors, set by LogSourceMap::Classify) name, and those
  // without selectors, each then checked for program, facility and format.
  // A rule outside them would fail its EventFilter anyway.
  // CompileOptions::group_by_logsource = false puts every rule in group 0
  // (no filter: every event scans it).
  uint32_t group_count = 0;
  bool grouped = false;  // by logsource: a rule's EventFilter is its group's
  std::vector<rules::EventFilter> group_filters;  // per group
  std::vector<uint8_t> group_checks;              // per group: programs, facilities or formats
  std::vector<uint32_t> unselected_groups;        // groups without selectors
  // ... of which those an event without a program may pass (most are
  // syslog programs' groups: a JSON event checks none of them).
  std::vector<uint32_t> unselected_programless_groups;
  std::vector<Range> selector_groups;  // per selector id: into selector_group_ids
  std::vector<uint32_t> selector_group_ids;
  // Per field found through field_scans: its scans, one per group with
  // patterns on it, ascending by group (memory in the number of scans, not
  // groups x fields).
  struct GroupScan {
    uint32_t group = 0;
    uint32_t scan = 0;
  };
  std::vector<Range> field_group_scans;  // per field: into group_scans
  std::vector<GroupScan> group_scans;
  std::vector<Range> group_header_scans;  // per group: into header_scans
  std::vector<Range> group_always;        // per group: into always_candidates
  // Event fields with a scan in some group, found by name while walking the
  // event's fields; the others (header names such as host or message, and
  // the keyword scan) are looked up by GetField, which knows the header
  // fields.
  ScanIndex field_scans;
  std::vector<uint32_t> header_scans;
  std::vector<uint32_t> always_candidates;  // ascending within each group

  // Without rule groups: the distinct EventFilters of the rules, each
  // checked at most once an event (ScratchState::filter_epochs), and per
  // scan the filters of the rules with a pattern in its databases. A scan
  // none of whose filters the event passes is skipped: its marks could
  // only make candidates of rules that fail their filter (with the shipped
  // pack: the message of a firewall or web server line is not scanned for
  // the sshd rules' keywords). An empty range: some rule there has no
  // filter, the scan always runs.
  std::vector<rules::EventFilter> filters;
  std::vector<Range> scan_filters;  // per scan: into scan_filter_ids
  std::vector<uint32_t> scan_filter_ids;
  hs_scratch_t* prototype_scratch = nullptr;

  ~MatcherData() {
    if (prototype_scratch != nullptr) hs_free_scratch(prototype_scratch);
  }
};

struct ScratchState {
  hs_scratch_t* hs = nullptr;
  // Per pattern, for this event: 0 not found (yet), 1 found, 2 a
  // LiteralCheck found it absent (verify patterns only). Reset via touched.
  std::vector<uint8_t> pattern_marks;
  std::vector<uint32_t> touched;  // patterns marked for this event
  std::vector<uint8_t> rule_marks;
  std::vector<uint32_t> candidates;     // rules with a fired pattern
  std::vector<uint32_t> field_epochs;   // per field: the event (epoch) that scanned it
  std::vector<uint32_t> group_epochs;   // per group: the event (epoch) it is eligible for
  std::vector<uint32_t> groups;         // the groups eligible for this event
  std::vector<uint32_t> filter_epochs;  // per filter: the event (epoch) it was checked for
  std::vector<uint8_t> filter_pass;     // ... and whether the event passed it
  std::vector<uint32_t> verify_epochs;  // per verify scan: the event (epoch) it ran for
  std::vector<uint32_t> check_epochs;   // per verify scan: the event its checks count for
  std::vector<uint32_t> checks;         // ... and how many LiteralChecks ran then
  uint32_t epoch = 0;
  // The keyword text of a JSON event (KeywordsSearchValues), built once an
  // event: keyword_epoch is the event it holds.
  std::string keyword_text;
  uint32_t keyword_epoch = 0;
  Matcher::Scratch::Counts counts;
  PcreMatchData match_data;
  std::unique_ptr<RegexMatchContext> regex;
  std::vector<std::unique_ptr<indicators::IndicatorList::Scratch>> indicator_scratch;

  ~ScratchState() {
    if (hs != nullptr) hs_free_scratch(hs);
  }
};

}  // namespace internal

// The private names of matcher.h are these (free functions use the bases).
struct Matcher::Impl : internal::MatcherData {};
struct Matcher::Scratch::State : internal::ScratchState {};

}  // namespace gsoc::match
