#include "engine/api/api_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "tests/engine/api/api_test_util.h"
#include "tests/util/temp_dir.h"

namespace gsoc::api {
namespace {

using namespace std::chrono_literals;
using testing::AlertIds;
using testing::Fetch;
using testing::HttpReply;
using testing::MakeAlert;
using testing::MakeVariedAlert;
using testing::RawConnection;
using testing::Served;
using testing::SseEvent;
using testing::SseReader;

constexpr uint64_t kSeedAlerts = 250;
const std::vector<std::string> kAuth = {"Authorization: Bearer secret-token"};

std::string CursorOf(const std::string& body) {
  static const std::regex kCursor(R"re("next_cursor":(null|"(\d+)")\}$)re");
  std::smatch match;
  if (!std::regex_search(body, match, kCursor)) return "missing";
  return match[1] == "null" ? "" : match[2].str();
}

class ApiServerTest : public ::testing::Test {
 protected:
  static ApiOptions Options() {
    ApiOptions options;
    options.port = 0;
    options.tokens = {"secret-token", "second-token"};
    options.threads = 2;
    return options;
  }

  void Start(ApiOptions options = Options(), size_t ring = 65536) {
    hub_ = std::make_unique<LiveHub>(ring);
    ApiHooks hooks;
    hooks.rules_json = [] { return std::string(R"({"rules":[{"id":"r1"}],"generation":3})"); };
    hooks.reload = [this] { reloads_.fetch_add(1); };
    hooks.ready = [this] { return ready_.load(); };
    server_ = std::make_unique<ApiServer>(std::move(options), reader_, *hub_, std::move(hooks));
    port_ = server_->port();
  }

  void Commit(uint64_t first, uint64_t last) {
    std::vector<store::StoredAlert> alerts;
    for (uint64_t id = first; id <= last; ++id) alerts.push_back(MakeVariedAlert(id));
    reader_.Add(alerts);
    hub_->OnCommitted(alerts);
  }

  void Seed() { Commit(1, kSeedAlerts); }

  HttpReply Get(const std::string& target, const std::vector<std::string>& headers = kAuth) {
    return Fetch(port_, "GET", target, headers);
  }

  // Follows next_cursor from `query` and returns every id seen, in order.
  std::vector<uint64_t> Paginate(const std::string& query, size_t limit) {
    std::vector<uint64_t> ids;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      std::string target = "/api/v1/alerts?limit=" + std::to_string(limit) + query;
      if (!cursor.empty()) target += "&cursor=" + cursor;
      const HttpReply reply = Get(target);
      EXPECT_EQ(reply.status, 200) << target << " " << reply.body;
      const auto page_ids = AlertIds(reply.body);
      EXPECT_LE(page_ids.size(), limit);
      ids.insert(ids.end(), page_ids.begin(), page_ids.end());
      cursor = CursorOf(reply.body);
      EXPECT_NE(cursor, "missing") << reply.body;
      if (cursor.empty() || cursor == "missing") return ids;
    }
    ADD_FAILURE() << "pagination did not end";
    return ids;
  }

  std::vector<uint64_t> Expected(const std::function<bool(const store::StoredAlert&)>& keep) {
    std::vector<uint64_t> ids;
    for (uint64_t id = 1; id <= kSeedAlerts; ++id) {
      if (keep(MakeVariedAlert(id))) ids.push_back(id);
    }
    return ids;
  }

  // Opens a stream; the head has been read when this returns.
  std::unique_ptr<RawConnection> OpenStream(const std::string& query = "",
                                            const std::vector<std::string>& extra = {},
                                            int expected_status = 200) {
    auto connection = std::make_unique<RawConnection>(port_);
    std::vector<std::string> headers = kAuth;
    headers.insert(headers.end(), extra.begin(), extra.end());
    headers.push_back("Accept: text/event-stream");
    connection->Send(testing::BuildRequest("GET", "/api/v1/alerts/stream" + query, headers));
    auto head = connection->ReadHead();
    EXPECT_TRUE(head.has_value());
    if (head) {
      EXPECT_EQ(head->status, expected_status);
    }
    return connection;
  }

