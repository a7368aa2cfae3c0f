// Private to the correlation loader (correlation_parse.cc, correlation_loader.cc):
// one correlation document between parsing and building, and the errors
// both passes raise.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/rules/correlation_rule.h"

namespace gsoc::correlate::loader_internal {

// Bounds against hostile rule files.
constexpr size_t kMaxRefs = 64;
constexpr size_t kMaxGroupBy = 16;
constexpr size_t kMaxAliases = kMaxGroupBy;  // each alias must be a group-by entry

// A `rules:` entry or `absent:` value as written, with its line.
struct Written {
  std::string text;
  int line = 0;  // 1-based, of the file or the document text (Draft::lines_of_file); 0 if unknown
};

struct Alias {
  Written name;
  std::vector<std::pair<Written, std::string>> fields;  // rule name -> event field
};

// A referenced rule during resolution: a detection rule or a draft.
struct Target {
  RuleRef::Kind kind = RuleRef::Kind::kDetection;
  uint32_t index = 0;  // into the detection rules or the drafts
  bool operator==(const Target&) const = default;
};

// One correlation document between parsing and building.
struct Draft {
  CorrelationRule rule;  // refs' indices point into drafts until the set is built
  std::vector<Written> refs;
  std::vector<Target> targets;  // resolved refs
  std::vector<Alias> aliases;
  std::optional<Written> absent;
  std::optional<rules::RuleError> error;  // set: refused
  bool lines_of_file = false;             // lines are the file's, not the document text's
};

// An error at `line` (of the file or the document text) of the draft's document.
rules::RuleError MakeError(const Draft& draft, int line, std::string reason, int column = 0);
// Refuses the draft (the first reason stays).
void RefuseDraft(Draft& draft, int line, std::string reason);
std::string Quoted(std::string_view text);

// Pass 1 (correlation_parse.cc): one document alone into a Draft; a refused
// draft keeps its id and name. Never throws.
Draft ParseDocument(const rules::CorrelationDocument& document);

}  // namespace gsoc::correlate::loader_internal
