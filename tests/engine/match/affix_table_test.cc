// AffixTable (engine/match/affix_table.h): the anchored literals of a scan
// found by walking the value, with Hyperscan's answers: ASCII letters fold
// for a caseless literal and nothing else does, a prefix starts the value, a
// suffix ends it, a whole literal is the value. Held to a brute-force
// reference over random literals and values that share long paths (the
// trie's compressed chains) and non-ASCII bytes.
#include "engine/match/affix_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/engine/match/literal_reference.h"

namespace gsoc::match::internal {
namespace {

using Kind = AffixTable::Kind;

std::set<uint32_t> Found(const AffixTable& table, std::string_view value) {
  std::set<uint32_t> found;
  table.Find(value, [&](uint32_t pattern) { EXPECT_TRUE(found.insert(pattern).second); });
  return found;
}

using testing::SameLiteralBytes;

std::set<uint32_t> Reference(const std::vector<AffixTable::Entry>& entries,
                             std::string_view value) {
  std::set<uint32_t> found;
  for (const AffixTable::Entry& e : entries) {
    const size_t n = e.text.size();
    if (n > value.size()) continue;
    const std::string_view part = e.kind == Kind::kPrefix   ? value.substr(0, n)
                                  : e.kind == Kind::kSuffix ? value.substr(value.size() - n)
                                                            : value;
    if (SameLiteralBytes(part, e.text, e.cased)) found.insert(e.pattern);
  }
  return found;
}

TEST(AffixTableTest, FindsPrefixesSuffixesAndWholeValues) {
  AffixTable table;
  table.Build({{Kind::kSuffix, "\\rundll32.exe", false, 1},
               {Kind::kSuffix, ".exe", false, 2},
               {Kind::kPrefix, "C:\\Windows\\", false, 3},
               {Kind::kPrefix, "C:\\Windows\\System32\\", false, 4},
               {Kind::kWhole, "C:\\Windows\\System32\\rundll32.exe", false, 5},
               {Kind::kWhole, "C:\\Windows\\", false, 6},
               {Kind::kSuffix, "\\Rundll32.EXE", true, 7},
               {Kind::kPrefix, "c:\\windows\\", true, 8}});
  EXPECT_EQ(Found(table, "C:\\Windows\\System32\\rundll32.exe"),
            (std::set<uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Found(table, "c:\\windows\\SYSTEM32\\RUNDLL32.exe"),
            (std::set<uint32_t>{1, 2, 3, 4, 5, 8}));
  EXPECT_EQ(Found(table, "c:\\WINDOWS\\system32\\RUNDLL32.exe"),  // 8 is cased
            (std::set<uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Found(table, "D:\\x\\Rundll32.EXE"), (std::set<uint32_t>{1, 2, 7}));
  // A prefix ends inside a compressed chain of a longer one: still found;
  // a whole literal only when it is all the value.
  EXPECT_EQ(Found(table, "C:\\Windows\\"), (std::set<uint32_t>{3, 6}));
  EXPECT_EQ(Found(table, "C:\\Windows\\System3"), (std::set<uint32_t>{3}));
  // Shorter than every literal, empty, unrelated.
  EXPECT_EQ(Found(table, "exe"), (std::set<uint32_t>{}));
  EXPECT_EQ(Found(table, ""), (std::set<uint32_t>{}));
  EXPECT_EQ(Found(table, "notepad.ex"), (std::set<uint32_t>{}));
}

// Hyperscan's CASELESS folds ASCII letters only: É is not é, and bytes
// next to the letters ('@' before 'A', '[' after 'Z') fold to nothing.
TEST(AffixTableTest, FoldsAsciiLettersOnly) {
  AffixTable table;
  table.Build({{Kind::kSuffix, "\xc3\xa9t\xc3\xa9", false, 1},  // "été"
               {Kind::kPrefix, "@[", false, 2},
               {Kind::kWhole, "Zz", false, 3}});
  EXPECT_EQ(Found(table, "l'\xc3\xa9t\xc3\xa9"), (std::set<uint32_t>{1}));
  EXPECT_EQ(Found(table, "L'\xc3\x89T\xc3\x89"), (std::set<uint32_t>{}));  // "ÉTÉ"
  EXPECT_EQ(Found(table, "@[x"), (std::set<uint32_t>{2}));
  EXPECT_EQ(Found(table, "`{x"), (std::set<uint32_t>{}));
  EXPECT_EQ(Found(table, "zZ"), (std::set<uint32_t>{3}));
}

TEST(AffixTableTest, EqualLiteralsOfSeveralPatternsAreAllFound) {
  AffixTable table;
  table.Build({{Kind::kSuffix, ".dll", false, 4},
               {Kind::kSuffix, ".DLL", false, 9},
               {Kind::kSuffix, ".dll", true, 11}});
  EXPECT_EQ(Found(table, "ntdll.dll"), (std::set<uint32_t>{4, 9, 11}));
  EXPECT_EQ(Found(table, "NTDLL.DLL"), (std::set<uint32_t>{4, 9}));
}

// A trie without a single label byte (every literal one byte long, or
// parting at every byte): packing it copies no label (UBSan caught a
// memcpy from the empty label table's null pointer with the SigmaHQ corpus).
TEST(AffixTableTest, LiteralsWithNoLabelAtAll) {
  AffixTable table;
  table.Build({{Kind::kPrefix, "a", false, 1},
               {Kind::kSuffix, "\\", false, 2},
               {Kind::kWhole, "b", true, 3},
               {Kind::kPrefix, "ab", false, 4},
               {Kind::kPrefix, "ac", false, 5}});
  EXPECT_EQ(Found(table, "Ab\\"), (std::set<uint32_t>{1, 2, 4}));
  EXPECT_EQ(Found(table, "b"), (std::set<uint32_t>{3}));
  EXPECT_EQ(Found(table, "B"), (std::set<uint32_t>{}));
  EXPECT_EQ(Found(table, "acb"), (std::set<uint32_t>{1, 5}));
}

TEST(AffixTableTest, AgreesWithABruteForceReference) {
  std::mt19937 rng(20261206);
  auto uniform = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  // Few pieces, so literals share long paths and values hit them.
  const std::vector<std::string> pieces = {"a",   "A",    "b",        "\\",       "sys",
                                           "SYS", ".dll", "\xc3\xa9", "\xc3\x89", "x"};
  auto text = [&](int max_pieces) {
    std::string s;
    const int n = 1 + uniform(max_pieces);
    for (int i = 0; i < n; ++i) s += pieces[uniform(static_cast<int>(pieces.size()))];
    return s;
  };
  for (int round = 0; round < 40; ++round) {
    std::vector<AffixTable::Entry> entries;
    const int count = 1 + uniform(60);
    for (int i = 0; i < count; ++i) {
      entries.push_back(
          {static_cast<Kind>(uniform(3)), text(5), uniform(3) == 0, static_cast<uint32_t>(i)});
    }
    AffixTable table;
    table.Build(entries);
    for (int v = 0; v < 200; ++v) {
      const std::string value = text(9);
      ASSERT_EQ(Found(table, value), Reference(entries, value))
          << "round " << round << " value " << value;
    }
  }
}

}  // namespace
}  // namespace gsoc::match::internal
