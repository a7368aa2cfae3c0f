// PCRE2 (8-bit, JIT when available) for what Hyperscan cannot decide alone:
// confirming prefilter matches of `re` values with backreferences or
// lookaround, and patterns that match the empty value. Private to engine/match.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
// Unanchored search. No allocation with JIT; never throws.
bool PcreSearch(const pcre2_real_code_8* code, std::string_view subject,
                pcre2_real_match_data_8* data);

}  // namespace gsoc::match::internal
