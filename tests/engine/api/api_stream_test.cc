// The API server's live stream (/api/v1/alerts/stream): live alerts,
// resumption, filters, keepalives, limits and slow or stuck clients.
#include <gtest/gtest.h>

#include "tests/engine/api/api_server_fixture.h"

namespace gsoc::api {
namespace {

using namespace server_test;

// --- the stream ---------------------------------------------------------------

TEST_F(ApiServerTest, StreamSendsLiveAlerts) {
  Start();
  Seed();
  auto connection = std::make_unique<RawConnection>(port_);
  connection->Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
  auto head = connection->ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/event-stream");
  EXPECT_EQ(head->Header("cache-control"), "no-cache");
  EXPECT_FALSE(head->Has("content-length"));
  SseReader events(*connection);
  EXPECT_FALSE(events.Next(200ms).has_value());  // nothing old without a resume id
  Commit(251, 255);
  uint64_t last = 250;
  ExpectConsecutive(events, last, 255);
  Commit(256, 256);
  ExpectConsecutive(events, last, 256);
}

TEST_F(ApiServerTest, StreamResumesFromLastEventIdHeaderOrParameter) {
  Start();
  Seed();
  for (const auto& [query, header, from] :
       std::vector<std::tuple<std::string, std::vector<std::string>, uint64_t>>{
           {"", {"Last-Event-ID: 200"}, 200},
           {"?last_event_id=230", {}, 230},
           {"?last_event_id=5", {"Last-Event-ID: 240"}, 240}}) {
    auto connection = OpenStream(query, header);
    SseReader events(*connection);
    uint64_t last = from;
    ExpectConsecutive(events, last, hub_->last_id());
    const uint64_t next = hub_->last_id() + 1;
    Commit(next, next + 4);
    ExpectConsecutive(events, last, next + 4);
    EXPECT_FALSE(events.Next(200ms).has_value());
  }
}

TEST_F(ApiServerTest, StreamResumeAfterTheRingOverflowedReadsTheStore) {
  Start(Options(), /*ring=*/8);
  Seed();  // the ring holds 243..250
  const int queries_before = reader_.queries();
  auto connection = OpenStream("", {"Last-Event-ID: 10"});
  SseReader events(*connection);
  uint64_t last = 10;
  ExpectConsecutive(events, last, 250);
  EXPECT_GT(reader_.queries(), queries_before);
  Commit(251, 400);  // overflows the ring again at once
  ExpectConsecutive(events, last, 400);
  EXPECT_FALSE(events.Next(200ms).has_value());
}

TEST_F(ApiServerTest, StreamFiltersLikeTheQuery) {
  Start(Options(), /*ring=*/16);
  Seed();
  auto connection = OpenStream("?level=high%2B&agency=moh", {"Last-Event-ID: 100"});
  SseReader events(*connection);
  Commit(251, 400);
  std::vector<uint64_t> expected;
  for (uint64_t id = 101; id <= 400; ++id) {
    const auto alert = MakeVariedAlert(id);
    if (alert.level >= rules::Level::kHigh && alert.agency == "moh") expected.push_back(id);
  }
  std::vector<uint64_t> got;
  while (got.size() < expected.size()) {
    auto event = events.Next(10s);
    ASSERT_TRUE(event.has_value()) << got.size();
    got.push_back(event->id);
  }
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(events.Next(200ms).has_value());
}

TEST_F(ApiServerTest, StreamSendsKeepaliveComments) {
  ApiOptions options = Options();
  options.keepalive_interval = 1s;
  Start(options);
  auto connection = OpenStream();
  SseReader events(*connection);
  auto event = events.Next(5s, /*comments=*/true);
  ASSERT_TRUE(event.has_value());
  EXPECT_TRUE(event->comment);
  EXPECT_EQ(event->data, ": keepalive");
}

TEST_F(ApiServerTest, MaxStreamsGives503) {
  ApiOptions options = Options();
  options.max_streams = 2;
  Start(options);
  auto first = OpenStream();
  auto second = OpenStream();
  const HttpReply refused = Get("/api/v1/alerts/stream");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(server_->stats().streams, 2u);
  first.reset();  // the server sees the close and frees the slot
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    RawConnection connection(port_);
    connection.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
    auto head = connection.ReadHead();
    reopened = head && head->status == 200;
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
}

TEST_F(ApiServerTest, ReconnectingClientGetsEveryAlertOnceDuringAFlood) {
  Start(Options(), /*ring=*/32);
  static constexpr uint64_t kTotal = 5000;
  std::thread producer([this] {  // about a second of commits, in bursts of 1..40
    std::mt19937 random(7);
    uint64_t next = 1;
    while (next <= kTotal) {
      const uint64_t last = std::min(kTotal, next + random() % 40);
      Commit(next, last);
      next = last + 1;
      std::this_thread::sleep_for(std::chrono::microseconds(random() % 8000));
    }
  });
  struct Joiner {
    std::thread& thread;
    ~Joiner() { thread.join(); }
  } joiner{producer};
  std::mt19937 random(99);
  uint64_t last = 0;
  int connections = 0;
  while (last < kTotal && connections < 2000) {
    ++connections;
    auto connection = OpenStream("", {"Last-Event-ID: " + std::to_string(last)});
    SseReader events(*connection);
    const int take = static_cast<int>(random() % 150) + 1;
    for (int i = 0; i < take && last < kTotal; ++i) {
      auto event = events.Next(10s);
      ASSERT_TRUE(event.has_value()) << "stalled after " << last;
      ASSERT_EQ(event->id, last + 1) << "gap or duplicate";
      ASSERT_EQ(event->data, Served(MakeVariedAlert(event->id)));
      last = event->id;
    }
  }
  EXPECT_EQ(last, kTotal);
  EXPECT_GT(connections, 20);
}

TEST_F(ApiServerTest, SlowStreamClientDoesNotHoldUpCommits) {
  Start(Options(), /*ring=*/64);
  auto connection = OpenStream();
  const int queries_before = reader_.queries();
  constexpr uint64_t kTotal = 40000;  // ~12 MB of events: more than the socket buffers hold
  auto slowest = std::chrono::steady_clock::duration::zero();
  for (uint64_t id = 1; id <= kTotal; id += 100) {
    std::vector<store::StoredAlert> alerts;
    for (uint64_t k = id; k < id + 100; ++k) alerts.push_back(MakeVariedAlert(k));
    reader_.Add(alerts);
    const auto start = std::chrono::steady_clock::now();
    hub_->OnCommitted(alerts);  // the client reads nothing meanwhile
    slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
  }
  EXPECT_LT(slowest, 1s);
  SseReader events(*connection);
  uint64_t last = 0;
  ExpectConsecutive(events, last, kTotal);
  EXPECT_GT(reader_.queries(), queries_before);  // the ring overflowed: caught up from the store
}

TEST_F(ApiServerTest, StopClosesOpenStreams) {
  Start();
  auto connection = OpenStream();
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(connection->WaitClosed(5s));
  server_->Stop();  // idempotent
}

TEST_F(ApiServerTest, StreamClientsThatTakeNothingAreCut) {
  ApiOptions options = Options();
  options.max_streams = 2;
  options.idle_timeout = 60s;
  options.stream_write_timeout = 1s;
  options.stream_send_buffer_bytes = 16 * 1024;
  Start(options, /*ring=*/64);
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 2; ++i) {
    auto connection = std::make_unique<RawConnection>(port_);
    const int small = 4096;
    ::setsockopt(connection->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    connection->Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
    stalled.push_back(std::move(connection));  // never read again
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Get("/api/v1/alerts/stream").status, 503);
  std::vector<store::StoredAlert> alerts;
  for (uint64_t id = 1; id <= 400; ++id) {
    store::StoredAlert alert = MakeVariedAlert(id);
    alert.json.insert(alert.json.size() - 1, ",\"pad\":\"" + std::string(16000, 'p') + "\"");
    alerts.push_back(std::move(alert));
  }
  reader_.Add(alerts);
  hub_->OnCommitted(alerts);
  const auto start = std::chrono::steady_clock::now();
  bool reopened = false;
  while (!reopened && std::chrono::steady_clock::now() - start < 10s) {
    RawConnection connection(port_);
    connection.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
    auto head = connection.ReadHead(2s);
    reopened = head && head->status == 200;
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_GE(server_->stats().stream_write_timeouts, 1u);
}

}  // namespace
}  // namespace gsoc::api
