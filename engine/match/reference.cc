// ReferenceMatches: the Sigma semantics written as plainly as possible, one
// rule at a time, with no index and no Hyperscan. String values are matched
// by a hand-written glob matcher (ASCII case folding like Hyperscan's
// CASELESS); `re` values by PCRE2 (no JIT requirement; cached per thread).
// The differential test holds Matcher::Match to this.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/decode/regex_limits.h"
#include "engine/match/direct_ops.h"
#include "engine/match/matcher.h"

namespace gsoc::match {

namespace {

using rules::Condition;
using rules::MatchOp;

struct GlobToken {
  enum Kind { kByte, kAnyOne, kAnyRun } kind;
  char byte;
};

// Sigma escapes: `\*`, `\?`, `\\` are literal; any other backslash is literal.
std::vector<GlobToken> ParseGlob(const std::string& text) {
  std::vector<GlobToken> tokens;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() &&
        (text[i + 1] == '*' || text[i + 1] == '?' || text[i + 1] == '\\')) {
      tokens.push_back({GlobToken::kByte, text[++i]});
    } else if (c == '*') {
      tokens.push_back({GlobToken::kAnyRun, 0});
    } else if (c == '?') {
      tokens.push_back({GlobToken::kAnyOne, 0});
    } else {
      tokens.push_back({GlobToken::kByte, c});
    }
  }
  return tokens;
}

char FoldAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whole-subject glob match with backtracking to the last `*`.
bool GlobMatch(const std::vector<GlobToken>& tokens, std::string_view subject, bool cased) {
  size_t t = 0, s = 0;
  size_t star_t = std::string::npos, star_s = 0;
  while (s < subject.size()) {
    if (t < tokens.size() && tokens[t].kind == GlobToken::kAnyRun) {
      star_t = t++;
      star_s = s;
      continue;
    }
    if (t < tokens.size() && (tokens[t].kind == GlobToken::kAnyOne ||
                              (cased ? tokens[t].byte == subject[s]
                                     : FoldAscii(tokens[t].byte) == FoldAscii(subject[s])))) {
      ++t;
      ++s;
      continue;
    }
    if (star_t == std::string::npos) return false;
    t = star_t + 1;
    s = ++star_s;
  }
  while (t < tokens.size() && tokens[t].kind == GlobToken::kAnyRun) ++t;
  return t == tokens.size();
}

bool StringMatches(const rules::ValueMatcher& value, std::string_view subject) {
  std::vector<GlobToken> tokens = ParseGlob(value.text);
  GlobToken any{GlobToken::kAnyRun, 0};
  if (value.op == MatchOp::kContains || value.op == MatchOp::kEndsWith) {
    tokens.insert(tokens.begin(), any);
  }
  if (value.op == MatchOp::kContains || value.op == MatchOp::kStartsWith) tokens.push_back(any);
  return GlobMatch(tokens, subject, value.cased);
}

struct CodeFree {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct DataFree {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

bool RegexMatches(const rules::ValueMatcher& value, std::string_view subject) {
  uint32_t options = 0;
  if (value.regex_caseless) options |= PCRE2_CASELESS;
  if (value.regex_multiline) options |= PCRE2_MULTILINE;
  if (value.regex_dotall) options |= PCRE2_DOTALL;
  thread_local std::map<std::pair<std::string, uint32_t>, std::unique_ptr<pcre2_code, CodeFree>>
      cache;
  auto& code = cache[{value.text, options}];
  if (!code) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(value.text.data()), value.text.size(),
                             options, &error, &offset, nullptr));
    if (!code) return false;
  }
  std::unique_ptr<pcre2_match_data, DataFree> data(
      pcre2_match_data_create_from_pattern(code.get(), nullptr));
  thread_local const RegexMatchContext limits{RegexLimits{}};  // the engine's defaults
  return pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                     data.get(), limits.get(subject.size())) >= 0;
}

struct Context {
  const EventBatch& batch;
  const Event& event;
  const indicators::IndicatorRegistry* indicators;
  std::string_view keywords;  // what keywords search (Matcher's KeywordText)
};

