// The rule model: what the Sigma loader produces and the matcher compiles.
//
// Plain values built once at load (allocation is fine there); immutable and
// shared read-only by every worker once a RuleSet is published.
//
// Semantics follow the Sigma specification (sigma-specification/specification):
//  - a Selection is an OR over alternatives; each alternative is an AND of
//    FieldPredicates (a YAML map is one alternative; a list of maps is several);
//  - a FieldPredicate holds a field name and value alternatives, ORed, or
//    ANDed when `|all` was given;
//  - keywords (a selection that is a plain list of values) are a predicate
//    with an empty field name, matched with `contains` against the message;
//  - values compare case-insensitively unless `cased`; plain values are whole
//    value matches with `*` and `?` wildcards (escaped with `\`);
//  - `|neq` negates a predicate: its field is present and differs from
//    every value (spec v2.1 generic modifier).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collectors/agency/agency_table.h"
#include "engine/util/diagnostic.h"

namespace gsoc::rules {

using gsoc::SourceLocation;  // engine/util/diagnostic.h

enum class MatchOp : uint8_t {
  kEquals,      // whole value, wildcards allowed
  kContains,    // |contains (wildcards allowed inside)
  kStartsWith,  // |startswith
  kEndsWith,    // |endswith
  kRegex,       // |re, with flags below
  kCidr,        // |cidr: value is an address in the prefix
  kExists,      // |exists: value "true"/"false" in `text`
  kLt,          // numeric comparisons: |lt |lte |gt |gte
  kLte,
  kGt,
  kGte,
  kNull,       // value `null`: the field is absent or empty
  kIndicator,  // |expand with a placeholder bound to an indicator list
  kFieldRef,   // |fieldref: equals (ASCII caseless) the event's field named by `text`
  kTimePart,   // |minute |hour |day |week |month |year: that part of a timestamp == `number`
};

// The part of a timestamp a time modifier compares, read as the field
// writes it (no time zone conversion): `YYYY-MM-DD[(T| )HH:MM[:SS...]]`;
// the week is the ISO 8601 week number.
enum class TimePart : uint8_t { kNone, kMinute, kHour, kDay, kWeek, kMonth, kYear };

struct ValueMatcher {
  MatchOp op = MatchOp::kEquals;
  // The value after transformation modifiers (base64, base64offset, windash,
  // wide/utf16 are expanded by the loader into several ValueMatchers of the
  // same predicate). For kEquals/kContains/kStartsWith/kEndsWith it is the
  // Sigma value with its wildcard escapes intact: `*`, `?` are wildcards and
  // `\*`, `\?`, `\\` literal (see rules/wildcard.h to convert it).
  std::string text;
  bool cased = false;  // |cased: case-sensitive
  // kRegex flags from |re|i, |re|m, |re|s.
  bool regex_caseless = false;
  bool regex_multiline = false;
  bool regex_dotall = false;
  double number = 0;                     // kLt..kGte, kTimePart (an integer)
  TimePart time_part = TimePart::kNone;  // kTimePart
  std::optional<Cidr> cidr;              // kCidr
  bool exists = true;                    // kExists
  std::string indicator_list;            // kIndicator: the placeholder name without %
  // (and `text` is "contains" for |contains|expand: a listed value occurring
  // inside the field; empty for |expand: the field equals or, for IPs, falls
  // in a listed value).
  bool operator==(const ValueMatcher&) const = default;
};

struct FieldPredicate {
  std::string field;  // empty: keyword search in the message
  std::vector<ValueMatcher> values;
  bool all = false;  // |all: every value must match
  // |neq: the field is present (and, for a fieldref value, the field it
  // names) and the values (ORed) do not match it.
  bool negated = false;
  bool operator==(const FieldPredicate&) const = default;
};

struct Selection {
  std::string name;
  // OR over alternatives; each alternative is an AND of predicates.
  std::vector<std::vector<FieldPredicate>> alternatives;
  bool operator==(const Selection&) const = default;
};

// Condition expression tree over selection indices.
struct Condition {
  enum class Kind : uint8_t { kSelection, kAnd, kOr, kNot, kOneOf, kAllOf };
  Kind kind = Kind::kSelection;
  int selection = -1;               // kSelection
  std::vector<int> selections;      // kOneOf / kAllOf: resolved selection indices
  std::vector<Condition> children;  // kAnd / kOr (2+), kNot (1)
  bool operator==(const Condition&) const = default;
};

struct LogSource {
  std::string product;
  std::string service;
  std::string category;
  bool operator==(const LogSource&) const = default;
};

enum class Level : uint8_t { kInformational, kLow, kMedium, kHigh, kCritical };
const char* LevelName(Level level);

struct Rule {
  std::string id;    // Sigma id (UUID) or, if absent, derived from file and title
  std::string name;  // Sigma `name` (used by correlations), may be empty
  std::string title;
  std::string description;
  std::string status;
  Level level = Level::kMedium;
  std::vector<std::string> tags;  // ATT&CK techniques/tactics are `attack.*` tags
  std::string author;
  std::vector<std::string> references;
  std::vector<std::string> falsepositives;
  // The loader capped the metadata above (rule_metadata.h): some was cut.
  bool metadata_truncated = false;
  // MetadataRevision of the above (rule_metadata.h), set by the loader.
  uint64_t revision = 0;
  LogSource logsource;
  std::vector<Selection> selections;
  Condition condition;  // several `condition` list entries are ORed
  SourceLocation location;
  // Custom attribute `aggregate_by` (engine/aggregate): the fields whose
  // values group this rule's hits into one alert; unset: the configured
  // default; empty: every hit is an alert of its own.
  std::optional<std::vector<std::string>> aggregate_by;
  // Field by field (tests: a rule read from the parse cache is the parsed one).
  bool operator==(const Rule&) const = default;
};

// A rule the loader could not accept (or a warning about one): the
// project's one diagnostic type.
using RuleError = gsoc::Diagnostic;

}  // namespace gsoc::rules
