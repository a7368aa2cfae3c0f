// gsocctl cluster status output (no server): the text report shows nodes,
// owners as ranges, unowned partitions loudly, streams and consumers; a
// hostile node name or record cannot put a control byte on the terminal;
// the JSON is one valid document carrying the same facts.
#include "tools/gsocctl/cluster_view.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>
#include <string>
#include <vector>

namespace gsoc::ctl {
namespace {

constexpr int64_t kNow = 1764900000;

ClusterStatus Sample() {
  ClusterStatus status;
  status.server = "nats://127.0.0.1:4222";
  status.partitions = 12;
  status.partition.resize(12);
  status.nodes_bucket = status.leases_bucket = true;
  NodeStatus node;
  node.key_name = node.record.node = "correlate-0";
  node.valid = true;
  node.record.roles = {"detect", "correlate"};
  node.record.version = "0.9.0";
  node.record.started_unix_s = kNow - 3725;
  node.record.metrics = "http://127.0.0.1:9465/metrics";
  node.age_ms = 400;
  status.nodes.push_back(node);
  NodeStatus hostile;
  hostile.key_name = hostile.record.node = "evil\x1b]0;owned\x07\x1b[2J";
  hostile.valid = true;
  hostile.record.roles = {"store\x1b[31m"};
  hostile.record.version =
      "\xe2\x80\xae"
      "1.0";
  hostile.record.api = "http://x\r\nFAKE LINE";
  status.nodes.push_back(hostile);
  NodeStatus broken;
  broken.key_name = "broken";
  broken.problem = "not a gsoc-node 1 record";
  status.nodes.push_back(broken);
  status.members.push_back({"correlate-0", "correlate-0 aa", 100});
  for (uint32_t p : {0u, 1u, 2u, 3u, 7u, 9u}) {
    status.partition[p].held = true;
    status.partition[p].owner = "correlate-0";
    status.partition[p].owner_member = true;
  }
  status.partition[10].held = true;
  status.partition[10].owner = "gone\x1b[1A";
  StreamStatus events;
  events.name = "GSOC_EVENTS";
  events.found = true;
  events.messages = 12;
  events.bytes = 4200;
  events.first_sequence = 3;
  events.last_sequence = 14;
  events.replicas = 3;
  events.leader = "n1";
  events.peers = {{"n2", true, false, 0, 10}, {"n3", false, false, 7, 900}};
  status.streams.push_back(events);
  StreamStatus hits;
  hits.name = "GSOC_HITS";
  hits.found = true;
  hits.ephemeral_consumers = 4;
  hits.ephemeral_pending = 9;
  status.streams.push_back(hits);
  StreamStatus alerts;
  alerts.name = "GSOC_ALERTS";
  alerts.problem = "does not exist: no gsocd node has started";
  status.streams.push_back(alerts);
  ConsumerStatus detect;
  detect.stream = "GSOC_EVENTS";
  detect.name = "detect";
  detect.pending = 11;
  detect.ack_pending = 1;
  detect.redelivered = 2;
  status.consumers.push_back(detect);
  status.problems.push_back("a problem \x1b[5m");
  return status;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// No byte below 0x20 but '\n', no DEL, no C1, no bidi control.
void ExpectTerminalSafe(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    ASSERT_TRUE(c >= 0x20 || c == '\n') << "control byte " << int(c) << " at " << i;
    ASSERT_NE(c, 0x7f);
    if (c == 0xc2 && i + 1 < text.size()) {
      const unsigned char next = static_cast<unsigned char>(text[i + 1]);
      ASSERT_FALSE(next >= 0x80 && next <= 0x9f) << "C1 control at " << i;
    }
  }
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos);
}

TEST(ClusterViewTest, TextShowsNodesOwnersUnownedStreamsAndConsumers) {
  const std::string text = ClusterStatusText(Sample(), kNow);
  EXPECT_NE(text.find("NODES (3)"), std::string::npos) << text;
  const size_t row = text.find("\n  correlate-0 ");
  ASSERT_NE(row, std::string::npos) << text;
  const std::string line = text.substr(row + 1, text.find('\n', row + 1) - row - 1);
  EXPECT_EQ(Words(line),
            (std::vector<std::string>{"correlate-0", "detect,correlate", "0.9.0", "1h02m", "0.4s",
                                      "ago", "-", "http://127.0.0.1:9465/metrics"}))
      << line;
  EXPECT_NE(text.find("  !! broken: INVALID RECORD: not a gsoc-node 1 record\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  correlate-0: 0-3,7,9 (6)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("!! UNOWNED PARTITIONS (5): 4-6,8,11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("held by a node without a living correlate heartbeat (1): 10"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("PARTITIONS (12): 7 owned by 2 node(s); correlate members: correlate-0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("GSOC_EVENTS  12"), std::string::npos) << text;
  EXPECT_NE(text.find("4.1 KiB"), std::string::npos);
  EXPECT_NE(text.find("n2 current, n3 lag 7"), std::string::npos);
  EXPECT_NE(text.find("GSOC_ALERTS  !! does not exist"), std::string::npos) << text;
  EXPECT_NE(text.find("GSOC_EVENTS  detect"), std::string::npos) << text;
  EXPECT_NE(text.find("(4 ephemeral)"), std::string::npos) << text;
  EXPECT_NE(text.find("!! a problem \\x1b[5m"), std::string::npos) << text;
}

TEST(ClusterViewTest, HostileValuesCannotReachTheTerminal) {
  const std::string text = ClusterStatusText(Sample(), kNow);
  ExpectTerminalSafe(text);
  EXPECT_NE(text.find("evil\\x1b]0;owned\\x07\\x1b[2J"), std::string::npos) << text;
  EXPECT_NE(text.find("store\\x1b[31m"), std::string::npos);
  EXPECT_NE(text.find("\\u202e1.0"), std::string::npos);
  EXPECT_NE(text.find("http://x\\x0d\\x0aFAKE LINE"), std::string::npos);  // no line of its own
  EXPECT_NE(text.find("gone\\x1b[1A: 10 (1)"), std::string::npos) << text;
  const std::string json = ClusterStatusJson(Sample());
  ExpectTerminalSafe(json);
}

TEST(ClusterViewTest, JsonIsOneDocumentWithTheSameFacts) {
  const std::string json = ClusterStatusJson(Sample());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["server"]), "nats://127.0.0.1:4222");
  EXPECT_EQ(int64_t(doc["partitions"]), 12);
  simdjson::dom::array nodes = doc["nodes"];
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(std::string_view(nodes.at(0)["name"]), "correlate-0");
  EXPECT_EQ(std::string_view(nodes.at(0)["roles"].at(1)), "correlate");
  EXPECT_EQ(std::string_view(nodes.at(1)["name"]), "evil\x1b]0;owned\x07\x1b[2J");  // as sent
  EXPECT_FALSE(bool(nodes.at(2)["valid"]));
  simdjson::dom::array owners = doc["owners"];
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_EQ(std::string_view(owners.at(0)["node"]), "correlate-0");
  EXPECT_EQ(std::string_view(owners.at(0)["ranges"]), "0-3,7,9");
  EXPECT_EQ(int64_t(owners.at(0)["count"]), 6);
  simdjson::dom::array unowned = doc["unowned"];
  EXPECT_EQ(unowned.size(), 5u);
  EXPECT_EQ(simdjson::dom::array(doc["owner_without_member"]).size(), 1u);
  simdjson::dom::array streams = doc["streams"];
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(uint64_t(streams.at(0)["messages"]), 12u);
  EXPECT_EQ(std::string_view(streams.at(0)["peers"].at(1)["name"]), "n3");
  EXPECT_EQ(uint64_t(streams.at(0)["peers"].at(1)["lag"]), 7u);
  EXPECT_FALSE(bool(streams.at(2)["found"]));
  simdjson::dom::array consumers = doc["consumers"];
  ASSERT_EQ(consumers.size(), 1u);
  EXPECT_EQ(uint64_t(consumers.at(0)["pending"]), 11u);
  EXPECT_EQ(uint64_t(consumers.at(0)["redelivered"]), 2u);
}

TEST(ClusterViewTest, DurationsAndBytes) {
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(723), "12m03s");
  EXPECT_EQ(FormatDuration(7500), "2h05m");
  EXPECT_EQ(FormatDuration(3 * 86400 + 4 * 3600 + 5), "3d04h");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(4096), "4.0 KiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 29), "1.5 GiB");
}

}  // namespace
}  // namespace gsoc::ctl
