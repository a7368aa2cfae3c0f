#include "engine/decode/regex_convert.h"

#include <gtest/gtest.h>

namespace gsoc::decode {
namespace {

TEST(StripNamedGroups, RewritesNamedGroupsOnly) {
  EXPECT_EQ(StripNamedGroups("(?<user>\\S+) (?P<ip>\\d+) (?'p'\\d+)"), "(\\S+) (\\d+) (\\d+)");
  EXPECT_EQ(StripNamedGroups("(?<=a)(?<!b)(?:c)(?i)x"), "(?<=a)(?<!b)(?:c)(?i)x");
  EXPECT_EQ(StripNamedGroups("\\(?<x>y"), "\\(?<x>y");
  EXPECT_EQ(StripNamedGroups("[(?<x>]y"), "[(?<x>]y");
  EXPECT_EQ(StripNamedGroups("[](?<x>]y(?<z>w)"), "[](?<x>]y(w)");
  EXPECT_EQ(StripNamedGroups("[[:alpha:](?<x>]y"), "[[:alpha:](?<x>]y");
  EXPECT_EQ(StripNamedGroups("\\Q(?<x>\\E(?<y>z)"), "\\Q(?<x>\\E(z)");
  EXPECT_EQ(StripNamedGroups("a\\"), "a\\");
}

}  // namespace
}  // namespace gsoc::decode
