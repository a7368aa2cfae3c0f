// LiteralCheck: whether a value has a literal (a Sigma `contains`,
// `startswith`, `endswith` or `equals` value without wildcards) as
// Hyperscan would find it, checked directly on one value.
//
// Why: a pattern no rule's trigger holds sits in a verify scan
// (MatcherData::verify_scans), scanned only for a candidate rule that
// reads it. A candidate often reads one or two such patterns of a field
// whose verify database holds thousands (process creation rules' `not
// filter` values on CommandLine); a check each is cheaper than the scan.
//
// Same answers as Hyperscan: a caseless literal compares ASCII letters
// case-insensitively and every other byte exactly (HS_FLAG_CASELESS without
// UTF-8 mode), a cased one byte for byte.
//
// Ownership and threading: a value type, read-only after construction;
// Matches may run on any number of threads at once. No allocation.
#pragma once

#include <string>
#include <string_view>

namespace gsoc::match::internal {

class LiteralCheck {
 public:
  enum class Kind : unsigned char { kContains, kPrefix, kSuffix, kWhole };
  LiteralCheck(Kind kind, std::string_view text, bool cased);
  bool Matches(std::string_view value) const;

 private:
  Kind kind_;
  bool cased_;
  std::string text_;  // ASCII lower-case unless cased_
};

}  // namespace gsoc::match::internal
