// Sigma string values: wildcards `*` (any run) and `?` (one char), escaped
// with backslash (`\*`, `\?`, `\\`; a backslash before anything else is
// literal), per the Sigma specification.
#pragma once

#include <string>
#include <string_view>

namespace gsoc::rules {

// True if the value has an unescaped * or ?.
bool HasWildcards(std::string_view sigma_value);
// The value with escapes resolved, for values without wildcards.
std::string Unescape(std::string_view sigma_value);
// A regular expression (PCRE/Hyperscan syntax, no anchors) matching the
// value: literals escaped, `*` -> `.*`, `?` -> `.`.
std::string ToRegex(std::string_view sigma_value);
// A regular expression matching exactly the bytes `literal` (no wildcards,
// no escapes: every byte is itself).
std::string LiteralToRegex(std::string_view literal);

}  // namespace gsoc::rules
