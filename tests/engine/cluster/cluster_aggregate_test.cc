// Alert aggregation through a cluster, end to end, on a real 3-server
// nats-server cluster with gsocd processes (ingest, detect, 2 correlate,
// store) on loopback, against a single-node gsocd on the same input:
//   - the store ends with the single node's aggregates (rule, group,
//     window, count), one record for each; a second store replica, killed
//     mid-stream and restarted, ends with the same records under the same ids;
//   - a correlate node killed with SIGKILL mid-stream (after it published
//     versions past version 0, with no checkpoint saved): the other replays
//     its partitions and the store still ends with the same aggregates, one
//     record each (nothing shown twice).
// Input: failed SSH logins of four attackers against two accounts each,
// one a second in event time (so within one period), sent in chunks, each
// once the detect node processed the one before. Rules: the shipped pack
// and two more on the same lines, one with `aggregate_by: [src_ip]`, one
// with `aggregate_by: []` (an alert per hit).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/engine/cluster/cluster_e2e.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {
namespace {

constexpr int64_t kFirst = 1788220800;  // 2026-09-01T00:00:00Z: in the past, same year
constexpr int kPartitions = 64;
constexpr size_t kLines = 160;
constexpr size_t kChunk = 20;
constexpr char kAggregate[] = "alerts: {aggregate: {update_interval: 1s}}\n";

std::string Line(size_t i) {
  const std::time_t time = static_cast<std::time_t>(kFirst + static_cast<int64_t>(i));
  std::tm tm{};
  gmtime_r(&time, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
  const size_t attacker = i % 4;
  const char* user = (i / 4) % 2 == 0 ? "root" : "admin";
  return "<38>" + std::string(stamp) + " bastion sshd[812]: Failed password for " + user +
         " from 198.18.7." + std::to_string(attacker + 1) + " port 5" + std::to_string(i) +
         "0 ssh2\n";
}

// The shipped pack plus two rules of this test (in `dir`).
std::string PackConfig(const TempDir& dir) {
  const std::filesystem::path extra = dir / "extra-rules";
  std::filesystem::create_directories(extra);
  const auto rule = [&](const char* file, const char* id, const char* name, const char* by) {
    std::ofstream(extra / file) << "title: " << name << "\nid: " << id << "\nname: " << name
                                << "\nstatus: test\nlogsource: {product: linux, service: sshd}\n"
                                << "detection:\n  selection: {action: failure}\n"
                                << "  condition: selection\nlevel: medium\naggregate_by: " << by
                                << "\n";
  };
  rule("by_ip.yml", "0a9e5d7c-1111-4c52-9a61-0c1f6f0d0b01", "ssh_failure_by_ip", "[src_ip]");
  rule("alone.yml", "0a9e5d7c-2222-4c52-9a61-0c1f6f0d0b02", "ssh_failure_alone", "[]");
  std::string yaml = ShippedPackConfig(dir, kAggregate);
  const size_t at = yaml.find("/sigma]");
  yaml.insert(at + 6, ", " + extra.string());
  return yaml;
}

std::string Lines(size_t first, size_t end) {
  std::string text;
  for (size_t i = first; i < end; ++i) text += Line(i);
  return text;
}

// One stored aggregate as the API shows it.
struct Aggregate {
  std::string aggregate;  // rule | group: which aggregate
  std::string state;      // window start - end | count
};

// Detection alerts the store serves: aggregate -> its states (one each,
// when the store holds one record per aggregate); an alert outside an
// aggregate under "plain | rule | fields" (each line its own).
std::map<std::string, std::vector<std::string>> Aggregates(Gsocd& gsocd, size_t* plain) {
  std::map<std::string, std::vector<std::string>> out;
  *plain = 0;
  const std::string token = gsocd.ApiToken();
  simdjson::dom::parser parser;
  const HttpResult reply =
      HttpRequest(gsocd.port("api"), "GET", "/api/v1/alerts?order=asc&limit=10000",
                  {"Authorization: Bearer " + token});
  simdjson::dom::element root;
  if (reply.status != 200 || parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << reply.status << " " << reply.body.substr(0, 300);
    return out;
  }
  for (simdjson::dom::element alert : simdjson::dom::array(root["alerts"])) {
    if (std::string_view(alert["kind"]) != "detection") continue;
    simdjson::dom::element aggregate;
    if (alert["aggregate"].get(aggregate) != simdjson::SUCCESS) {
      ++*plain;
      out["plain | " + std::string(std::string_view(alert["rule"]["id"])) + " | " +
          simdjson::minify(alert["fields"])]
          .push_back(std::to_string(uint64_t(alert["count"])));
      continue;
    }
    const std::string which = std::string(std::string_view(alert["rule"]["id"])) + " | " +
                              simdjson::minify(alert["group"]);
    out[which].push_back(std::string(std::string_view(alert["window"]["start"])) + " - " +
                         std::string(std::string_view(alert["window"]["end"])) + " | " +
                         std::to_string(uint64_t(alert["count"])));
  }
  return out;
}

std::string Describe(const std::map<std::string, std::vector<std::string>>& aggregates) {
  std::string text;
  for (const auto& [which, states] : aggregates) {
    text += "  " + which + ":";
    for (const std::string& state : states) text += " [" + state + "]";
    text += "\n";
  }
  return text;
}

// Polls until two reads a second apart agree (and `want` when given).
std::map<std::string, std::vector<std::string>> Settled(
    Gsocd& gsocd, const std::map<std::string, std::vector<std::string>>* want,
    std::chrono::seconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  size_t plain = 0;
  auto last = Aggregates(gsocd, &plain);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(1500ms);
    auto now = Aggregates(gsocd, &plain);
    if (now == last && (want == nullptr || now == *want)) return now;
    last = std::move(now);
  }
  return last;
}

// The single node's aggregates (update_interval 1 s: its last versions come
// within a second or two of the last line).
std::map<std::string, std::vector<std::string>> SingleNode() {
  Gsocd single;
  if (!single.Start({PackConfig(single.dir())})) return {};
  Send(single.port("tcp"), Lines(0, kLines));
  EXPECT_EQ(single.WaitEventLines(kLines, 30s), kLines);
  std::this_thread::sleep_for(2s);
  auto aggregates = Settled(single, nullptr, 30s);
  EXPECT_EQ(single.Stop(), 0) << single.Stderr();
  return aggregates;
}

GsocdConfig RuleNode(const Gsocd& node, const NatsCluster& cluster, const std::string& name,
                     const std::string& roles, const std::string& extra) {
  std::string yaml = PackConfig(node.dir());
  const std::string listeners = "listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n";
  yaml.erase(yaml.find(listeners), listeners.size());  // no listener: it reads GSOC_EVENTS
  yaml += ClusterSection(cluster, name, roles, "  listeners: [tcp]\n" + extra);
  return {yaml, false};
}

struct Nodes {
  NatsCluster cluster{3};
  Gsocd store, detect, correlate1, correlate2, ingest;

