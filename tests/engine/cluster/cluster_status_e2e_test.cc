// The cluster status on a real 3-server nats-server cluster (label e2e):
// node registries and partition lease managers in this process, or real
// gsocd nodes; CollectClusterStatus and the `gsocctl cluster status` binary
// must show the nodes with their roles, every partition's owner, the
// streams' state and the consumers' lag, and a killed node must leave the
// status once the TTL passed, a stopped one at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/cluster_status.h"
#include "engine/cluster/jetstream.h"
#include "engine/cluster/jetstream_kv.h"
#include "engine/cluster/node_registry.h"
#include "tests/engine/cluster/cluster_e2e.h"
#include "tests/engine/cluster/lease_test_util.h"
#include "tools/gsocctl/cluster_view.h"

namespace gsoc::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint32_t kPartitions = 16;
constexpr seconds kTtl{2};  // the smallest cluster.lease_ttl_seconds: short tests

PartitionLeaseOptions LeaseOptions() {
  PartitionLeaseOptions options;
  options.partitions = kPartitions;
  options.lease_ttl = kTtl;
  options.takeover = seconds(4);
  options.replicas = 3;
  return options;
}

struct RegisteredNode {
  std::unique_ptr<JetStreamClient> client;
  std::unique_ptr<NodeRegistry> registry;
};

std::unique_ptr<RegisteredNode> StartRegistry(const NatsCluster& cluster, size_t server,
                                              const std::string& name,
                                              std::vector<std::string> roles) {
  auto node = std::make_unique<RegisteredNode>();
  std::string error;
  node->client = JetStreamClient::Connect(LeaseConfig(cluster, server), seconds(15), &error);
  if (!node->client) {
    ADD_FAILURE() << name << ": " << error;
    return nullptr;
  }
  NodeRegistryOptions options;
  options.record.node = name;
  options.record.roles = std::move(roles);
  options.record.version = "test";
  options.record.started_unix_s = 1764892800;
  options.record.incarnation = name + "-1";
  options.record.metrics = "http://127.0.0.1:1/metrics";
  options.lease_ttl = kTtl;
  options.replicas = 3;
  node->registry = NodeRegistry::Start(*node->client, options, &error);
  if (!node->registry) {
    ADD_FAILURE() << name << ": " << error;
    return nullptr;
  }
  return node;
}

ClusterStatus Collect(JetStreamClient& client, uint32_t partitions = kPartitions) {
  ClusterStatusOptions options;
  options.partitions = partitions;
  options.timeout = seconds(5);
  ClusterStatus status;
  std::string error;
  EXPECT_TRUE(CollectClusterStatus(client, options, &status, &error)) << error;
  return status;
}

std::vector<std::string> NodeNames(const ClusterStatus& status) {
  std::vector<std::string> names;
  for (const NodeStatus& node : status.nodes) names.push_back(node.key_name);
  return names;
}

const NodeStatus* FindNode(const ClusterStatus& status, const std::string& name) {
  for (const NodeStatus& node : status.nodes) {
    if (node.key_name == name) return &node;
  }
  return nullptr;
}

const StreamStatus* FindStream(const ClusterStatus& status, std::string_view name) {
  for (const StreamStatus& stream : status.streams) {
    if (stream.name == name) return &stream;
  }
  return nullptr;
}

const ConsumerStatus* FindConsumer(const ClusterStatus& status, std::string_view stream,
                                   std::string_view name) {
  for (const ConsumerStatus& consumer : status.consumers) {
    if (consumer.stream == stream && consumer.name == name) return &consumer;
  }
  return nullptr;
}