  // Reads events until `count` arrived; checks each is the next id after `last`.
  void ExpectConsecutive(SseReader& reader, uint64_t& last, uint64_t until) {
    while (last < until) {
      auto event = reader.Next(10s);
      ASSERT_TRUE(event.has_value()) << "stream stalled after " << last;
      ASSERT_EQ(event->id, last + 1);
      ASSERT_EQ(event->data, Served(MakeVariedAlert(event->id)));
      last = event->id;
    }
  }

  testing::FakeReader reader_;
  std::unique_ptr<LiveHub> hub_;
  std::atomic<int> reloads_{0};
  std::atomic<bool> ready_{true};
  std::unique_ptr<ApiServer> server_;  // last: destroyed first
  uint16_t port_ = 0;
};

// --- probes, auth, simple routes ----------------------------------------------

TEST_F(ApiServerTest, ProbesNeedNoToken) {
  Start();
  EXPECT_NE(port_, 0);
  HttpReply reply = Get("/healthz", {});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok\n");
  EXPECT_EQ(Get("/readyz", {}).status, 200);
  ready_ = false;
  EXPECT_EQ(Get("/readyz", {}).status, 503);
  EXPECT_EQ(Fetch(port_, "POST", "/healthz", {}).status, 405);
}

TEST_F(ApiServerTest, RefusesMissingOrWrongTokens) {
  Start();
  Seed();
  for (const std::vector<std::string>& headers :
       std::vector<std::vector<std::string>>{{},
                                             {"Authorization: Bearer wrong-token"},
                                             {"Authorization: Bearer secret-toke"},
                                             {"Authorization: Bearer secret-token-longer"},
                                             {"Authorization: Basic c2VjcmV0LXRva2Vu"},
                                             {"Authorization: Bearer"}}) {
    for (const char* target : {"/api/v1/alerts", "/api/v1/alerts/1", "/api/v1/rules",
                               "/api/v1/alerts/stream", "/nowhere"}) {
      const HttpReply reply = Get(target, headers);
      EXPECT_EQ(reply.status, 401) << target;
      EXPECT_EQ(reply.Header("www-authenticate").rfind("Bearer", 0), 0u) << target;
    }
  }
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/rules/reload", {}).status, 401);
  EXPECT_EQ(reloads_.load(), 0);
  EXPECT_EQ(Get("/api/v1/alerts/1", {"Authorization: Bearer second-token"}).status, 200);
  EXPECT_EQ(Get("/api/v1/alerts/1", {"Authorization: bearer secret-token"}).status, 200);
}

TEST_F(ApiServerTest, GetsOneAlertVerbatim) {
  Start();
  Seed();
  HttpReply reply = Get("/api/v1/alerts/42");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  EXPECT_EQ(reply.body, Served(MakeVariedAlert(42)));
  reply = Get("/api/v1/alerts/999");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, R"({"error":"no alert 999"})");
  EXPECT_EQ(Get("/api/v1/alerts/abc").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts/-1").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts/99999999999999999999999").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts/42?x=1").status, 400);
  EXPECT_EQ(Get("/api/v1/nothing").status, 404);
  EXPECT_EQ(Get("/api/v1/alerts/42/more").status, 404);
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/alerts/42", kAuth).status, 405);
}

TEST_F(ApiServerTest, RulesAndReload) {
  Start();
  HttpReply reply = Get("/api/v1/rules");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"rules":[{"id":"r1"}],"generation":3})");
  reply = Fetch(port_, "POST", "/api/v1/rules/reload", kAuth);
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, R"({"status":"reloading"})");
  EXPECT_EQ(reloads_.load(), 1);
  EXPECT_EQ(Get("/api/v1/rules/reload").status, 405);
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/rules", kAuth).status, 405);
  EXPECT_EQ(reloads_.load(), 1);
}

TEST_F(ApiServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  Seed();
  RawConnection connection(port_);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(connection.Send(
        testing::BuildRequest("GET", "/api/v1/alerts/" + std::to_string(i), kAuth)));
    auto reply = connection.ReadResponse();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->body, Served(MakeVariedAlert(i)));
  }
  // Pipelined: two requests in one write.
  connection.Send(testing::BuildRequest("GET", "/healthz", {}) +
                  testing::BuildRequest("GET", "/api/v1/alerts/7", kAuth));
  EXPECT_EQ(connection.ReadResponse()->body, "ok\n");
  EXPECT_EQ(connection.ReadResponse()->body, Served(MakeVariedAlert(7)));
  connection.Send(testing::BuildRequest("GET", "/healthz", {"Connection: close"}));
  EXPECT_EQ(connection.ReadResponse()->status, 200);
  EXPECT_TRUE(connection.WaitClosed(3s));
}

