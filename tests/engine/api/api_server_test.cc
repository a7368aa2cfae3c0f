// The API server: probes, tokens, routes, queries, limits, and what an
// attacker cannot hold (api_server_fixture.h).
#include <gtest/gtest.h>

#include "tests/engine/api/api_server_fixture.h"

namespace gsoc::api {
namespace {

using namespace server_test;

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

}  // namespace
}  // namespace gsoc::api