// Polls until `done(status)` or `timeout`; the time it took, or -1 ms.
template <typename Done>
milliseconds WaitStatus(JetStreamClient& client, milliseconds timeout, Done done,
                        uint32_t partitions = kPartitions) {
  const Clock::time_point start = Clock::now();
  while (Clock::now() - start < timeout) {
    if (done(Collect(client, partitions))) {
      return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return milliseconds(-1);
}

// Publishes `count` messages to `subject` and waits for their acks.
void PublishSome(JetStreamClient& client, const std::string& subject, int count) {
  std::string error;
  auto publisher = BatchPublisher::Create(client, &error);
  ASSERT_TRUE(publisher) << error;
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(publisher->Publish(subject, "payload " + std::to_string(i),
                                   subject + "-" + std::to_string(i), seconds(5), &error))
        << error;
  }
  ASSERT_TRUE(publisher->WaitForAcks(seconds(10), &error)) << error;
}

// Everything but the nodes: streams, a detect consumer with 2 acked of 5
// (1 delivered and not acked), a store consumer that read nothing of 3.
struct Traffic {
  std::unique_ptr<PullConsumer> detect;
  std::unique_ptr<PullConsumer> store;
};

Traffic MakeTraffic(JetStreamClient& client) {
  Traffic traffic;
  std::string error;
  StreamLimits limits;
  limits.max_bytes = int64_t{64} << 20;
  EXPECT_TRUE(client.EnsureStreams(limits, seconds(30), &error)) << error;
  traffic.detect = PullConsumer::Create(client, kEventsStream, "gsoc.events.>", "detect",
                                        seconds(30), seconds(15), &error);
  EXPECT_TRUE(traffic.detect) << error;
  traffic.store = PullConsumer::Create(client, kAlertsStream, "gsoc.alerts.>", "store-1",
                                       seconds(30), seconds(15), &error, 1);
  EXPECT_TRUE(traffic.store) << error;
  if (!traffic.detect || !traffic.store) return traffic;
  PublishSome(client, EventsSubject("local"), 5);
  PublishSome(client, AlertsSubject("local"), 3);
  int handled = 0;
  const auto handler = [&handled](const ConsumedMessage&) {
    return handled++ < 2 ? Consumed::kAck : Consumed::kLater;
  };
  int fetched = 0;
  const Clock::time_point deadline = Clock::now() + seconds(10);
  while (fetched < 3 && Clock::now() < deadline) {
    const int n = traffic.detect->Fetch(3 - fetched, milliseconds(500), handler, &error);
    EXPECT_GE(n, 0) << error;
    fetched += std::max(n, 0);
  }
  EXPECT_EQ(fetched, 3);
  return traffic;
}

TEST(ClusterStatusE2eTest, ShowsNodesOwnersStreamsAndLagAndAKilledNodeLeavesAfterTheTtl) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string error;
  auto reader = JetStreamClient::Connect(LeaseConfig(cluster, 2), seconds(15), &error);
  ASSERT_TRUE(reader) << error;
  Traffic traffic = MakeTraffic(*reader);
  ASSERT_FALSE(HasFailure());

  // Two correlate nodes (leases and registry), one store node (registry).
  std::vector<std::unique_ptr<LeaseNode>> leases;
  std::vector<std::unique_ptr<RegisteredNode>> registries;
  for (int i = 0; i < 2; ++i) {
    const std::string name = "correlate-" + std::to_string(i);
    leases.push_back(StartLeaseNode(cluster, i, name, LeaseOptions(), {}, i));
    registries.push_back(StartRegistry(cluster, i, name, {"correlate"}));
    ASSERT_TRUE(leases.back() && registries.back());
  }
  registries.push_back(StartRegistry(cluster, 2, "store-1", {"store"}));
  ASSERT_TRUE(registries.back());
  ASSERT_GE(
      WaitBalanced({leases[0].get(), leases[1].get()}, kPartitions, seconds(15), &error).count(), 0)
      << error;

  ClusterStatus status = Collect(*reader);
  EXPECT_TRUE(status.problems.empty()) << status.problems.front();
  EXPECT_EQ(NodeNames(status), (std::vector<std::string>{"correlate-0", "correlate-1", "store-1"}));
  const NodeStatus* store = FindNode(status, "store-1");
  ASSERT_TRUE(store && store->valid);
  EXPECT_EQ(store->record.roles, std::vector<std::string>{"store"});
  EXPECT_EQ(store->record.metrics, "http://127.0.0.1:1/metrics");
  EXPECT_LT(store->age_ms, 2000);
  ASSERT_EQ(status.members.size(), 2u);
  EXPECT_EQ(status.members[0].node, "correlate-0");
  // Every partition's owner is the manager that holds it.
  ASSERT_EQ(status.partition.size(), kPartitions);
  EXPECT_TRUE(status.Unowned().empty());
  for (int i = 0; i < 2; ++i) {
    const auto owned = leases[i]->leases->owned().partitions;
    EXPECT_EQ(status.PartitionsByOwner()["correlate-" + std::to_string(i)], owned);
    for (uint32_t p : owned) EXPECT_TRUE(status.partition[p].owner_member) << p;
  }
  // Streams and consumers.
  const StreamStatus* events = FindStream(status, kEventsStream);
  ASSERT_TRUE(events && events->found);
  EXPECT_EQ(events->messages, 3u);  // work queue: the 2 acked are gone
  EXPECT_EQ(events->last_sequence, 5u);
  EXPECT_EQ(events->replicas, 3);
  EXPECT_FALSE(events->leader.empty());
  EXPECT_EQ(events->peers.size(), 2u);
  const StreamStatus* alerts = FindStream(status, kAlertsStream);
  ASSERT_TRUE(alerts && alerts->found);
  EXPECT_EQ(alerts->messages, 3u);
  EXPECT_EQ(alerts->first_sequence, 1u);
  const ConsumerStatus* detect = FindConsumer(status, kEventsStream, "detect");
  ASSERT_TRUE(detect);
  EXPECT_EQ(detect->pending, 2u);      // never delivered
  EXPECT_EQ(detect->ack_pending, 1u);  // delivered, left unacknowledged
  const ConsumerStatus* store_consumer = FindConsumer(status, kAlertsStream, "store-1");
  ASSERT_TRUE(store_consumer);
  EXPECT_EQ(store_consumer->pending, 3u);
  EXPECT_EQ(store_consumer->ack_pending, 0u);

  // A status asking for more partitions than the nodes use shows the rest unowned.
  EXPECT_EQ(Collect(*reader, kPartitions + 4).Unowned(), (std::vector<uint32_t>{16, 17, 18, 19}));
  // Fewer: the leases beyond are named as stray keys, and the rest are read.
  const ClusterStatus fewer = Collect(*reader, kPartitions - 4);
  EXPECT_EQ(fewer.stray_partition_keys, (std::vector<std::string>{"partition.12", "partition.13",
                                                                  "partition.14", "partition.15"}));
  EXPECT_TRUE(fewer.Unowned().empty());

  // correlate-1 killed: still listed until its last heartbeat is a TTL old.
  const Clock::time_point killed = Clock::now();
  leases[1]->leases->AbandonForTest();
  registries[1]->registry->AbandonForTest();
  status = Collect(*reader);
  EXPECT_NE(FindNode(status, "correlate-1"), nullptr);
  const milliseconds gone = WaitStatus(*reader, Scaled(seconds(10)), [](const ClusterStatus& s) {
    return FindNode(s, "correlate-1") == nullptr;
  });
  ASSERT_GE(gone.count(), 0) << "correlate-1 still listed";
  const double after = Seconds(killed);
  std::printf("killed node left the status after %.1f s (TTL %lld s)\n", after,
              static_cast<long long>(kTtl.count()));
  // Its last put was at most TTL / 4 before the kill.
  EXPECT_GE(after, 1.4);
  EXPECT_LE(after, Scaled(seconds(5)).count() / 1000.0);
  // Its partitions move to correlate-0, and the status says so.
  const milliseconds moved = WaitStatus(*reader, Scaled(seconds(15)), [](const ClusterStatus& s) {
    const auto owners = s.PartitionsByOwner();
    return s.Unowned().empty() && owners.size() == 1 && owners.count("correlate-0") == 1 &&
           s.members.size() == 1;
  });
  EXPECT_GE(moved.count(), 0) << ctl::ClusterStatusText(Collect(*reader), 0);

  // store-1 stopped cleanly: gone at once.
  registries[2]->registry->Stop();
  status = Collect(*reader);
  EXPECT_EQ(NodeNames(status), std::vector<std::string>{"correlate-0"});

  // No server left: heartbeats fail, are counted and tried again.
  EXPECT_EQ(registries[0]->registry->counters().put_failures, 0u);
  const uint64_t puts = registries[0]->registry->counters().puts;
  EXPECT_GE(puts, 3u);
  for (size_t i = 0; i < 3; ++i) cluster.Kill(i);
  const Clock::time_point deadline = Clock::now() + seconds(10);
  while (registries[0]->registry->counters().put_failures < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(registries[0]->registry->counters().put_failures, 2u);
  EXPECT_EQ(registries[0]->registry->counters().puts, puts);
}

// `gsocctl cluster status` itself, on the same kind of cluster: --json for
// machines, the text report with unowned partitions, a hostile record
// escaped, and exit 1 for a cluster that is not there.
TEST(ClusterStatusE2eTest, GsocctlReportsTheClusterAsJsonAndText) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string error;
  auto reader = JetStreamClient::Connect(LeaseConfig(cluster, 1), seconds(15), &error);
  ASSERT_TRUE(reader) << error;
  Traffic traffic = MakeTraffic(*reader);
  ASSERT_FALSE(HasFailure());
  std::vector<std::unique_ptr<LeaseNode>> leases;
  std::vector<std::unique_ptr<RegisteredNode>> registries;
  for (int i = 0; i < 2; ++i) {
    const std::string name = "correlate-" + std::to_string(i);
    leases.push_back(StartLeaseNode(cluster, i, name, LeaseOptions(), {}, i));
    registries.push_back(StartRegistry(cluster, i, name, {"detect", "correlate"}));
    ASSERT_TRUE(leases.back() && registries.back());
  }
  ASSERT_GE(
      WaitBalanced({leases[0].get(), leases[1].get()}, kPartitions, seconds(15), &error).count(), 0)
      << error;
  // Anyone allowed to write the bucket can write anything into a value.
  KvStatus bound = KvStatus::kOk;
  auto nodes = KvBucket::Bind(*reader, kNodesBucket, seconds(5), &bound, &error);
  ASSERT_TRUE(nodes) << error;
  // The bucket forgets a record a TTL after its last put, as it forgets a
  // dead node: the hostile records are put again, like heartbeats, for as
  // long as gsocctl may read them (a slow machine takes more than a TTL).
  const auto put_hostile_records = [&nodes](std::string* why) {
    return nodes->Put("node.evil",
                      "gsoc-node 1\nnode evil\nroles store\nversion \x1b]0;pwned\x07\x1b[2J",
                      nullptr, why) == KvStatus::kOk &&
           nodes->Put("node.liar", "gsoc-node 1\nnode correlate-0", nullptr, why) == KvStatus::kOk;
  };
  ASSERT_TRUE(put_hostile_records(&error)) << error;
  std::jthread heartbeat([&put_hostile_records](std::stop_token stop) {
    std::string ignored;
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(kTtl / 4);
      put_hostile_records(&ignored);
    }
  });

  const std::string servers = cluster.Urls()[0];
  RunResult json = RunProgram({GSOCCTL_PATH, "cluster", "status", "--servers", servers,
                               "--partitions", std::to_string(kPartitions), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.output).get(doc), simdjson::SUCCESS) << json.output;
  std::set<std::string> names;
  for (simdjson::dom::element node : simdjson::dom::array(doc["nodes"])) {
    names.insert(std::string(std::string_view(node["name"])));
    if (std::string_view(node["name"]) == "correlate-0") {
      EXPECT_TRUE(bool(node["valid"]));
      EXPECT_EQ(std::string_view(node["roles"].at(1)), "correlate");
    }
    if (std::string_view(node["name"]) == "liar") {
      EXPECT_FALSE(bool(node["valid"]));
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"correlate-0", "correlate-1", "evil", "liar"}));
  uint64_t owned = 0;
  for (simdjson::dom::element owner : simdjson::dom::array(doc["owners"])) {
    owned += uint64_t(owner["count"]);
  }
  EXPECT_EQ(owned, kPartitions);
  EXPECT_EQ(simdjson::dom::array(doc["owners"]).size(), 2u);
  EXPECT_EQ(simdjson::dom::array(doc["unowned"]).size(), 0u);
  bool saw_detect = false;
  for (simdjson::dom::element consumer : simdjson::dom::array(doc["consumers"])) {
    if (std::string_view(consumer["name"]) != "detect") continue;
    saw_detect = true;
    EXPECT_EQ(uint64_t(consumer["pending"]), 2u);
    EXPECT_EQ(uint64_t(consumer["ack_pending"]), 1u);
  }
  EXPECT_TRUE(saw_detect) << json.output;
  EXPECT_EQ(uint64_t(doc["streams"].at(0)["messages"]), 3u);

  RunResult text = RunProgram({GSOCCTL_PATH, "cluster", "status", "--servers", servers,
                               "--partitions", std::to_string(kPartitions + 4)});
  ASSERT_EQ(text.exit_code, 0) << text.output;
  std::printf("%s", text.output.c_str());
  EXPECT_NE(text.output.find("!! UNOWNED PARTITIONS (4): 16-19"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("  correlate-0: "), std::string::npos);
  EXPECT_NE(text.output.find("\\x1b]0;pwned\\x07\\x1b[2J"), std::string::npos) << text.output;
  EXPECT_EQ(text.output.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.output.find('\x07'), std::string::npos);
  EXPECT_NE(text.output.find("!! liar: INVALID RECORD: its record names another node"),
            std::string::npos);

  RunResult usage = RunProgram({GSOCCTL_PATH, "cluster", "status"});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  RunResult bad_config =
      RunProgram({GSOCCTL_PATH, "cluster", "status", "--config", "/nonexistent/gsoc.yaml"});
  EXPECT_EQ(bad_config.exit_code, 2) << bad_config.output;
  RunResult gone = RunProgram({GSOCCTL_PATH, "cluster", "status", "--servers",
                               "nats://127.0.0.1:" + std::to_string(FreePort()), "--timeout", "1"});
  EXPECT_EQ(gone.exit_code, 1) << gone.output;
  EXPECT_NE(gone.output.find("cannot reach the cluster"), std::string::npos) << gone.output;
}

