// engine/util/ascii.h: the word-at-a-time fold and compare agree with
// AsciiLowerChar, byte by byte, on every byte value and at every length.
#include "engine/util/ascii.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace gsoc {
namespace {

TEST(AsciiTest, LowerEightFoldsEveryByteAsLowerChar) {
  for (int value = 0; value < 256; ++value) {
    for (int lane = 0; lane < 8; ++lane) {
      // The byte among neighbours that are themselves letters and not.
      unsigned char bytes[8] = {'A', 'z', '@', '[', 0x80, 0xc1, 'Z', 'a'};
      bytes[lane] = static_cast<unsigned char>(value);
      uint64_t word;
      std::memcpy(&word, bytes, 8);
      const uint64_t folded = AsciiLower8(word);
      unsigned char out[8];
      std::memcpy(out, &folded, 8);
      for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(out[i], static_cast<unsigned char>(AsciiLowerChar(static_cast<char>(bytes[i]))))
            << "byte " << value << " in lane " << lane << ", lane " << i;
      }
    }
  }
}

bool EqualsBytewise(std::string_view lower, std::string_view text) {
  if (lower.size() != text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (AsciiLowerChar(text[i]) != lower[i]) return false;
  }
  return true;
}

TEST(AsciiTest, EqualsLowerAsciiAgreesWithTheBytewiseCompare) {
  EXPECT_TRUE(EqualsLowerAscii("microsoft-windows-sysmon/operational",
                               "Microsoft-Windows-Sysmon/Operational"));
  EXPECT_FALSE(EqualsLowerAscii("microsoft-windows-sysmon/operational",
                                "Microsoft-Windows-Sysmon/OperationaL "));
  EXPECT_FALSE(EqualsLowerAscii("security", "SECURITz"));
  EXPECT_TRUE(EqualsLowerAscii("sshd", "SSHD"));
  EXPECT_FALSE(EqualsLowerAscii("SSHD", "sshd")) << "the pattern is lower case, the text folds";
  EXPECT_TRUE(EqualsLowerAscii("", ""));
  std::mt19937 rng(7);
  const std::string alphabet = "aAzZ@[`{09-/\x80\xc1\xe9";
  for (int round = 0; round < 20000; ++round) {
    const size_t n = rng() % 40;
    std::string text(n, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    std::string lower = AsciiLower(text);
    if (n > 0 && rng() % 2) lower[rng() % n] = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(EqualsLowerAscii(lower, text), EqualsBytewise(lower, text))
        << "'" << lower << "' vs '" << text << "'";
  }
}

}  // namespace
}  // namespace gsoc
