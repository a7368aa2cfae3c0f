#include "engine/aggregate/aggregate_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace gsoc::aggregate {
namespace {

// Random inserts, finds and erases agree with std::unordered_map: 3,000
// distinct hashes, about half of them present at a time, so the table grows
// several times, probe runs get long near 3/4 full, erases shift later slots
// back and runs wrap around the array's end.
TEST(AggregateTable, AgreesWithAnUnorderedMap) {
  AggregateTable<int> table;
  std::unordered_map<uint64_t, int> reference;
  std::mt19937_64 random(11);
  for (int step = 0; step < 200'000; ++step) {
    const uint64_t hash = (random() % 3000) * 0x0100'0000'0000'0001ull;
    switch (random() % 3) {
      case 0: {
        const int value = step;
        int& kept = table.Insert(hash, std::make_unique<int>(value));
        const auto [it, added] = reference.emplace(hash, value);
        ASSERT_EQ(kept, it->second) << "an insert under a taken hash keeps the value there";
        break;
      }
      case 1:
        ASSERT_EQ(table.Erase(hash), reference.erase(hash) == 1);
        break;
      default: {
        const int* found = table.Find(hash);
        const auto it = reference.find(hash);
        ASSERT_EQ(found != nullptr, it != reference.end());
        if (found) {
          ASSERT_EQ(*found, it->second);
        }
      }
    }
    ASSERT_EQ(table.size(), reference.size());
  }
  size_t visited = 0;
  for (const auto [hash, value] : table) {
    ++visited;
    EXPECT_EQ(reference.at(hash), value);
  }
  EXPECT_EQ(visited, reference.size());
  for (const auto& [hash, value] : reference) {
    ASSERT_NE(table.Find(hash), nullptr);
    EXPECT_EQ(*table.Find(hash), value);
  }
}

TEST(AggregateTable, EmptyTableFindsAndErasesNothing) {
  AggregateTable<int> table;
  EXPECT_EQ(table.Find(7), nullptr);
  EXPECT_FALSE(table.Erase(7));
  table.Prefetch(7);
  EXPECT_TRUE(table.empty());
}

}  // namespace
}  // namespace gsoc::aggregate
