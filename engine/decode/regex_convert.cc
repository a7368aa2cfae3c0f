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

namespace {

bool IsAlnum(char c) { return IsNameChar(c) && c != '_'; }

// Index just past the character class opening at regex[i] == '['.
size_t SkipClass(std::string_view regex, size_t i) {
  ++i;
  if (i < regex.size() && regex[i] == '^') ++i;
  if (i < regex.size() && regex[i] == ']') ++i;  // a literal member
  while (i < regex.size()) {
    if (regex[i] == '\\') {
      i += 2;
    } else if (regex[i] == '[' && i + 1 < regex.size() && regex[i + 1] == ':') {
      const size_t end = regex.find(":]", i + 2);
      i = end == std::string_view::npos ? i + 1 : end + 2;
    } else if (regex[i] == ']') {
      return i + 1;
    } else {
      ++i;
    }
  }
  return regex.size();
}

// Index just past the group opening at regex[i] == '(' (its matching ')').
size_t SkipGroup(std::string_view regex, size_t i) {
  int depth = 0;
  while (i < regex.size()) {
    const char c = regex[i];
    if (c == '\\') {
      if (i + 1 < regex.size() && regex[i + 1] == 'Q') {
        const size_t end = regex.find("\\E", i + 2);
        i = end == std::string_view::npos ? regex.size() : end + 2;
      } else {
        i += 2;
      }
    } else if (c == '[') {
      i = SkipClass(regex, i);
    } else if (c == '(' && regex.substr(i, 3) == "(?#") {  // a comment: up to the first ')'
      const size_t end = regex.find(')', i);
      i = end == std::string_view::npos ? regex.size() : end + 1;
      if (depth == 0) return i;
    } else if (c == '(') {
      ++depth, ++i;
    } else if (c == ')') {
      ++i;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return regex.size();
}

// Length of a quantifier at regex[i] (with its lazy/possessive suffix), 0 if none.
size_t QuantifierLength(std::string_view regex, size_t i) {
  if (i >= regex.size()) return 0;
  size_t j = i;
  if (regex[j] == '?' || regex[j] == '*' || regex[j] == '+') {
    ++j;
  } else if (regex[j] == '{') {
    size_t k = j + 1;
    bool digits = false, comma = false;
    while (k < regex.size() && ((regex[k] >= '0' && regex[k] <= '9') || regex[k] == ',')) {
      if (regex[k] == ',') {
        if (comma) return 0;
        comma = true;
      } else {
        digits = true;
      }
      ++k;
    }
    if (!digits || k >= regex.size() || regex[k] != '}') return 0;
    j = k + 1;
  } else {
    return 0;
  }
  if (j < regex.size() && (regex[j] == '?' || regex[j] == '+')) ++j;
  return j - i;
}

// Index just past the escape `\\<letter or digit>...` at regex[i], with its
// argument: `\\x41`, `\\x{..}`, `\\k<name>`, `\\g{-1}`, `\\p{L}`, `\\cA`, `\\12`.
size_t EscapeEnd(std::string_view regex, size_t i) {
  auto to = [&](size_t at, char close) {
    const size_t end = regex.find(close, at);
    return end == std::string_view::npos ? regex.size() : end + 1;
  };
  auto is_digit = [&](size_t at) {
    return at < regex.size() && regex[at] >= '0' && regex[at] <= '9';
  };
  auto is_hex = [&](size_t at) {
    return at < regex.size() && (is_digit(at) || (regex[at] >= 'a' && regex[at] <= 'f') ||
                                 (regex[at] >= 'A' && regex[at] <= 'F'));
  };
  const size_t j = i + 2;  // past the letter
  const char next = j < regex.size() ? regex[j] : '\0';
  switch (regex[i + 1]) {
    case 'c':
      return std::min(regex.size(), j + 1);
    case 'x': {
      if (next == '{') return to(j, '}');
      size_t k = j;
      while (k < j + 2 && is_hex(k)) ++k;
      return k;
    }
    case 'o':
    case 'N':
      return next == '{' ? to(j, '}') : j;
    case 'p':
    case 'P':
      return next == '{' ? to(j, '}') : std::min(regex.size(), j + 1);
    case 'k':
    case 'g':
      if (next == '{') return to(j, '}');
      if (next == '<') return to(j, '>');
      if (next == '\'') return to(j + 1, '\'');
      if (regex[i + 1] == 'g') {
        size_t k = j;
        if (next == '-' || next == '+') ++k;
        while (is_digit(k)) ++k;
        return k;
      }
      return j;
    default:
      if (regex[i + 1] >= '0' && regex[i + 1] <= '9') {
        size_t k = j;
        while (is_digit(k)) ++k;
        return k;
      }
      return j;  // \d, \s, \b, \t, ...: no argument
  }
}

// Inline options `(?flags)` or `(?flags:`: the letters, else empty.
std::string_view InlineOptions(std::string_view regex, size_t i) {
  if (i + 2 >= regex.size() || regex[i + 1] != '?') return {};
  size_t j = i + 2;
  while (j < regex.size() &&
         ((regex[j] >= 'a' && regex[j] <= 'z') || (regex[j] >= 'A' && regex[j] <= 'Z') ||
          regex[j] == '-' || regex[j] == '^')) {
    ++j;
  }
  if (j == i + 2 || j >= regex.size() || (regex[j] != ')' && regex[j] != ':')) return {};
  return regex.substr(i + 2, j - i - 2);
}

}  // namespace

std::optional<RequiredLiteral> FindRequiredLiteral(std::string_view regex) {
  RequiredLiteral best;
  std::string run;
  auto end_run = [&] {
    if (run.size() > best.text.size()) best.text = run;
    run.clear();
  };
  size_t i = 0;
  while (i < regex.size()) {
    const char c = regex[i];
    if (c == '|') return std::nullopt;  // top-level alternation
    if (c == '(') {
      const std::string_view options = InlineOptions(regex, i);
      if (options.find('x') != std::string_view::npos) return std::nullopt;
      if (options.find('i') != std::string_view::npos) best.caseless = true;
      end_run();
      i = SkipGroup(regex, i);
      i += QuantifierLength(regex, i);
      continue;
    }
    if (c == '[') {
      end_run();
      i = SkipClass(regex, i);
      i += QuantifierLength(regex, i);
      continue;
    }
    if (c == '\\' && i + 1 < regex.size() && regex[i + 1] == 'Q') {
      const size_t end = regex.find("\\E", i + 2);
      const size_t stop = end == std::string_view::npos ? regex.size() : end;
      const std::string_view quoted = regex.substr(i + 2, stop - i - 2);
      i = end == std::string_view::npos ? regex.size() : end + 2;
      if (QuantifierLength(regex, i) > 0) {  // the last quoted character is optional
        run.append(quoted.substr(0, quoted.empty() ? 0 : quoted.size() - 1));
        end_run();
        i += QuantifierLength(regex, i);
      } else {
        run.append(quoted);
      }
      continue;
    }
    char literal;
    size_t width = 1;
    if (c == '\\') {
      if (i + 1 >= regex.size()) break;
      if (IsAlnum(regex[i + 1])) {  // \d, \b, \1, \x41, \k<name>, ...
        end_run();
        i = EscapeEnd(regex, i);
        i += QuantifierLength(regex, i);
        continue;
      }
      literal = regex[i + 1];
      width = 2;
    } else if (c == '.' || c == '^' || c == '$' || c == ')' || c == '?' || c == '*' || c == '+' ||
               c == '{') {
      end_run();
      ++i;
      continue;
    } else {
      literal = c;
    }
    i += width;
    if (const size_t quantifier = QuantifierLength(regex, i); quantifier > 0) {
      end_run();  // the quantified character may be absent or repeated
      i += quantifier;
      continue;
    }
    run.push_back(literal);
  }
  end_run();
  if (best.text.empty()) return std::nullopt;
  return best;
}

}  // namespace gsoc::decode
