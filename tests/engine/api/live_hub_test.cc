#include "engine/api/live_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/api/stream_feed.h"
#include "tests/engine/api/api_test_util.h"

namespace gsoc::api {
namespace {

using testing::FakeReader;
using testing::MakeVariedAlert;

std::vector<store::StoredAlert> Range(uint64_t first, uint64_t last) {
  std::vector<store::StoredAlert> alerts;
  for (uint64_t id = first; id <= last; ++id) alerts.push_back(MakeVariedAlert(id));
  return alerts;
}

std::vector<uint64_t> Ids(const std::vector<store::StoredAlert>& alerts) {
  std::vector<uint64_t> ids;
  for (const auto& alert : alerts) ids.push_back(alert.id);
  return ids;
}

// Parses "id: N" lines out of SSE text.
std::vector<uint64_t> SseIds(const std::string& text) {
  std::vector<uint64_t> ids;
  size_t pos = 0;
  while ((pos = text.find("id: ", pos)) != std::string::npos) {
    ids.push_back(std::stoull(text.substr(pos + 4)));
    pos += 4;
  }
  return ids;
}

TEST(LiveHubTest, EmptyHubHasNothing) {
  LiveHub hub(8);
  std::vector<store::StoredAlert> out;
  EXPECT_EQ(hub.last_id(), 0u);
  EXPECT_EQ(hub.ReadAfter(0, 10, out), LiveHub::ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(LiveHubTest, ReadsAfterAnIdInOrderUpToMax) {
  LiveHub hub(8);
  const auto alerts = Range(1, 5);
  hub.OnCommitted(alerts);
  EXPECT_EQ(hub.last_id(), 5u);
  std::vector<store::StoredAlert> out;
  ASSERT_EQ(hub.ReadAfter(2, 10, out), LiveHub::ReadStatus::kOk);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{3, 4, 5}));
  out.clear();
  ASSERT_EQ(hub.ReadAfter(0, 2, out), LiveHub::ReadStatus::kOk);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(out[0].json, alerts[0].json);
  out.clear();
  ASSERT_EQ(hub.ReadAfter(5, 10, out), LiveHub::ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(LiveHubTest, OverflowedRingSaysTooOld) {
  LiveHub hub(4);
  hub.OnCommitted(Range(1, 10));  // the ring keeps 7..10
  std::vector<store::StoredAlert> out;
  EXPECT_EQ(hub.ReadAfter(5, 10, out), LiveHub::ReadStatus::kTooOld);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(hub.ReadAfter(6, 10, out), LiveHub::ReadStatus::kOk);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{7, 8, 9, 10}));
}

TEST(LiveHubTest, ResumeFromBeforeTheHubStartedSaysTooOld) {
  LiveHub hub(16);
  hub.OnCommitted(Range(101, 103));  // 1..100 were committed before the hub existed
  std::vector<store::StoredAlert> out;
  EXPECT_EQ(hub.ReadAfter(50, 10, out), LiveHub::ReadStatus::kTooOld);
}

TEST(LiveHubTest, ZeroCapacityAlwaysSendsToTheStore) {
  LiveHub hub(0);
  hub.OnCommitted(Range(1, 3));
  EXPECT_EQ(hub.last_id(), 3u);
  std::vector<store::StoredAlert> out;
  EXPECT_EQ(hub.ReadAfter(2, 10, out), LiveHub::ReadStatus::kTooOld);
  EXPECT_EQ(hub.ReadAfter(3, 10, out), LiveHub::ReadStatus::kOk);
}

// 65,536 alerts of 121 KB each would be 7.9 GB: the ring is bounded in
// bytes too, and what it no longer holds is read from the store.
TEST(LiveHubTest, RingIsBoundedInBytes) {
  LiveHub hub(65536, 1 << 20);
  std::vector<store::StoredAlert> alerts = Range(1, 200);
  for (auto& alert : alerts) alert.json += std::string(121 * 1024, 'x');
  hub.OnCommitted(alerts);
  EXPECT_LE(hub.ring_bytes(), 1u << 20);
  EXPECT_GT(hub.ring_bytes(), 0u);
  EXPECT_EQ(hub.last_id(), 200u);
  std::vector<store::StoredAlert> out;
  EXPECT_EQ(hub.ReadAfter(0, 1000, out), LiveHub::ReadStatus::kTooOld);
  EXPECT_EQ(hub.ReadAfter(199, 1000, out), LiveHub::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 200u);
  // An alert larger than the whole ring empties it (no gap inside the ring).
  std::vector<store::StoredAlert> huge = Range(201, 201);
  huge[0].json = std::string(2 << 20, 'y');
  hub.OnCommitted(huge);
  EXPECT_EQ(hub.ring_bytes(), 0u);
  out.clear();
  EXPECT_EQ(hub.ReadAfter(199, 1000, out), LiveHub::ReadStatus::kTooOld);
}

TEST(LiveHubTest, IgnoresReplayedIds) {
  LiveHub hub(8);
  hub.OnCommitted(Range(1, 3));
  hub.OnCommitted(Range(2, 4));
  std::vector<store::StoredAlert> out;
  hub.ReadAfter(0, 10, out);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(LiveHubTest, NotifiesSubscribersUntilUnsubscribed) {
  LiveHub hub(8);
  int first = 0;
  int second = 0;
  auto a = hub.Subscribe([&] { ++first; });
  auto b = hub.Subscribe([&] { ++second; });
  hub.OnCommitted(Range(1, 2));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  a.reset();
  hub.OnCommitted(Range(3, 3));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  hub.OnCommitted({});  // nothing new: nobody is woken
  EXPECT_EQ(second, 2);
}

TEST(LiveHubTest, NotifyMayReadTheHub) {
  // notify runs without the hub's lock: reading from it must not deadlock.
  LiveHub hub(8);
  uint64_t seen = 0;
  auto subscription = hub.Subscribe([&] { seen = hub.last_id(); });
  hub.OnCommitted(Range(1, 2));
  EXPECT_EQ(seen, 2u);
}

TEST(LiveHubTest, ConcurrentCommitsAndReadsSeeEveryIdInOrder) {
  LiveHub hub(64);
  constexpr uint64_t kLast = 20000;
  std::atomic<int> notifications{0};
  auto subscription = hub.Subscribe([&] { notifications.fetch_add(1); });
  std::thread writer([&] {
    for (uint64_t id = 1; id <= kLast; id += 10) hub.OnCommitted(Range(id, id + 9));
  });
  uint64_t position = 0;
  uint64_t too_old = 0;
  while (position < kLast) {
    std::vector<store::StoredAlert> out;
    if (hub.ReadAfter(position, 7, out) == LiveHub::ReadStatus::kTooOld) {
      ++too_old;
      position = hub.last_id() - 32;  // skip ahead, as a store read would
      continue;
    }
    for (const auto& alert : out) {
      ASSERT_EQ(alert.id, position + 1);
      position = alert.id;
    }
  }
  writer.join();
  EXPECT_EQ(notifications.load(), static_cast<int>(kLast / 10));
}

// --- StreamFeed -------------------------------------------------------------

struct FeedFixture {
  FakeReader reader;
  LiveHub hub{4};
  void Commit(uint64_t first, uint64_t last) {
    auto alerts = Range(first, last);
    reader.Add(alerts);
    hub.OnCommitted(alerts);
  }
  std::vector<uint64_t> Drain(StreamFeed& feed) {
    std::string out;
    while (feed.Next(out, 3)) {
    }
    return SseIds(out);
  }
};

std::vector<uint64_t> Iota(uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

TEST(StreamFeedTest, WithoutResumeStartsAfterTheNewestAlert) {
  FeedFixture f;
  f.Commit(1, 10);
  StreamFeed feed(f.reader, f.hub, {}, std::nullopt);
  EXPECT_EQ(feed.position(), 10u);
  EXPECT_TRUE(f.Drain(feed).empty());
  f.Commit(11, 12);
  EXPECT_EQ(f.Drain(feed), Iota(11, 12));
}

TEST(StreamFeedTest, WithoutResumeUsesTheStoreWhenTheHubIsBehind) {
  FeedFixture f;
  f.reader.Add(Range(1, 10));  // committed before the hub existed
  StreamFeed feed(f.reader, f.hub, {}, std::nullopt);
  EXPECT_EQ(feed.position(), 10u);
  f.Commit(11, 11);
  EXPECT_EQ(f.Drain(feed), Iota(11, 11));
}

TEST(StreamFeedTest, ResumeReadsTheStoreThenTheHubWithoutGapOrDuplicate) {
  FeedFixture f;
  f.Commit(1, 20);  // the ring (4) holds 17..20
  StreamFeed feed(f.reader, f.hub, {}, 5);
  const int before = f.reader.queries();
  std::string out;
  EXPECT_TRUE(feed.Next(out, 3));
  EXPECT_GT(f.reader.queries(), before);
  while (feed.Next(out, 3)) {
  }
  EXPECT_EQ(SseIds(out), Iota(6, 20));
  f.Commit(21, 22);
  EXPECT_EQ(f.Drain(feed), Iota(21, 22));
}

TEST(StreamFeedTest, ResumeFromZeroSendsEverything) {
  FeedFixture f;
  f.Commit(1, 9);
  StreamFeed feed(f.reader, f.hub, {}, 0);
  EXPECT_EQ(f.Drain(feed), Iota(1, 9));
}

TEST(StreamFeedTest, SlowConsumerOverrunningTheRingGoesBackToTheStore) {
  FeedFixture f;
  StreamFeed feed(f.reader, f.hub, {}, std::nullopt);
  std::vector<uint64_t> got;
  for (uint64_t first = 1; first <= 200; first += 25) {
    f.Commit(first, first + 24);  // 25 alerts at once, the ring holds 4
    std::string out;
    feed.Next(out, 3);  // the consumer takes a little each time
    for (uint64_t id : SseIds(out)) got.push_back(id);
  }
  for (uint64_t id : f.Drain(feed)) got.push_back(id);
  EXPECT_EQ(got, Iota(1, 200));
}

TEST(StreamFeedTest, RingOverrunByAnyAmountLosesNothing) {
  for (uint64_t burst = 1; burst <= 9; ++burst) {  // the ring holds 4
    FeedFixture f;
    StreamFeed feed(f.reader, f.hub, {}, std::nullopt);
    f.Commit(1, burst);
    EXPECT_EQ(f.Drain(feed), Iota(1, burst)) << burst;
    f.Commit(burst + 1, 2 * burst);
    EXPECT_EQ(f.Drain(feed), Iota(burst + 1, 2 * burst)) << burst;
  }
}

TEST(StreamFeedTest, FiltersLiveAndStoredAlertsAlike) {
  FeedFixture f;
  f.Commit(1, 30);
  ApiFilter filter;
  filter.store.min_level = rules::Level::kHigh;
  filter.store.agency = "moh";
  StreamFeed feed(f.reader, f.hub, filter, 0);
  f.Commit(31, 60);
  std::vector<uint64_t> expected;
  for (uint64_t id = 1; id <= 60; ++id) {
    const auto alert = MakeVariedAlert(id);
    if (alert.level >= rules::Level::kHigh && alert.agency == "moh") expected.push_back(id);
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(f.Drain(feed), expected);
  EXPECT_EQ(feed.position(), 60u);  // filtered-out alerts count as examined
}

TEST(StreamFeedTest, ExactLevelAppliesToStoreResults) {
  FeedFixture f;
  f.Commit(1, 20);
  ApiFilter filter;
  filter.store.min_level = rules::Level::kHigh;
  filter.exact_level = rules::Level::kHigh;
  StreamFeed feed(f.reader, f.hub, filter, 0);
  EXPECT_EQ(f.Drain(feed), (std::vector<uint64_t>{3, 8, 13, 18}));
}

TEST(StreamFeedTest, FilteredOutLiveAlertsDoNotCauseStoreReads) {
  FeedFixture f;
  f.Commit(1, 3);
  ApiFilter filter;
  filter.store.agency = "nobody";
  StreamFeed feed(f.reader, f.hub, filter, std::nullopt);
  const int before = f.reader.queries();
  for (uint64_t id = 4; id <= 40; ++id) {
    f.Commit(id, id);
    f.Drain(feed);
  }
  EXPECT_EQ(f.reader.queries(), before);
  EXPECT_EQ(feed.position(), 40u);
}

TEST(StreamFeedTest, SseEventFormat) {
  std::string out;
  store::StoredAlert alert = MakeVariedAlert(7);
  alert.json = "{\"a\":1}";
  AppendSseEvent(out, alert);
  EXPECT_EQ(out, "id: 7\ndata: {\"a\":1}\n\n");
  out.clear();
  alert.json = "{\n}";
  AppendSseEvent(out, alert);
  EXPECT_EQ(out, "id: 7\ndata: {\ndata: }\n\n");
}

}  // namespace
}  // namespace gsoc::api
