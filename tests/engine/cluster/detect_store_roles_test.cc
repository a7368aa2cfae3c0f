// The detect and store roles end to end, on a real 3-server nats-server
// cluster (nats_cluster.h) with gsocd processes on loopback ports chosen at
// run time, stopped by PID:
//   - ingest + detect (2 consumer threads) + two store nodes give the same detection alerts
//     (rule, agency, fields, count, raw line) as a single-node gsocd on the
//     same input, and both store nodes hold them with the same ids;
//   - a detect node killed with SIGKILL mid-stream and restarted loses and
//     duplicates nothing visible through the store's API;
//   - a store node killed with SIGKILL and restarted catches up to the same
//     alerts with the same ids as the one that kept running;
//   - undecodable messages are refused (counted) by both roles, and alerts
//     published again under another message id (as after JetStream's
//     duplicate window) are stored once, also after a store restart; a
//     store whose GSOC_ALERTS was recreated under it consumes nothing and
//     is not ready.
// Input: the line of every regression case of the shipped rule pack
// (rules/tests/linux_auth.yaml, network_web.yaml; no correlations: this
// cluster has no correlate node; correlate_role_test.cc has them), repeated.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/hit_batch_codec.h"
#include "engine/cluster/jetstream.h"
#include "tests/engine/cluster/cluster_e2e.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::vector<std::string> CaseLines() {
  std::vector<std::string> lines;
  for (const char* file : {"linux_auth.yaml", "network_web.yaml"}) {
    const YAML::Node cases =
        YAML::LoadFile(std::string(GSOC_SOURCE_DIR) + "/rules/tests/" + file)["cases"];
    for (const YAML::Node& item : cases) lines.push_back(item["line"].as<std::string>());
  }
  return lines;
}

// `rounds` times every case line.
std::string Input(size_t rounds, size_t* count) {
  const std::vector<std::string> lines = CaseLines();
  std::string data;
  for (size_t r = 0; r < rounds; ++r) {
    for (const std::string& line : lines) data += line + "\n";
  }
  *count = rounds * lines.size();
  return data;
}

// The single-node reference: the detection alerts of the same input through
// one gsocd. (Its correlation alerts are left out: these clusters have no
// correlate node; correlate_role_test.cc compares those.)
std::vector<StoredAlert> SingleNodeAlerts(const std::string& input, size_t lines) {
  Gsocd single;
  if (!single.Start({ShippedPackConfig(single.dir(), kNoAggregation)})) return {};
  Send(single.port("tcp"), input);
  EXPECT_EQ(single.WaitEventLines(lines, 30s), lines);
  const double produced = single.Metric("gsoc_alerts_total");
  EXPECT_TRUE(single.WaitMetric("gsoc_store_alerts_committed_total", {}, produced, 30s));
  std::vector<StoredAlert> alerts = StoredAlerts(single);
  EXPECT_EQ(single.Stop(), 0) << single.Stderr();
  std::erase_if(alerts, [](const StoredAlert& alert) { return alert.kind != "detection"; });
  return alerts;
}

// Every hits message in GSOC_HITS, decoded; checks each lies on the subject
// of its partition. Returns the number of hits.
// Counts the hits messages in GSOC_HITS and their payload bytes (after
// decompression: what the detect node encoded).
size_t ReadBackHits(const NatsCluster& cluster, size_t* messages, size_t* payload_bytes) {
  ClusterConfig config;
  config.servers = cluster.Urls();
  std::string error;
  auto client = JetStreamClient::Connect(config, 10s, &error);
  EXPECT_NE(client, nullptr) << error;
  if (!client) return 0;
  auto consumer =
      PullConsumer::Create(*client, kHitsStream, "gsoc.hits.>", "test-read-back", 30s, 10s, &error);
  EXPECT_NE(consumer, nullptr) << error;
  if (!consumer) return 0;
  size_t hits = 0;
  std::vector<ClusterHit> decoded;
  while (true) {
    const int fetched = consumer->Fetch(
        64, 1s,
        [&](const ConsumedMessage& message) {
          CodecError codec_error;
          EXPECT_TRUE(DecodeHitBatch(message.data, decoded, &codec_error)) << codec_error.reason;
          for (const ClusterHit& hit : decoded) {
            const std::vector<std::string_view> group(hit.group.begin(), hit.group.end());
            EXPECT_EQ(message.subject,
                      HitsSubject(HitPartition(hit.correlation, group, /*partitions=*/64)));
            EXPECT_FALSE(hit.raw.empty());
            EXPECT_GT(hit.stream_sequence, 0u);
          }
          hits += decoded.size();
          ++*messages;
          *payload_bytes += message.data.size();
          return Consumed::kAck;
        },
        &error);
    EXPECT_GE(fetched, 0) << error;
    if (fetched <= 0) break;
  }
  return hits;
}

