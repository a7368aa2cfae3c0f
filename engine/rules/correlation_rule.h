// The correlation model: Sigma correlation rules (sigma-correlation-rules-
// specification v2.1) as the loader produces them and the Correlator runs
// them, plus gsoc's two extensions (`absent`, `suppress`; README
// "Correlation").
//
// Plain values built once at load, off the hot path; a CorrelationSet is
// immutable once built and shared read-only by every worker (it belongs to a
// RuleEngine generation, like the compiled detection rules).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/rules/rule.h"
#include "engine/rules/sigma_loader.h"

namespace gsoc::correlate {

enum class CorrelationType : uint8_t {
  kEventCount,       // events per group within timespan
  kValueCount,       // distinct values of `field` per group within timespan
  kTemporal,         // all referenced rules (or `condition` many of them) within timespan
  kTemporalOrdered,  // ... in the order of `rules`
  kValueSum,         // sum of numeric `field` per group within timespan
  kValueAvg,         // average of numeric `field` per group within timespan
  kValueMedian,      // median of numeric `field` per group within timespan (percentile 50)
  // Per group, the share (percent of the window's inputs) of each value of
  // `field`; fires when some value's share satisfies the condition. Always
  // decided when the window closes (a share needs the whole population).
  kValuePercentile,
};
const char* CorrelationTypeName(CorrelationType type);

// `condition:` of a correlation: every bound given must hold (a range is two
// bounds). Compared against the count, distinct count, sum or average.
struct CountCondition {
  std::optional<double> gt, gte, lt, lte, eq, neq;

  bool Holds(double value) const;
  bool empty() const;
  // True when a bound can stop holding as the value grows (lt, lte, eq, neq):
  // such a condition is only decided when the window closes.
  bool HasUpperBound() const;
  std::string ToString() const;  // "gte 10", "gt 100 and lte 200"
};

// One entry of `rules:`, resolved.
struct RuleRef {
  enum class Kind : uint8_t { kDetection, kCorrelation };
  std::string written;  // the name or id as written in the rule
  Kind kind = Kind::kDetection;
  uint32_t index = 0;  // into Matcher::rules() or CorrelationSet::rules
  std::string name;    // the referenced rule's `name` (aliases are keyed by it); may be empty
};

struct CorrelationRule {
  // Meta, as in a detection rule. A correlation without `level` is medium.
  std::string id;  // `id`, or "<file stem>:<line>" when absent
  // `title`; when absent (the spec's temporal examples have none), the name or id.
  std::string name;
  std::string title;
  std::string description;
  std::string status;
  rules::Level level = rules::Level::kMedium;
  std::vector<std::string> tags;
  rules::SourceLocation location;
  // The description or tags went past rules::MetadataLimits and were cut.
  bool metadata_truncated = false;
  // The revision of the meta above and the type (rules::RevisionHasher), set
  // by the loader; alerts carry it.
  uint64_t revision = 0;

  CorrelationType type = CorrelationType::kEventCount;
  std::vector<RuleRef> refs;          // `rules:`, in order (the order matters for ordered types)
  std::vector<std::string> group_by;  // names, possibly aliases; ANDed
  // For each group_by entry, the field to read for each ref:
  // group_fields[g][r] is the event field holding group_by[g] when the input
  // comes from refs[r] (the alias mapping, or group_by[g] itself).
  std::vector<std::vector<std::string>> group_fields;
  int64_t timespan_ns = 0;
  CountCondition condition;  // empty for temporal types = all refs must occur
  std::string field;         // value_count / value_sum / value_avg / ...: `condition.field`
  bool generate = false;     // referenced rules also alert on their own

  // gsoc extensions (README "Correlation"):
  // `suppress: <duration>`: after a firing for a group, further firings for
  // that group are counted, not emitted, until this long (event time) has
  // passed; default timespan; 0 disables.
  int64_t suppress_ns = 0;
  // `absent: <rule>` on temporal_ordered: the last ref must NOT follow the
  // others within timespan of the first; the correlation fires when the
  // window closes without it.
  bool absent_last = false;

  // Canonical text of everything that shapes state (type, refs' ids,
  // group-by, fields, timespan, condition, absent). Checkpointed state and
  // state kept across a reload are reused only when it is unchanged.
  std::string fingerprint;
};

// Where a detection or correlation hit must be fed: correlation `rule`
// (index into CorrelationSet::rules), as its `ref`-th referenced rule.
struct Route {
  uint32_t rule = 0;
  uint32_t ref = 0;
};

struct CorrelationSet {
  // Ordered so that a correlation comes after every correlation it refers
  // to (the loader refuses cycles).
  std::vector<CorrelationRule> rules;
  // Routing tables: by detection rule index (Matcher::rules()) and by
  // correlation index. Empty vectors for rules nothing refers to.
  std::vector<std::vector<Route>> detection_routes;
  std::vector<std::vector<Route>> correlation_routes;
  // `generate`: a rule referred to by correlations only alerts on its own
  // when at least one of them says `generate: true`. True = do not alert.
  std::vector<bool> detection_silenced;
  std::vector<bool> correlation_silenced;

  bool empty() const { return rules.empty(); }
};

struct CorrelationLoadResult {
  std::shared_ptr<const CorrelationSet> set;  // never null; may be empty
  std::vector<rules::RuleError> refused;      // file:line, rule id, reason
};

// Parses the correlation documents the Sigma loader set aside, resolves
// `rules:` against the compiled detection rules (by id or name) and against
// each other, and builds the routing tables. Anything unsupported
// (value_percentile, unknown type or key, missing required key, a reference
// to no rule or to a refused one, a cycle, an alias naming no referenced rule,
// a bad timespan or condition, `absent` not naming the last rule...) refuses
// that correlation with a reason; correlations that refer to a refused one
// are refused too. Never throws.
CorrelationLoadResult LoadCorrelations(const std::vector<rules::CorrelationDocument>& documents,
                                       const std::vector<rules::Rule>& detection_rules);

}  // namespace gsoc::correlate
