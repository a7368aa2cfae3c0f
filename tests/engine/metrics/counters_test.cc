#include "engine/metrics/counters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gsoc {
namespace {

IngestMetrics MakeMetrics() {
  return IngestMetrics({"tcp", "udp", "json"}, {"unknown", "mof", "moh"});
}

TEST(CountersTest, ReasonNames) {
  EXPECT_STREQ(ReasonName(DiscardReason::kOversize), "oversize");
  EXPECT_STREQ(ReasonName(DiscardReason::kQueueFull), "queue_full");
  EXPECT_STREQ(ReasonName(DiscardReason::kTruncated), "truncated");
  EXPECT_STREQ(ReasonName(DiscardReason::kUnknownAgency), "unknown_agency");
  EXPECT_STREQ(ReasonName(DiscardReason::kAuditJoined), "auditd_joined");
  EXPECT_STREQ(ReasonName(DiscardReason::kAuditDropped), "auditd_dropped");
  EXPECT_STREQ(ReasonName(AuditEnd::kEoe), "eoe");
  EXPECT_STREQ(ReasonName(AuditEnd::kFlushed), "flushed");
  EXPECT_STREQ(ReasonName(RejectReason::kUnknownAgency), "unknown_agency");
  EXPECT_STREQ(ReasonName(RejectReason::kMaxConnections), "max_connections");
  EXPECT_STREQ(ReasonName(RejectReason::kMaxConnectionsPerPeer), "max_connections_per_peer");
  EXPECT_STREQ(ReasonName(CloseReason::kPeerClosed), "peer_closed");
  EXPECT_STREQ(ReasonName(CloseReason::kIdleTimeout), "idle_timeout");
  EXPECT_STREQ(ReasonName(CloseReason::kBadOctetCount), "bad_octet_count");
  EXPECT_STREQ(ReasonName(CloseReason::kOctetCountTooLarge), "octet_count_too_large");
  EXPECT_STREQ(ReasonName(CloseReason::kReadError), "read_error");
  EXPECT_STREQ(ReasonName(CloseReason::kShutdown), "shutdown");
  EXPECT_STREQ(ReasonName(ParseFormat::kRfc5424), "rfc5424");
  EXPECT_STREQ(ReasonName(ParseFormat::kRfc3164), "rfc3164");
  EXPECT_STREQ(ReasonName(ParseFormat::kJson), "json");
}

TEST(CountersTest, RelaxedCounterAdds) {
  RelaxedCounter counter;
  EXPECT_EQ(counter.Get(), 0u);
  counter.Add(5);
  counter.Add(0);
  counter.Add(37);
  EXPECT_EQ(counter.Get(), 42u);
}

TEST(CountersTest, ThreadCountersIndexesDoNotCollide) {
  ThreadCounters c(3, 4);
  // Every (listener, agency) cell is distinct.
  for (uint16_t l = 0; l < 3; ++l) {
    for (uint16_t a = 0; a < 4; ++a) c.EventsReceived(l, a, 100 * l + a + 1);
  }
  for (uint16_t l = 0; l < 3; ++l) {
    for (uint16_t a = 0; a < 4; ++a) {
      EXPECT_EQ(c.events_received[l * 4 + a].Get(), 100u * l + a + 1);
    }
  }
  c.Discarded(2, DiscardReason::kUnknownAgency, 3);
  EXPECT_EQ(c.discarded[2 * size_t(DiscardReason::kCount) + 3].Get(), 3u);
  c.Closed(2, CloseReason::kShutdown);
  EXPECT_EQ(c.closed[2 * size_t(CloseReason::kCount) + size_t(CloseReason::kShutdown)].Get(), 1u);
}

TEST(CountersTest, LocalIsStablePerThread) {
  IngestMetrics metrics = MakeMetrics();
  ThreadCounters* a = &metrics.Local();
  ThreadCounters* b = &metrics.Local();
  EXPECT_EQ(a, b);
  ThreadCounters* other = nullptr;
  std::thread([&] { other = &metrics.Local(); }).join();
  EXPECT_NE(other, a);
}

TEST(CountersTest, LocalIsDistinctPerInstanceInOneThread) {
  IngestMetrics first = MakeMetrics();
  IngestMetrics second({"x"}, {"unknown"});
  ThreadCounters& a = first.Local();
  ThreadCounters& b = second.Local();
  EXPECT_NE(&a, &b);
  EXPECT_EQ(&first.Local(), &a);
  EXPECT_EQ(&second.Local(), &b);
  a.EventsProcessed(10);
  b.EventsProcessed(3);
  EXPECT_EQ(first.SumEventsProcessed(), 10u);
  EXPECT_EQ(second.SumEventsProcessed(), 3u);
  EXPECT_EQ(a.events_received.size(), 9u);
  EXPECT_EQ(b.events_received.size(), 1u);
}

TEST(CountersTest, ManyInstancesInOneThreadKeepSeparateExactCounts) {
  // More instances than the per-thread cache: counts must still be exact.
  std::vector<std::unique_ptr<IngestMetrics>> all;
  for (int i = 0; i < 7; ++i) {
    all.push_back(std::make_unique<IngestMetrics>(std::vector<std::string>{"l"},
                                                  std::vector<std::string>{"unknown"}));
  }
  for (int round = 0; round < 5; ++round) {
    for (size_t i = 0; i < all.size(); ++i) all[i]->Local().EventsProcessed(i + 1);
  }
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]->SumEventsProcessed(), 5 * (i + 1));
}

