// Private to gsoc_match: the rule compiler Matcher::Compile runs, shared by
// its two files: compile.cc (rules into atoms and patterns, limits, refusals
// and warnings) and compile_index.cc (candidate triggers, the per-group and
// per-field scan indexes, and the Hyperscan databases or the cache).
// One Compiler per Compile call; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/match/matcher.h"
#include "engine/match/matcher_impl.h"
#include "engine/match/pcre.h"

namespace gsoc::match::compile_internal {

using internal::Atom;
using internal::AtomKind;
using internal::kNoIndex;
using rules::Condition;
using rules::MatchOp;

constexpr bool kLiteralDatabases = false;

// A value translated for Hyperscan, before it gets a global pattern id.
struct PendingPattern {
  uint32_t group = 0;
  uint32_t field = 0;
  bool literal = false;
  std::string expression;
  unsigned flags = 0;
  bool prefilter = false;  // confirm with `pcre`
  // For confirming or demoting: the PCRE2 text, when it is not `expression`
  // (empty: it is; true of every literal, which LiteralToRegex gives both).
  std::string pcre_expression;
  uint32_t pcre_options = 0;
  const std::string& PcreExpression() const {
    return pcre_expression.empty() ? expression : pcre_expression;
  }
  size_t width = 0;   // minimum match length: longer is rarer (trigger choice)
  std::string exact;  // PatternText::exact
  // PatternText::anchored: an AffixTable entry instead of a Hyperscan
  // pattern (BuildDatabases) when anchored, unless `prefilter` or too long;
  // a verify pattern's LiteralCheck.
  std::string anchored;
  bool anchored_left = false;
  bool anchored_right = false;
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

class Compiler {
 public:
  Compiler(internal::MatcherData& impl, const CompileOptions& options)
      : impl_(impl), options_(options) {}

  // Appends the rule's data to impl_ (and its warnings to `warnings`) or
  // returns false with `error` (location and reason) set.
  bool AddRule(const rules::Rule& rule, rules::RuleError* error,
               std::vector<rules::RuleError>* warnings);
  void BuildDatabases(CompileStats* stats);
  std::vector<std::vector<uint32_t>> CompileSpecs(std::vector<internal::DatabaseSpec>& specs,
                                                  std::vector<internal::HsDatabase>* databases);

 private:
  uint32_t FieldIndex(const std::string& name);
  bool TranslateValue(const rules::ValueMatcher& value, uint32_t field, bool keyword,
                      PendingAtom* out, std::string* reason);
  uint32_t GroupIndex(const std::optional<rules::EventFilter>& filter);
  uint32_t RegisterPattern(PendingPattern&& pattern, internal::PcreCode confirm, uint32_t rule);
  bool WithinPatternLimit(const std::vector<PendingAtom*>& marked, std::string* reason);
  MaybeTrigger ConditionTrigger(uint32_t rule, const Condition& condition) const;
  MaybeTrigger SelectionTrigger(uint32_t selection) const;
  MaybeTrigger PredicateTrigger(const internal::Predicate& predicate) const;
  void Demote(uint32_t pattern);
  void IndexGroups();
  // Whether the pattern is an anchored literal the scan's AffixTable finds
  // (no Hyperscan pattern), and its entry there.
  static bool InAffixTable(const PendingPattern& pattern);
  internal::AffixTable::Entry AffixEntry(uint32_t pattern) const;
  // The LiteralCheck of verify pattern `pattern`, when it is a literal.
  std::optional<internal::LiteralCheck> LiteralCheckOf(uint32_t pattern) const;
  // Patterns kinds in BuildDatabases: a database's (literal, regex), an
  // AffixTable's, a verify scan's.
  enum Kind { kLiteral, kRegex, kAffix, kVerify, kKinds };
  std::vector<bool> ScannedWithTheEvent(uint32_t keywords, uint32_t message) const;
  void IndexScans();
  using ScanOf = std::map<std::pair<uint32_t, uint32_t>, uint32_t>;  // (group, field) -> scan
  void IndexFilters(const ScanOf& scan_of, const std::vector<uint32_t>& field_group);
  void IndexExact(const ScanOf& scan_of, const std::vector<uint32_t>& field_group);

  // A pattern's content: field, literal, flags, expression. The expression
  // is a view of pattern_text_'s (or, while looking up, of the pattern's
  // own): one copy of each expression, not one per index.
  using PatternKey = std::tuple<uint32_t, bool, unsigned, std::string_view>;
  static PatternKey KeyOf(const PendingPattern& pattern) {
    return {pattern.field, pattern.literal, pattern.flags, pattern.expression};
  }
  struct PatternKeyHash {
    size_t operator()(const PatternKey& key) const {
      const auto& [field, literal, flags, expression] = key;
      return std::hash<std::string_view>()(expression) ^
             (uint64_t{field} << 40 | uint64_t{flags} << 1 | uint64_t{literal}) *
                 0x9e3779b97f4a7c15ULL;
    }
  };
  struct GroupPatternKeyHash {
    size_t operator()(const std::pair<uint32_t, PatternKey>& key) const {
      return PatternKeyHash()(key.second) + key.first * 0xff51afd7ed558ccdULL;
    }
  };
  // The distinct contents registered so far (pattern_contents_), made the
  // first time a rule could take the set past max_patterns.
  void CountContents();

  internal::MatcherData& impl_;
  const CompileOptions& options_;
  std::map<std::string, uint32_t> field_index_;
  // The EventFilter of a group's rules, less `carries`: selectors,
  // programs, facilities, formats, each sorted.
  using GroupKey = std::tuple<std::vector<uint16_t>, std::vector<std::string>, std::vector<int>,
                              std::vector<int>>;
  static GroupKey KeyOf(const rules::EventFilter& filter);
  std::map<GroupKey, uint32_t> group_index_;
  std::vector<GroupKey> group_keys_;  // by group
  // Pattern ids by group and content; the limit counts contents once,
  // however many groups hold them (the set's size before the groups).
  // pattern_contents_ is kept only once counted (contents_counted_): until
  // a rule could pass the limit with every pattern it marks new, the
  // pattern ids (one per group and content) bound it.
  std::unordered_map<std::pair<uint32_t, PatternKey>, uint32_t, GroupPatternKeyHash> pattern_index_;
  std::unordered_set<PatternKey, PatternKeyHash> pattern_contents_;
  bool contents_counted_ = false;
  std::deque<PendingPattern> pattern_text_;           // by pattern id; never moved
  std::vector<std::vector<uint32_t>> pattern_rules_;  // by pattern id: rules with an atom on it
  std::map<std::string, uint32_t> indicator_index_;
};

}  // namespace gsoc::match::compile_internal