// Nodes heartbeat while an operator reads the status: every node is listed
// exactly once however its record is rewritten during the read (a watch's
// initial values listed a rewritten key twice, or missed it).
TEST(ClusterStatusE2eTest, NodesRewrittenDuringTheReadAreListedOnceEach) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string error;
  auto reader = JetStreamClient::Connect(LeaseConfig(cluster, 1), seconds(15), &error);
  ASSERT_TRUE(reader) << error;
  std::unique_ptr<RegisteredNode> registered =
      StartRegistry(cluster, 0, "correlate-0", {"detect", "correlate"});
  ASSERT_TRUE(registered);
  KvStatus bound = KvStatus::kOk;
  auto nodes = KvBucket::Bind(*reader, kNodesBucket, seconds(5), &bound, &error);
  ASSERT_TRUE(nodes) << error;
  std::vector<std::string> expected{"correlate-0"};
  for (int i = 0; i < 8; ++i) expected.push_back("store-" + std::to_string(i));
  const auto put_all = [&nodes, &expected](std::string* why) {
    for (size_t i = 1; i < expected.size(); ++i) {
      const std::string record = "gsoc-node 1\nnode " + expected[i] + "\nroles store";
      if (nodes->Put("node." + expected[i], record, nullptr, why) != KvStatus::kOk) return false;
    }
    return true;
  };
  ASSERT_TRUE(put_all(&error)) << error;
  std::jthread writer([&put_all](std::stop_token stop) {
    std::string ignored;
    while (!stop.stop_requested()) put_all(&ignored);
  });
  for (int read = 0; read < 30; ++read) {
    EXPECT_EQ(NodeNames(Collect(*reader)), expected) << "read " << read;
  }
}