bool ValueMatches(const rules::FieldPredicate& predicate, const rules::ValueMatcher& value,
                  const Context& context) {
  FieldLookup field = predicate.field.empty() ? FieldLookup{true, context.keywords}
                                              : internal::LookupPredicateField(
                                                    context.batch, context.event, predicate.field);
  switch (value.op) {
    case MatchOp::kEquals:
    case MatchOp::kContains:
    case MatchOp::kStartsWith:
    case MatchOp::kEndsWith:
      return field.present && StringMatches(value, field.value);
    case MatchOp::kRegex:
      return field.present && RegexMatches(value, field.value);
    case MatchOp::kCidr: {
      std::array<uint8_t, 16> address;
      return field.present && value.cidr && ParseIpAddress(field.value, address) &&
             value.cidr->Contains(address);
    }
    case MatchOp::kExists:
      return field.present == value.exists;
    case MatchOp::kNull:
      return !field.present || field.value.empty();
    case MatchOp::kLt:
    case MatchOp::kLte:
    case MatchOp::kGt:
    case MatchOp::kGte:
      return field.present && internal::CompareNumber(value.op, field.value, value.number);
    case MatchOp::kFieldRef:
      return field.present &&
             internal::EqualsFieldRef(field, GetField(context.batch, context.event, value.text));
    case MatchOp::kTimePart:
      return field.present && internal::TimePartEquals(field.value, value.time_part, value.number);
    case MatchOp::kIndicator: {
      if (!field.present || context.indicators == nullptr) return false;
      auto it = context.indicators->find(value.indicator_list);
      if (it == context.indicators->end() || !it->second) return false;
      if (predicate.field.empty() || value.text == "contains") {
        auto scratch = it->second->MakeScratch();
        return it->second->ContainsSubstring(field.value, *scratch);
      }
      return it->second->Matches(field.value);
    }
  }
  return false;
}

bool ValuesMatch(const rules::FieldPredicate& predicate, const Context& context) {
  if (predicate.all) {
    for (const auto& value : predicate.values) {
      if (!ValueMatches(predicate, value, context)) return false;
    }
    return true;
  }
  for (const auto& value : predicate.values) {
    if (ValueMatches(predicate, value, context)) return true;
  }
  return false;
}

bool PredicateMatches(const rules::FieldPredicate& predicate, const Context& context) {
  if (!predicate.negated) return ValuesMatch(predicate, context);
  for (const auto& value : predicate.values) {  // |fieldref|neq: both fields present
    if (value.op == MatchOp::kFieldRef &&
        !GetField(context.batch, context.event, value.text).present)
      return false;
  }
  return !ValuesMatch(predicate, context) &&
         internal::LookupPredicateField(context.batch, context.event, predicate.field).present;
}

bool SelectionMatches(const rules::Rule& rule, int index, const Context& context) {
  if (index < 0 || static_cast<size_t>(index) >= rule.selections.size()) return false;
  for (const auto& alternative : rule.selections[index].alternatives) {
    bool all = true;
    for (const auto& predicate : alternative) all = all && PredicateMatches(predicate, context);
    if (all) return true;
  }
  return false;
}

bool ConditionMatches(const rules::Rule& rule, const Condition& condition, const Context& context) {
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      return SelectionMatches(rule, condition.selection, context);
    case Condition::Kind::kAnd:
      for (const auto& child : condition.children) {
        if (!ConditionMatches(rule, child, context)) return false;
      }
      return true;
    case Condition::Kind::kOr:
      for (const auto& child : condition.children) {
        if (ConditionMatches(rule, child, context)) return true;
      }
      return false;
    case Condition::Kind::kNot:
      return !condition.children.empty() && !ConditionMatches(rule, condition.children[0], context);
    case Condition::Kind::kOneOf:
      for (int s : condition.selections) {
        if (SelectionMatches(rule, s, context)) return true;
      }
      return false;
    case Condition::Kind::kAllOf:
      for (int s : condition.selections) {
        if (!SelectionMatches(rule, s, context)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

bool ReferenceMatches(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                      const indicators::IndicatorRegistry* indicators,
                      const rules::LogSourceMap* logsources) {
  if (logsources != nullptr) {
    std::optional<rules::EventFilter> filter = logsources->Resolve(rule.logsource);
    if (!filter || !filter->Matches(event)) return false;
  }
  std::string values;
  if (internal::KeywordsSearchValues(event)) internal::KeywordValues(batch, event, &values);
  const std::string_view keywords = internal::KeywordsSearchValues(event)
                                        ? std::string_view(values)
                                        : std::string_view(event.message);
  return ConditionMatches(rule, rule.condition, Context{batch, event, indicators, keywords});
}

}  // namespace gsoc::match