TEST(ClusterDetectStoreRoles, SameAlertsAsASingleNodeAndReplicasAgreeOnIds) {
  const Clock::time_point start = Clock::now();
  size_t lines = 0;
  const std::string input = Input(200, &lines);
  const std::vector<StoredAlert> reference = SingleNodeAlerts(input, lines);
  ASSERT_GT(reference.size(), lines / 2);
  const double reference_seconds = Seconds(start);

  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  Gsocd store1, store2, detect, ingest;
  ASSERT_TRUE(store1.Start(StoreConfig(cluster, "store-1")));
  ASSERT_TRUE(store2.Start(StoreConfig(cluster, "store.2")));  // '.': durable "store_2"
  // Two consumer threads: alerts of both interleave on GSOC_ALERTS.
  ASSERT_TRUE(detect.Start(DetectConfig(detect, cluster, "  detect_consumers: 2\n")));
  ASSERT_TRUE(ingest.Start(IngestConfig(cluster)));
  Send(ingest.port("tcp"), input);
  for (Gsocd* store : {&store1, &store2}) {
    EXPECT_TRUE(store->WaitMetric("gsoc_cluster_store_alerts_total", {},
                                  static_cast<double>(reference.size()), 30s))
        << store->Metric("gsoc_cluster_store_alerts_total") << " of " << reference.size();
  }
  std::this_thread::sleep_for(500ms);  // anything extra would show now
  const std::vector<StoredAlert> one = StoredAlerts(store1), two = StoredAlerts(store2);
  const auto want = Multiset(reference);
  EXPECT_EQ(Multiset(one), want) << Difference(want, Multiset(one));
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one[i].id, two[i].id) << i;
    ASSERT_EQ(one[i].key, two[i].key) << one[i].id;
  }
  EXPECT_EQ(detect.Metric("gsoc_cluster_detect_events_total"), lines);
  EXPECT_EQ(detect.Metric("gsoc_cluster_detect_refused_total"), 0);
  EXPECT_EQ(detect.Metric("gsoc_cluster_alerts_published_total"), reference.size());
  EXPECT_EQ(store1.Metric("gsoc_cluster_alerts_deduplicated_total"), 0);
  EXPECT_EQ(store1.Metric("gsoc_cluster_store_refused_total"), 0);
  EXPECT_TRUE(detect.WaitMetric("gsoc_cluster_detect_consumer_pending", {}, 0, 5s));
  EXPECT_GT(detect.Metric("gsoc_cluster_alert_publish_ack_seconds_count"), 0);
  // The hits the shipped correlations need are in GSOC_HITS, by partition.
  size_t hit_messages = 0, hit_payload_bytes = 0;
  const size_t hits = ReadBackHits(cluster, &hit_messages, &hit_payload_bytes);
  EXPECT_GT(hits, 0u);
  EXPECT_EQ(hits, detect.Metric("gsoc_cluster_hits_published_total"));
  EXPECT_EQ(hit_messages, detect.Metric("gsoc_cluster_hit_messages_published_total"));
  EXPECT_EQ(hit_payload_bytes, detect.Metric("gsoc_cluster_hit_raw_bytes_published_total"));
  // As sent: LZ4 when it pays (the default), so never more than the payloads.
  EXPECT_GT(detect.Metric("gsoc_cluster_hit_bytes_published_total"), 0);
  EXPECT_LE(detect.Metric("gsoc_cluster_hit_bytes_published_total"), hit_payload_bytes);
  std::printf(
      "detect+store roles: %zu lines, %zu alerts; single node %.1f s, cluster %.1f s; "
      "%g events messages, %g alerts messages, %zu hits in %zu messages; ids %llu..%llu on both "
      "stores\n",
      lines, one.size(), reference_seconds, Seconds(start) - reference_seconds,
      detect.Metric("gsoc_cluster_detect_messages_total"),
      detect.Metric("gsoc_cluster_alert_messages_published_total"), hits, hit_messages,
      static_cast<unsigned long long>(one.empty() ? 0 : one.front().id),
      static_cast<unsigned long long>(one.empty() ? 0 : one.back().id));
  for (Gsocd* node : {&ingest, &detect, &store2, &store1}) {
    EXPECT_EQ(node->Stop(), 0) << node->Stderr();
  }
}