// Anyone allowed to write the nodes bucket may flood it: the status lists
// at most kMaxStatusNodes of the keys, reads only those and says it was cut.
TEST(ClusterStatusE2eTest, AFloodedNodesBucketIsReadToItsBoundAndSaysSo) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string error;
  auto reader = JetStreamClient::Connect(LeaseConfig(cluster, 1), seconds(15), &error);
  ASSERT_TRUE(reader) << error;
  // A TTL long enough that no record expires while they are written.
  auto nodes = KvBucket::Open(*reader, NodesBucketSpec(seconds(120), 3), seconds(15), &error);
  ASSERT_TRUE(nodes) << error;
  const size_t flood = kMaxStatusNodes + 76;
  for (size_t i = 0; i < flood; ++i) {
    const std::string name = "flood-" + std::to_string(i);
    ASSERT_EQ(nodes->Put("node." + name, "gsoc-node 1\nnode " + name, nullptr, &error),
              KvStatus::kOk)
        << error;
  }
  const ClusterStatus status = Collect(*reader);
  EXPECT_EQ(status.nodes.size(), kMaxStatusNodes);
  EXPECT_TRUE(status.truncated);
  const std::string cut = "more than " + std::to_string(kMaxStatusNodes) + " nodes";
  EXPECT_TRUE(std::any_of(status.problems.begin(), status.problems.end(),
                          [&](const std::string& p) { return p.starts_with(cut); }));
  std::set<std::string> names;
  for (const NodeStatus& node : status.nodes) {
    EXPECT_TRUE(node.valid) << node.key_name << ": " << node.problem;
    names.insert(node.key_name);
  }
  EXPECT_EQ(names.size(), kMaxStatusNodes);  // each listed once
}

