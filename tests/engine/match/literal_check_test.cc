// LiteralCheck (engine/match/literal_check.h): a verify pattern's literal
// checked on one value with Hyperscan's answers: ASCII letters fold for a
// caseless literal and nothing else does; contains anywhere, a prefix
// starts the value, a suffix ends it, a whole literal is the value. Held to
// a brute-force reference over random literals and values (lengths around
// the 16-byte steps of the search, bytes >= 0x80, letters of both cases).
#include "engine/match/literal_check.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/engine/match/literal_reference.h"

namespace gsoc::match::internal {
namespace {

using Kind = LiteralCheck::Kind;

using testing::SameLiteralBytes;

bool Reference(Kind kind, std::string_view text, bool cased, std::string_view value) {
  const size_t n = text.size();
  if (n > value.size()) return false;
  switch (kind) {
    case Kind::kContains:
      for (size_t i = 0; i + n <= value.size(); ++i) {
        if (SameLiteralBytes(value.substr(i, n), text, cased)) return true;
      }
      return false;
    case Kind::kPrefix:
      return SameLiteralBytes(value.substr(0, n), text, cased);
    case Kind::kSuffix:
      return SameLiteralBytes(value.substr(value.size() - n), text, cased);
    case Kind::kWhole:
      return SameLiteralBytes(value, text, cased);
  }
  return false;
}

TEST(LiteralCheckTest, FindsLiteralsAsHyperscanDoes) {
  const LiteralCheck contains(Kind::kContains, "\\dbghelp.dll", false);
  EXPECT_TRUE(contains.Matches("C:\\Windows\\SYSTEM32\\DbgHelp.DLL+1234|UNKNOWN"));
  EXPECT_FALSE(contains.Matches("C:\\Windows\\SYSTEM32\\dbgcore.dll+1234"));
  EXPECT_FALSE(LiteralCheck(Kind::kContains, "\xc3\xa9", false).Matches("\xc3\x89"))
      << "only ASCII letters fold";
  EXPECT_TRUE(LiteralCheck(Kind::kPrefix, "C:\\Temp\\", false).Matches("c:\\temp\\x.exe"));
  EXPECT_FALSE(LiteralCheck(Kind::kPrefix, "C:\\Temp\\", true).Matches("c:\\temp\\x.exe"));
  EXPECT_TRUE(LiteralCheck(Kind::kSuffix, ".EXE", false).Matches("a.exe"));
  EXPECT_FALSE(LiteralCheck(Kind::kWhole, "root", false).Matches("root\n"));
}

TEST(LiteralCheckTest, AgreesWithABruteForceReference) {
  std::mt19937 rng(11);
  const std::string alphabet = "aAbB\\.:|+\xc3\xa9\x80";
  auto random_text = [&](size_t n) {
    std::string text(n, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    return text;
  };
  for (int round = 0; round < 20000; ++round) {
    const auto kind = static_cast<Kind>(rng() % 4);
    const bool cased = rng() % 4 == 0;
    const std::string text = random_text(1 + rng() % 6);
    std::string value = random_text(rng() % 50);
    if (rng() % 2 && value.size() >= text.size()) {  // plant it, in another case maybe
      std::string planted = text;
      for (char& c : planted) {
        if (rng() % 2 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      value.replace(rng() % (value.size() - text.size() + 1), text.size(), planted);
    }
    const LiteralCheck check(kind, text, cased);
    ASSERT_EQ(check.Matches(value), Reference(kind, text, cased, value))
        << "kind " << static_cast<int>(kind) << (cased ? " cased '" : " caseless '") << text
        << "' in '" << value << "'";
  }
}

}  // namespace
}  // namespace gsoc::match::internal
