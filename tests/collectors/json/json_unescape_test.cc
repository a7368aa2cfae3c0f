#include "collectors/json/json_unescape.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace gsoc::json_internal {
namespace {

// Byte by byte: bit i set when byte i is escaped; `carry` as EscapedBytes.
uint64_t ReferenceEscaped(uint64_t backslashes, uint64_t& carry) {
  uint64_t escaped = 0;
  bool pending = carry != 0;
  for (int i = 0; i < 64; ++i) {
    const bool is_backslash = (backslashes >> i) & 1;
    if (pending) {
      escaped |= uint64_t{1} << i;
      pending = false;
    } else if (is_backslash) {
      pending = true;
    }
  }
  carry = pending ? 1 : 0;
  return escaped;
}

TEST(EscapedBytes, MatchesAByteByByteWalkOnRandomBlocks) {
  std::mt19937_64 random(7);
  unsigned long long carry = 0;
  uint64_t reference_carry = 0;
  for (int round = 0; round < 200'000; ++round) {
    // Dense and sparse backslashes, long runs included.
    uint64_t backslashes = random();
    if (round % 3 == 1) backslashes |= random();
    if (round % 3 == 2) backslashes &= random() & random();
    if (round % 7 == 0) backslashes = ~uint64_t{0} << (random() % 64);
    const uint64_t expected = ReferenceEscaped(backslashes, reference_carry);
    ASSERT_EQ(EscapedBytes(backslashes, carry), expected) << std::hex << backslashes;
    ASSERT_EQ(carry, reference_carry);
  }
}

TEST(EscapedBytes, RunsOfBackslashes) {
  unsigned long long carry = 0;
  // "\\\\x": two escaped backslashes... bits 0-3 backslashes: 1 and 3 escaped.
  EXPECT_EQ(EscapedBytes(0b1111, carry), 0b1010u);
  EXPECT_EQ(carry, 0u);
  // Three: 1 escaped, the third escapes byte 3.
  EXPECT_EQ(EscapedBytes(0b0111, carry), 0b1010u);
  // A run starting on an odd byte.
  EXPECT_EQ(EscapedBytes(0b0110, carry), 0b0100u);
  // The last byte escapes the next block's first.
  EXPECT_EQ(EscapedBytes(uint64_t{1} << 63, carry), 0u);
  EXPECT_EQ(carry, 1u);
  EXPECT_EQ(EscapedBytes(0b11, carry), 0b101u);  // byte 0 escaped; byte 1 escapes byte 2
  EXPECT_EQ(carry, 0u);
}

// What simdjson makes of the JSON string `"body"`; nullopt when invalid.
std::optional<std::string> SimdjsonUnescaped(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  const std::string json = "\"" + body + "\"";
  if (parser.parse(json).get(element)) return std::nullopt;
  std::string_view text;
  if (element.get_string().get(text)) return std::nullopt;
  return std::string(text);
}

// The block unescaper on `"body"` followed by `rest`, in a buffer padded
// as the batch arena pads lines; nullopt when it declines.
std::optional<std::string> BlockUnescaped(const std::string& body, const std::string& rest = "") {
  std::string input = "\"" + body + "\"" + rest;
  const size_t limit = input.size();
  input.append(64, 'P');
  std::vector<char> out(body.size() + 64, '\0');
  const char* end = UnescapeSimpleEscapes(input.data() + 1, input.data() + limit, out.data());
  if (end == nullptr) return std::nullopt;
  return std::string(out.data(), static_cast<size_t>(end - out.data()));
}

class BlockUnescapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!BlockUnescapeAvailable()) {
      GTEST_SKIP() << "no AVX-512 VBMI2 here: simdjson unescapes every string";
    }
  }
};

TEST_F(BlockUnescapeTest, OneByteEscapes) {
  EXPECT_EQ(BlockUnescaped(R"(C:\\Windows\\System32\\rundll32.exe)"),
            "C:\\Windows\\System32\\rundll32.exe");
  EXPECT_EQ(BlockUnescaped(R"(a\"b\/c\b\f\n\r\t)"), "a\"b/c\b\f\n\r\t");
  EXPECT_EQ(BlockUnescaped(R"(\\)"), "\\");
  EXPECT_EQ(BlockUnescaped(R"(\\\")"), "\\\"");
  EXPECT_EQ(BlockUnescaped(""), "");
}

TEST_F(BlockUnescapeTest, EscapesAcrossBlockBoundaries) {
  // An escape whose backslash ends a 64-byte block, at each offset.
  for (size_t at = 0; at < 140; ++at) {
    const std::string body = std::string(at, 'x') + R"(\n\\\"y)" + std::string(at % 70, 'z');
    EXPECT_EQ(BlockUnescaped(body), SimdjsonUnescaped(body)) << at;
  }
}

TEST_F(BlockUnescapeTest, UnicodeAndInvalidEscapesAreLeftToSimdjson) {
  EXPECT_EQ(BlockUnescaped(R"(caf\u00e9)"), std::nullopt);
  EXPECT_EQ(BlockUnescaped(std::string(100, 'a') + R"(\u00e9)"), std::nullopt);
  EXPECT_EQ(BlockUnescaped(R"(bad \x escape)"), std::nullopt);
  EXPECT_EQ(BlockUnescaped("bad \\\xc3\xa9 escape"), std::nullopt);
}

TEST_F(BlockUnescapeTest, StopsAtTheLimitWithoutAClosingQuote) {
  std::string input = std::string(200, 'a');
  const size_t limit = input.size();
  input.append(64, '"');  // a quote past the limit is not the string's
  std::vector<char> out(300);
  EXPECT_EQ(UnescapeSimpleEscapes(input.data(), input.data() + limit, out.data()), nullptr);
}

TEST_F(BlockUnescapeTest, TheRestOfTheLineDoesNotMatter) {
  EXPECT_EQ(BlockUnescaped(R"(a\\b)", R"(,"k":"\u0041\\\"")"), "a\\b");
}

TEST_F(BlockUnescapeTest, MatchesSimdjsonOnRandomEscapeDenseStrings) {
  std::mt19937 random(11);
  // Mostly valid escapes and plain bytes; now and then a \u escape, a lone
  // backslash or quote (which may make the string invalid: skipped).
  const std::vector<std::string> common = {"\\\\", "\\\"", "\\n", "\\r", "\\t", "\\/",
                                           "\\b",  "\\f",  "a",   "Z",   " ",   "\xc3\xa9"};
  const std::vector<std::string> rare = {"\\u00e9", "\\", "\"", "\\q"};
  size_t compared = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::string body;
    const size_t tokens = random() % 200;
    for (size_t i = 0; i < tokens; ++i) {
      body += random() % 400 == 0 ? rare[random() % rare.size()] : common[random() % common.size()];
    }
    const std::optional<std::string> expected = SimdjsonUnescaped(body);
    if (!expected) continue;  // not one JSON string
    const std::optional<std::string> got = BlockUnescaped(body);
    if (got) {
      ASSERT_EQ(*got, *expected) << body;
      ++compared;
    } else {
      // Declined: only for a \u escape.
      ASSERT_NE(body.find("\\u"), std::string::npos) << body;
    }
  }
  EXPECT_GT(compared, 1000u);
}

}  // namespace
}  // namespace gsoc::json_internal
