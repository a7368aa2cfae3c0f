// Helpers for the matcher tests: events in a batch, rules built in code.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "engine/event/event_batch.h"
#include "engine/match/matcher.h"
#include "engine/rules/rule.h"
#include "tests/util/temp_dir.h"

namespace gsoc::match::testing {

struct EventSpec {
  std::string message;
  std::string program;
  std::vector<std::pair<std::string, std::string>> fields;
  int facility = -1;
  EventFormat format = EventFormat::kRfc3164;
};

inline Event& AddTestEvent(EventBatch& batch, const EventSpec& spec) {
  Event& event = batch.AddEvent();
  event.format = spec.format;
  event.facility = static_cast<int8_t>(spec.facility);
  event.message = batch.arena().Copy(spec.message);
  event.program = batch.arena().Copy(spec.program);
  event.raw = event.message;
  for (const auto& [name, value] : spec.fields) {
    batch.AddField(event, batch.arena().Copy(name), batch.arena().Copy(value));
  }
  return event;
}

inline rules::ValueMatcher Value(rules::MatchOp op, std::string text, bool cased = false) {
  rules::ValueMatcher value;
  value.op = op;
  value.text = std::move(text);
  value.cased = cased;
  return value;
}

inline rules::ValueMatcher Regex(std::string text, bool caseless = false, bool multiline = false,
                                 bool dotall = false) {
  rules::ValueMatcher value = Value(rules::MatchOp::kRegex, std::move(text));
  value.regex_caseless = caseless;
  value.regex_multiline = multiline;
  value.regex_dotall = dotall;
  return value;
}

inline rules::FieldPredicate Pred(std::string field, std::vector<rules::ValueMatcher> values,
                                  bool all = false) {
  return {std::move(field), std::move(values), all};
}

// A selection with one alternative (AND of predicates).
inline rules::Selection Sel(std::string name, std::vector<rules::FieldPredicate> predicates) {
  rules::Selection selection;
  selection.name = std::move(name);
  selection.alternatives.push_back(std::move(predicates));
  return selection;
}

inline rules::Condition C(int selection) {
  rules::Condition condition;
  condition.kind = rules::Condition::Kind::kSelection;
  condition.selection = selection;
  return condition;
}
inline rules::Condition Op(rules::Condition::Kind kind, std::vector<rules::Condition> children) {
  rules::Condition condition;
  condition.kind = kind;
  condition.children = std::move(children);
  return condition;
}
inline rules::Condition And(rules::Condition a, rules::Condition b) {
  return Op(rules::Condition::Kind::kAnd, {std::move(a), std::move(b)});
}
inline rules::Condition Or(rules::Condition a, rules::Condition b) {
  return Op(rules::Condition::Kind::kOr, {std::move(a), std::move(b)});
}
inline rules::Condition Not(rules::Condition a) {
  return Op(rules::Condition::Kind::kNot, {std::move(a)});
}
inline rules::Condition Of(rules::Condition::Kind kind, std::vector<int> selections) {
  rules::Condition condition;
  condition.kind = kind;
  condition.selections = std::move(selections);
  return condition;
}

inline rules::Rule MakeRule(std::string id, std::vector<rules::Selection> selections,
                            rules::Condition condition) {
  rules::Rule rule;
  rule.id = id;
  rule.title = id;
  rule.selections = std::move(selections);
  rule.condition = std::move(condition);
  rule.location = {"test/" + id + ".yml", 3};
  return rule;
}

// Rule ids the matcher reports for the event.
inline std::vector<std::string> MatchIds(const Matcher& matcher, Matcher::Scratch& scratch,
                                         const EventBatch& batch, const Event& event) {
  std::vector<std::string> ids;
  matcher.Match(batch, event, scratch,
                [&](size_t index) { ids.push_back(matcher.rules()[index].id); });
  return ids;
}

// Rule ids the reference evaluator says match.
inline std::vector<std::string> ReferenceIds(
    const Matcher& matcher, const EventBatch& batch, const Event& event,
    const indicators::IndicatorRegistry* registry = nullptr,
    const rules::LogSourceMap* logsources = nullptr) {
  std::vector<std::string> ids;
  for (const rules::Rule& rule : matcher.rules()) {
    if (ReferenceMatches(rule, batch, event, registry, logsources)) ids.push_back(rule.id);
  }
  return ids;
}

// A fresh directory under the system temp dir, removed at destruction.
using TempDir = gsoc::test::TempDir;

}  // namespace gsoc::match::testing
