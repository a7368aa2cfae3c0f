// The ingest role end to end: a gsocd node with `cluster: {roles: [ingest]}`
// publishes what its TCP listener receives to GSOC_EVENTS on a 3-server
// nats-server cluster; one server is killed halfway through the sending,
// and every line sent comes back from the stream exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <map>
#include <string>

#include "engine/cluster/event_batch_codec.h"
#include "engine/cluster/jetstream.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {
namespace {

std::string Line(size_t i) {
  return "<38>Dec  4 01:02:03 web-01 sshd[4242]: Failed password for root from 203.0.113." +
         std::to_string(i % 250) + " port " + std::to_string(40000 + i % 20000) +
         " ssh2 n=" + std::to_string(i);
}

void SendLines(uint16_t port, size_t first, size_t end) {
  Fd fd(ConnectTcp(port));
  std::string data;
  for (size_t i = first; i < end; ++i) data += Line(i) + "\n";
  ASSERT_TRUE(SendAll(fd.get(), data));
}

TEST(ClusterIngestRole, EveryLineSentReachesTheStreamOnceThroughAServerLoss) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  std::string servers;
  for (const std::string& url : cluster.Urls()) servers += (servers.empty() ? "" : ", ") + url;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - {name: tcp, type: syslog_tcp, port: 0}
cluster:
  servers: [)" + servers + R"(]
  node: ingest-1
  roles: [ingest]
  replicas: 3
  max_batch_bytes: 64KiB
  stream_max_bytes: 256MiB
)"}));
  constexpr size_t kLines = 20000;
  SendLines(gsocd.port("tcp"), 0, kLines / 2);
  ASSERT_GE(gsocd.WaitEventLines(kLines / 4, std::chrono::seconds(30)), kLines / 4);
  cluster.Kill(0);  // whichever server gsocd uses, the stream keeps 2 of 3
  SendLines(gsocd.port("tcp"), kLines / 2, kLines);
  ASSERT_EQ(gsocd.WaitEventLines(kLines, std::chrono::seconds(60)), kLines);

  ClusterConfig config;
  config.servers = cluster.Urls();
  std::string error;
  auto client = JetStreamClient::Connect(config, std::chrono::seconds(15), &error);
  ASSERT_NE(client, nullptr) << error;
  auto consumer = PullConsumer::Create(*client, kEventsStream, "gsoc.events.>", "detect",
                                       std::chrono::seconds(30), std::chrono::seconds(30), &error);
  ASSERT_NE(consumer, nullptr) << error;
  std::map<std::string, size_t> seen;  // raw line -> times
  size_t messages = 0, events = 0, bytes = 0;
  EventBatchDecoder decoder;
  EventBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (events < kLines && std::chrono::steady_clock::now() < deadline) {
    ASSERT_GE(consumer->Fetch(
                  32, std::chrono::seconds(1),
                  [&](const ConsumedMessage& message) {
                    EXPECT_EQ(message.subject, "gsoc.events.local");
                    batch.Clear();
                    CodecError codec_error;
                    EXPECT_TRUE(decoder.Decode(message.data, batch, &codec_error))
                        << codec_error.reason;
                    ++messages;
                    bytes += message.data.size();
                    for (const Event& event : batch.events()) {
                      ++events;
                      ++seen[std::string(event.raw)];
                      EXPECT_EQ(event.host, "web-01");
                    }
                    return Consumed::kAck;
                  },
                  &error),
              0)
        << error;
  }
  EXPECT_EQ(events, kLines);
  size_t missing = 0, repeated = 0;
  for (size_t i = 0; i < kLines; ++i) {
    const auto it = seen.find(Line(i));
    missing += it == seen.end() ? 1 : 0;
    repeated += it != seen.end() && it->second > 1 ? 1 : 0;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(repeated, 0u);
  std::printf(
      "ingest role: %zu lines, %zu messages (%.1f events/message), server n0 killed "
      "halfway\n",
      events, messages, messages ? static_cast<double>(events) / messages : 0.0);
  EXPECT_EQ(gsocd.Metric("gsoc_cluster_published_events_total"), kLines);
  EXPECT_EQ(gsocd.Metric("gsoc_cluster_published_messages_total"), messages);
  // The consumer saw the payloads decompressed; they went LZ4-compressed
  // (the default cluster.compression), and these lines shrink well.
  EXPECT_EQ(gsocd.Metric("gsoc_cluster_published_raw_bytes_total"), bytes);
  EXPECT_LT(gsocd.Metric("gsoc_cluster_published_bytes_total"), bytes / 2.0);
  EXPECT_GT(gsocd.Metric("gsoc_cluster_published_bytes_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_cluster_events_too_large_total"), 0);
  EXPECT_EQ(gsocd.Stop(), 0) << gsocd.Stderr();
}

}  // namespace
}  // namespace gsoc::e2e
