// The reference the literal tests hold engine code to, written out from the
// definition and sharing none of it: Hyperscan's HS_FLAG_CASELESS without
// UTF-8 mode folds the ASCII letters A-Z and no other byte.
#pragma once

#include <string_view>

namespace gsoc::match::testing {

inline char FoldAsciiLetter(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `a` and `b` are the same bytes, ASCII letters compared without case
// unless `cased`.
inline bool SameLiteralBytes(std::string_view a, std::string_view b, bool cased) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (cased ? a[i] != b[i] : FoldAsciiLetter(a[i]) != FoldAsciiLetter(b[i])) return false;
  }
  return true;
}

}  // namespace gsoc::match::testing