TEST(ClusterDetectStoreRoles, ADetectNodeKilledMidStreamLosesAndDuplicatesNothing) {
  size_t lines = 0;
  const std::string input = Input(200, &lines);
  const std::vector<StoredAlert> reference = SingleNodeAlerts(input, lines);
  ASSERT_GT(reference.size(), lines / 2);

  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  Gsocd store, detect, ingest;
  ASSERT_TRUE(store.Start(StoreConfig(cluster, "store-1")));
  ASSERT_TRUE(ingest.Start(IngestConfig(cluster)));
  Send(ingest.port("tcp"), input);
  ASSERT_TRUE(ingest.WaitMetric("gsoc_cluster_published_events_total", {},
                                static_cast<double>(lines), 30s));
  const double messages = ingest.Metric("gsoc_cluster_published_messages_total");
  ASSERT_TRUE(detect.Start(DetectConfig(detect, cluster)));
  // Killed once it has done some of the work, not all.
  ASSERT_TRUE(
      detect.WaitMetricAtLeast("gsoc_cluster_detect_messages_total", {}, messages / 10, 30s));
  detect.Kill();
  const uint64_t left = StreamMessages(cluster, kEventsStream);
  EXPECT_GT(left, 0u) << "the detect node finished before it was killed";
  const double stored_at_kill = store.Metric("gsoc_cluster_store_alerts_total");
  ASSERT_TRUE(detect.Start(DetectConfig(detect, cluster)));
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_alerts_total", {},
                               static_cast<double>(reference.size()), 35s))
      << store.Metric("gsoc_cluster_store_alerts_total") << " of " << reference.size();
  // Every events message acked, the one in the killed node's hands too: it
  // comes back after ack_wait (10 s), and whatever alerts the killed node
  // had published from it reach the store again, to be dropped there.
  EXPECT_EQ(WaitStreamDrained(cluster, kEventsStream, 30s), 0u);
  EXPECT_TRUE(detect.WaitMetric("gsoc_cluster_detect_consumer_unacked", {}, 0, 15s));
  std::this_thread::sleep_for(500ms);
  const std::vector<StoredAlert> stored = StoredAlerts(store);
  const auto want = Multiset(reference);
  EXPECT_EQ(Multiset(stored), want) << Difference(want, Multiset(stored));
  std::printf(
      "detect node killed with %llu of %g events messages left, %g alerts stored; after the "
      "restart: %g messages (%g redelivered), %g alerts messages JetStream saw twice, %g alerts "
      "dropped by the store's window; %zu alerts stored = single node\n",
      static_cast<unsigned long long>(left), messages, stored_at_kill,
      detect.Metric("gsoc_cluster_detect_messages_total"),
      detect.Metric("gsoc_cluster_detect_redeliveries_total"),
      detect.Metric("gsoc_cluster_alert_messages_duplicate_total"),
      store.Metric("gsoc_cluster_alerts_deduplicated_total"), stored.size());
  for (Gsocd* node : {&ingest, &detect, &store}) EXPECT_EQ(node->Stop(), 0) << node->Stderr();
}

