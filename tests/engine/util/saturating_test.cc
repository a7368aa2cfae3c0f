// Time arithmetic on values a message chooses: sums and differences clamp
// at the int64 limits (a line stamped at the end of time must not wrap a
// window's end into the past).
#include "engine/util/saturating.h"

#include <gtest/gtest.h>

#include <limits>

namespace gsoc {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(Saturating, AddClampsAtBothLimits) {
  EXPECT_EQ(SaturatingAdd(1, 2), 3);
  EXPECT_EQ(SaturatingAdd(kMax - 5, 10), kMax);
  EXPECT_EQ(SaturatingAdd(kMin + 5, -10), kMin);
  EXPECT_EQ(SaturatingAdd(kMax, kMin), -1);
}

TEST(Saturating, SubClampsAtBothLimits) {
  EXPECT_EQ(SaturatingSub(5, 7), -2);
  EXPECT_EQ(SaturatingSub(kMin + 5, 10), kMin);
  EXPECT_EQ(SaturatingSub(kMax - 5, -10), kMax);
  EXPECT_EQ(SaturatingSub(0, kMin), kMax);
  EXPECT_EQ(SaturatingSub(-1, kMin), kMax);
}

}  // namespace
}  // namespace gsoc
