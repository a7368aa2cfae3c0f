// ASCII case folding for names and keywords (config values, URL schemes,
// condition keywords, agency names, HTTP headers): bytes outside A-Z are
// kept, so UTF-8 passes through unchanged (as Hyperscan's CASELESS folds).
// AsciiLower allocates: the hot path folds byte by byte with AsciiLowerChar.
#pragma once

#include <string>
#include <string_view>

namespace gsoc {

constexpr char AsciiLowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

}  // namespace gsoc
