// The loader keeps a rule's metadata and caps it in bytes (rule_metadata.h).
#include "engine/rules/rule_metadata.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/engine/rules/rule_test_util.h"

namespace gsoc::rules {
namespace {

using testing::LoadOne;

constexpr char kHeader[] =
    "title: Meta\n"
    "id: meta-1\n"
    "author: Ana, Ben\n"
    "description: Finds things\n"
    "tags: [attack.execution, attack.t1059]\n"
    "falsepositives:\n  - Admins\n";
constexpr char kBody[] =
    "logsource:\n  product: linux\n"
    "detection:\n  sel:\n    a: b\n  condition: sel\n";

// The revision names what the API shows about a rule: the same text gives
// the same value in every build (FNV-1a, not std::hash), a change to the
// shown metadata a new one, and the detection logic none.
TEST(RuleMetadata, RevisionFollowsTheShownMetadataOnly) {
  const Rule rule = LoadOne(std::string(kHeader) + kBody);
  EXPECT_NE(rule.revision, 0u);
  EXPECT_EQ(rule.revision, MetadataRevision(rule));
  EXPECT_EQ(LoadOne(std::string(kHeader) + kBody).revision, rule.revision);
  std::string other_logic(kBody);
  other_logic.replace(other_logic.find("a: b"), 4, "a: c");
  EXPECT_EQ(LoadOne(std::string(kHeader) + other_logic).revision, rule.revision);
  std::string other_text(kHeader);
  other_text.replace(other_text.find("Finds things"), 12, "Finds others");
  EXPECT_NE(LoadOne(other_text + kBody).revision, rule.revision);
  // Length-prefixed fields: moving a byte between two fields changes it.
  Rule a, b;
  a.title = "ab";
  b.title = "a";
  b.description = "b";
  EXPECT_NE(MetadataRevision(a), MetadataRevision(b));
  // FNV-1a 64 of the empty input is 0xcbf29ce484222325; the hasher is stable.
  EXPECT_EQ(RevisionHasher().value(), 0xcbf29ce484222325ull);
}

TEST(RuleMetadata, KeptAsWrittenWhenSmall) {
  const Rule rule = LoadOne(std::string(kHeader) + "references:\n  - https://x.test/a\n" + kBody);
  EXPECT_EQ(rule.author, "Ana, Ben");
  EXPECT_EQ(rule.description, "Finds things");
  EXPECT_EQ(rule.tags, (std::vector<std::string>{"attack.execution", "attack.t1059"}));
  EXPECT_EQ(rule.references, std::vector<std::string>{"https://x.test/a"});
  EXPECT_EQ(rule.falsepositives, std::vector<std::string>{"Admins"});
  EXPECT_FALSE(rule.metadata_truncated);
}

TEST(RuleMetadata, HostileReferencesAreCappedAndMarked) {
  // 2 MB of references: 2,000 entries of 1,000 bytes (YAML parsing dominates
  // the test's time; the cap does not depend on the size beyond its bound).
  std::string yaml = std::string(kHeader) + "references:\n";
  const std::string long_ref = "https://x.test/" + std::string(985, 'r');
  for (int i = 0; i < 2000; ++i) yaml += "  - " + long_ref + "\n";
  yaml += kBody;
  const Rule rule = LoadOne(yaml);
  const MetadataLimits limits;
  EXPECT_TRUE(rule.metadata_truncated);
  size_t bytes = rule.author.size() + rule.description.size();
  for (const auto* list : {&rule.tags, &rule.references, &rule.falsepositives})
    for (const std::string& text : *list) bytes += text.size();
  EXPECT_LE(bytes, limits.max_total_bytes);
  EXPECT_LE(rule.references.size(), limits.max_list_entries);
  EXPECT_FALSE(rule.references.empty());
  // What comes before the references is whole.
  EXPECT_EQ(rule.tags.size(), 2u);
  EXPECT_EQ(rule.falsepositives, std::vector<std::string>{"Admins"});
}

TEST(RuleMetadata, CutsLongTextAtAUtf8Boundary) {
  Rule rule;
  rule.author = std::string(1023, 'a') + "\xC3\xA9";  // 1,025 bytes, é straddles the cap
  rule.description = std::string(5000, 'd');
  EXPECT_TRUE(CapMetadata(rule));
  EXPECT_EQ(rule.author, std::string(1023, 'a'));
  EXPECT_EQ(rule.description.size(), 4096u);
  EXPECT_TRUE(rule.metadata_truncated);
}

TEST(RuleMetadata, TooManyTagsAreDropped) {
  Rule rule;
  for (int i = 0; i < 100; ++i) rule.tags.push_back("attack.t" + std::to_string(1000 + i));
  EXPECT_TRUE(CapMetadata(rule));
  ASSERT_EQ(rule.tags.size(), 64u);
  EXPECT_EQ(rule.tags.front(), "attack.t1000");
  Rule small;
  small.tags = {"attack.t1059"};
  EXPECT_FALSE(CapMetadata(small));
  EXPECT_FALSE(small.metadata_truncated);
}

}  // namespace
}  // namespace gsoc::rules
