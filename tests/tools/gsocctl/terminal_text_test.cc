#include "tools/gsocctl/terminal_text.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace gsoc::ctl {
namespace {

using namespace std::string_literals;

TEST(TerminalSafe, ControlBytesBecomeVisibleEscapes) {
  EXPECT_EQ(TerminalSafe("\x1b]0;PWNED\x07\x1b[2J"), "\\x1b]0;PWNED\\x07\\x1b[2J");
  EXPECT_EQ(TerminalSafe("a\0b"s), "a\\x00b");  // a NUL hides nothing
  EXPECT_EQ(TerminalSafe("tab\there\r\nnext\x7f"), "tab\\x09here\\x0d\\x0anext\\x7f");
  EXPECT_EQ(TerminalSafe("plain text, C:\\path, caf\xc3\xa9"), "plain text, C:\\path, caf\xc3\xa9");
}

TEST(TerminalSafe, C1BidiAndInvalidUtf8) {
  EXPECT_EQ(TerminalSafe("x\xc2\x9b"
                         "2Jy"),
            "x\\u009b2Jy");  // C1 CSI
  EXPECT_EQ(TerminalSafe("a\xe2\x80\xae"
                         "b"),
            "a\\u202eb");                                      // right-to-left override
  EXPECT_EQ(TerminalSafe("\xff\xc3"), "\\xff\\xc3");           // not UTF-8, cut short
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(TerminalSafe("\xe2\x82\xac \xf0\x9f\x98\x80"), "\xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(TerminalSafe, JsonModeKeepsTheSameDocument) {
  const std::string hostile =
      "{\"user\":\"a\xc2\x9b\xe2\x80\xae"
      "b\x7f\",\"n\":1}";
  const std::string safe = TerminalSafeJson(hostile);
  EXPECT_EQ(safe, "{\"user\":\"a\\u009b\\u202eb\\u007f\",\"n\":1}");
  simdjson::dom::parser parser;
  simdjson::dom::element original;
  simdjson::dom::element escaped;
  ASSERT_EQ(parser.parse(hostile).get(original), simdjson::SUCCESS);
  const std::string_view original_view = original["user"];
  const std::string original_user{original_view};
  simdjson::dom::parser second;
  ASSERT_EQ(second.parse(safe).get(escaped), simdjson::SUCCESS);
  const std::string_view escaped_view = escaped["user"];
  EXPECT_EQ(std::string(escaped_view), original_user);
  EXPECT_EQ(TerminalSafeJson("{\"a\":\n1}"), "{\"a\": 1}");
  EXPECT_EQ(TerminalSafeJson("\"\xff\""), "\"\\ufffd\"");
}

}  // namespace
}  // namespace gsoc::ctl
