#include "engine/event/byte_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc {
namespace {

std::string Pattern(size_t i, size_t length) {
  std::string s(length, '\0');
  for (size_t k = 0; k < length; ++k) s[k] = static_cast<char>('a' + (i * 7 + k) % 26);
  return s;
}

TEST(ByteArenaTest, CopyReturnsEqualBytesAtANewAddress) {
  ByteArena arena;
  std::string source = "hello, arena";
  std::string_view view = arena.Copy(source);
  EXPECT_EQ(view, "hello, arena");
  EXPECT_NE(view.data(), source.data());
  source[0] = 'X';  // the copy does not alias the source
  EXPECT_EQ(view, "hello, arena");
  EXPECT_EQ(arena.bytes_used(), source.size());
}

TEST(ByteArenaTest, CopyOfEmptyIsEmptyAndAllocatesNothing) {
  ByteArena arena;
  EXPECT_TRUE(arena.Copy("").empty());
  EXPECT_EQ(arena.bytes_used(), 0u);
}

TEST(ByteArenaTest, ViewsStayValidAcrossBlockGrowth) {
  // Small blocks so that many blocks are added while copying.
  ByteArena arena(1024);
  std::vector<std::string> expected;
  std::vector<std::string_view> views;
  size_t total = 0;
  for (size_t i = 0; i < 5000; ++i) {
    expected.push_back(Pattern(i, 1 + (i * 37) % 300));
    views.push_back(arena.Copy(expected.back()));
    total += expected.back().size();
  }
  ASSERT_GT(total, 100u * 1024);  // definitely spans many blocks
  EXPECT_EQ(arena.bytes_used(), total);
  for (size_t i = 0; i < views.size(); ++i) {
    ASSERT_EQ(views[i], expected[i]) << "view " << i;
  }
  // No two views overlap.
  for (size_t i = 1; i < views.size(); ++i) {
    const char* a = views[i - 1].data();
    const char* b = views[i].data();
    ASSERT_TRUE(b >= a + views[i - 1].size() || b + views[i].size() <= a) << i;
  }
}

TEST(ByteArenaTest, CopyPaddedWritesKPaddingZeroBytesAfterTheCopy) {
  ByteArena arena(256);
  // Dirty the memory first so zeros are really written, not inherited.
  std::string junk(200, '\xff');
  arena.Copy(junk);
  arena.Reset();
  std::string_view view = arena.CopyPadded("{\"a\":1}");
  EXPECT_EQ(view, "{\"a\":1}");
  EXPECT_EQ(ByteArena::kPadding, 64u);
  for (size_t k = 0; k < ByteArena::kPadding; ++k) {
    ASSERT_EQ(view.data()[view.size() + k], '\0') << "padding byte " << k;
  }
  EXPECT_EQ(arena.bytes_used(), view.size() + ByteArena::kPadding);
  // The next allocation starts after the padding, so it cannot overwrite it.
  std::string_view next = arena.Copy("zzzz");
  EXPECT_GE(next.data(), view.data() + view.size() + ByteArena::kPadding);
  for (size_t k = 0; k < ByteArena::kPadding; ++k) {
    ASSERT_EQ(view.data()[view.size() + k], '\0');
  }
}

TEST(ByteArenaTest, CopyPaddedOfEmptyStillPads) {
  ByteArena arena;
  std::string_view view = arena.CopyPadded("");
  EXPECT_TRUE(view.empty());
  ASSERT_NE(view.data(), nullptr);
  for (size_t k = 0; k < ByteArena::kPadding; ++k) ASSERT_EQ(view.data()[k], '\0');
}

TEST(ByteArenaTest, ConcatJoinsParts) {
  ByteArena arena;
  EXPECT_EQ(arena.Concat({"sd", ".", "origin", ".", "ip"}), "sd.origin.ip");
  EXPECT_EQ(arena.Concat({"", "a", "", "bc", ""}), "abc");
  EXPECT_EQ(arena.Concat({"only"}), "only");
  EXPECT_TRUE(arena.Concat({"", ""}).empty());
  EXPECT_TRUE(arena.Concat({}).empty());
  EXPECT_EQ(arena.bytes_used(), std::strlen("sd.origin.ip") + 3 + 4);
}

TEST(ByteArenaTest, ConcatAcrossBlockBoundary) {
  ByteArena arena(16);
  arena.Copy("0123456789");  // 6 bytes left in the first block
  std::string_view joined = arena.Concat({"abcdef", "ghijkl"});
  EXPECT_EQ(joined, "abcdefghijkl");
}

// Where `count` copies of `size` bytes each (CopyPadded's when `padded`)
// land in `arena`.
std::vector<uintptr_t> AddressesOfCopies(ByteArena& arena, size_t count, size_t size,
                                         bool padded = false) {
  std::vector<uintptr_t> addresses;
  for (size_t i = 0; i < count; ++i) {
    const std::string text = Pattern(i, size);
    const std::string_view copy = padded ? arena.CopyPadded(text) : arena.Copy(text);
    addresses.push_back(reinterpret_cast<uintptr_t>(copy.data()));
  }
  return addresses;
}

TEST(ByteArenaTest, ResetReusesTheSameMemory) {
  ByteArena arena(1024);
  // 160 x 50 bytes = 8 blocks of 20 copies: within the blocks Reset keeps.
  auto fill = [&] { return AddressesOfCopies(arena, 160, 50); };
  const auto first = fill();
  EXPECT_EQ(arena.bytes_used(), 160u * 50);
  arena.Reset();
  EXPECT_EQ(arena.bytes_used(), 0u);
  const auto second = fill();
  // Same allocation sequence after Reset: identical addresses, i.e. the kept
  // blocks are reused and no new block was needed.
  EXPECT_TRUE(first == second);
  arena.Reset();
  EXPECT_TRUE(fill() == first);
  // A smaller fill reuses a prefix of the same memory.
  arena.Reset();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.Copy(Pattern(0, 50)).data()), first[0]);
}

