// ASCII case folding for names and keywords (config values, URL schemes,
// condition keywords, agency names, HTTP headers): bytes outside A-Z are
// kept, so UTF-8 passes through unchanged. Not for the hot path's
// case-insensitive matching (the matcher folds in place, without allocating).
#pragma once

#include <string>
#include <string_view>

namespace gsoc {

inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace gsoc
