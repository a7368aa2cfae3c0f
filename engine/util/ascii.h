// ASCII case folding for names and keywords (config values, URL schemes,
// condition keywords, agency names, HTTP headers): bytes outside A-Z are
// kept, so UTF-8 passes through unchanged (as Hyperscan's CASELESS folds).
// AsciiLower allocates: the hot path folds with AsciiLowerChar, eight bytes
// at a time with AsciiLower8, and compares with EqualsLowerAscii.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gsoc {

constexpr char AsciiLowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// AsciiLowerChar on each byte of a word, without a branch: a byte below
// 0x80 whose low seven bits are in 'A'..'Z' gets 0x20. The sums stay within
// their byte (at most 0x7f + 0x3f), so no carry crosses into the next one.
constexpr uint64_t AsciiLower8(uint64_t bytes) {
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t low7 = bytes & ~kHigh;
  const uint64_t at_least_a = low7 + 0x3f3f3f3f3f3f3f3fULL;  // high bit: >= 'A'
  const uint64_t above_z = low7 + 0x2525252525252525ULL;     // high bit: > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~bytes & kHigh;
  return bytes | upper >> 2;
}

// `text` equals `lower` (already lower case) ignoring ASCII case. Eight
// bytes a compare: classifying a Windows event compares its channel
// (`Microsoft-Windows-Sysmon/Operational`) with each candidate logsource's,
// and a byte at a time that was most of the time the classifier spent.
inline bool EqualsLowerAscii(std::string_view lower, std::string_view text) {
  const size_t n = text.size();
  if (lower.size() != n) return false;
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (AsciiLowerChar(text[i]) != lower[i]) return false;
    }
    return true;
  }
  auto same8 = [&](size_t at) {
    uint64_t a, b;
    std::memcpy(&a, text.data() + at, 8);
    std::memcpy(&b, lower.data() + at, 8);
    return AsciiLower8(a) == b;
  };
  for (size_t at = 0; at + 8 <= n; at += 8) {
    if (!same8(at)) return false;
  }
  return same8(n - 8);  // the last (overlapping) word covers the tail
}

inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

}  // namespace gsoc