TEST(ByteArenaTest, ResetReusesMemoryWithMixedLargeAllocations) {
  ByteArena arena(1024);
  auto fill = [&] {
    std::vector<uintptr_t> addresses;
    for (size_t i = 0; i < 30; ++i) {
      addresses.push_back(reinterpret_cast<uintptr_t>(arena.Copy(Pattern(i, 100)).data()));
      if (i % 10 == 3) addresses.push_back(reinterpret_cast<uintptr_t>(arena.Allocate(3000)));
    }
    return addresses;
  };
  // 3 large blocks and 4 small ones: within the blocks Reset keeps.
  const auto first = fill();
  arena.Reset();
  EXPECT_TRUE(fill() == first);
}

// A gsocd batch of 1,024 Windows events fills ~2.3 MiB: Reset keeps all of
// it, so the next such batch takes no new block (they were zeroed and
// faulted in afresh on every fill).
TEST(ByteArenaTest, ResetKeepsTheBlocksOfABatchOfWindowsEvents) {
  ByteArena arena;
  auto fill = [&] { return AddressesOfCopies(arena, 1024, 2300, /*padded=*/true); };
  const auto first = fill();
  const size_t reserved = arena.bytes_reserved();
  EXPECT_GT(reserved, size_t{2} << 20);
  arena.Reset();
  EXPECT_TRUE(fill() == first);
  EXPECT_EQ(arena.bytes_reserved(), reserved);
}

TEST(ByteArenaTest, ManyBlocksStillCorrectAfterReset) {
  // More blocks than Reset keeps: contents must still be right on refill.
  ByteArena arena(256);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> expected;
    std::vector<std::string_view> views;
    for (size_t i = 0; i < 400; ++i) {
      expected.push_back(Pattern(i + round, 1 + (i * 13) % 200));
      views.push_back(arena.Copy(expected.back()));
    }
    for (size_t i = 0; i < views.size(); ++i) ASSERT_EQ(views[i], expected[i]) << round << " " << i;
    arena.Reset();
    EXPECT_EQ(arena.bytes_used(), 0u);
  }
}

TEST(ByteArenaTest, AllocationLargerThanABlock) {
  ByteArena arena(128);
  std::string_view small = arena.Copy("before");
  const std::string big_text = Pattern(1, 10000);
  std::string_view big = arena.Copy(big_text);
  EXPECT_EQ(big, big_text);
  std::string_view after = arena.Copy("after");
  EXPECT_EQ(small, "before");
  EXPECT_EQ(after, "after");
  EXPECT_EQ(big, big_text);
  EXPECT_EQ(arena.bytes_used(), 6u + 10000 + 5);
  // The large allocation is writable in full.
  char* raw = arena.Allocate(5000);
  std::memset(raw, 'q', 5000);
  EXPECT_EQ(big, big_text);
}

TEST(ByteArenaTest, AllocationLargerThanABlockOnEmptyArena) {
  ByteArena arena(64);
  const std::string text = Pattern(3, 1000);
  EXPECT_EQ(arena.Copy(text), text);
  arena.Reset();
  EXPECT_EQ(arena.Copy(text), text);
}

TEST(ByteArenaTest, ASmallFillReservesASmallBlock) {
  ByteArena arena;
  arena.Copy(Pattern(0, 150));
  EXPECT_EQ(arena.bytes_reserved(), ByteArena::kFirstBlockSize);
}

TEST(ByteArenaTest, BlocksDoubleTheTotalUpToTheBlockSize) {
  ByteArena arena;
  size_t used = 0;
  while (used < 4 * ByteArena::kDefaultBlockSize) used += arena.Copy(Pattern(used, 1000)).size();
  // Never more than twice what is used (plus one block being filled).
  EXPECT_LE(arena.bytes_reserved(), 2 * used + ByteArena::kDefaultBlockSize);
  EXPECT_GE(arena.bytes_reserved(), used);
}

TEST(ByteArenaTest, ResetFreesTheBlocksTheLastFillDidNotUse) {
  ByteArena arena;
  for (size_t i = 0; i < 1000; ++i) arena.Copy(Pattern(i, 1000));  // ~1 MiB
  const size_t big = arena.bytes_reserved();
  arena.Reset();
  EXPECT_EQ(arena.bytes_reserved(), big);  // all used: all kept
  arena.Copy("small");
  arena.Reset();
  EXPECT_EQ(arena.bytes_reserved(), ByteArena::kFirstBlockSize);
  EXPECT_EQ(arena.Copy("still works"), "still works");
}

TEST(ByteArenaTest, ShrinkLastGivesBackTheEndOfTheLastAllocationOnly) {
  ByteArena arena;
  char* first = arena.Allocate(100);
  arena.ShrinkLast(first, 100, 10);
  EXPECT_EQ(arena.bytes_used(), 10u);
  char* second = arena.Allocate(50);
  EXPECT_EQ(second, first + 10);   // the given-back bytes are used again
  arena.ShrinkLast(first, 10, 5);  // not the last allocation: no effect
  EXPECT_EQ(arena.bytes_used(), 60u);
  arena.ShrinkLast(second, 50, 60);  // more than allocated: no effect
  EXPECT_EQ(arena.bytes_used(), 60u);
  arena.ShrinkLast(second, 50, 0);
  EXPECT_EQ(arena.bytes_used(), 10u);
  EXPECT_EQ(arena.Allocate(1), second);
}

}  // namespace
}  // namespace gsoc
