// The pure parts of the node registry and the cluster status (no server):
// node records round-trip and hostile ones are refused by their bounds,
// lease values parse, partition lists print as ranges, owners and unowned
// partitions come out of the per-partition state.
#include "engine/cluster/cluster_status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/cluster/node_registry.h"

namespace gsoc {
namespace {

using namespace std::string_literals;

NodeRecord SampleRecord() {
  NodeRecord record;
  record.node = "correlate-0";
  record.roles = {"detect", "correlate"};
  record.version = "0.9.0";
  record.started_unix_s = 1764892800;
  record.incarnation = "0123456789abcdef";
  record.api = "http://127.0.0.1:8081";
  record.metrics = "http://127.0.0.1:9465/metrics";
  return record;
}

bool Parses(std::string_view value, NodeRecord* out = nullptr, std::string* why = nullptr) {
  NodeRecord record;
  const char* reason = nullptr;
  const bool ok = ParseNodeRecord(value, &record, &reason);
  if (out != nullptr) *out = record;
  if (why != nullptr) *why = reason == nullptr ? "" : reason;
  return ok;
}

TEST(NodeRecordTest, RoundTripsEveryField) {
  const NodeRecord record = SampleRecord();
  const std::string value = EncodeNodeRecord(record);
  EXPECT_EQ(value,
            "gsoc-node 1\nnode correlate-0\nroles detect,correlate\nversion 0.9.0\n"
            "started 1764892800\nincarnation 0123456789abcdef\napi http://127.0.0.1:8081\n"
            "metrics http://127.0.0.1:9465/metrics");
  NodeRecord parsed;
  std::string why;
  ASSERT_TRUE(Parses(value, &parsed, &why)) << why;
  EXPECT_EQ(parsed.node, record.node);
  EXPECT_EQ(parsed.roles, record.roles);
  EXPECT_EQ(parsed.version, record.version);
  EXPECT_EQ(parsed.started_unix_s, record.started_unix_s);
  EXPECT_EQ(parsed.incarnation, record.incarnation);
  EXPECT_EQ(parsed.api, record.api);
  EXPECT_EQ(parsed.metrics, record.metrics);
}

TEST(NodeRecordTest, EmptyAddressesAreLeftOutAndUnknownFieldsSkipped) {
  NodeRecord record = SampleRecord();
  record.api.clear();
  record.metrics.clear();
  const std::string value = EncodeNodeRecord(record);
  EXPECT_EQ(value.find("api"), std::string::npos);
  NodeRecord parsed;
  ASSERT_TRUE(Parses(value + "\nzone eu-west-1\nweight 3", &parsed));  // a newer gsocd's fields
  EXPECT_TRUE(parsed.api.empty());
  EXPECT_EQ(parsed.node, "correlate-0");
}

TEST(NodeRecordTest, TheEncoderCutsWhatItCouldNotCarry) {
  NodeRecord record = SampleRecord();
  record.version = "1.0\nnode evil";  // a line break would add a field
  record.api = std::string(500, 'a');
  record.roles.assign(20, "detect");
  NodeRecord parsed;
  std::string why;
  ASSERT_TRUE(Parses(EncodeNodeRecord(record), &parsed, &why)) << why;
  EXPECT_EQ(parsed.node, "correlate-0");
  EXPECT_EQ(parsed.version, "1.0");
  EXPECT_EQ(parsed.api.size(), kMaxNodeFieldBytes);
  EXPECT_LE(parsed.roles.size(), kMaxNodeRoles);
  EXPECT_LE(EncodeNodeRecord(record).size(), kMaxNodeRecordBytes);
  // Roles are written whole: none is cut at the field's bound.
  record.roles.assign(8, std::string(40, 'r'));
  ASSERT_TRUE(Parses(EncodeNodeRecord(record), &parsed, &why)) << why;
  EXPECT_EQ(parsed.roles, std::vector<std::string>(3, std::string(40, 'r')));
}

TEST(NodeRecordTest, HostileValuesAreRefusedByTheirBounds) {
  const std::string good = EncodeNodeRecord(SampleRecord());
  std::string why;
  EXPECT_FALSE(Parses("", nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 2\nnode a", nullptr, &why));  // another format
  EXPECT_FALSE(Parses("node a\ngsoc-node 1", nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nroles store", nullptr, &why));  // no node
  EXPECT_EQ(why, "no node name");
  EXPECT_FALSE(Parses("gsoc-node 1\nnode " + std::string(65, 'n'), nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nnode b", nullptr, &why));  // twice
  EXPECT_EQ(why, "a field appears twice");
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nversion " + std::string(129, 'v'), nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nroles a,b,c,d,e,f,g,h,i", nullptr, &why));
  EXPECT_EQ(why, "more than 8 roles");
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nroles store,,detect", nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nstarted -5", nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nstarted 12x", nullptr, &why));
  EXPECT_FALSE(Parses("gsoc-node 1\nnode a\nnovalue", nullptr, &why));
  EXPECT_FALSE(Parses(good + "\n" + std::string(kMaxNodeRecordBytes, 'x'), nullptr, &why));
  EXPECT_EQ(why, "larger than 1024 bytes");
  std::string many = "gsoc-node 1\nnode a";
  for (int i = 0; i < 70; ++i) many += "\nx y";
  EXPECT_FALSE(Parses(many, nullptr, &why));
  EXPECT_EQ(why, "more than 64 lines");
  // Control bytes are kept as bytes (the printer escapes them), within bounds.
  NodeRecord parsed;
  ASSERT_TRUE(Parses("gsoc-node 1\nnode \x1b]0;pwned\x07\nversion \x1b[2J", &parsed));
  EXPECT_EQ(parsed.node, "\x1b]0;pwned\x07");
  EXPECT_EQ(parsed.version, "\x1b[2J");
}

TEST(LeaseValueTest, HeldReleasedAndGarbage) {
  std::string node, incarnation;
  bool released = false;
  ASSERT_TRUE(ParseLeaseValue("correlate-1 00ff00ff00ff00ff", &node, &incarnation, &released));
  EXPECT_FALSE(released);
  EXPECT_EQ(node, "correlate-1");
  EXPECT_EQ(incarnation, "00ff00ff00ff00ff");
  ASSERT_TRUE(ParseLeaseValue("-", &node, &incarnation, &released));
  EXPECT_TRUE(released);
  EXPECT_TRUE(node.empty());
  for (const std::string& bad : {""s, "x"s, " x"s, "x "s, "a b c"s, std::string(65, 'n') + " i",
                                 "n " + std::string(65, 'i')}) {
    EXPECT_FALSE(ParseLeaseValue(bad, &node, &incarnation, &released)) << bad;
  }
}

TEST(PartitionRangesTest, RunsBecomeRanges) {
  EXPECT_EQ(FormatPartitionRanges(std::vector<uint32_t>{}), "");
  EXPECT_EQ(FormatPartitionRanges(std::vector<uint32_t>{5}), "5");
  EXPECT_EQ(FormatPartitionRanges(std::vector<uint32_t>{0, 1, 2, 3, 7, 9}), "0-3,7,9");
  EXPECT_EQ(FormatPartitionRanges(std::vector<uint32_t>{0, 2, 4}), "0,2,4");
  EXPECT_EQ(FormatPartitionRanges(std::vector<uint32_t>{1, 2, 10, 11, 12, 4095}), "1-2,10-12,4095");
  std::vector<uint32_t> all(4096);
  for (uint32_t p = 0; p < all.size(); ++p) all[p] = p;
  EXPECT_EQ(FormatPartitionRanges(all), "0-4095");
}

TEST(ClusterStatusTest, OwnersAndUnownedFromThePartitions) {
  ClusterStatus status;
  status.partitions = 8;
  status.partition.resize(8);
  for (uint32_t p : {0u, 1u, 2u, 5u}) {
    status.partition[p].held = true;
    status.partition[p].owner = "b";
  }
  for (uint32_t p : {3u, 7u}) {
    status.partition[p].held = true;
    status.partition[p].owner = "a";
  }
  status.partition[4].released = true;  // "-": nobody's
  const auto owners = status.PartitionsByOwner();
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_EQ(owners.begin()->first, "a");
  EXPECT_EQ(owners.at("a"), (std::vector<uint32_t>{3, 7}));
  EXPECT_EQ(owners.at("b"), (std::vector<uint32_t>{0, 1, 2, 5}));
  EXPECT_EQ(status.Unowned(), (std::vector<uint32_t>{4, 6}));
}

}  // namespace
}  // namespace gsoc