  bool Start(const std::string& correlate2_interval) {
    return store.Start({ClusterSection(cluster, "store-1", "store"), false}) &&
           correlate1.Start(RuleNode(correlate1, cluster, "correlate-1", "correlate",
                                     "  checkpoint_interval: 1s\n")) &&
           correlate2.Start(RuleNode(correlate2, cluster, "correlate-2", "correlate",
                                     "  checkpoint_interval: " + correlate2_interval + "\n")) &&
           correlate2.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s) &&
           correlate1.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions / 2, 20s) &&
           detect.Start(RuleNode(detect, cluster, "detect-1", "detect", "")) &&
           ingest.Start(IngestConfig(cluster));
  }
  // Lines [first, end) in chunks, each once the detect node processed the one before.
  void Send(size_t first, size_t end) {
    for (size_t at = first; at < end; at += kChunk) {
      const size_t stop = std::min(end, at + kChunk);
      e2e::Send(ingest.port("tcp"), Lines(at, stop));
      ASSERT_TRUE(detect.WaitMetricAtLeast("gsoc_cluster_detect_events_total", {},
                                           static_cast<double>(stop), 30s));
    }
  }
  void StopAll() {
    for (Gsocd* node : {&ingest, &detect, &correlate1, &correlate2, &store}) {
      if (node->running()) {
        EXPECT_EQ(node->Stop(), 0) << node->Stderr();
      }
    }
  }
};

// The store serves the single node's aggregates, one record each, and
// its alerts outside an aggregate (the aggregate_by: [] rule's: one a line).
void ExpectSameAggregates(Gsocd& store,
                          const std::map<std::string, std::vector<std::string>>& reference) {
  const auto got = Settled(store, &reference, 40s);
  EXPECT_EQ(got, reference) << "single node:\n"
                            << Describe(reference) << "cluster store:\n"
                            << Describe(got) << store.Stderr().substr(0, 3000);
  size_t plain = 0;
  Aggregates(store, &plain);
  EXPECT_EQ(plain, kLines);
}

double Sum(Gsocd& a, Gsocd& b, const std::string& metric) {
  return a.Metric(metric) + b.Metric(metric);
}

