// Regex rewriting for the Hyperscan prefilter database.
//
// Hyperscan does not accept PCRE named groups; the prefilter only needs to
// know whether a pattern can match, so named groups become plain capturing
// groups: `(?<name>`, `(?P<name>` and `(?'name'` → `(`. Lookbehind `(?<=`,
// `(?<!`, escapes (`\(`, `\Q...\E`) and character classes are left alone.
#pragma once

#include <string>
#include <string_view>

namespace gsoc::decode {

std::string StripNamedGroups(std::string_view regex);

}  // namespace gsoc::decode
