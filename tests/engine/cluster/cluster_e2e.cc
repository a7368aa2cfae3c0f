#include "tests/engine/cluster/cluster_e2e.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "engine/cluster/jetstream.h"

namespace gsoc::e2e {

void Send(uint16_t port, std::string_view data) {
  Fd fd(ConnectTcp(port));
  ASSERT_TRUE(SendAll(fd.get(), data));
}

std::string Servers(const NatsCluster& cluster) {
  std::string servers;
  for (const std::string& url : cluster.Urls()) servers += (servers.empty() ? "" : ", ") + url;
  return servers;
}

std::string ClusterSection(const NatsCluster& cluster, const std::string& node,
                           const std::string& roles, const std::string& extra) {
  // max_batch_bytes is the same on every node: it is each stream's message
  // size limit, and each node sets it when it starts (README). 64
  // partitions, not the default 16: each move hands over more of them.
  return "cluster:\n  servers: [" + Servers(cluster) + "]\n  node: " + node + "\n  roles: [" +
         roles +
         "]\n  replicas: 3\n  stream_max_bytes: 256MiB\n  max_batch_bytes: 16KiB\n"
         "  partitions: 64\n" +
         extra;
}

GsocdConfig IngestConfig(const NatsCluster& cluster) {
  // Small messages (16 KiB, ~80 events): many of them, so that a node
  // killed "mid-stream" is.
  return {"listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n" +
              ClusterSection(cluster, "ingest-1", "ingest"),
          true};
}

GsocdConfig DetectConfig(const Gsocd& node, const NatsCluster& cluster, const std::string& extra) {
  std::string yaml = ShippedPackConfig(node.dir(), kNoAggregation);
  const std::string listeners = "listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n";
  yaml.erase(yaml.find(listeners), listeners.size());  // no listener: it reads GSOC_EVENTS
  yaml += ClusterSection(cluster, "detect-1", "detect", "  listeners: [tcp]\n" + extra);
  return {yaml, false};
}

GsocdConfig StoreConfig(const NatsCluster& cluster, const std::string& node) {
  return {std::string(kNoAggregation) + ClusterSection(cluster, node, "store"), false};
}

std::vector<StoredAlert> StoredAlerts(Gsocd& gsocd) {
  std::vector<StoredAlert> alerts;
  const std::string token = gsocd.ApiToken();
  std::string cursor;
  simdjson::dom::parser parser;
  while (true) {
    const std::string target = "/api/v1/alerts?order=asc&limit=10000" +
                               (cursor.empty() ? std::string() : "&cursor=" + cursor);
    const HttpResult reply =
        HttpRequest(gsocd.port("api"), "GET", target, {"Authorization: Bearer " + token});
    if (reply.status != 200) {
      ADD_FAILURE() << target << ": " << reply.status << " " << reply.body.substr(0, 300);
      return alerts;
    }
    simdjson::dom::element root;
    if (parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << reply.body.substr(0, 200);
      return alerts;
    }
    for (simdjson::dom::element alert : simdjson::dom::array(root["alerts"])) {
      StoredAlert stored;
      stored.id = std::stoull(std::string(std::string_view(alert["id"])));
      stored.kind = std::string(std::string_view(alert["kind"]));
      stored.key = std::string(std::string_view(alert["rule"]["id"])) + " | " +
                   std::string(std::string_view(alert["agency"])) + " | " +
                   std::to_string(uint64_t(alert["count"])) + " | " +
                   simdjson::minify(alert["fields"]) + " | " +
                   std::string(std::string_view(alert["events"].at(0)["raw"]));
      std::string_view start, end;
      if (alert["window"]["start"].get(start) != simdjson::SUCCESS) start = "";
      if (alert["window"]["end"].get(end) != simdjson::SUCCESS) end = "";
      stored.window = std::string(std::string_view(alert["rule"]["id"])) + " | " +
                      simdjson::minify(alert["group"]) + " | " + std::string(start) + " - " +
                      std::string(end) + " | " + std::to_string(uint64_t(alert["count"]));
      alerts.push_back(std::move(stored));
    }
    std::string_view next;
    if (root["next_cursor"].get(next) != simdjson::SUCCESS) break;  // null: the end
    cursor = std::string(next);
  }
  return alerts;
}

std::map<std::string, size_t> Multiset(const std::vector<StoredAlert>& alerts) {
  std::map<std::string, size_t> keys;
  for (const StoredAlert& alert : alerts) ++keys[alert.key];
  return keys;
}

std::map<std::string, size_t> WindowMultiset(const std::vector<StoredAlert>& alerts) {
  std::map<std::string, size_t> keys;
  for (const StoredAlert& alert : alerts) ++keys[alert.window];
  return keys;
}

std::string Difference(const std::map<std::string, size_t>& want,
                       const std::map<std::string, size_t>& got) {
  std::string text;
  size_t shown = 0;
  for (const auto& [key, n] : want) {
    const auto it = got.find(key);
    const size_t m = it == got.end() ? 0 : it->second;
    if (m != n && shown++ < 10)
      text += "  want " + std::to_string(n) + " got " + std::to_string(m) + ": " + key + "\n";
  }
  for (const auto& [key, m] : got) {
    if (!want.count(key) && shown++ < 10)
      text += "  unexpected " + std::to_string(m) + ": " + key + "\n";
  }
  return text;
}

uint64_t StreamMessages(const NatsCluster& cluster, std::string_view stream) {
  ClusterConfig config;
  config.servers = cluster.Urls();
  std::string error;
  auto client = JetStreamClient::Connect(config, 10s, &error);
  EXPECT_NE(client, nullptr) << error;
  return client ? client->StreamMessages(stream, &error) : 0;
}

uint64_t WaitStreamDrained(const NatsCluster& cluster, std::string_view stream,
                           std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  uint64_t left = StreamMessages(cluster, stream);
  while (left > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    left = StreamMessages(cluster, stream);
  }
  return left;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace gsoc::e2e
