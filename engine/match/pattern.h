// Pattern translation (private to engine/match): a string ValueMatcher
// (equals/contains/startswith/endswith/re) -> one Hyperscan expression with
// its flags, or a literal for hs_compile_lit_multi.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/rules/rule.h"

namespace gsoc::match::internal {

struct PatternText {
  std::string expression;   // regex text, or the raw bytes when `literal`
  unsigned flags = 0;       // HS_FLAG_*
  bool literal = false;     // contains without wildcards: hs_compile_lit_multi
  bool user_regex = false;  // from |re: Hyperscan may refuse it (prefilter + PCRE2)
  // Minimum match length for string ops (0: the pattern matches the empty
  // value and is evaluated with PCRE2 instead of Hyperscan). For user
  // regexes it is computed later with hs_expression_info.
  size_t min_width = 0;
  // equals without wildcards: the whole value must be these bytes (ASCII
  // case-insensitively unless HS_FLAG_CASELESS is off). Empty otherwise.
  std::string exact;
  // A value without wildcards: the literal (as `exact` holds it) and where
  // it is anchored (neither: contains); empty for other values.
  std::string anchored;
  bool anchored_left = false;
  bool anchored_right = false;
};

bool IsStringOp(rules::MatchOp op);  // equals/contains/startswith/endswith/re

// Canonicalizes (leading/trailing `*` become the op: `*x*` equals ->
// contains x) and translates. `op` must satisfy IsStringOp.
PatternText Translate(const rules::ValueMatcher& value);

// PCRE2 compile options equivalent to Hyperscan flags (no UTF).
uint32_t PcreOptions(unsigned hs_flags);

}  // namespace gsoc::match::internal