TEST(ClusterDetectStoreRoles, AStoreNodeKilledAndRestartedCatchesUp) {
  size_t lines = 0;
  const std::string input = Input(200, &lines);
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  Gsocd store1, store2, detect, ingest;
  ASSERT_TRUE(store1.Start(StoreConfig(cluster, "store-1")));
  ASSERT_TRUE(store2.Start(StoreConfig(cluster, "store-2")));
  ASSERT_TRUE(detect.Start(DetectConfig(detect, cluster)));
  ASSERT_TRUE(ingest.Start(IngestConfig(cluster)));
  Send(ingest.port("tcp"), input);
  ASSERT_TRUE(store2.WaitMetricAtLeast("gsoc_cluster_store_alerts_total", {}, 100, 30s));
  store2.Kill();
  // The other keeps serving: everything arrives there meanwhile.
  ASSERT_TRUE(detect.WaitMetric("gsoc_cluster_detect_events_total", {}, lines, 30s));
  const double published = detect.Metric("gsoc_cluster_alerts_published_total");
  ASSERT_TRUE(store1.WaitMetric("gsoc_cluster_store_alerts_total", {}, published, 30s));
  const std::vector<StoredAlert> one = StoredAlerts(store1);
  EXPECT_EQ(one.size(), published);
  ASSERT_TRUE(store2.Start(StoreConfig(cluster, "store-2")));
  const Clock::time_point restart = Clock::now();
  // Caught up: its API shows as many alerts as the other's.
  std::vector<StoredAlert> two;
  while (Clock::now() - restart < 30s) {
    two = StoredAlerts(store2);
    if (two.size() >= one.size()) break;
    std::this_thread::sleep_for(200ms);
  }
  const double catch_up = Seconds(restart);
  std::this_thread::sleep_for(500ms);
  two = StoredAlerts(store2);
  ASSERT_EQ(two.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one[i].id, two[i].id) << i;
    ASSERT_EQ(one[i].key, two[i].key) << one[i].id;
  }
  EXPECT_GT(store2.Metric("gsoc_cluster_store_dedup_window_rebuilt"), 0);
  EXPECT_EQ(store2.Metric("gsoc_cluster_alerts_deduplicated_total"), 0);
  std::printf(
      "store node killed and restarted: caught up to %zu alerts in %.1f s (window rebuilt "
      "with %g identities, %g alerts of a redelivered message already stored)\n",
      two.size(), catch_up, store2.Metric("gsoc_cluster_store_dedup_window_rebuilt"),
      store2.Metric("gsoc_cluster_store_already_stored_total"));
  for (Gsocd* node : {&ingest, &detect, &store2, &store1}) {
    EXPECT_EQ(node->Stop(), 0) << node->Stderr();
  }
}

std::vector<ClusterAlert> CraftedAlerts(size_t first, size_t n) {
  std::vector<ClusterAlert> alerts;
  for (size_t i = first; i < first + n; ++i) {
    Alert alert;
    alert.time_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i);
    alert.rule = {"crafted-rule", "crafted", "Crafted", rules::Level::kHigh, {}, 0};
    alert.agency = "local";
    alert.window_start_ns = alert.window_end_ns = alert.time_ns;
    alert.fields = {{"n", std::to_string(i)}};
    alert.events.push_back({i, alert.time_ns, "crafted line " + std::to_string(i)});
    alerts.push_back({ComputeAlertIdentity(alert, {1000 + i, 0}), std::move(alert)});
  }
  return alerts;
}

// Publishes `data` with the header Gsoc-Encoding: `encoding` as a hostile
// client would (not through BatchPublisher, which only sends what it made).
void PublishEncoded(const std::string& url, const char* subject, const std::string& data,
                    const char* encoding) {
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&connection, url.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
  ASSERT_EQ(natsMsg_Create(&msg, subject, nullptr, data.data(), static_cast<int>(data.size())),
            NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(msg, "Gsoc-Encoding", encoding), NATS_OK);
  jsPubAck* ack = nullptr;
  EXPECT_EQ(js_PublishMsg(&ack, js, msg, nullptr, nullptr), NATS_OK);
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(msg);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
}

