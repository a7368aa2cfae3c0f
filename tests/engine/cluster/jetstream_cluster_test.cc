// The JetStream client against real nats-server processes: a 3-server
// cluster (replicas 3) that loses a server while batches are published keeps
// every acknowledged batch, once; a durable pull consumer shares work and
// delivers again what a consumer did not acknowledge.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "engine/cluster/event_batch_codec.h"
#include "engine/cluster/jetstream.h"
#include "tests/engine/cluster/nats_cluster.h"

namespace gsoc::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kAgencies[] = {"mof", "moh", "moe"};

// Batch `index`: `events` syslog lines with ids index * events + i, encoded.
std::string EncodedBatch(size_t index, size_t events) {
  EventBatch batch;
  for (size_t i = 0; i < events; ++i) {
    Event& event = batch.AddEvent();
    event.id = index * events + i;
    event.receive_time_ns = 1'764'800'000'000'000'000 + static_cast<int64_t>(event.id);
    event.event_time_ns = event.receive_time_ns;
    event.agency = static_cast<uint16_t>(index % 3);
    const std::string line =
        "<38>Dec  4 01:02:03 web-01 sshd[4242]: Failed password for root "
        "from 203.0.113." +
        std::to_string(event.id % 250) + " port 51000 ssh2 id=" + std::to_string(event.id);
    event.raw = batch.arena().CopyPadded(line);
    event.host = event.raw.substr(20, 6);
    event.message = event.raw.substr(40);
    batch.AddField(event, "src_ip", event.raw.substr(line.find("203.0.113.")));
  }
  std::string out;
  EXPECT_EQ(EventBatchEncoder().Encode(batch, 0, 1 << 20, out), events);
  return out;
}

ClusterConfig Config(const NatsCluster& cluster, int replicas) {
  ClusterConfig config;
  config.enabled = true;
  config.servers = cluster.Urls();
  config.replicas = replicas;
  config.max_batch_bytes = 256 * 1024;
  config.max_inflight_batches = 16;
  return config;
}

// Fetches from `consumer` until `expected_events` distinct event ids arrived
// or `timeout`; counts events seen twice in `duplicates`.
std::set<uint64_t> ConsumeEvents(PullConsumer& consumer, size_t expected_events,
                                 std::chrono::seconds timeout, size_t& duplicates) {
  std::set<uint64_t> ids;
  EventBatchDecoder decoder;
  EventBatch batch;
  const auto deadline = Clock::now() + timeout;
  while (ids.size() < expected_events && Clock::now() < deadline) {
    std::string error;
    const int fetched = consumer.Fetch(
        64, std::chrono::milliseconds(1000),
        [&](const ConsumedMessage& message) {
          batch.Clear();
          CodecError codec_error;
          if (!decoder.Decode(message.data, batch, &codec_error)) return Consumed::kRefuse;
          for (const Event& event : batch.events())
            duplicates += ids.insert(event.id).second ? 0 : 1;
          return Consumed::kAck;
        },
        &error);
    EXPECT_GE(fetched, 0) << error;
  }
  return ids;
}

// A client with the three streams and a publisher; nulls (and a gtest
// failure) when the cluster does not take them.
struct Connected {
  std::unique_ptr<JetStreamClient> client;
  std::unique_ptr<BatchPublisher> publisher;
};
Connected ConnectWithStreams(const NatsCluster& cluster, int replicas, int64_t max_bytes) {
  Connected out;
  std::string error;
  out.client =
      JetStreamClient::Connect(Config(cluster, replicas), std::chrono::seconds(15), &error);
  StreamLimits limits;
  limits.max_bytes = max_bytes;
  if (!out.client || !out.client->EnsureStreams(limits, std::chrono::seconds(60), &error) ||
      !(out.publisher = BatchPublisher::Create(*out.client, &error))) {
    ADD_FAILURE() << error;
    return {};
  }
  return out;
}