TEST(CountersTest, DestroyedInstanceDoesNotLeakIntoANewOne) {
  uint64_t sum = 0;
  for (int i = 0; i < 10; ++i) {
    IngestMetrics metrics({"l"}, {"unknown"});
    metrics.Local().EventsProcessed(1);
    sum += metrics.SumEventsProcessed();
    EXPECT_EQ(metrics.SumEventsProcessed(), 1u);
  }
  EXPECT_EQ(sum, 10u);
}

TEST(CountersTest, SumsAcrossThreads) {
  IngestMetrics metrics = MakeMetrics();
  constexpr int kThreads = 4;
  constexpr int kIterations = 10000;
  std::vector<std::thread> threads;
  std::vector<ThreadCounters*> blocks(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadCounters& c = metrics.Local();
      blocks[t] = &c;
      for (int i = 0; i < kIterations; ++i) {
        c.EventsReceived(static_cast<uint16_t>(t % 3), static_cast<uint16_t>(i % 3), 2);
        c.BytesReceived(1, 100);
        c.Discarded(2, DiscardReason::kQueueFull);
        c.ParseErrors(0, ParseFormat::kJson, 3);
        c.EventsProcessed(1);
        if (i % 100 == 0) {
          c.Rejected(0, RejectReason::kMaxConnectionsPerPeer);
          c.Closed(1, CloseReason::kIdleTimeout);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<ThreadCounters*> distinct(blocks.begin(), blocks.end());
  EXPECT_EQ(distinct.size(), size_t(kThreads));

  // Thread t counts on listener t % 3: threads 0 and 3 share listener 0.
  for (uint16_t l = 0; l < 3; ++l) {
    const uint64_t threads_on_l = l == 0 ? 2 : 1;
    for (uint16_t a = 0; a < 3; ++a) {
      const uint64_t per_thread = 2 * ((kIterations - a + 2) / 3);
      EXPECT_EQ(metrics.SumEventsReceived(l, a), threads_on_l * per_thread) << l << " " << a;
    }
  }
  EXPECT_EQ(metrics.SumBytesReceived(1), uint64_t(kThreads) * kIterations * 100);
  EXPECT_EQ(metrics.SumBytesReceived(0), 0u);
  EXPECT_EQ(metrics.SumDiscarded(2, DiscardReason::kQueueFull), uint64_t(kThreads) * kIterations);
  EXPECT_EQ(metrics.SumDiscarded(2, DiscardReason::kOversize), 0u);
  EXPECT_EQ(metrics.SumDiscarded(1, DiscardReason::kQueueFull), 0u);
  EXPECT_EQ(metrics.SumParseErrors(0, ParseFormat::kJson), uint64_t(kThreads) * kIterations * 3);
  EXPECT_EQ(metrics.SumParseErrors(0, ParseFormat::kRfc5424), 0u);
  EXPECT_EQ(metrics.SumRejected(0, RejectReason::kMaxConnectionsPerPeer), uint64_t(kThreads) * 100);
  EXPECT_EQ(metrics.SumRejected(0, RejectReason::kMaxConnections), 0u);
  EXPECT_EQ(metrics.SumClosed(1, CloseReason::kIdleTimeout), uint64_t(kThreads) * 100);
  EXPECT_EQ(metrics.SumClosed(1, CloseReason::kPeerClosed), 0u);
  EXPECT_EQ(metrics.SumEventsProcessed(), uint64_t(kThreads) * kIterations);
}

TEST(CountersTest, SumWhileCountingIsMonotonic) {
  IngestMetrics metrics = MakeMetrics();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    ThreadCounters& c = metrics.Local();
    for (int i = 0; i < 200000; ++i) c.EventsProcessed(1);
    done = true;
  });
  uint64_t last = 0;
  while (!done) {
    const uint64_t now = metrics.SumEventsProcessed();
    ASSERT_GE(now, last);
    last = now;
  }
  writer.join();
  EXPECT_EQ(metrics.SumEventsProcessed(), 200000u);
}

TEST(CountersTest, ConnectionsGauge) {
  IngestMetrics metrics = MakeMetrics();
  EXPECT_EQ(metrics.Connections(0), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        metrics.ConnectionOpened(2);
        metrics.ConnectionOpened(2);
        metrics.ConnectionClosed(2);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(metrics.Connections(2), 4000);
  EXPECT_EQ(metrics.Connections(1), 0);
  EXPECT_EQ(metrics.listeners().size(), 3u);
  EXPECT_EQ(metrics.agencies()[1], "mof");
}

}  // namespace
}  // namespace gsoc
