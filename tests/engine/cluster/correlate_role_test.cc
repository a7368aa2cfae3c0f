// The correlate role end to end, on a real 3-server nats-server cluster
// with gsocd processes (ingest, 2 detect, 2 correlate, 1 store) on loopback:
//   - the same input gives the same correlation alerts (rule, group, window,
//     count) and detection alerts as a single-node gsocd;
//   - a correlate node killed with SIGKILL mid-stream: its partitions move
//     to the other within takeover_seconds, and the store serves exactly
//     the uninterrupted run's alerts, none twice;
//   - partitions moved back and forth under load (one correlate node
//     stopped and started again, repeatedly) change nothing either.
// Input: the regression cases of the shipped correlations
// (rules/tests/correlations.yaml), case after case one hour apart in event
// time, `rounds` times. Each case is sent once the detect nodes processed
// the one before: hits of one key then reach their partition in input
// order, as on a single node (README "The correlate role": the order of
// hits with several detect nodes). Lateness is 720 h on every node: event
// time runs ~7,000 times faster than the wall clock here (a case an hour,
// sent every ~0.5 s), so a chained hit's round trip through GSOC_HITS (or a
// 10 s takeover) spans many cases; the chained key must still keep the
// entries the chained hit completes (README "Where a cluster's correlations
// differ"), and a partition's view of a source's time never makes the next
// case late.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/cluster_status.h"
#include "engine/cluster/jetstream.h"
#include "tests/engine/cluster/cluster_e2e.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {
namespace {

constexpr char kLateness[] = "correlation: {lateness: 720h}\n";
constexpr int64_t kFirstCase = 1788220800;  // 2026-09-01T00:00:00Z: in the past, same year
constexpr int kPartitions = 64;

std::string Rfc3164Stamp(int64_t seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%b %e %H:%M:%S", &tm);
  return text;
}

std::string Expand(std::string text, int i) {
  for (size_t at; (at = text.find("{i}")) != std::string::npos;) {
    text.replace(at, 3, std::to_string(i));
  }
  return text;
}

struct Case {
  std::string text;  // its lines, in event time
  size_t lines = 0;
};

std::vector<Case> Cases(size_t rounds, size_t* lines) {
  const YAML::Node cases =
      YAML::LoadFile(std::string(GSOC_SOURCE_DIR) + "/rules/tests/correlations.yaml")["cases"];
  std::vector<Case> out;
  *lines = 0;
  for (size_t r = 0; r < rounds; ++r) {
    for (const YAML::Node& item : cases) {
      const int64_t base = kFirstCase + static_cast<int64_t>(out.size()) * 3600;
      std::vector<std::pair<int64_t, std::string>> timed;
      for (const YAML::Node& entry : item["lines"]) {
        const int repeat = entry["repeat"] ? entry["repeat"].as<int>() : 1;
        const int every = entry["every"] ? entry["every"].as<int>() : 1;
        for (int i = 0; i < repeat; ++i) {
          const int64_t time = base + entry["at"].as<int64_t>() + int64_t{i} * every;
          timed.emplace_back(
              time, "<38>" + Rfc3164Stamp(time) + " " + Expand(entry["line"].as<std::string>(), i));
        }
      }
      std::stable_sort(timed.begin(), timed.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      Case c;
      for (const auto& [time, line] : timed) c.text += line + "\n";
      c.lines = timed.size();
      *lines += c.lines;
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::string AllOf(const std::vector<Case>& cases) {
  std::string text;
  for (const Case& c : cases) text += c.text;
  return text;
}

struct Reference {
  std::map<std::string, size_t> detections;    // StoredAlert::key
  std::map<std::string, size_t> correlations;  // StoredAlert::window
  size_t total = 0;
};

Reference Split(const std::vector<StoredAlert>& alerts) {
  Reference out;
  for (const StoredAlert& alert : alerts) {
    if (alert.kind == "correlation") {
      ++out.correlations[alert.window];
    } else {
      ++out.detections[alert.key];
    }
  }
  out.total = alerts.size();
  return out;
}

// The single node's alerts for the same input (all of it at once).
Reference SingleNode(const std::vector<Case>& cases, size_t lines) {
  Gsocd single;
  if (!single.Start({ShippedPackConfig(single.dir(), std::string(kNoAggregation) + kLateness)})) {
    return {};
  }
  Send(single.port("tcp"), AllOf(cases));
  EXPECT_EQ(single.WaitEventLines(lines, 30s), lines);
  // Correlations fire on their last input: none waits for a window to close.
  const double produced = single.Metric("gsoc_alerts_total");
  EXPECT_TRUE(single.WaitMetric("gsoc_store_alerts_committed_total", {}, produced, 30s));
  Reference reference = Split(StoredAlerts(single));
  EXPECT_EQ(single.Stop(), 0) << single.Stderr();
  return reference;
}

GsocdConfig CorrelateConfig(const Gsocd& node, const NatsCluster& cluster, const std::string& name,
                            const std::string& interval = "1s") {
  std::string yaml = ShippedPackConfig(node.dir(), std::string(kNoAggregation) + kLateness);
  const std::string listeners = "listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n";
  yaml.erase(yaml.find(listeners), listeners.size());
  yaml += ClusterSection(cluster, name, "correlate",
                         "  listeners: [tcp]\n  checkpoint_interval: " + interval + "\n");
  return {yaml, false};
}

GsocdConfig DetectNode(const Gsocd& node, const NatsCluster& cluster, const std::string& name) {
  GsocdConfig config = DetectConfig(node, cluster);
  config.yaml = std::string(kLateness) + config.yaml;
  const size_t at = config.yaml.find("node: detect-1");
  config.yaml.replace(at, 14, "node: " + name);
  return config;
}

// Ingest, two detect, two correlate and one store node.
struct Nodes {
  NatsCluster cluster{3};
  Gsocd store, detect1, detect2, correlate1, correlate2, ingest;

  bool Start() {
    return store.Start(StoreConfig(cluster, "store-1")) &&
           correlate1.Start(CorrelateConfig(correlate1, cluster, "correlate-1")) &&
           correlate2.Start(CorrelateConfig(correlate2, cluster, "correlate-2")) &&
           detect1.Start(DetectNode(detect1, cluster, "detect-1")) &&
           detect2.Start(DetectNode(detect2, cluster, "detect-2")) &&
           ingest.Start(IngestConfig(cluster));
  }
  double DetectedEvents() {
    return detect1.Metric("gsoc_cluster_detect_events_total") +
           detect2.Metric("gsoc_cluster_detect_events_total");
  }
  // Sends `text` (`n` lines) and waits until the detect nodes processed it.
  void SendAndWait(const std::string& text, size_t n, size_t* sent) {
    Send(ingest.port("tcp"), text);
    *sent += n;
    const Clock::time_point deadline = Clock::now() + 30s;
    while (DetectedEvents() < static_cast<double>(*sent) && Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_GE(DetectedEvents(), static_cast<double>(*sent));
  }
  // Sends cases [first, end), each once the detect nodes processed the one
  // before; with `pause`, each case in two halves that far apart (a
  // partition moved between them must carry its keys' state over).
  void SendCases(const std::vector<Case>& cases, size_t first, size_t end, size_t* sent,
                 std::chrono::milliseconds pause = 0ms) {
    for (size_t k = first; k < end; ++k) {
      const std::string& text = cases[k].text;
      if (pause == 0ms || cases[k].lines < 2) {
        SendAndWait(text, cases[k].lines, sent);
        continue;
      }
      const size_t half = cases[k].lines / 2;
      size_t cut = 0;
      for (size_t i = 0; i < half; ++i) cut = text.find('\n', cut) + 1;
      SendAndWait(text.substr(0, cut), half, sent);
      std::this_thread::sleep_for(pause);
      SendAndWait(text.substr(cut), cases[k].lines - half, sent);
      std::this_thread::sleep_for(pause);
    }
  }
  void StopAll() {
    for (Gsocd* node : {&ingest, &detect1, &detect2, &correlate1, &correlate2, &store}) {
      if (node->running()) {
        EXPECT_EQ(node->Stop(), 0) << node->Stderr();
      }
    }
  }
};

// The store holds `reference` exactly: no alert missing, none twice.
void ExpectStoreHolds(Gsocd& store, const Reference& reference,
                      std::chrono::seconds timeout = 40s) {
  EXPECT_TRUE(store.WaitMetricAtLeast("gsoc_cluster_store_alerts_total", {},
                                      static_cast<double>(reference.total), timeout))
      << store.Metric("gsoc_cluster_store_alerts_total") << " of " << reference.total;
  std::this_thread::sleep_for(1s);  // anything extra (a duplicate) would show now
  const Reference got = Split(StoredAlerts(store));
  if (got.total != reference.total) {
    ADD_FAILURE() << "store: " << got.total << " alerts of " << reference.total << "; stderr:\n"
                  << store.Stderr().substr(0, 4000);
  }
  EXPECT_EQ(got.correlations, reference.correlations)
      << Difference(reference.correlations, got.correlations);
  EXPECT_EQ(got.detections, reference.detections)
      << Difference(reference.detections, got.detections);
  EXPECT_EQ(got.total, reference.total);
}

double Owned(Gsocd& node) { return node.Metric("gsoc_cluster_partitions_owned"); }

// The same from any thread (the harness's Gsocd belongs to the test's): -1
// when the scrape fails.
double OwnedPartitions(uint16_t metrics_port) {
  const HttpResult reply = HttpRequest(metrics_port, "GET", "/metrics", {});
  const std::string name = "\ngsoc_cluster_partitions_owned ";
  const size_t at = reply.body.find(name);
  if (reply.status != 200 || at == std::string::npos) return -1;
  return std::strtod(reply.body.c_str() + at + name.size(), nullptr);
}

TEST(ClusterCorrelateRole, SameAlertsAsASingleNode) {
  const Clock::time_point start = Clock::now();
  size_t lines = 0;
  const std::vector<Case> cases = Cases(2, &lines);
  const Reference reference = SingleNode(cases, lines);
  ASSERT_GE(reference.correlations.size(), 10u);  // the pack's cases fire many
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(nodes.Start());
  // Both correlate nodes own half of the partitions.
  for (Gsocd* node : {&nodes.correlate1, &nodes.correlate2}) {
    EXPECT_TRUE(node->WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s))
        << Owned(*node);
  }
  size_t sent = 0;
  nodes.SendCases(cases, 0, cases.size(), &sent);
  ExpectStoreHolds(nodes.store, reference);
  const double hits = nodes.correlate1.Metric("gsoc_cluster_correlate_hits_total") +
                      nodes.correlate2.Metric("gsoc_cluster_correlate_hits_total");
  EXPECT_EQ(hits, nodes.detect1.Metric("gsoc_cluster_hits_published_total") +
                      nodes.detect2.Metric("gsoc_cluster_hits_published_total") +
                      nodes.correlate1.Metric("gsoc_cluster_correlate_chained_hits_total") +
                      nodes.correlate2.Metric("gsoc_cluster_correlate_chained_hits_total"));
  for (Gsocd* node : {&nodes.correlate1, &nodes.correlate2}) {
    EXPECT_GT(node->Metric("gsoc_cluster_correlation_alerts_published_total"), 0);
    EXPECT_EQ(node->Metric("gsoc_cluster_correlate_refused_total"), 0);
    EXPECT_EQ(node->Metric("gsoc_cluster_correlate_hits_unknown_total"), 0);
    EXPECT_GT(node->Metric("gsoc_cluster_correlation_alert_publish_ack_seconds_count"), 0);
  }
  EXPECT_GT(nodes.correlate1.Metric("gsoc_cluster_correlate_chained_hits_total") +
                nodes.correlate2.Metric("gsoc_cluster_correlate_chained_hits_total"),
            0);
  std::printf(
      "correlate role: %zu lines, %zu correlation and %zu detection alert kinds (%zu alerts) as "
      "the single node; %g hits; %.1f s\n",
      lines, reference.correlations.size(), reference.detections.size(), reference.total, hits,
      Seconds(start));
  nodes.StopAll();
}

// correlate-2 checkpoints once an hour: when it dies, the other replays
// everything it did, and makes its alerts again with the same identities.
TEST(ClusterCorrelateRole, ACorrelateNodeKilledMidStreamMovesItsPartitions) {
  size_t lines = 0;
  const std::vector<Case> cases = Cases(4, &lines);
  const Reference reference = SingleNode(cases, lines);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(nodes.store.Start(StoreConfig(nodes.cluster, "store-1")));
  ASSERT_TRUE(
      nodes.correlate1.Start(CorrelateConfig(nodes.correlate1, nodes.cluster, "correlate-1")));
  ASSERT_TRUE(nodes.correlate2.Start(
      CorrelateConfig(nodes.correlate2, nodes.cluster, "correlate-2", "1h")));
  ASSERT_TRUE(nodes.detect1.Start(DetectNode(nodes.detect1, nodes.cluster, "detect-1")));
  ASSERT_TRUE(nodes.detect2.Start(DetectNode(nodes.detect2, nodes.cluster, "detect-2")));
  ASSERT_TRUE(nodes.ingest.Start(IngestConfig(nodes.cluster)));
  ASSERT_TRUE(
      nodes.correlate2.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s));
  ASSERT_TRUE(
      nodes.correlate1.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s));
  size_t sent = 0;
  nodes.SendCases(cases, 0, cases.size() / 2, &sent);
  // It published correlation alerts (none checkpointed), and dies.
  ASSERT_TRUE(nodes.correlate2.WaitMetricAtLeast("gsoc_cluster_correlation_alerts_published_total",
                                                 {}, 1, 10s));
  const double published =
      nodes.correlate2.Metric("gsoc_cluster_correlation_alerts_published_total");
  nodes.correlate2.Kill();
  const Clock::time_point killed = Clock::now();
  // When correlate-1 owns them all, watched apart from the stream (a slow
  // stream must not count as a slow takeover).
  std::atomic<double> moved{-1};
  std::thread watcher([&, port = nodes.correlate1.metrics_port()] {
    while (Clock::now() - killed < 20s) {
      if (OwnedPartitions(port) == kPartitions) {
        moved = Seconds(killed);
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  // The rest of the stream flows meanwhile; the takeover replays.
  nodes.SendCases(cases, cases.size() / 2, cases.size(), &sent);
  watcher.join();
  const double took = moved.load();
  EXPECT_GE(took, 0) << "correlate-1 owns " << Owned(nodes.correlate1);
  EXPECT_LE(took, 10.0 + 0.5) << "takeover_seconds is 10";
  ExpectStoreHolds(nodes.store, reference);
  EXPECT_GT(nodes.correlate1.Metric("gsoc_cluster_correlate_hits_replayed_total"), 0);
  // What the dead node had published was made again, the same: dropped.
  const double twice =
      nodes.correlate1.Metric("gsoc_cluster_correlation_alert_messages_duplicate_total") +
      nodes.store.Metric("gsoc_cluster_alerts_deduplicated_total");
  EXPECT_GT(twice, 0);
  std::printf(
      "correlate node killed after publishing %g correlation alerts; its partitions owned by the "
      "other %.1f s later; %g hits replayed, %g messages JetStream saw twice, %g alerts dropped by "
      "the store's window; %zu alerts = single node\n",
      published, took, nodes.correlate1.Metric("gsoc_cluster_correlate_hits_replayed_total"),
      nodes.correlate1.Metric("gsoc_cluster_correlation_alert_messages_duplicate_total"),
      nodes.store.Metric("gsoc_cluster_alerts_deduplicated_total"), reference.total);
  nodes.StopAll();
}

TEST(ClusterCorrelateRole, PartitionsMovedUnderLoadChangeNothing) {
  size_t lines = 0;
  const std::vector<Case> cases = Cases(10, &lines);
  const Reference reference = SingleNode(cases, lines);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(nodes.Start());
  ASSERT_TRUE(
      nodes.correlate2.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s));
  // The stream flows while correlate-2 leaves (its partitions move to
  // correlate-1) and comes back (half of them move back), again and again.
  std::atomic<bool> done{false};
  size_t sent = 0;
  std::thread sender([&] {
    nodes.SendCases(cases, 0, cases.size(), &sent, 60ms);
    done = true;
  });
  const Clock::time_point start = Clock::now();
  int moves = 0;
  while (!done && Clock::now() - start < 90s && !HasFailure()) {
    EXPECT_EQ(nodes.correlate2.Stop(), 0) << nodes.correlate2.Stderr();
    EXPECT_TRUE(nodes.correlate1.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions, 10s));
    ++moves;
    if (!nodes.correlate2.Start(CorrelateConfig(nodes.correlate2, nodes.cluster, "correlate-2"))) {
      break;
    }
    EXPECT_TRUE(
        nodes.correlate2.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 15s));
    ++moves;
  }
  sender.join();
  ExpectStoreHolds(nodes.store, reference);
  EXPECT_GE(moves, 10);
  std::printf(
      "%d partition moves (32 partitions each) under load in %.1f s; %g restores and %g hits "
      "replayed on correlate-1; %zu alerts = single node\n",
      moves, Seconds(start), nodes.correlate1.Metric("gsoc_cluster_correlate_restores_total"),
      nodes.correlate1.Metric("gsoc_cluster_correlate_hits_replayed_total"), reference.total);
  nodes.StopAll();
}

}  // namespace
}  // namespace gsoc::e2e

namespace gsoc::e2e {
namespace {

// Server death: a nats-server (of three) killed with SIGKILL while the
// stream flows. Every node reconnects to the others, JetStream (replicas 3)
// elects new leaders, and processing goes on: half of the cases flow while
// it is dead. It comes back with its data directory, the rest flows, and it
// catches up: every stream's replicas, server 0's among them, are current
// again. The store ends with exactly the single node's alerts, none lost,
// none twice.
bool AllReplicasCurrent(JetStreamClient& client, std::string* why) {
  ClusterStatus status;
  std::string error;
  if (!CollectClusterStatus(client, {}, &status, &error)) {
    *why = error;
    return false;
  }
  if (status.streams.size() != 3) {
    *why = std::to_string(status.streams.size()) + " streams";
    return false;
  }
  for (const StreamStatus& stream : status.streams) {
    bool has_n0 = stream.leader == "n0";
    bool current = !stream.leader.empty() && stream.peers.size() == 2;
    for (const StreamPeerStatus& peer : stream.peers) {
      has_n0 = has_n0 || peer.name == "n0";
      current = current && peer.current && !peer.offline;
    }
    if (!has_n0 || !current) {
      *why = stream.name + ": leader '" + stream.leader + "', " +
             std::to_string(stream.peers.size()) + " peers, not all current";
      return false;
    }
  }
  return true;
}

// Starts the nodes and waits until the two correlate nodes own half the
// partitions each.
void StartWithPartitionsSplit(Nodes& nodes) {
  ASSERT_TRUE(nodes.Start());
  for (Gsocd* node : {&nodes.correlate1, &nodes.correlate2}) {
    ASSERT_TRUE(node->WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s))
        << Owned(*node);
  }
}

TEST(ClusterCorrelateRole, ANatsServerKilledMidStreamLosesNothingAndCatchesUp) {
  size_t lines = 0;
  const std::vector<Case> cases = Cases(4, &lines);
  const Reference reference = SingleNode(cases, lines);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(StartWithPartitionsSplit(nodes));
  const size_t quarter = cases.size() / 4;
  size_t sent = 0;
  nodes.SendCases(cases, 0, quarter, &sent);
  nodes.cluster.Kill(0);
  const Clock::time_point killed = Clock::now();
  nodes.SendCases(cases, quarter, 3 * quarter, &sent);
  const double flowed = Seconds(killed);
  ASSERT_TRUE(nodes.cluster.Restart(0));
  const Clock::time_point restarted = Clock::now();
  nodes.SendCases(cases, 3 * quarter, cases.size(), &sent);
  // Every lease may lapse while JetStream elects the key-value bucket's
  // leader; the partitions are then taken again and replay their hits.
  ExpectStoreHolds(nodes.store, reference, 90s);
  EXPECT_EQ(WaitStreamDrained(nodes.cluster, "GSOC_EVENTS", 30s), 0u);
  ClusterConfig config;
  config.servers = nodes.cluster.Urls();
  std::string why;
  auto client = JetStreamClient::Connect(config, 10s, &why);
  ASSERT_NE(client, nullptr) << why;
  // 60 s from here, not from the restart: the last quarter and the store's
  // wait may take longer than that under ASan on a loaded machine (CI: the
  // check then got no time at all).
  const Clock::time_point checking = Clock::now();
  bool current = false;
  while (!(current = AllReplicasCurrent(*client, &why)) && Seconds(checking) < 60) {
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(current) << why;
  std::printf(
      "server 0 killed: %zu cases flowed in %.1f s on servers 1 and 2; server 0 back, every "
      "stream's replicas current %.1f s after its restart; %zu alerts = single node\n",
      2 * quarter, flowed, Seconds(restarted), reference.total);
  nodes.StopAll();
}

// A double fault: a second server killed right after the first returned,
// while its replicas catch up (JetStream elects leaders again, every lease
// may lapse, every partition is taken again and its consumer made again).
// Nothing is lost, and the time from the second kill to the store holding
// every alert is printed, with the hits consumers made in vain (README
// "Known gaps": a run by hand once took 34-121 s, its consumers made one
// after another, each waiting 5 s).
TEST(ClusterCorrelateRole, ASecondNatsServerKilledAfterTheFirstReturnedLosesNothing) {
  size_t lines = 0;
  const std::vector<Case> cases = Cases(4, &lines);
  const Reference reference = SingleNode(cases, lines);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(StartWithPartitionsSplit(nodes));
  const size_t quarter = cases.size() / 4;
  size_t sent = 0;
  nodes.SendCases(cases, 0, quarter, &sent);
  nodes.cluster.Kill(0);
  nodes.SendCases(cases, quarter, 2 * quarter, &sent);
  ASSERT_TRUE(nodes.cluster.Restart(0));
  nodes.cluster.Kill(1);
  const Clock::time_point killed = Clock::now();
  // Each case once the one before was detected; JetStream may take a while
  // to take messages again.
  for (size_t k = 2 * quarter; k < cases.size(); ++k) {
    Send(nodes.ingest.port("tcp"), cases[k].text);
    sent += cases[k].lines;
    const Clock::time_point deadline = Clock::now() + 120s;
    while (nodes.DetectedEvents() < static_cast<double>(sent) && Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_GE(nodes.DetectedEvents(), static_cast<double>(sent)) << "case " << k;
    if (k == 3 * quarter) {
      ASSERT_TRUE(nodes.cluster.Restart(1));
    }
  }
  const double detected = Seconds(killed);
  ExpectStoreHolds(nodes.store, reference, 180s);
  const double recovered = Seconds(killed);
  const double errors = nodes.correlate1.Metric("gsoc_cluster_correlate_consumer_errors_total") +
                        nodes.correlate2.Metric("gsoc_cluster_correlate_consumer_errors_total");
  std::printf(
      "double fault: the last case detected %.1f s after the second kill, every alert (%zu) in "
      "the store after %.1f s; %.0f consumer errors\n",
      detected, reference.total, recovered, errors);
  nodes.StopAll();
}

}  // namespace
}  // namespace gsoc::e2e
