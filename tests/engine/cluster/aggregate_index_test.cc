// The store role's AggregateIndex (no server): `replaces` resolved to the id
// this store gave the previous version, versions not newer dropped, another
// aggregate under the same key hash (or the key's next period) never
// replaced, the bound first in first out, and the index recalled at start.
#include <gtest/gtest.h>

#include "engine/cluster/store_role.h"

namespace gsoc {
namespace {

Alert Version(uint64_t key, uint32_t version, std::string_view src_ip = "198.18.0.7",
              int64_t opened = 1000) {
  Alert alert;
  alert.rule.id = "ssh_failed";
  alert.agency = "mof";
  alert.group = {{"src_ip", std::string(src_ip)}};
  alert.aggregate_key = key;
  alert.aggregate_version = version;
  alert.aggregate_opened_ns = opened;
  alert.replaces = 77;  // the sender's: never trusted
  return alert;
}

TEST(AggregateIndexTest, ReplacesTheStoredPreviousVersion) {
  AggregateIndex index(16);
  Alert v0 = Version(5, 0);
  ASSERT_TRUE(index.Resolve(v0, 1000));
  EXPECT_EQ(v0.replaces, 0u);
  Alert v1 = Version(5, 1);
  ASSERT_TRUE(index.Resolve(v1, 2000));
  EXPECT_EQ(v1.replaces, 1000u);
  Alert v3 = Version(5, 3);  // a version skipped (its message lost): still the newest stored
  ASSERT_TRUE(index.Resolve(v3, 3001));
  EXPECT_EQ(v3.replaces, 2000u);
  Alert old = Version(5, 2);  // older than the stored one: dropped
  EXPECT_FALSE(index.Resolve(old, 4000));
  Alert again = Version(5, 3);
  EXPECT_FALSE(index.Resolve(again, 4001));
  EXPECT_EQ(index.size(), 1u);
}

TEST(AggregateIndexTest, AnotherAggregateUnderTheSameKeyIsNotReplaced) {
  AggregateIndex index(16);
  Alert a = Version(5, 0);
  ASSERT_TRUE(index.Resolve(a, 1000));
  Alert other = Version(5, 1, "203.0.113.9");  // same key hash, other group
  ASSERT_TRUE(index.Resolve(other, 2000));
  EXPECT_EQ(other.replaces, 0u);
  Alert next_period = Version(5, 1, "203.0.113.9", 9000);  // the key opened again
  ASSERT_TRUE(index.Resolve(next_period, 3000));
  EXPECT_EQ(next_period.replaces, 0u);
  Alert v2 = Version(5, 2, "203.0.113.9", 9000);
  ASSERT_TRUE(index.Resolve(v2, 4000));
  EXPECT_EQ(v2.replaces, 3000u);
}

TEST(AggregateIndexTest, BoundedFirstInFirstOutAndRecalledNewestFirst) {
  AggregateIndex index(2);
  for (uint64_t key = 1; key <= 3; ++key) {
    Alert v0 = Version(key, 0);
    ASSERT_TRUE(index.Resolve(v0, key * 1000));
  }
  EXPECT_EQ(index.size(), 2u);
  Alert forgotten = Version(1, 1);  // evicted: stored beside it (nothing to replace)
  ASSERT_TRUE(index.Resolve(forgotten, 5000));
  EXPECT_EQ(forgotten.replaces, 0u);
  Alert kept = Version(3, 1);
  ASSERT_TRUE(index.Resolve(kept, 6000));
  EXPECT_EQ(kept.replaces, 3000u);
  // At start: the store read newest first; the first version seen wins.
  AggregateIndex recalled(16);
  recalled.Recall(Version(7, 4), 9000);
  recalled.Recall(Version(7, 3), 8000);
  Alert v5 = Version(7, 5);
  ASSERT_TRUE(recalled.Resolve(v5, 10000));
  EXPECT_EQ(v5.replaces, 9000u);
  Alert stale = Version(7, 4);
  EXPECT_FALSE(recalled.Resolve(stale, 11000));
}

}  // namespace
}  // namespace gsoc
