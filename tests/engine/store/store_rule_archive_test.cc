// Rule revisions kept by the alert store (store_rule_archive.cc): each
// (revision, rule id) once, read back after a reopen, bounded in bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/engine/store/store_test_util.h"

namespace gsoc::store {
namespace {

using namespace store_test;

RuleRevisionDetail Detail(uint64_t revision, const std::string& id, const std::string& json) {
  return {revision, id, json};
}

TEST(RuleArchive, KeepsEachRevisionOnceAndReadsItBackAfterAReopen) {
  TempDir dir;
  const StoreOptions options = TestOptions(dir);
  {
    auto store = AlertStore::Open(options);
    EXPECT_EQ(
        store->ArchiveRuleRevisions({Detail(7, "r1", "{\"v\":1}"), Detail(8, "r1", "{\"v\":2}"),
                                     Detail(7, "r2", "{\"other\":1}")}),
        3u);
    // The same revisions again (a reload that changed nothing): nothing new,
    // and an existing revision is never overwritten.
    EXPECT_EQ(store->ArchiveRuleRevisions({Detail(7, "r1", "{\"v\":99}")}), 0u);
    EXPECT_EQ(store->ArchiveRuleRevisions({Detail(0, "r3", "{}"), Detail(9, "", "{}")}), 0u);
    EXPECT_EQ(store->stats().rule_revisions, 3u);
  }
  auto store = AlertStore::Open(options);
  EXPECT_EQ(store->stats().rule_revisions, 3u);
  EXPECT_EQ(store->RuleRevision("r1", 7), "{\"v\":1}");
  EXPECT_EQ(store->RuleRevision("r1", 8), "{\"v\":2}");
  EXPECT_EQ(store->RuleRevision("r2", 7), "{\"other\":1}");
  EXPECT_EQ(store->RuleRevision("r2", 8), std::nullopt);
  EXPECT_EQ(store->RuleRevision("r1x", 7), std::nullopt);  // the id is the whole key suffix
}

TEST(RuleArchive, IsBoundedInBytesAcrossReopens) {
  TempDir dir;
  const StoreOptions options = TestOptions(dir);
  const std::string big(AlertStore::kMaxRuleArchiveBytes / 4, 'x');
  {
    auto store = AlertStore::Open(options);
    EXPECT_EQ(store->ArchiveRuleRevisions(
                  {Detail(1, "a", big), Detail(2, "a", big), Detail(3, "a", big)}),
              3u);
  }
  auto store = AlertStore::Open(options);  // the size counted again from the store
  EXPECT_EQ(store->ArchiveRuleRevisions({Detail(4, "a", big), Detail(5, "a", "{}")}), 1u);
  EXPECT_EQ(store->stats().rule_revisions_dropped, 1u);
  EXPECT_EQ(store->RuleRevision("a", 4), std::nullopt);
  EXPECT_EQ(store->RuleRevision("a", 5), "{}");
}

}  // namespace
}  // namespace gsoc::store
