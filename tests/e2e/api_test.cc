// End to end: the alert store and the HTTP API of a running gsocd.
//  - Durability: kill -9 at random moments, ten times, during a flood of
//    alert-producing lines; after each restart every alert a stream client
//    had received is still there, ids never repeat or go backwards, and the
//    store opens cleanly.
//  - Stream resume: a client that disconnects and reconnects many times
//    during a flood receives every alert exactly once, in order.
//  - The API: routes, filters, authentication, malformed and oversized
//    requests, the generated token file, TLS.
//  - gsocctl tail, query and alert against the running gsocd.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

std::string Token(const TempDir& dir) {
  std::string token = ReadFile(dir / "var/api-token");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

std::vector<std::string> Auth(const std::string& token) {
  return {"Authorization: Bearer " + token};
}

void ExpectStrictlyIncreasing(const std::vector<uint64_t>& ids, const char* what) {
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) {
      ADD_FAILURE() << what << ": id " << ids[i] << " after " << ids[i - 1] << " at " << i;
      return;
    }
  }
}

// Sends lines over one connection at a steady pace until stopped or refused.
class Flood {
 public:
  Flood(uint16_t port, int lines_per_tick) {
    thread_ = std::thread([this, port, lines_per_tick] {
      Fd fd(ConnectTcp(port));
      for (int n = 0; !stop_.load() && fd.get() >= 0; n += lines_per_tick) {
        std::string text;
        for (int i = 0; i < lines_per_tick; ++i) text += FailedPasswordLine(n + i);
        if (!SendAll(fd.get(), text)) break;
        sent_.fetch_add(lines_per_tick);
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  ~Flood() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

TEST(E2eApi, AlertsSurviveKillNineAndIdsNeverRepeat) {
  TempDir dir;
  // Every received id must stay stored: aggregation would replace the ids of
  // growing aggregates (its own kill -9 test is tests/e2e/aggregation_test.cc).
  const std::string config = ShippedPackConfig(dir, "alerts: {aggregate: {enabled: false}}\n");
  std::mt19937 random(20261125);
  std::set<uint64_t> received;
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    const uint16_t api = gsocd.port("api");
    const std::string token = Token(dir);
    // The store opened cleanly and holds every alert any client received.
    const std::vector<uint64_t> stored = StoredAlertIds(api, token);
    ExpectStrictlyIncreasing(stored, "stored ids");
    const std::set<uint64_t> stored_set(stored.begin(), stored.end());
    for (uint64_t id : received) {
      if (!stored_set.count(id)) {
        ADD_FAILURE() << "alert " << id << " was received by a client and is gone";
        break;
      }
    }
    const uint64_t last_before = stored.empty() ? 0 : stored.back();

    std::vector<uint64_t> this_round;
    std::atomic<bool> reading{true};
    std::thread reader([&] {
      auto headers = Auth(token);
      headers.push_back("Last-Event-ID: " + std::to_string(last_before));
      ReadSse(api, "/api/v1/alerts/stream", headers, 30s, [&](uint64_t id, const std::string&) {
        this_round.push_back(id);
        return reading.load();
      });
    });
    Flood flood(gsocd.port("tcp"), 50);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 1200));
    gsocd.Kill();
    flood.Stop();
    reading.store(false);
    reader.join();
    ExpectStrictlyIncreasing(this_round, "streamed ids");
    if (!this_round.empty()) {
      EXPECT_GT(this_round.front(), last_before) << "an id went backwards after a restart";
    }
    received.insert(this_round.begin(), this_round.end());
    std::printf("[e2e] round %d: %d lines sent, %zu alerts streamed before kill -9\n", round,
                flood.sent(), this_round.size());
  }
  EXPECT_GT(received.size(), 100u);
  Gsocd last;
  ASSERT_TRUE(last.Start({config}));
  const std::vector<uint64_t> stored = StoredAlertIds(last.port("api"), Token(dir));
  ExpectStrictlyIncreasing(stored, "stored ids");
  const std::set<uint64_t> stored_set(stored.begin(), stored.end());
  size_t missing = 0;
  for (uint64_t id : received) missing += stored_set.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(last.Stop(), 0);
}

// A data dir from before the store numbered alerts in var/alert-id: the
// store's ids continue above that ceiling.
TEST(E2eApi, IdsContinueAboveAnOldAlertIdFile) {
  TempDir dir;
  fs::create_directories(dir / "var");
  WriteFile(dir / "var/alert-id", "9000\n");
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir)}));
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), FailedPasswordLine(1)));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_alerts_committed_total", {}, 2));
  const std::vector<uint64_t> ids = StoredAlertIds(gsocd.port("api"), Token(dir));
  EXPECT_EQ(ids, (std::vector<uint64_t>{9000, 9001}));
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eApi, StreamResumesWithoutGapOrDuplicate) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir)}));
  const uint16_t api = gsocd.port("api");
  const std::string token = Token(dir);
  std::vector<uint64_t> got;
  std::mt19937 random(7);
  int reconnects = 0;
  {
    Flood flood(gsocd.port("tcp"), 20);
    const auto flood_end = Clock::now() + 2s;
    auto quiet_since = Clock::now();
    while (Clock::now() < flood_end || Clock::now() - quiet_since < 2s) {
      if (Clock::now() >= flood_end) flood.Stop();
      const size_t take = 1 + random() % 40;
      size_t taken = 0;
      auto headers = Auth(token);
      headers.push_back("Last-Event-ID: " + std::to_string(got.empty() ? 0 : got.back()));
      ReadSse(api, "/api/v1/alerts/stream", headers, 500ms, [&](uint64_t id, const std::string&) {
        got.push_back(id);
        return ++taken < take;
      });
      if (taken > 0) quiet_since = Clock::now();
      ++reconnects;
    }
  }
  ExpectStrictlyIncreasing(got, "streamed ids");
  const std::vector<uint64_t> stored = StoredAlertIds(api, token);
  EXPECT_EQ(got, stored) << "streamed " << got.size() << " of " << stored.size();
  EXPECT_GT(reconnects, 20);
  EXPECT_GT(got.size(), 500u);
  std::printf("[e2e] %zu alerts over %d connections, every one exactly once\n", got.size(),
              reconnects);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eApi, RoutesFiltersAuthenticationAndLimits) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir)}));
  const uint16_t api = gsocd.port("api");
  // The generated token file is private to gsocd's user.
  struct stat info {};
  ASSERT_EQ(::stat((dir / "var/api-token").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_NE(gsocd.Stderr().find("api-token"), std::string::npos) << "token location not logged";
  const std::string token = Token(dir);
  EXPECT_GE(token.size(), 32u);

  EXPECT_EQ(HttpRequest(api, "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpRequest(api, "GET", "/readyz").status, 200);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts").status, 401);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts", Auth(token + "x")).status, 401);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts", {"Authorization: Basic abc"}).status, 401);

  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(
        SendAll(fd.get(), FailedPasswordLine(1) +
                              "<86>Nov 25 10:00:13 bastion useradd[2211]: new user: name=backdoor, "
                              "UID=1002, GID=1002, home=/home/backdoor, shell=/bin/bash\n"));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_alerts_committed_total", {}, 3));
  const HttpResult all = HttpRequest(api, "GET", "/api/v1/alerts?order=asc", Auth(token));
  ASSERT_EQ(all.status, 200) << all.body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(all.body).get(root), simdjson::SUCCESS);
  ASSERT_EQ(simdjson::dom::array(root["alerts"]).size(), 3u);
  const std::string first_id(std::string_view(root["alerts"].at(0)["id"]));

  const HttpResult by_rule = HttpRequest(
      api, "GET", "/api/v1/alerts?rule=6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0a0a", Auth(token));
  ASSERT_EQ(by_rule.status, 200);
  ASSERT_EQ(parser.parse(by_rule.body).get(root), simdjson::SUCCESS);
  ASSERT_EQ(simdjson::dom::array(root["alerts"]).size(), 1u);
  EXPECT_EQ(std::string_view(root["alerts"].at(0)["rule"]["title"]), "Local User Or Group Created");

  const HttpResult high = HttpRequest(api, "GET", "/api/v1/alerts?level=medium%2B", Auth(token));
  ASSERT_EQ(parser.parse(high.body).get(root), simdjson::SUCCESS);
  EXPECT_EQ(simdjson::dom::array(root["alerts"]).size(), 1u);  // root login attempt (medium)

  const HttpResult ndjson = HttpRequest(api, "GET", "/api/v1/alerts?limit=2",
                                        {Auth(token)[0], "Accept: application/x-ndjson"});
  EXPECT_EQ(ndjson.status, 200);
  EXPECT_EQ(SplitLines(ndjson.body).size(), 2u);
  EXPECT_NE(ndjson.headers.find("x-next-cursor:"), std::string::npos);

  const HttpResult one = HttpRequest(api, "GET", "/api/v1/alerts/" + first_id, Auth(token));
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("Failed password for root"), std::string::npos) << one.body;
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts/999999", Auth(token)).status, 404);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts?frobnicate=1", Auth(token)).status, 400);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts?limit=abc", Auth(token)).status, 400);

  const HttpResult rules = HttpRequest(api, "GET", "/api/v1/rules", Auth(token));
  ASSERT_EQ(rules.status, 200);
  ASSERT_EQ(parser.parse(rules.body).get(root), simdjson::SUCCESS);
  EXPECT_EQ(int64_t(root["counts"]["correlation"]), 5);
  EXPECT_EQ(HttpRequest(api, "POST", "/api/v1/rules/reload", Auth(token)).status, 202);
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_rule_reloads_total", {{"result", "success"}}, 2, 30s));

  // Oversized and malformed requests get a 4xx, and gsocd carries on.
  const std::string huge(64 * 1024, 'a');
  const int oversized = HttpRequest(api, "GET", "/api/v1/alerts", {"X-Big: " + huge}).status;
  EXPECT_TRUE(oversized == 431 || oversized == 413 || oversized == 400) << oversized;
  {
    Fd fd(ConnectTcp(api));
    ASSERT_TRUE(SendAll(fd.get(), "NONSENSE\r\n\r\n"));
    char buffer[256];
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    ASSERT_GT(n, 12);
    EXPECT_EQ(std::string(buffer, 9), "HTTP/1.1 ");
    EXPECT_EQ(buffer[9], '4');
  }
  EXPECT_EQ(HttpRequest(api, "GET", "/healthz").status, 200);
  const std::string metrics = gsocd.Scrape();
  for (const char* name :
       {"gsoc_store_write_seconds_bucket", "gsoc_store_batch_alerts_bucket", "gsoc_store_bytes",
        "gsoc_api_requests_total", "gsoc_api_streams", "gsoc_api_connections",
        "gsoc_api_connection_limit_total", "gsoc_store_rocksdb_ticker_total"}) {
    EXPECT_TRUE(FindMetric(metrics, name).has_value()) << name;
  }
  EXPECT_GE(FindMetric(metrics, "gsoc_api_requests_total", {{"code", "401"}}).value_or(0), 3);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eApi, TlsWithAConfiguredCertificateAndToken) {
  TempDir dir;
  const RunResult made =
      RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "1",
                  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string token = "e2e-token-0123456789abcdef";
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start(
      {ShippedPackConfig(dir, "api:\n  port: 0\n  tokens: [" + token +
                                  "]\n  tls: {certificate: " + (dir / "cert.pem").string() +
                                  ", private_key: " + (dir / "key.pem").string() + "}\n")}));
  const std::string url = "https://127.0.0.1:" + std::to_string(gsocd.port("api"));
  const RunResult ok = RunProgram({"/usr/bin/curl", "-sS", "--cacert", (dir / "cert.pem").string(),
                                   "-H", "Authorization: Bearer " + token, url + "/api/v1/rules"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("\"counts\""), std::string::npos) << ok.output;
  const RunResult denied =
      RunProgram({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                  (dir / "cert.pem").string(), url + "/api/v1/alerts"});
  EXPECT_EQ(denied.output, "401");
  const RunResult plain =
      RunProgram({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                  "http://127.0.0.1:" + std::to_string(gsocd.port("api")) + "/healthz"});
  EXPECT_NE(plain.output, "200") << "plain HTTP must not be served on the TLS port";
  EXPECT_FALSE(fs::exists(dir / "var/api-token")) << "configured tokens: no token file";
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eGsocctl, TailQueryAndAlertAgainstARunningGsocd) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir)}));
  const std::string url = "http://127.0.0.1:" + std::to_string(gsocd.port("api"));
  const std::string config = gsocd.config_path().string();
  // tail -f follows: started first, it prints what arrives after it.
  SpawnOptions tail_output;
  tail_output.stdout_file = dir / "tail.out";
  tail_output.stderr_file = dir / "tail.err";
  Process tail({GSOCCTL_PATH, "tail", "-f", "--json", "-n", "0", "--url", url, "--config", config},
               tail_output);
  // Send only once tail follows the stream (it starts after the newest id).
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_api_streams", {}, 1, Scaled(15s)))
      << ReadFile(dir / "tail.err");
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    std::string text;
    // Four sources: two alerts a line (failure, root attempt), and too few
    // sources and attempts for any correlation.
    for (int i = 0; i < 4; ++i) text += FailedPasswordLine(i);
    ASSERT_TRUE(SendAll(fd.get(), text));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_alerts_committed_total", {}, 8));
  const auto deadline = Clock::now() + Scaled(10s);
  while (CountLines(dir / "tail.out") < 8 && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  tail.Stop(5s);
  EXPECT_EQ(CountLines(dir / "tail.out"), 8u) << ReadFile(dir / "tail.err");

  const RunResult query = RunProgram({GSOCCTL_PATH, "query", "--since", "1h", "--rule",
                                      "6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0a02", "--json", "--url",
                                      url, "--config", config});
  EXPECT_EQ(query.exit_code, 0) << query.output;
  EXPECT_EQ(SplitLines(query.output).size(), 4u) << query.output;

  const RunResult readable = RunProgram({GSOCCTL_PATH, "query", "--level", "medium+", "--limit",
                                         "3", "--url", url, "--config", config});
  EXPECT_EQ(readable.exit_code, 0) << readable.output;
  EXPECT_EQ(SplitLines(readable.output).size(), 3u) << readable.output;
  EXPECT_EQ(readable.output.find("\x1b["), std::string::npos) << "colour when piped";

  const RunResult alert =
      RunProgram({GSOCCTL_PATH, "alert", "1", "--url", url, "--config", config});
  EXPECT_EQ(alert.exit_code, 0) << alert.output;
  EXPECT_NE(alert.output.find("Failed password for root"), std::string::npos) << alert.output;

  const RunResult bad = RunProgram({GSOCCTL_PATH, "query", "--url", url, "--token", "wrong-token"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("401"), std::string::npos) << bad.output;
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