// --- queries --------------------------------------------------------------------

TEST_F(ApiServerTest, ListsNewestFirstByDefaultWithVerbatimJson) {
  Start();
  Seed();
  const HttpReply reply = Get("/api/v1/alerts?limit=3");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  EXPECT_EQ(reply.body, "{\"alerts\":[" + Served(MakeVariedAlert(250)) + "," +
                            Served(MakeVariedAlert(249)) + "," + Served(MakeVariedAlert(248)) +
                            "],\"next_cursor\":\"248\"}");
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts").body).size(), 100u);
  EXPECT_EQ(Get("/api/v1/alerts?agency=nobody").body, R"({"alerts":[],"next_cursor":null})");
}

TEST_F(ApiServerTest, CursorPaginationCoversEveryAlertOnceInBothOrders) {
  Start();
  Seed();
  std::vector<uint64_t> ascending = Expected([](const auto&) { return true; });
  std::vector<uint64_t> descending(ascending.rbegin(), ascending.rend());
  for (size_t limit : {1, 7, 100, 249, 250, 10000}) {
    EXPECT_EQ(Paginate("&order=asc", limit), ascending) << limit;
    EXPECT_EQ(Paginate("&order=desc", limit), descending) << limit;
  }
}

TEST_F(ApiServerTest, EveryFilterWithPagination) {
  Start();
  Seed();
  const int64_t base = testing::kBaseTimeNs;
  struct Case {
    std::string query;
    std::function<bool(const store::StoredAlert&)> keep;
  };
  const std::vector<Case> cases = {
      {"since=2026-11-25T09:48:20Z",
       [&](const auto& a) { return a.time_ns >= base + 100'000'000'000; }},
      {"since=2026-11-25T16:48:20.5%2B07:00",
       [&](const auto& a) { return a.time_ns >= base + 100'500'000'000; }},
      {"until=2026-11-25T09:50:00Z",
       [&](const auto& a) { return a.time_ns < base + 200'000'000'000; }},
      {"since=2026-11-25T09:48:20Z&until=2026-11-25T09:50:00Z",
       [&](const auto& a) {
         return a.time_ns >= base + 100'000'000'000 && a.time_ns < base + 200'000'000'000;
       }},
      {"after_id=200", [](const auto& a) { return a.id > 200; }},
      {"before_id=20", [](const auto& a) { return a.id < 20; }},
      {"after_id=10&before_id=30", [](const auto& a) { return a.id > 10 && a.id < 30; }},
      {"rule=rule-b", [](const auto& a) { return a.rule_id == "rule-b"; }},
      {"rule=port_scan", [](const auto& a) { return a.rule_id == "rule-b"; }},
      {"level=high", [](const auto& a) { return a.level == rules::Level::kHigh; }},
      {"level=informational",
       [](const auto& a) { return a.level == rules::Level::kInformational; }},
      {"level=high%2B", [](const auto& a) { return a.level >= rules::Level::kHigh; }},
      {"level=high+", [](const auto& a) { return a.level >= rules::Level::kHigh; }},
      {"level=low%20", [](const auto& a) { return a.level >= rules::Level::kLow; }},
      {"agency=moh", [](const auto& a) { return a.agency == "moh"; }},
      {"q=root-3", [](const auto& a) { return a.id % 7 == 3; }},
      {"q=PORT_SCAN", [](const auto& a) { return a.rule_id == "rule-b"; }},
      {"level=critical&agency=moj&rule=rule-a",
       [](const auto& a) {
         return a.level == rules::Level::kCritical && a.agency == "moj" && a.rule_id == "rule-a";
       }},
  };
  for (const Case& c : cases) {
    const std::vector<uint64_t> expected = Expected(c.keep);
    ASSERT_FALSE(expected.empty()) << c.query;
    ASSERT_LT(expected.size(), kSeedAlerts) << c.query;
    EXPECT_EQ(Paginate("&order=asc&" + c.query, 6), expected) << c.query;
    EXPECT_EQ(Paginate("&order=desc&" + c.query, 6),
              std::vector<uint64_t>(expected.rbegin(), expected.rend()))
        << c.query;
  }
}

TEST_F(ApiServerTest, DurationsCountBackFromNow) {
  Start();
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::vector<store::StoredAlert> alerts = {
      MakeAlert(1, now_ns - 7'200'000'000'000, rules::Level::kLow, "r", "n", "recent"),
      MakeAlert(2, now_ns - 600'000'000'000, rules::Level::kLow, "r", "n", "recent")};
  reader_.Add(alerts);
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?agency=recent&since=1h").body), std::vector<uint64_t>{2});
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?agency=recent&until=15m").body), std::vector<uint64_t>{1});
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?agency=recent&since=3h&until=90s").body),
            (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?agency=recent&since=7d&order=asc").body),
            (std::vector<uint64_t>{1, 2}));
}

TEST_F(ApiServerTest, NdjsonPutsTheCursorInAHeader) {
  Start();
  Seed();
  const std::vector<std::string> headers = {kAuth[0], "Accept: application/x-ndjson"};
  HttpReply reply = Fetch(port_, "GET", "/api/v1/alerts?limit=3&order=asc", headers);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(reply.body, Served(MakeVariedAlert(1)) + "\n" + Served(MakeVariedAlert(2)) + "\n" +
                            Served(MakeVariedAlert(3)) + "\n");
  EXPECT_EQ(reply.Header("x-next-cursor"), "3");
  reply = Fetch(port_, "GET", "/api/v1/alerts?limit=3&order=asc&cursor=3", headers);
  EXPECT_EQ(AlertIds(reply.body), (std::vector<uint64_t>{4, 5, 6}));
  reply = Fetch(port_, "GET", "/api/v1/alerts?after_id=248&order=asc", headers);
  EXPECT_EQ(reply.body, Served(MakeVariedAlert(249)) + "\n" + Served(MakeVariedAlert(250)) + "\n");
  EXPECT_FALSE(reply.Has("x-next-cursor"));
}

TEST_F(ApiServerTest, BadParametersAre400WithAReason) {
  Start();
  Seed();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"colour=red", "colour"},
      {"limit=0", "limit"},
      {"limit=10001", "limit"},
      {"limit=x", "limit"},
      {"level=severe", "level"},
      {"since=yesterday", "since"},
      {"until=2026-02-30T00:00:00Z", "until"},
      {"order=sideways", "order"},
      {"after_id=-3", "after_id"},
      {"before_id=x", "before_id"},
      {"cursor=zzz", "cursor"},
      {"limit=5&limit=6", "limit"},
      {"q=%zz", "escape"},
  };
  for (const auto& [query, word] : cases) {
    const HttpReply reply = Get("/api/v1/alerts?" + query);
    EXPECT_EQ(reply.status, 400) << query;
    EXPECT_EQ(reply.body.rfind("{\"error\":", 0), 0u) << reply.body;
    EXPECT_NE(reply.body.find(word), std::string::npos) << query << " -> " << reply.body;
  }
  EXPECT_EQ(Get("/api/v1/alerts/stream?limit=5").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts/stream?level=extreme").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts/stream", {kAuth[0], "Last-Event-ID: abc"}).status, 400);
}

// --- limits and garbage -------------------------------------------------------

TEST_F(ApiServerTest, OversizedHeadIs431AndClosed) {
  ApiOptions options = Options();
  options.max_request_bytes = 1024;
  Start(options);
  RawConnection connection(port_);
  connection.Send(testing::BuildRequest("GET", "/healthz", {"X-Big: " + std::string(4000, 'a')}));
  auto reply = connection.ReadResponse();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 431);
  EXPECT_TRUE(connection.WaitClosed(5s));
  EXPECT_EQ(Get("/healthz", {}).status, 200);
}

TEST_F(ApiServerTest, OversizedBodyIs413AndClosed) {
  ApiOptions options = Options();
  options.max_request_bytes = 1024;
  Start(options);
  RawConnection connection(port_);
  connection.Send(
      testing::BuildRequest("POST", "/api/v1/rules/reload", kAuth, std::string(5000, 'b')));
  auto reply = connection.ReadResponse();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_TRUE(connection.WaitClosed(5s));
  EXPECT_EQ(reloads_.load(), 0);
  // Chunked bodies are limited too.
  RawConnection chunked(port_);
  std::string request = "POST /api/v1/rules/reload HTTP/1.1\r\nHost: x\r\n" + kAuth[0] +
                        "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) request += "200\r\n" + std::string(512, 'c') + "\r\n";
  chunked.Send(request + "0\r\n\r\n");
  reply = chunked.ReadResponse();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reloads_.load(), 0);
}

TEST_F(ApiServerTest, MalformedRequestIs400AndClosed) {
  Start();
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /api/v1/rules/reload HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    RawConnection connection(port_);
    connection.Send(garbage);
    auto reply = connection.ReadResponse();
    ASSERT_TRUE(reply.has_value()) << garbage;
    EXPECT_EQ(reply->status, 400) << garbage;
    EXPECT_TRUE(connection.WaitClosed(5s)) << garbage;
  }
}

TEST_F(ApiServerTest, RandomBytesAndHalfRequestsDoNotHurt) {
  ApiOptions options = Options();
  options.idle_timeout = 2s;
  Start(options);
  Seed();
  std::mt19937 random(12345);
  const std::string valid = testing::BuildRequest("GET", "/api/v1/alerts?limit=5", kAuth);
  std::vector<std::unique_ptr<RawConnection>> lingering;
  for (int i = 0; i < 300; ++i) {
    auto connection = std::make_unique<RawConnection>(port_);
    std::string bytes;
    switch (i % 4) {
      case 0:  // random bytes
        bytes.resize(random() % 4096 + 1);
        for (char& c : bytes) c = static_cast<char>(random());
        break;
      case 1:  // a valid request cut anywhere
        bytes = valid.substr(0, random() % valid.size());
        break;
      case 2:  // a valid head with random bytes after it
        bytes = valid.substr(0, valid.size() - 2);
        for (int k = 0; k < 64; ++k) bytes.push_back(static_cast<char>(random()));
        break;
      case 3:  // printable noise with line ends
        for (int k = 0; k < 300; ++k) bytes.push_back(" :\r\nGETPOST/?&=%HTTP1.0"[random() % 24]);
        break;
    }
    connection->Send(bytes);
    if (i % 8 == 1) lingering.push_back(std::move(connection));  // left open, half-sent
  }
  for (int i = 0; i < 5; ++i) {
    const HttpReply reply = Get("/api/v1/alerts?limit=5");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(AlertIds(reply.body).size(), 5u);
  }
  // Half-sent requests are closed by the idle timeout.
  for (auto& connection : lingering) EXPECT_TRUE(connection->WaitClosed(10s));
  EXPECT_EQ(Get("/healthz", {}).status, 200);
}

TEST_F(ApiServerTest, IdleConnectionsClose) {
  ApiOptions options = Options();
  options.idle_timeout = 1s;
  Start(options);
  RawConnection idle(port_);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.WaitClosed(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(ApiServerTest, ConnectionsBeyondTheLimitWaitWhenAllAuthenticated) {
  ApiOptions options = Options();
  options.max_connections = 2;
  Start(options);
  // Both authenticate (an unauthenticated one would be closed to make room).
  auto first = std::make_unique<RawConnection>(port_);
  first->Send(testing::BuildRequest("GET", "/api/v1/rules", kAuth));
  ASSERT_TRUE(first->ReadResponse().has_value());
  RawConnection second(port_);
  second.Send(testing::BuildRequest("GET", "/api/v1/rules", kAuth));
  ASSERT_TRUE(second.ReadResponse().has_value());
  RawConnection third(port_);
  third.Send(testing::BuildRequest("GET", "/healthz", {}));
  EXPECT_FALSE(third.ReadResponse(500ms).has_value());  // not accepted yet
  EXPECT_EQ(server_->stats().connections, 2u);
  EXPECT_EQ(server_->stats().connection_limit_hits, 1u);
  first.reset();
  auto reply = third.ReadResponse(5s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ApiServerTest, StatsCountRoutesAndCodes) {
  Start();
  Seed();
  Get("/api/v1/alerts");
  Get("/api/v1/alerts");
  Get("/api/v1/alerts/1");
  Get("/api/v1/alerts/100000");
  Get("/api/v1/alerts", {});
  Get("/nowhere");
  auto stream = OpenStream();
  const ApiStats stats = server_->stats();
  auto count = [&](const std::string& route, int code) -> uint64_t {
    for (const auto& [key, value] : stats.requests) {
      if (key.first == route && key.second == code) return value;
    }
    return 0;
  };
  EXPECT_EQ(count("/api/v1/alerts", 200), 2u);
  EXPECT_EQ(count("/api/v1/alerts", 401), 1u);
  EXPECT_EQ(count("/api/v1/alerts/{id}", 200), 1u);
  EXPECT_EQ(count("/api/v1/alerts/{id}", 404), 1u);
  EXPECT_EQ(count("other", 404), 1u);
  EXPECT_EQ(count("/api/v1/alerts/stream", 200), 1u);
  EXPECT_EQ(stats.streams, 1u);
}

TEST_F(ApiServerTest, PortInUseNamesTheAddress) {
  Start();
  ApiOptions options = Options();
  options.port = port_;
  LiveHub hub;
  try {
    ApiServer second(options, reader_, hub, {});
    FAIL() << "bound a port in use";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(port_)),
              std::string::npos)
        << error.what();
  }
  options.port = 0;
  options.tokens.clear();
  EXPECT_THROW(ApiServer(options, reader_, hub, {}), std::runtime_error);
}

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

// --- TLS ------------------------------------------------------------------------

using TempDir = gsoc::test::TempDir;

// Closes a socket if a blocking client call takes too long.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::seconds limit)
      : thread_([this, fd, limit] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) ::shutdown(fd, SHUT_RDWR);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

class TlsClient {
 public:
  explicit TlsClient(uint16_t port)
      : ssl_(boost::asio::ssl::context::tls_client), stream_(io_, ssl_) {
    ssl_.set_verify_mode(boost::asio::ssl::verify_none);
    stream_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    Watchdog watchdog(stream_.next_layer().native_handle(), std::chrono::seconds(10));
    stream_.handshake(boost::asio::ssl::stream_base::client);
  }
  void Send(const std::string& data) { boost::asio::write(stream_, boost::asio::buffer(data)); }
  // Reads until `text` has arrived (or the watchdog fires).
  std::string ReadUntil(const std::string& text) {
    Watchdog watchdog(stream_.next_layer().native_handle(), std::chrono::seconds(10));
    boost::system::error_code error;
    char chunk[4096];
    while (received_.find(text) == std::string::npos && !error) {
      const size_t n = stream_.read_some(boost::asio::buffer(chunk), error);
      received_.append(chunk, n);
    }
    return received_;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::string received_;
};

TEST_F(ApiServerTest, ServesOverTls) {
  TempDir dir;
  const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                              (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() +
                              " -days 1 -subj /CN=localhost >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  ApiOptions options = Options();
  options.tls_certificate = dir / "c.pem";
  options.tls_private_key = dir / "k.pem";
  Start(options);
  Seed();
  {
    TlsClient client(port_);
    client.Send(testing::BuildRequest("GET", "/api/v1/alerts/42", kAuth));
    const std::string reply = client.ReadUntil(Served(MakeVariedAlert(42)));
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_NE(reply.find(Served(MakeVariedAlert(42))), std::string::npos);
  }
  {
    TlsClient client(port_);
    client.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
    client.ReadUntil("\r\n\r\n");
    Commit(251, 252);
    const std::string events = client.ReadUntil("id: 252\n");
    EXPECT_NE(events.find("id: 251\ndata: " + Served(MakeVariedAlert(251)) + "\n\n"),
              std::string::npos);
  }
  // Plain HTTP to a TLS port gets nowhere, and the server carries on.
  {
    RawConnection plain(port_);
    plain.Send(testing::BuildRequest("GET", "/healthz", {}));
    EXPECT_TRUE(plain.WaitClosed(10s));
  }
  TlsClient client(port_);
  client.Send(testing::BuildRequest("GET", "/healthz", {}));
  EXPECT_NE(client.ReadUntil("ok\n").find("200 OK"), std::string::npos);
}

TEST_F(ApiServerTest, TlsLoadErrorsNameTheFile) {
  TempDir dir;
  LiveHub hub;
  ApiOptions options = Options();
  options.tls_certificate = dir / "missing-cert.pem";
  options.tls_private_key = dir / "missing-key.pem";
  try {
    ApiServer server(options, reader_, hub, {});
    FAIL() << "started without a certificate";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing-cert.pem"), std::string::npos)
        << error.what();
  }
  std::ofstream(dir / "c.pem") << "not a certificate\n";
  ASSERT_EQ(
      std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "k.pem").string() +
                   " -out " + (dir / "good.pem").string() + " -days 1 -subj /CN=x >/dev/null 2>&1")
                      .c_str()),
      0);
  options.tls_certificate = dir / "good.pem";
  try {
    ApiServer server(options, reader_, hub, {});
    FAIL() << "started without a key";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing-key.pem"), std::string::npos) << error.what();
  }
  options.tls_certificate = dir / "c.pem";
  options.tls_private_key = dir / "k.pem";
  EXPECT_THROW(ApiServer(options, reader_, hub, {}), std::runtime_error);
}

// --- what an attacker cannot hold -------------------------------------------

TEST_F(ApiServerTest, UnauthorizedClosesTheConnection) {
  Start();
  for (const char* target : {"/api/v1/alerts", "/nowhere"}) {
    RawConnection connection(port_);
    connection.Send(testing::BuildRequest("GET", target, {"Authorization: Bearer wrong"}));
    auto reply = connection.ReadResponse();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 401);
    EXPECT_EQ(reply->Header("connection"), "close");
    EXPECT_TRUE(connection.WaitClosed(2s)) << target;
  }
  // An unauthenticated 4xx closes too (a probe with the wrong method).
  RawConnection probe(port_);
  probe.Send(testing::BuildRequest("POST", "/healthz", {}));
  auto reply = probe.ReadResponse();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 405);
  EXPECT_TRUE(probe.WaitClosed(2s));
  // An authenticated client keeps its connection after a 4xx.
  RawConnection client(port_);
  client.Send(testing::BuildRequest("GET", "/api/v1/alerts/999", kAuth));
  reply = client.ReadResponse();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 404);
  EXPECT_FALSE(client.WaitClosed(300ms));
}