// Real gsocd nodes register themselves with their roles and the ports they
// bound; gsocctl reads the connection from a node's own config; a node
// killed leaves after the TTL, one stopped at once.
TEST(ClusterStatusE2eTest, GsocdNodesRegisterAndLeave) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  const std::string short_ttl = "  lease_ttl_seconds: 2\n  takeover_seconds: 4\n";
  Gsocd store1, store2;
  ASSERT_TRUE(store1.Start(
      {std::string(kNoAggregation) + ClusterSection(cluster, "store-1", "store", short_ttl),
       false}));
  ASSERT_TRUE(store2.Start(
      {std::string(kNoAggregation) + ClusterSection(cluster, "store-2", "store", short_ttl),
       false}));
  std::string error;
  auto reader = JetStreamClient::Connect(LeaseConfig(cluster, 0), seconds(15), &error);
  ASSERT_TRUE(reader) << error;
  // Each store role makes its consumer on its own thread, after the start.
  ASSERT_GE(WaitStatus(*reader, seconds(15),
                       [](const ClusterStatus& s) {
                         return FindConsumer(s, kAlertsStream, "store-1") &&
                                FindConsumer(s, kAlertsStream, "store-2");
                       })
                .count(),
            0);
  RunResult json = RunProgram(
      {GSOCCTL_PATH, "cluster", "status", "--config", store1.config_path().string(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.output).get(doc), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(int64_t(doc["partitions"]), 64);  // the config's (default)
  simdjson::dom::array nodes = doc["nodes"];
  ASSERT_EQ(nodes.size(), 2u) << json.output;
  const Gsocd* gsocds[] = {&store1, &store2};
  for (size_t i = 0; i < 2; ++i) {
    simdjson::dom::element node = nodes.at(i);
    EXPECT_EQ(std::string_view(node["name"]), "store-" + std::to_string(i + 1));
    EXPECT_EQ(std::string_view(node["roles"].at(0)), "store");
    EXPECT_EQ(simdjson::dom::array(node["roles"]).size(), 1u);
    EXPECT_EQ(std::string_view(node["version"]), GSOC_VERSION);
    EXPECT_EQ(std::string_view(node["api"]),
              "http://127.0.0.1:" + std::to_string(gsocds[i]->port("api")));
    EXPECT_EQ(std::string_view(node["metrics"]),
              "http://127.0.0.1:" + std::to_string(gsocds[i]->metrics_port()) + "/metrics");
  }
  std::set<std::string> consumers;
  for (simdjson::dom::element consumer : simdjson::dom::array(doc["consumers"])) {
    consumers.insert(std::string(std::string_view(consumer["stream"])) + "/" +
                     std::string(std::string_view(consumer["name"])));
  }
  EXPECT_EQ(consumers, (std::set<std::string>{"GSOC_ALERTS/store-1", "GSOC_ALERTS/store-2"}));
  EXPECT_GE(store1.Metric("gsoc_cluster_node_registry_puts_total"), 1);
  EXPECT_EQ(store1.Metric("gsoc_cluster_node_registry_put_failures_total"), 0);

  const Clock::time_point killed = Clock::now();
  store2.Kill();
  const milliseconds gone = WaitStatus(*reader, Scaled(seconds(10)), [](const ClusterStatus& s) {
    return FindNode(s, "store-2") == nullptr;
  });
  ASSERT_GE(gone.count(), 0) << "store-2 still listed";
  std::printf("killed gsocd left the status after %.1f s\n", Seconds(killed));
  EXPECT_GE(Seconds(killed), 1.4);
  EXPECT_EQ(store1.Stop(), 0);
  EXPECT_TRUE(Collect(*reader).nodes.empty());
}

}  // namespace
}  // namespace gsoc::e2e