TEST(JetStreamClusterTest, KillingAServerWhilePublishingLosesNothingAcknowledged) {
  NatsCluster cluster(3);
  ASSERT_FALSE(HasFailure());
  auto [client, publisher] = ConnectWithStreams(cluster, 3, int64_t{1} << 30);
  ASSERT_TRUE(client && publisher);
  std::string error;

  constexpr size_t kBatches = 240, kEvents = 400, kKillAt = 80;
  const int victim = cluster.IndexOf(client->ConnectedUrl());
  ASSERT_GE(victim, 0) << client->ConnectedUrl();
  size_t acknowledged = 0;  // batches [0, acknowledged) are acknowledged
  size_t encoded_bytes = 0;
  const auto start = Clock::now();
  for (size_t b = 0; b < kBatches; ++b) {
    const std::string data = EncodedBatch(b, kEvents);
    encoded_bytes += data.size();
    ASSERT_TRUE(publisher->Publish(EventsSubject(kAgencies[b % 3]), data,
                                   "test-" + std::to_string(b), std::chrono::seconds(30), &error))
        << "batch " << b << ": " << error;
    if (b == kKillAt) cluster.Kill(static_cast<size_t>(victim));  // with batches in flight
    if (b % 20 == 19) {
      ASSERT_TRUE(publisher->WaitForAcks(std::chrono::seconds(60), &error)) << error;
      acknowledged = b + 1;
    }
  }
  ASSERT_TRUE(publisher->WaitForAcks(std::chrono::seconds(60), &error)) << error;
  acknowledged = kBatches;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_NE(cluster.IndexOf(client->ConnectedUrl()), victim);
  EXPECT_EQ(publisher->acked(), kBatches);
  // Each batch is stored once, resent or not (Nats-Msg-Id).
  EXPECT_EQ(client->StreamMessages(kEventsStream, &error), kBatches) << error;
  std::printf(
      "published %zu batches of %zu events (%.0f B/event) in %.2f s with server n%d "
      "killed after batch %zu: %.0f events/s, %llu resent, %llu acks marked duplicate\n",
      kBatches, kEvents, static_cast<double>(encoded_bytes) / (kBatches * kEvents), seconds, victim,
      kKillAt, kBatches * kEvents / seconds, static_cast<unsigned long long>(publisher->resent()),
      static_cast<unsigned long long>(publisher->duplicates()));

  auto consumer = PullConsumer::Create(*client, kEventsStream, "gsoc.events.>", "detect",
                                       std::chrono::seconds(30), std::chrono::seconds(30), &error);
  ASSERT_NE(consumer, nullptr) << error;
  size_t duplicates = 0;
  const std::set<uint64_t> ids =
      ConsumeEvents(*consumer, acknowledged * kEvents, std::chrono::seconds(60), duplicates);
  EXPECT_EQ(ids.size(), acknowledged * kEvents);
  EXPECT_EQ(duplicates, 0u);
  if (!ids.empty()) {
    EXPECT_EQ(*ids.begin(), 0u);
    EXPECT_EQ(*ids.rbegin(), acknowledged * kEvents - 1);
  }

  // The server comes back and the cluster takes batches with it again.
  ASSERT_TRUE(cluster.Restart(static_cast<size_t>(victim))) << cluster.Log(victim);
  for (size_t b = kBatches; b < kBatches + 20; ++b) {
    ASSERT_TRUE(publisher->Publish(EventsSubject("mof"), EncodedBatch(b, kEvents),
                                   "test-" + std::to_string(b), std::chrono::seconds(30), &error))
        << error;
  }
  ASSERT_TRUE(publisher->WaitForAcks(std::chrono::seconds(60), &error)) << error;
  const std::set<uint64_t> more =
      ConsumeEvents(*consumer, 20 * kEvents, std::chrono::seconds(60), duplicates);
  EXPECT_EQ(more.size(), 20 * kEvents);
  EXPECT_EQ(duplicates, 0u);
}

TEST(JetStreamClusterTest, DurableConsumerSharesWorkAndRedeliversWhatWasNotAcknowledged) {
  NatsCluster cluster(1);
  ASSERT_FALSE(HasFailure());
  auto [client, publisher] = ConnectWithStreams(cluster, 1, int64_t{64} << 20);
  ASSERT_TRUE(client && publisher);
  std::string error;
  constexpr size_t kBatches = 30, kEvents = 10;
  for (size_t b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(publisher->Publish(EventsSubject("mof"), EncodedBatch(b, kEvents),
                                   "share-" + std::to_string(b), std::chrono::seconds(10), &error));
  }
  ASSERT_TRUE(publisher->Publish(EventsSubject("mof"), "not a batch", "share-bad",
                                 std::chrono::seconds(10), &error));
  ASSERT_TRUE(publisher->WaitForAcks(std::chrono::seconds(30), &error)) << error;

  // A consumer takes 5 batches and stops before acknowledging them.
  std::set<uint64_t> left;
  {
    auto dying = PullConsumer::Create(*client, kEventsStream, "gsoc.events.>", "detect",
                                      std::chrono::seconds(1), std::chrono::seconds(30), &error);
    ASSERT_NE(dying, nullptr) << error;
    ASSERT_EQ(dying->Fetch(
                  5, std::chrono::seconds(5),
                  [&](const ConsumedMessage& m) {
                    left.insert(m.stream_sequence);
                    return Consumed::kLater;
                  },
                  &error),
              5)
        << error;
  }
  // Two consumers on the same durable share the rest: no batch goes to both.
  auto a = PullConsumer::Create(*client, kEventsStream, "gsoc.events.>", "detect",
                                std::chrono::seconds(1), std::chrono::seconds(30), &error);
  auto b = PullConsumer::Create(*client, kEventsStream, "gsoc.events.>", "detect",
                                std::chrono::seconds(1), std::chrono::seconds(30), &error);
  ASSERT_TRUE(a && b) << error;
  std::set<uint64_t> seen_a, seen_b, redelivered;
  size_t refused = 0;
  const auto handler = [&](std::set<uint64_t>& seen) {
    return [&](const ConsumedMessage& m) {
      if (m.deliveries > 1) redelivered.insert(m.stream_sequence);
      EventBatch batch;
      if (!EventBatchDecoder().Decode(m.data, batch, nullptr)) {
        ++refused;
        return Consumed::kRefuse;
      }
      seen.insert(m.stream_sequence);
      return Consumed::kAck;
    };
  };
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (seen_a.size() + seen_b.size() < kBatches && Clock::now() < deadline) {
    ASSERT_GE(a->Fetch(3, std::chrono::milliseconds(500), handler(seen_a), &error), 0) << error;
    ASSERT_GE(b->Fetch(3, std::chrono::milliseconds(500), handler(seen_b), &error), 0) << error;
  }
  EXPECT_EQ(seen_a.size() + seen_b.size(), kBatches);
  EXPECT_GT(seen_a.size(), 0u);
  EXPECT_GT(seen_b.size(), 0u);
  for (uint64_t sequence : seen_a) EXPECT_EQ(seen_b.count(sequence), 0u) << sequence;
  EXPECT_EQ(redelivered, left);  // the 5 the first consumer left
  EXPECT_EQ(refused, 1u);        // the bad message, once: terminated, not redelivered
  // Acknowledged work is gone from the work-queue stream.
  EXPECT_EQ(client->StreamMessages(kEventsStream, &error), 0u) << error;
}

}  // namespace
}  // namespace gsoc::e2e
