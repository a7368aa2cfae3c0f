// PCRE2 (8-bit, JIT when available) for what Hyperscan cannot decide alone:
// confirming prefilter matches of `re` values with backreferences or
// lookaround, and patterns that match the empty value. Private to engine/match.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/decode/regex_limits.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

namespace gsoc::match::internal {

struct PcreCodeDeleter {
  void operator()(pcre2_real_code_8* code) const;
};
struct PcreMatchDataDeleter {
  void operator()(pcre2_real_match_data_8* data) const;
};
using PcreCode = std::unique_ptr<pcre2_real_code_8, PcreCodeDeleter>;
using PcreMatchData = std::unique_ptr<pcre2_real_match_data_8, PcreMatchDataDeleter>;

// Compiles (and JIT-compiles when possible); null with `error` set on failure.
PcreCode PcreCompile(const std::string& pattern, uint32_t options, std::string* error);
// Match data for group 0 only; one per thread.
PcreMatchData PcreMakeMatchData();
enum class PcreResult : uint8_t { kNoMatch, kMatch, kLimit };

// Unanchored search under the limits of `context` (a limit hit is kLimit,
// which callers count and treat as no match). No allocation with JIT;
// never throws.
PcreResult PcreSearch(const pcre2_real_code_8* code, std::string_view subject,
                      pcre2_real_match_data_8* data, const RegexMatchContext& context);

}  // namespace gsoc::match::internal
