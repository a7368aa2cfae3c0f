#include "engine/util/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>

namespace gsoc {
namespace {

using json_writer_internal::EscapePath;

std::string Json(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

// Parses `json` (a JSON string literal) with simdjson, which also validates
// the UTF-8; returns the decoded string, or fails the test.
::testing::AssertionResult Decode(const std::string& json, std::string* decoded) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element element;
  if (auto error = parser.parse(padded).get(element)) {
    return ::testing::AssertionFailure()
           << "not JSON (" << simdjson::error_message(error) << "): " << json;
  }
  std::string_view text;
  if (element.get_string().get(text) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "not a JSON string: " << json;
  }
  decoded->assign(text);
  return ::testing::AssertionSuccess();
}

const std::string kFffd = "\\ufffd";
const std::string kFffdUtf8 = "\xef\xbf\xbd";

TEST(JsonWriterTest, PlainAsciiIsQuoted) {
  EXPECT_EQ(Json(""), "\"\"");
  EXPECT_EQ(Json("hello world"), "\"hello world\"");
  EXPECT_EQ(Json("a/b <c> & 'd' \x7f"), "\"a/b <c> & 'd' \x7f\"");
}

TEST(JsonWriterTest, AppendsToExistingText) {
  std::string out = "{\"k\":";
  AppendJsonString(out, "v");
  out += "}";
  EXPECT_EQ(out, "{\"k\":\"v\"}");
}

TEST(JsonWriterTest, EscapesQuotesAndBackslash) {
  EXPECT_EQ(Json("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(Json("C:\\path\\"), R"("C:\\path\\")");
  EXPECT_EQ(Json("\\\""), R"("\\\"")");
  EXPECT_EQ(Json("\""), R"("\"")");
}

TEST(JsonWriterTest, EscapesControlCharacters) {
  EXPECT_EQ(Json("a\nb"), R"("a\nb")");
  EXPECT_EQ(Json("a\rb"), R"("a\rb")");
  EXPECT_EQ(Json("a\tb"), R"("a\tb")");
  EXPECT_EQ(Json("\x01"), R"("\u0001")");
  EXPECT_EQ(Json("\x08\x0c"), R"("\u0008\u000c")");
  EXPECT_EQ(Json("\x1f"), R"("\u001f")");
  EXPECT_EQ(Json("\x1b[31mred"), R"("\u001b[31mred")");
  EXPECT_EQ(Json(std::string_view("a\0b", 3)), R"("a\u0000b")");
  for (int c = 0; c < 0x20; ++c) {
    const std::string input(1, static_cast<char>(c));
    const std::string json = Json(input);
    std::string decoded;
    ASSERT_TRUE(Decode(json, &decoded));
    EXPECT_EQ(decoded, input) << c;
    EXPECT_EQ(json.find(static_cast<char>(c)), std::string::npos) << "raw control char " << c;
  }
}

TEST(JsonWriterTest, ValidMultiByteUtf8PassesThrough) {
  const std::string cases[] = {
      "caf\xc3\xa9",                           // é, 2 bytes
      "\xc2\x80",                              // U+0080, smallest 2-byte
      "\xdf\xbf",                              // U+07FF
      "\xe0\xa0\x80",                          // U+0800, smallest 3-byte
      "\xe2\x82\xac 10",                       // €
      "\xed\x9f\xbf",                          // U+D7FF, just below surrogates
      "\xee\x80\x80",                          // U+E000, just above surrogates
      "\xef\xbf\xbf",                          // U+FFFF
      "\xf0\x90\x80\x80",                      // U+10000, smallest 4-byte
      "\xf0\x9f\x98\x80",                      // 😀
      "\xf4\x8f\xbf\xbf",                      // U+10FFFF, largest
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",  // 日本語
      "\xef\xbb\xbf"
      "BOM",  // U+FEFF
  };
  for (const std::string& text : cases) {
    EXPECT_EQ(Json(text), "\"" + text + "\"");
    std::string decoded;
    ASSERT_TRUE(Decode(Json(text), &decoded));
    EXPECT_EQ(decoded, text);
  }
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  // Lone continuation bytes.
  EXPECT_EQ(Json("\x80"), "\"" + kFffd + "\"");
  EXPECT_EQ(Json("a\xbf"
                 "b"),
            "\"a" + kFffd + "b\"");
  // Overlong encodings of '/' and of NUL.
  EXPECT_EQ(Json("\xc0\xaf"), "\"" + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xc1\xbf"), "\"" + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xe0\x80\xaf"), "\"" + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xf0\x80\x80\xaf"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");
  // UTF-16 surrogates encoded in UTF-8 (CESU-8).
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xed\xbf\xbf"), "\"" + kFffd + kFffd + kFffd + "\"");
  // Beyond U+10FFFF, and bytes that never occur in UTF-8.
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xf8"), "\"" + kFffd + "\"");
  EXPECT_EQ(Json("\xff\xfe"), "\"" + kFffd + kFffd + "\"");
  // A lead byte followed by ASCII: the ASCII is kept.
  EXPECT_EQ(Json("\xc3"
                 "A"),
            "\"" + kFffd + "A\"");
  EXPECT_EQ(Json("\xe2\x82\"x"), "\"" + kFffd + kFffd + "\\\"x\"");
}

TEST(JsonWriterTest, TruncatedSequenceAtEnd) {
  for (std::string text : {"a\xc3", "a\xe2\x82", "a\xf0\x9f\x98", "a\xf0"}) {
    const std::string json = Json(text);
    EXPECT_EQ(json.rfind("\"a" + kFffd, 0), 0u) << json;
    EXPECT_EQ(json.back(), '"');
    std::string decoded;
    ASSERT_TRUE(Decode(json, &decoded));
    ASSERT_GE(decoded.size(), 4u);
    EXPECT_EQ(decoded.substr(0, 4), "a" + kFffdUtf8);
    // Only replacement characters after the 'a'.
    for (size_t at = 1; at < decoded.size(); at += 3) {
      EXPECT_EQ(decoded.substr(at, 3), kFffdUtf8) << json;
    }
  }
  // A valid sequence right before a truncated one is kept.
  std::string decoded;
  ASSERT_TRUE(Decode(Json("\xc3\xa9\xe2\x82"), &decoded));
  EXPECT_EQ(decoded.substr(0, 2), "\xc3\xa9");
}

TEST(JsonWriterTest, OutputAlwaysParsesAsJsonForRandomBytes) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> length(0, 64);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> kind(0, 3);
  const char interesting[] = {'"',    '\\',   '\n',   '\x01', '\x7f', '\x80', '\xbf',
                              '\xc0', '\xc3', '\xe2', '\xed', '\xf0', '\xf4', '\xff'};
  std::uniform_int_distribution<size_t> pick(0, sizeof(interesting) - 1);
  size_t valid_inputs = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int n = length(rng);
    for (int k = 0; k < n; ++k) {
      switch (kind(rng)) {
        case 0:
          text.push_back(static_cast<char>(byte(rng)));
          break;
        case 1:
          text.push_back(interesting[pick(rng)]);
          break;
        case 2:
          text += "\xe2\x82\xac";
          break;
        default:
          text.push_back(static_cast<char>('a' + k % 26));
          break;
      }
    }
    const std::string json = Json(text);
    std::string decoded;
    ASSERT_TRUE(Decode(json, &decoded)) << "input #" << i;
    // Valid input round-trips exactly; invalid input decodes to valid UTF-8
    // (simdjson validated it above).
    if (simdjson::validate_utf8(text.data(), text.size())) {
      ++valid_inputs;
      ASSERT_EQ(decoded, text) << "input #" << i;
    } else {
      ASSERT_NE(decoded.find(kFffdUtf8), std::string::npos) << "input #" << i;
    }
  }
  EXPECT_GT(valid_inputs, 100u);
}

// Runs of plain bytes of every length around the 16-byte blocks, each
// ended by a byte of another kind at every offset: the block path gives
// the bytes the byte-by-byte path gives.
TEST(JsonWriterTest, BlockCopyingEqualsTheBytewiseEscaping) {
  std::mt19937 rng(2026);
  const std::string specials[] = {"\"",   "\\",   "\n",       "\r\n\t",       "\x01",
                                  "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                  "\x80", "\xff", "\xe2\x82"};
  std::uniform_int_distribution<size_t> pick(0, std::size(specials) - 1);
  std::uniform_int_distribution<int> run(0, 40);
  const std::string_view kPlain = "abcXYZ019 ,.:;{}[]/'";
  size_t compared = 0, compared_by_path[3] = {};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int pieces = i % 7;
    for (int p = 0; p <= pieces; ++p) {
      const int plain = run(rng);
      for (int k = 0; k < plain; ++k) text.push_back(kPlain[(k * 7 + p) % kPlain.size()]);
      if (p < pieces) text += specials[pick(rng)];
    }
    std::string blocks = "prefix:", bytewise = "prefix:";
    AppendJsonString(blocks, text);
    json_writer_internal::AppendJsonStringBy(EscapePath::kBytewise, bytewise, text);
    ASSERT_EQ(blocks, bytewise) << "input #" << i;
    for (const EscapePath path : {EscapePath::kSse2Blocks, EscapePath::kAvx512Blocks}) {
      if (!json_writer_internal::HasEscapePath(path)) continue;
      std::string by_path = "prefix:";
      json_writer_internal::AppendJsonStringBy(path, by_path, text);
      ASSERT_EQ(by_path, bytewise) << "input #" << i << ", path " << static_cast<int>(path);
      ++compared_by_path[static_cast<int>(path)];
    }
    compared += text.size();
  }
  EXPECT_GT(compared, 1'000'000u);
  EXPECT_EQ(compared_by_path[static_cast<int>(EscapePath::kSse2Blocks)] > 0,
            json_writer_internal::HasEscapePath(EscapePath::kSse2Blocks));
}

}  // namespace
}  // namespace gsoc