TEST_F(ApiServerTest, UnauthenticatedHoldersAreEvictedForNewcomers) {
  ApiOptions options = Options();
  options.max_connections = 8;
  Start(options);
  Seed();
  std::vector<std::unique_ptr<RawConnection>> holders;
  for (int i = 0; i < 8; ++i) holders.push_back(std::make_unique<RawConnection>(port_));
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  const HttpReply reply = Get("/api/v1/alerts?limit=2");
  EXPECT_EQ(reply.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_TRUE(holders.front()->WaitClosed(2s));  // the oldest made room
  EXPECT_GE(server_->stats().evicted, 1u);
}

TEST_F(ApiServerTest, FirstRequestAndPartialRequestsAreCutAtRequestTimeout) {
  ApiOptions options = Options();
  options.request_timeout = 500ms;
  options.idle_timeout = 60s;
  Start(options);
  RawConnection silent(port_);
  RawConnection partial(port_);
  partial.Send("GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\n");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.WaitClosed(3s));
  EXPECT_TRUE(partial.WaitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // The count follows the close on the server's thread: give it a moment.
  for (int i = 0; i < 100 && server_->stats().request_timeouts < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(server_->stats().request_timeouts, 1u);
  // An authenticated connection may idle up to idle_timeout between requests.
  RawConnection client(port_);
  client.Send(testing::BuildRequest("GET", "/api/v1/rules", kAuth));
  ASSERT_TRUE(client.ReadResponse().has_value());
  EXPECT_FALSE(client.WaitClosed(1500ms));
}

TEST_F(ApiServerTest, PagesOfLargeAlertsEndEarlyWithACursor) {
  ApiOptions options = Options();
  options.max_response_bytes = 256 * 1024;
  Start(options);
  std::vector<store::StoredAlert> alerts;
  for (uint64_t id = 1; id <= 100; ++id) {
    store::StoredAlert alert = MakeVariedAlert(id);
    alert.json.insert(alert.json.size() - 1, ",\"pad\":\"" + std::string(20000, 'p') + "\"");
    alerts.push_back(std::move(alert));
  }
  reader_.Add(alerts);
  hub_->OnCommitted(alerts);
  const HttpReply reply = Get("/api/v1/alerts?limit=10000&order=asc");
  EXPECT_EQ(reply.status, 200);
  EXPECT_LE(reply.body.size(), 256u * 1024 + 21000);
  const auto ids = AlertIds(reply.body);
  ASSERT_FALSE(ids.empty());
  EXPECT_LT(ids.size(), 100u);
  EXPECT_EQ(CursorOf(reply.body), std::to_string(ids.back()));
  // Following the cursors gives every alert once.
  std::vector<uint64_t> all;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const HttpReply next = Get("/api/v1/alerts?limit=10000&order=asc" +
                               (cursor.empty() ? std::string() : "&cursor=" + cursor));
    const auto page_ids = AlertIds(next.body);
    all.insert(all.end(), page_ids.begin(), page_ids.end());
    cursor = CursorOf(next.body);
    if (cursor.empty()) break;
  }
  ASSERT_EQ(all.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(all[i], i + 1);
}

TEST_F(ApiServerTest, ResumeAboveTheNewestIdIs409) {
  Start();
  Seed();
  RawConnection connection(port_);
  connection.Send(
      testing::BuildRequest("GET", "/api/v1/alerts/stream", {kAuth[0], "Last-Event-ID: 251"}));
  auto reply = connection.ReadResponse(2s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 409);
  EXPECT_NE(reply->body.find("250"), std::string::npos) << reply->body;
  auto ok = OpenStream("", {"Last-Event-ID: 250"});  // the newest id itself is fine
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

// --- tokens -------------------------------------------------------------------

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "xbc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
}

TEST(TokenTest, CreatesA0600FileThenReusesIt) {
  TempDir dir;
  const std::string file = dir / "api.token";
  bool created = false;
  const std::string token = LoadOrCreateToken("", file, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(LoadOrCreateToken("", file, &created), token);
  EXPECT_FALSE(created);
  EXPECT_NE(LoadOrCreateToken("", dir / "other.token", nullptr), token);
}

TEST(TokenTest, ConfiguredTokenWinsAndFileIsTrimmed) {
  TempDir dir;
  bool created = true;
  EXPECT_EQ(LoadOrCreateToken("configured", dir / "never", &created), "configured");
  EXPECT_FALSE(created);
  EXPECT_FALSE(std::filesystem::exists(dir / "never"));
  const std::string file = dir / "manual.token";
  std::ofstream(file) << "  hand-written-token \n\n";
  ::chmod(file.c_str(), 0600);
  EXPECT_EQ(LoadOrCreateToken("", file, &created), "hand-written-token");
}

TEST(TokenTest, RefusesFilesOthersCanRead) {
  TempDir dir;
  const std::string file = dir / "open.token";
  std::ofstream(file) << "token-of-sixteen-chars\n";
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ::chmod(file.c_str(), mode);
    try {
      LoadOrCreateToken("", file, nullptr);
      FAIL() << "accepted mode " << mode;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("chmod 600"), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
    }
  }
  ::chmod(file.c_str(), 0400);
  EXPECT_EQ(LoadOrCreateToken("", file, nullptr), "token-of-sixteen-chars");
  std::ofstream(dir / "empty.token") << "  \n";
  ::chmod((dir / "empty.token").c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", dir / "empty.token", nullptr), std::runtime_error);
  EXPECT_THROW(LoadOrCreateToken("", dir / "no-dir/x.token", nullptr), std::runtime_error);
  EXPECT_THROW(LoadOrCreateToken("", "", nullptr), std::runtime_error);
}

TEST(TokenTest, RefusesSymlinksShortTokensAndHugeFiles) {
  TempDir dir;
  const std::string target = dir / "real.token";
  std::ofstream(target) << "token-of-sixteen-chars\n";
  ::chmod(target.c_str(), 0600);
  const std::string link = dir / "link.token";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THROW(LoadOrCreateToken("", link, nullptr), std::runtime_error);
  const std::string one_byte = dir / "short.token";
  std::ofstream(one_byte) << "x";
  ::chmod(one_byte.c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", one_byte, nullptr), std::runtime_error);
  const std::string huge = dir / "huge.token";
  std::ofstream(huge) << std::string(100000, 'a');
  ::chmod(huge.c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", huge, nullptr), std::runtime_error);
  const std::string fifo = dir / "fifo.token";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(LoadOrCreateToken("", fifo, nullptr), std::runtime_error);  // and does not block
}

}  // namespace
}  // namespace gsoc::api