TEST(ClusterDetectStoreRoles, BadMessagesAreRefusedAndRepeatedAlertsStoredOnce) {
  NatsCluster cluster(1);
  ASSERT_FALSE(HasFailure());
  const auto one_replica = [](GsocdConfig config) {
    const size_t at = config.yaml.find("replicas: 3");
    config.yaml.replace(at, 11, "replicas: 1");
    return config;
  };
  Gsocd store, detect;
  ASSERT_TRUE(store.Start(one_replica(StoreConfig(cluster, "store-1"))));
  ASSERT_TRUE(detect.Start(one_replica(DetectConfig(detect, cluster))));
  ClusterConfig config;
  config.servers = cluster.Urls();
  std::string error;
  auto client = JetStreamClient::Connect(config, 10s, &error);
  ASSERT_NE(client, nullptr) << error;
  auto publisher = BatchPublisher::Create(*client, &error);
  ASSERT_NE(publisher, nullptr) << error;
  const auto publish = [&](const std::string& subject, const std::string& data,
                           const std::string& id) {
    ASSERT_TRUE(publisher->Publish(subject, data, id, 5s, &error)) << error;
    ASSERT_TRUE(publisher->WaitForAcks(10s, &error)) << error;
  };
  // Untrusted input on both streams: refused, counted, the roles go on.
  publish("gsoc.events.local", "GSEB not a batch", "bad-events");
  publish("gsoc.alerts.local", "GSAB not a batch", "bad-alerts");
  EXPECT_TRUE(detect.WaitMetric("gsoc_cluster_detect_refused_total", {}, 1, 10s));
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_refused_total", {}, 1, 10s));
  // Compressed payloads that do not decompress, or claim an encoding we do
  // not know: refused as undecodable too.
  PublishEncoded(cluster.Urls()[0], "gsoc.events.local", "\xf0GSEB garbage", "lz4");
  PublishEncoded(cluster.Urls()[0], "gsoc.alerts.local", "\xf0GSAB garbage", "lz4");
  PublishEncoded(cluster.Urls()[0], "gsoc.alerts.local", "GSAB", "zstd");
  EXPECT_TRUE(detect.WaitMetric("gsoc_cluster_detect_refused_total", {}, 2, 10s));
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_refused_total", {}, 3, 10s));

  const std::vector<ClusterAlert> alerts = CraftedAlerts(0, 3);
  std::string message;
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 16, message), 3u);
  publish("gsoc.alerts.local", message, "first");
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_alerts_total", {}, 3, 10s));
  publish("gsoc.alerts.local", message, "first");  // within the window: JetStream drops it
  EXPECT_EQ(publisher->duplicates(), 1u);
  publish("gsoc.alerts.local", message, "later");  // beyond it: the store's own window
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_alerts_deduplicated_total", {}, 3, 10s));
  ASSERT_EQ(EncodeAlertBatch(CraftedAlerts(3, 1), 0, 1 << 16, message), 1u);
  publish("gsoc.alerts.local", message, "new");
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_alerts_total", {}, 4, 10s));
  EXPECT_EQ(StoredAlerts(store).size(), 4u);

  // The window survives a restart (read back from GSOC_ALERTS).
  store.Kill();
  ASSERT_TRUE(store.Start(one_replica(StoreConfig(cluster, "store-1"))));
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 16, message), 3u);
  publish("gsoc.alerts.local", message, "after-restart");
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_alerts_deduplicated_total", {}, 3, 10s));
  EXPECT_GE(store.Metric("gsoc_cluster_store_dedup_window_rebuilt"), 4);
  const std::vector<StoredAlert> stored = StoredAlerts(store);
  ASSERT_EQ(stored.size(), 4u);
  // Ids follow GSOC_ALERTS: messages 1-3 were refused, message 4 holds ids
  // 4000..4002, message 5 (dropped by the window) none, message 6 id 6000.
  EXPECT_EQ(stored.front().id, 4000u);
  EXPECT_EQ(stored.back().id, 6000u);
  EXPECT_EQ(HttpRequest(store.port("api"), "GET", "/readyz", {}).status, 200);

  // GSOC_ALERTS recreated under the store: its sequences would start over
  // below the store's ids. The store refuses to consume and is not ready.
  store.Kill();
  jsErrCode code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(client->context(), "GSOC_ALERTS", nullptr, &code), NATS_OK);
  ASSERT_TRUE(store.Start(one_replica(StoreConfig(cluster, "store-1"))));  // creates it again
  EXPECT_TRUE(store.WaitMetric("gsoc_cluster_store_stream_behind", {}, 1, 10s));
  EXPECT_EQ(HttpRequest(store.port("api"), "GET", "/readyz", {}).status, 503);
  EXPECT_EQ(StoredAlerts(store).size(), 4u);  // still served
  for (Gsocd* node : {&detect, &store}) EXPECT_EQ(node->Stop(), 0) << node->Stderr();
}

}  // namespace
}  // namespace gsoc::e2e
