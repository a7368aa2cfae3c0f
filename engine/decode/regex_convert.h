// Regex analysis for the Hyperscan prefilter databases.
//
// Hyperscan does not accept PCRE named groups; the prefilter only needs to
// know whether a pattern can match, so named groups become plain capturing
// groups: `(?<name>`, `(?P<name>` and `(?'name'` → `(`. Lookbehind `(?<=`,
// `(?<!`, escapes (`\(`, `\Q...\E`) and character classes are left alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gsoc::decode {

std::string StripNamedGroups(std::string_view regex);

// A literal every match of the regex contains: the longest run of literal
// characters in the regex's top-level sequence (outside groups, classes and
// quantified atoms), with `\x` escapes of punctuation and `\Q...\E` read
// as literals. nullopt when there is none (a top-level `|`, an extended-mode
// `(?x)`, only classes or groups). `caseless` when the regex sets `(?i)`
// anywhere (matching the literal caselessly only widens the prefilter).
// Conservative by construction: anything it does not understand ends a run.
struct RequiredLiteral {
  std::string text;
  bool caseless = false;
};
std::optional<RequiredLiteral> FindRequiredLiteral(std::string_view regex);

}  // namespace gsoc::decode