TEST(ClusterAggregation, SameAggregatesAsASingleNode) {
  const Clock::time_point start = Clock::now();
  const auto reference = SingleNode();
  // 4 attackers x 2 accounts (the pack's rule), 4 attackers (by src_ip),
  // and a plain alert a line (aggregate_by: []).
  size_t by_ip = 0, plain = 0;
  for (const auto& [which, states] : reference) {
    ASSERT_EQ(states.size(), 1u) << which;  // one record per aggregate on the single node too
    by_ip += which.find("0a9e5d7c-1111") == 0 ? 1 : 0;
    plain += which.find("plain | ") == 0 ? 1 : 0;
  }
  ASSERT_GE(reference.size(), 8u + 4 + kLines) << Describe(reference);
  EXPECT_EQ(by_ip, 4u) << Describe(reference);
  EXPECT_EQ(plain, kLines);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  // A second store replica, killed mid-stream after it replaced versions
  // and restarted at the end: it recalls its aggregates from its own store.
  Gsocd replica;
  ASSERT_TRUE(replica.Start({ClusterSection(nodes.cluster, "store-2", "store"), false}));
  ASSERT_TRUE(nodes.Start("1s"));
  nodes.Send(0, kLines / 2);
  ASSERT_TRUE(replica.WaitMetricAtLeast("gsoc_cluster_store_aggregate_versions_replacing_total", {},
                                        1, 15s));
  replica.Kill();
  nodes.Send(kLines / 2, kLines);
  ExpectSameAggregates(nodes.store, reference);
  ASSERT_TRUE(replica.Start({ClusterSection(nodes.cluster, "store-2", "store"), false}));
  // (Recalled on its consumer thread, after start.)
  EXPECT_TRUE(replica.WaitMetricAtLeast("gsoc_cluster_store_aggregates_known", {}, 1, 10s));
  ExpectSameAggregates(replica, reference);
  // Replicas hold the same alerts under the same ids.
  const std::vector<StoredAlert> one = StoredAlerts(nodes.store), two = StoredAlerts(replica);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].id, two[i].id) << i;
    EXPECT_EQ(one[i].window, two[i].window) << one[i].id;
  }
  // The cluster aggregated (a hit each would be kLines alerts), and each
  // correlate node took part.
  EXPECT_GT(nodes.detect.Metric("gsoc_cluster_aggregation_hits_published_total"), kLines - 1);
  for (Gsocd* node : {&nodes.correlate1, &nodes.correlate2}) {
    EXPECT_GT(node->Metric("gsoc_aggregate_opened_total"), 0);
    EXPECT_EQ(node->Metric("gsoc_cluster_correlate_refused_total"), 0);
  }
  EXPECT_EQ(Sum(nodes.correlate1, nodes.correlate2, "gsoc_aggregate_hits_total"),
            nodes.detect.Metric("gsoc_cluster_aggregation_hits_published_total"));
  EXPECT_GT(nodes.store.Metric("gsoc_cluster_store_aggregate_versions_replacing_total"), 0);
  EXPECT_EQ(nodes.store.Metric("gsoc_cluster_store_aggregate_versions_superseded_total"), 0);
  std::printf(
      "aggregation: %zu lines, %zu aggregates (and a plain alert a line) = single node, one record "
      "each; %g versions "
      "replaced in the store; %g flush markers; %.1f s\n",
      kLines, reference.size() - kLines,
      nodes.store.Metric("gsoc_cluster_store_aggregate_versions_replacing_total"),
      Sum(nodes.correlate1, nodes.correlate2, "gsoc_cluster_aggregate_flush_markers_total"),
      Seconds(start));
  nodes.StopAll();
  EXPECT_EQ(replica.Stop(), 0) << replica.Stderr();
}

// correlate-2 never checkpoints (1 h): when it dies after publishing later
// versions, the other replays its partitions from the start and makes the
// same versions again, which are dropped as duplicates.
TEST(ClusterAggregation, ACorrelateNodeKilledMidStreamChangesNoAggregate) {
  const auto reference = SingleNode();
  ASSERT_GE(reference.size(), 8u + 4 + kLines) << Describe(reference);
  Nodes nodes;
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(nodes.Start("1h"));
  nodes.Send(0, kLines / 2);
  ASSERT_TRUE(nodes.correlate2.WaitMetricAtLeast("gsoc_aggregate_updated_total", {}, 1, 15s));
  const double updated = nodes.correlate2.Metric("gsoc_aggregate_updated_total");
  nodes.correlate2.Kill();
  nodes.Send(kLines / 2, kLines);
  ASSERT_TRUE(nodes.correlate1.WaitMetric("gsoc_cluster_partitions_owned", {}, kPartitions, 20s));
  ExpectSameAggregates(nodes.store, reference);
  EXPECT_GT(nodes.correlate1.Metric("gsoc_cluster_correlate_hits_replayed_total"), 0);
  const double twice =
      nodes.correlate1.Metric("gsoc_cluster_correlation_alert_messages_duplicate_total") +
      nodes.store.Metric("gsoc_cluster_alerts_deduplicated_total");
  EXPECT_GT(twice, 0);  // the dead node's output, made again the same
  // Every version replayed was the same alert with the same identity
  // (dropped as a duplicate): none reached the store as another alert that
  // only its version check kept out.
  EXPECT_EQ(nodes.store.Metric("gsoc_cluster_store_aggregate_versions_superseded_total"), 0);
  std::printf(
      "aggregation: correlate node killed after %g later versions; %g hits replayed, %g "
      "messages JetStream saw twice, %g alerts dropped by the store's window, %g superseded; "
      "%zu aggregates (and a plain alert a line) = single node\n",
      updated, nodes.correlate1.Metric("gsoc_cluster_correlate_hits_replayed_total"),
      nodes.correlate1.Metric("gsoc_cluster_correlation_alert_messages_duplicate_total"),
      nodes.store.Metric("gsoc_cluster_alerts_deduplicated_total"),
      nodes.store.Metric("gsoc_cluster_store_aggregate_versions_superseded_total"),
      reference.size() - kLines);
  nodes.StopAll();
}

}  // namespace
}  // namespace gsoc::e2e
