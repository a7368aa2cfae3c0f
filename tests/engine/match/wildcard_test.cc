#include "engine/rules/wildcard.h"

#include <gtest/gtest.h>

namespace gsoc::rules {
namespace {

TEST(Wildcard, HasWildcards) {
  EXPECT_FALSE(HasWildcards("plain"));
  EXPECT_TRUE(HasWildcards("a*b"));
  EXPECT_TRUE(HasWildcards("a?b"));
  EXPECT_FALSE(HasWildcards("a\\*b"));
  EXPECT_FALSE(HasWildcards("a\\?b"));
  EXPECT_TRUE(HasWildcards("a\\\\*"));  // escaped backslash, then a wildcard
  EXPECT_FALSE(HasWildcards(""));
}

TEST(Wildcard, Unescape) {
  EXPECT_EQ(Unescape("a\\*b"), "a*b");
  EXPECT_EQ(Unescape("a\\?b"), "a?b");
  EXPECT_EQ(Unescape("a\\\\b"), "a\\b");
  EXPECT_EQ(Unescape("C:\\Windows"), "C:\\Windows");  // backslash before a letter is literal
  EXPECT_EQ(Unescape("end\\"), "end\\");
  EXPECT_EQ(Unescape(""), "");
}

TEST(Wildcard, LiteralToRegexIsToRegexOfTheEscapedLiteral) {
  EXPECT_EQ(LiteralToRegex("C:\\Program Files\\*.exe?"),
            "C\\:\\\\Program\\x20Files\\\\\\*\\.exe\\?");
  EXPECT_EQ(LiteralToRegex(std::string_view("a\0\xe9", 3)), "a\\x00\\xe9");
  for (int byte = 0; byte < 256; ++byte) {
    const std::string literal = std::string("x") + static_cast<char>(byte) + "y";
    std::string escaped;
    for (char c : literal) {
      if (c == '*' || c == '?' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    EXPECT_EQ(LiteralToRegex(literal), ToRegex(escaped)) << "byte " << byte;
  }
}

TEST(Wildcard, ToRegex) {
  EXPECT_EQ(ToRegex("abc"), "abc");
  EXPECT_EQ(ToRegex("a*b?c"), "a.*b.c");
  EXPECT_EQ(ToRegex("a\\*b"), "a\\*b");
  EXPECT_EQ(ToRegex("a.b"), "a\\.b");
  EXPECT_EQ(ToRegex("(x)|[y]"), "\\(x\\)\\|\\[y\\]");
  EXPECT_EQ(ToRegex("a b"), "a\\x20b");
  EXPECT_EQ(ToRegex("\\\\*"), "\\\\.*");
  EXPECT_EQ(ToRegex("C:\\Win"), "C\\:\\\\Win");
  EXPECT_EQ(ToRegex(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(ToRegex("\xc3\xa9"), "\\xc3\\xa9");
}

}  // namespace
}  // namespace gsoc::rules
