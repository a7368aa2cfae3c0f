// Sigma wildcard values: `*`, `?` wildcards; `\*`, `\?`, `\\` escapes; a
// backslash before anything else (or at the end) is a literal backslash.
#include "engine/rules/wildcard.h"

namespace gsoc::rules {

namespace {

// Calls emit(kind, byte) for every token of the value: kind 'l' a literal
// byte, '*' any run, '?' any one byte.
template <typename Emit>
void Tokenize(std::string_view value, Emit&& emit) {
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\') {
      if (i + 1 < value.size()) {
        char next = value[i + 1];
        if (next == '*' || next == '?' || next == '\\') {
          emit('l', next);
          ++i;
          continue;
        }
      }
      emit('l', '\\');
    } else if (c == '*' || c == '?') {
      emit(c, c);
    } else {
      emit('l', c);
    }
  }
}

void AppendRegexLiteral(std::string& out, char c) {
  auto byte = static_cast<unsigned char>(c);
  if ((byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') ||
      (byte >= 'A' && byte <= 'Z') || byte == '_') {
    out.push_back(c);
  } else if (byte >= 0x21 && byte < 0x7f) {
    // Printable punctuation: a backslash makes it literal in PCRE and Hyperscan.
    out.push_back('\\');
    out.push_back(c);
  } else {
    // Space, control bytes (NUL too: Hyperscan patterns are C strings) and
    // bytes >= 0x80 (patterns are compiled without UTF-8 mode): hex escape.
    static constexpr char kHex[] = "0123456789abcdef";
    const char hex[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    out.append(hex, 4);
  }
}

}  // namespace

std::string LiteralToRegex(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (char c : literal) AppendRegexLiteral(out, c);
  return out;
}

bool HasWildcards(std::string_view sigma_value) {
  bool found = false;
  Tokenize(sigma_value, [&](char kind, char) { found = found || kind != 'l'; });
  return found;
}

std::string Unescape(std::string_view sigma_value) {
  std::string out;
  out.reserve(sigma_value.size());
  Tokenize(sigma_value, [&](char, char c) { out.push_back(c); });
  return out;
}

std::string ToRegex(std::string_view sigma_value) {
  std::string out;
  out.reserve(sigma_value.size() * 2);
  Tokenize(sigma_value, [&](char kind, char c) {
    if (kind == '*') {
      out.append(".*");
    } else if (kind == '?') {
      out.push_back('.');
    } else {
      AppendRegexLiteral(out, c);
    }
  });
  return out;
}

}  // namespace gsoc::rules
