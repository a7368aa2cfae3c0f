#include "engine/decode/regex_convert.h"

#include <gtest/gtest.h>

namespace gsoc::decode {
namespace {

TEST(StripNamedGroups, RewritesNamedGroupsOnly) {
  EXPECT_EQ(StripNamedGroups("(?<user>\\S+) (?P<ip>\\d+) (?'p'\\d+)"), "(\\S+) (\\d+) (\\d+)");
  EXPECT_EQ(StripNamedGroups("(?<=a)(?<!b)(?:c)(?i)x"), "(?<=a)(?<!b)(?:c)(?i)x");
  EXPECT_EQ(StripNamedGroups("\\(?<x>y"), "\\(?<x>y");
  EXPECT_EQ(StripNamedGroups("[(?<x>]y"), "[(?<x>]y");
  EXPECT_EQ(StripNamedGroups("[](?<x>]y(?<z>w)"), "[](?<x>]y(w)");
  EXPECT_EQ(StripNamedGroups("[[:alpha:](?<x>]y"), "[[:alpha:](?<x>]y");
  EXPECT_EQ(StripNamedGroups("\\Q(?<x>\\E(?<y>z)"), "\\Q(?<x>\\E(z)");
  EXPECT_EQ(StripNamedGroups("a\\"), "a\\");
}

}  // namespace
std::string Literal(std::string_view regex) {
  const auto found = FindRequiredLiteral(regex);
  if (!found) return "<none>";
  return found->caseless ? "(?i)" + found->text : found->text;
}

TEST(FindRequiredLiteral, LongestTopLevelRun) {
  EXPECT_EQ(Literal("Failed (?<m>[\\w-]+) for (?:invalid user )?(?<u>.*?) from (?<ip>\\S+) port "
                    "(?<p>\\d+)"),
            "Failed ");
  EXPECT_EQ(Literal("^Accepted (?<m>[\\w-]+) for"), "Accepted ");
  EXPECT_EQ(Literal("\\[UFW (?:LIMIT )?BLOCK\\] IN=(?<i>\\S*)"), "BLOCK] IN=");
  EXPECT_EQ(Literal("a\\.b\\-c\\ d"), "a.b-c d");  // escaped punctuation is literal
  EXPECT_EQ(Literal("x\\Qa.b*\\Ey"), "xa.b*y");    // \Q...\E quotes
  EXPECT_EQ(Literal("]}#,-"), "]}#,-");            // literal outside a class
  EXPECT_EQ(Literal("a{bcd"), "bcd");              // a '{' that is no quantifier ends a run
}

TEST(FindRequiredLiteral, QuantifiedAtomsAreNotRequired) {
  EXPECT_EQ(Literal("abcd?ef"), "abc");      // 'd' may be absent
  EXPECT_EQ(Literal("abcx*yz"), "abc");      // 'x' may be absent
  EXPECT_EQ(Literal("abcx+?yz"), "abc");     // lazy: still ends the run
  EXPECT_EQ(Literal("abcx{0,2}yz"), "abc");  // counted
  EXPECT_EQ(Literal("ab(?:cd)?efgh"), "efgh");
  EXPECT_EQ(Literal("ab[cd]{2}efg"), "efg");
  EXPECT_EQ(Literal("a\\Qbcd\\E?ef"), "abc");  // the last quoted character is quantified
  EXPECT_EQ(Literal("abc\\d+wxyz"), "wxyz");   // \d and friends end a run
}

TEST(FindRequiredLiteral, EscapeArgumentsAreNotLiterals) {
  EXPECT_EQ(Literal("(?<w>\\b\\w+) \\k<word>\\b"), " ");  // not "<word>"
  EXPECT_EQ(Literal("ab\\k'name'x"), "ab");
  EXPECT_EQ(Literal("ab\\k{name}x"), "ab");
  EXPECT_EQ(Literal("ab\\g{-1}cdef"), "cdef");
  EXPECT_EQ(Literal("ab\\g-12cdef"), "cdef");
  EXPECT_EQ(Literal("ab\\x41cdef"), "cdef");  // two hex digits belong to \x
  EXPECT_EQ(Literal("ab\\x{1F}cdef"), "cdef");
  EXPECT_EQ(Literal("ab\\p{Lu}cdef"), "cdef");
  EXPECT_EQ(Literal("ab\\pLcdef"), "cdef");
  EXPECT_EQ(Literal("ab\\cAcdef"), "cdef");
  EXPECT_EQ(Literal("ab\\12345cdef"), "cdef");
  EXPECT_EQ(Literal("ab\\o{17}cdef"), "cdef");
}

TEST(FindRequiredLiteral, NoneWhenNoSingleLiteralIsRequired) {
  EXPECT_EQ(Literal("foo|barbaz"), "<none>");  // top-level alternation
  EXPECT_EQ(Literal("(?x) a b c"), "<none>");  // extended: spaces are not literal
  EXPECT_EQ(Literal("(foo|bar)"), "<none>");
  EXPECT_EQ(Literal("[abc]+\\d*.*"), "<none>");
  EXPECT_EQ(Literal(""), "<none>");
}

TEST(FindRequiredLiteral, GroupsClassesAndCommentsAreSkippedWhole) {
  EXPECT_EQ(Literal("(a(b)c)(?#x ( y)zz[)|(]yy"), "zz");
  EXPECT_EQ(Literal("[]|)]abc"), "abc");         // ']' first in a class is a member
  EXPECT_EQ(Literal("[[:alpha:]|]abc"), "abc");  // POSIX class inside a class
  EXPECT_EQ(Literal("(?<n>\\)|x)abc"), "abc");   // an escaped ')' does not close the group
  EXPECT_EQ(Literal("(?i)Failed password"), "(?i)Failed password");
  EXPECT_EQ(Literal("abc(?i:de)"), "(?i)abc");  // caseless anywhere widens the prefilter
}

// The literal really is in everything the regex matches: every SSH line of
// the corpus matches PCRE2 only if it contains the literal (checked with
// the regexes of the shipped pack in decoder_test's differential test).

}  // namespace gsoc::decode
