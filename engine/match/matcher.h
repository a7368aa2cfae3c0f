// The matcher: every detection rule against every event, via Hyperscan.
//
// Compile (once per rule set, at load/reload, on a background thread):
//  - every string ValueMatcher (equals/contains/startswith/endswith with
//    wildcards, re) of every rule becomes one Hyperscan pattern in the
//    database of its field (keywords: the `message` database); literals go
//    through hs_compile_lit_multi where possible; flags SINGLEMATCH,
//    CASELESS unless cased, DOTALL for wildcard-derived patterns;
//  - `re` values Hyperscan cannot compile (backreferences, lookaround) are
//    compiled with HS_FLAG_PREFILTER and confirmed with PCRE2 (JIT), or the
//    rule is refused with a clear reason;
//  - cidr, lt/lte/gt/gte, exists, null and indicator (|expand) values are
//    evaluated directly, without Hyperscan;
//  - databases are serialized to cache_dir keyed by a hash of the rule set
//    (and Hyperscan version / platform), so an unchanged restart loads them
//    instead of compiling.
//
// Match (hot path, worker threads, no allocation, no exceptions): for each
// field that has a database, the event's value is scanned once; the ids that
// fired mark predicates; only rules with a marked predicate, plus rules that
// need no positive atom (e.g. `not` only, exists/null/cidr-only), are then
// evaluated against their condition tree and logsource filter.
//
// Threading: a Matcher is immutable after Compile; each worker owns one
// Scratch (Hyperscan scratch clone + per-event marks).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/decode/regex_limits.h"
#include "engine/event/event_batch.h"
#include "engine/indicators/indicator_list.h"
#include "engine/rules/logsource_map.h"
#include "engine/rules/rule.h"

namespace gsoc::match {

// Bounds on a rule set (rules.limits): a rule that would exceed one is
// refused with its file:line and the limit's name. They bound the memory of
// a compile (and so of a reload, which holds the old set and the new one).
struct SetLimits {
  size_t max_values_per_rule = 5'000;  // values (after modifier expansion) in one rule
  size_t max_patterns = 50'000;        // Hyperscan patterns in the whole set
};

struct CompileOptions {
  std::filesystem::path cache_dir;  // empty: no on-disk cache
  size_t compile_threads = 0;       // Hyperscan compiles in parallel; 0: one per core, at most 4
  const indicators::IndicatorRegistry* indicators = nullptr;
  const rules::LogSourceMap* logsources = nullptr;  // null: every rule applies to every event
  RegexLimits regex;                                // every PCRE2 match on event data
  SetLimits limits;
  // Scan each event only against the patterns of rules whose logsource
  // selects it (matcher_impl.h, "Rule groups"). False: one group for every
  // rule, every field scanned against every rule's patterns (the layout
  // before the groups, kept as the reference the differential test holds
  // the groups to).
  bool group_by_logsource = true;
  // ... but only for at least this many rules. Groups trade more Hyperscan
  // scans a field (one per eligible group) for fewer rules evaluated: with
  // the SigmaHQ corpus (3,752 rules) 3.4 rules an event instead of 22.2,
  // 1.4x replay's rate; with the shipped pack on syslog (a few hundred
  // rules) the extra scans made gsocd 7% slower end to end.
  size_t group_min_rules = 1000;
  // User regexes that PCRE2 must run (Hyperscan cannot decide them alone:
  // minimum width 0, or backreferences/lookaround confirmed after a
  // prefilter) are a warning, or, with this set (rules.strict), refused.
  bool refuse_pcre_fallback = false;
};

struct CompileStats {
  size_t rules = 0;
  size_t patterns = 0;
  size_t databases = 0;
  size_t affix_patterns = 0;   // of the patterns, anchored literals in AffixTables, not databases
  size_t verify_patterns = 0;  // of the patterns, in verify databases (scanned for candidates)
  size_t groups = 0;           // rule groups (CompileOptions::group_by_logsource)
  bool from_cache = false;
  double seconds = 0;
};

class Matcher {
 public:
  class Scratch;

  struct CompileResult {
    std::unique_ptr<Matcher> matcher;        // holds the rules that compiled
    std::vector<rules::RuleError> refused;   // rules that could not be compiled
    std::vector<rules::RuleError> warnings;  // accepted, but see the reason (PCRE2 fallback)
    CompileStats stats;
  };
  static CompileResult Compile(std::vector<rules::Rule> rules, const CompileOptions& options);
  ~Matcher();

  std::unique_ptr<Scratch> MakeScratch() const;
  const std::vector<rules::Rule>& rules() const;

  // Calls on_match(rule_index) for every rule the event matches, in rule order.
  void Match(const EventBatch& batch, const Event& event, Scratch& scratch,
             const std::function<void(size_t rule_index)>& on_match) const;

  // Rules whose regexes hit a RegexLimits bound (each hit counted as no
  // match), most hits first; only rules with hits. Any thread.
  struct RuleLimitHits {
    size_t rule = 0;  // index into rules()
    uint64_t hits = 0;
  };
  std::vector<RuleLimitHits> regex_limit_hits() const;

 private:
  struct Impl;
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Defined here (not only declared) so that callers can destroy the
// std::unique_ptr<Scratch> MakeScratch returns. One thread at a time; sized
// for the Matcher that made it (use it only with that Matcher).
class Matcher::Scratch {
 public:
  // What Match did with this scratch so far (for benchmarks and reports).
  struct Counts {
    uint64_t events = 0;           // Match calls
    uint64_t rules_evaluated = 0;  // rules whose condition was evaluated (after the prefilter)
    uint64_t scans = 0;            // hs_scan calls (verify scans included)
    uint64_t verifies = 0;         // of them, verify scans (MatcherData::verify_scans)
    uint64_t literal_checks = 0;   // verify patterns checked on their own (LiteralCheck)
    uint64_t groups = 0;           // rule groups eligible, summed over events
  };
  const Counts& counts() const;

  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class Matcher;
  struct State;
  explicit Scratch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The plain evaluator: the Sigma semantics with no index, no Hyperscan, one
// rule at a time (std::regex / PCRE2 and simple string compares). The
// differential test and `gsocctl logtest --explain` use it; never the hot path.
bool ReferenceMatches(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                      const indicators::IndicatorRegistry* indicators,
                      const rules::LogSourceMap* logsources);

}  // namespace gsoc::match
