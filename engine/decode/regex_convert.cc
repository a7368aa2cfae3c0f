#include "engine/decode/regex_convert.h"

namespace gsoc::decode {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// If `regex[i..]` opens a named group, returns the index just past the name's
// terminator; otherwise 0.
size_t NamedGroupEnd(std::string_view regex, size_t i) {
  // regex[i] == '(' and regex[i + 1] == '?'
  size_t j = i + 2;
  if (j < regex.size() && regex[j] == 'P') ++j;
  if (j >= regex.size()) return 0;
  char close;
  if (regex[j] == '<') {
    close = '>';
  } else if (regex[j] == '\'') {
    close = '\'';
  } else {
    return 0;
  }
  ++j;
  const size_t name_begin = j;
  while (j < regex.size() && IsNameChar(regex[j])) ++j;
  if (j == name_begin || j >= regex.size() || regex[j] != close) return 0;
  return j + 1;
}

}  // namespace

std::string StripNamedGroups(std::string_view regex) {
  std::string out;
  out.reserve(regex.size());
  size_t i = 0;
  bool in_class = false;
  while (i < regex.size()) {
    const char c = regex[i];
    if (c == '\\') {
      if (i + 1 < regex.size() && regex[i + 1] == 'Q') {
        // \Q...\E: literal up to \E (or the end).
        const size_t end = regex.find("\\E", i + 2);
        const size_t stop = end == std::string_view::npos ? regex.size() : end + 2;
        out.append(regex.substr(i, stop - i));
        i = stop;
        continue;
      }
      out.append(regex.substr(i, i + 1 < regex.size() ? 2 : 1));
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < regex.size() && regex[i + 1] == ':') {
        // POSIX class [:alpha:] inside a class.
        const size_t end = regex.find(":]", i + 2);
        if (end != std::string_view::npos) {
          out.append(regex.substr(i, end + 2 - i));
          i = end + 2;
          continue;
        }
      }
      if (c == ']') in_class = false;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      ++i;
      // A ']' right after '[' or '[^' is a literal member.
      if (i < regex.size() && regex[i] == '^') out.push_back(regex[i++]);
      if (i < regex.size() && regex[i] == ']') out.push_back(regex[i++]);
      continue;
    }
    if (c == '(' && i + 1 < regex.size() && regex[i + 1] == '?') {
      const size_t end = NamedGroupEnd(regex, i);
      if (end != 0) {
        out.push_back('(');
        i = end;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace gsoc::decode
