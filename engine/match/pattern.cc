#include "engine/match/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include <string_view>

#include "engine/rules/wildcard.h"

namespace gsoc::match::internal {

using rules::MatchOp;

namespace {

// A trailing `*` is a wildcard unless an odd run of backslashes precedes it
// (`\\` pairs up from the left; `\*` is a literal star).
bool EndsWithWildcardStar(std::string_view text) {
  if (text.empty() || text.back() != '*') return false;
  size_t backslashes = 0;
  for (size_t i = text.size() - 1; i > 0 && text[i - 1] == '\\'; --i) ++backslashes;
  return backslashes % 2 == 0;
}

size_t CountNonStarTokens(std::string_view text) {
  // Unescape keeps one byte per token; wildcards `*` are dropped below.
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() &&
        (text[i + 1] == '*' || text[i + 1] == '?' || text[i + 1] == '\\')) {
      ++i;
      ++count;
    } else if (text[i] != '*') {
      ++count;
    }
  }
  return count;
}

}  // namespace

bool IsStringOp(MatchOp op) {
  return op == MatchOp::kEquals || op == MatchOp::kContains || op == MatchOp::kStartsWith ||
         op == MatchOp::kEndsWith || op == MatchOp::kRegex;
}

PatternText Translate(const rules::ValueMatcher& value) {
  PatternText out;
  if (value.op == MatchOp::kRegex) {
    out.expression = value.text;
    out.user_regex = true;
    out.flags = HS_FLAG_SINGLEMATCH;
    if (value.regex_caseless) out.flags |= HS_FLAG_CASELESS;
    if (value.regex_multiline) out.flags |= HS_FLAG_MULTILINE;
    if (value.regex_dotall) out.flags |= HS_FLAG_DOTALL;
    return out;
  }
  // Anchors: equals both, startswith left, endswith right, contains none.
  bool anchor_left = value.op == MatchOp::kEquals || value.op == MatchOp::kStartsWith;
  bool anchor_right = value.op == MatchOp::kEquals || value.op == MatchOp::kEndsWith;
  std::string_view text = value.text;
  // `*x` anchored left is x unanchored left (DOTALL: `.*` spans anything).
  while (!text.empty() && text.front() == '*') {
    anchor_left = false;
    text.remove_prefix(1);
  }
  while (EndsWithWildcardStar(text)) {
    anchor_right = false;
    text.remove_suffix(1);
  }
  out.min_width = CountNonStarTokens(text);
  out.flags = HS_FLAG_SINGLEMATCH;
  if (!value.cased) out.flags |= HS_FLAG_CASELESS;
  if (!anchor_left && !anchor_right && !rules::HasWildcards(text)) {
    out.literal = true;
    out.expression = rules::Unescape(text);
    out.anchored = out.expression;
    return out;
  }
  if (!rules::HasWildcards(text)) {
    out.anchored = rules::Unescape(text);
    out.anchored_left = anchor_left;
    out.anchored_right = anchor_right;
    if (anchor_left && anchor_right) out.exact = out.anchored;
  }
  out.flags |= HS_FLAG_DOTALL;
  // Built with push_back/append: `s = "^"; s += x` trips GCC 12's -Wrestrict
  // false positive (PR105329).
  std::string expression;
  if (anchor_left) expression.push_back('^');
  expression.append(rules::ToRegex(text));
  if (anchor_right) expression.append("\\z");
  out.expression = std::move(expression);
  return out;
}

uint32_t PcreOptions(unsigned hs_flags) {
  uint32_t options = 0;
  if (hs_flags & HS_FLAG_CASELESS) options |= PCRE2_CASELESS;
  if (hs_flags & HS_FLAG_DOTALL) options |= PCRE2_DOTALL;
  if (hs_flags & HS_FLAG_MULTILINE) options |= PCRE2_MULTILINE;
  return options;
}

}  // namespace gsoc::match::internal
