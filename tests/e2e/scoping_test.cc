// Roles and agency scoping against a real gsocd (issue 12 item 1): gsocd is
// fed alerts of agencies A and B; an agency-analyst token of A, on every
// route and on the stream (fresh and resumed), never receives a byte of B;
// a viewer cannot change anything; a revoked token is refused at once;
// tokens are not stored in clear.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <thread>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAgencyA = "agency-alpha";
constexpr const char* kAgencyB = "agency-bravo";
constexpr const char* kUserA = "alphauser";
constexpr const char* kUserB = "bravouser";  // in B's raw events only

std::vector<std::string> Auth(const std::string& token) {
  return {"Authorization: Bearer " + token};
}

std::string ScopingConfig(const TempDir& dir, const std::string& extra = "") {
  return ShippedPackConfig(dir, std::string("agencies:\n") + "  - {name: " + kAgencyA +
                                    ", cidrs: [127.0.0.2/32]}\n" + "  - {name: " + kAgencyB +
                                    ", cidrs: [127.0.0.3/32]}\n" +
                                    "alerts:\n  aggregate: {enabled: false}\n" + extra);
}

// Sends `count` failed-password lines from `source` (its agency).
void SendFrom(uint16_t port, const char* source, const char* user, int first, int count) {
  Fd fd(ConnectTcp(port, source));
  std::string text;
  for (int i = 0; i < count; ++i) text += FailedPasswordLine(first + i, user);
  ASSERT_TRUE(SendAll(fd.get(), text));
}

// Ids and agency of every stored alert (admin view).
std::map<uint64_t, std::string> AgencyById(uint16_t port, const std::string& token) {
  std::map<uint64_t, std::string> out;
  simdjson::dom::parser parser;
  for (const std::string& json : StoredAlertJsons(port, token)) {
    simdjson::dom::element alert;
    if (parser.parse(json).get(alert) != simdjson::SUCCESS) continue;
    std::string_view id, agency;
    if (alert["id"].get(id) == simdjson::SUCCESS &&
        alert["agency"].get(agency) == simdjson::SUCCESS) {
      out[std::stoull(std::string(id))] = std::string(agency);
    }
  }
  return out;
}

std::string CreateToken(uint16_t port, const std::string& admin, const std::string& body) {
  const HttpResult reply = HttpRequest(port, "POST", "/api/v1/tokens",
                                       {Auth(admin)[0], "Content-Type: application/json"}, body);
  EXPECT_EQ(reply.status, 201) << reply.body;
  simdjson::dom::parser parser;
  std::string_view token;
  if (parser.parse(reply.body)["token"].get(token) != simdjson::SUCCESS) return {};
  return std::string(token);
}

// The SSE bytes (as "id: N\ndata: ...\n\n") a stream gives within `wait`.
std::string StreamText(uint16_t port, const std::string& target,
                       const std::vector<std::string>& headers, std::chrono::milliseconds wait,
                       size_t* events = nullptr) {
  std::string text;
  size_t n = 0;
  const int status =
      ReadSse(port, target, headers, wait, [&](uint64_t id, const std::string& data) {
        text += "id: " + std::to_string(id) + "\ndata: " + data + "\n\n";
        ++n;
        return true;
      });
  EXPECT_EQ(status, 200) << target;
  if (events) *events = n;
  return text;
}

class BLeakCheck {
 public:
  explicit BLeakCheck(std::vector<uint64_t> ids_b) : ids_b_(std::move(ids_b)) {}
  void ExpectClean(const std::string& bytes, const std::string& what) const {
    EXPECT_EQ(bytes.find(kAgencyB), std::string::npos) << what << ": B's name in " << bytes;
    EXPECT_EQ(bytes.find(kUserB), std::string::npos) << what << ": B's event in " << bytes;
    for (uint64_t id : ids_b_) {
      const std::string n = std::to_string(id);
      EXPECT_EQ(bytes.find("\"id\":\"" + n + "\""), std::string::npos) << what << ": B id " << n;
      EXPECT_EQ(bytes.find("id: " + n + "\n"), std::string::npos) << what << ": B id " << n;
      EXPECT_EQ(bytes.find("\"next_cursor\":\"" + n + "\""), std::string::npos) << what;
      EXPECT_EQ(bytes.find("x-next-cursor: " + n + "\r"), std::string::npos) << what;
    }
  }

 private:
  std::vector<uint64_t> ids_b_;
};

TEST(E2eScoping, AgencyAnalystNeverReceivesAByteOfAnotherAgency) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ScopingConfig(dir)}));
  const uint16_t api = gsocd.port("api");
  const std::string admin = ApiToken(dir);
  const std::string token_a = CreateToken(api, admin,
                                          std::string(R"({"role":"agency-analyst","agencies":[")") +
                                              kAgencyA + R"("],"name":"alpha analyst"})");
  ASSERT_FALSE(token_a.empty());

  // A stream opened before any alert: it sees only live ones.
  std::string fresh;
  std::atomic<bool> fresh_done{false};
  std::thread fresh_reader([&] {
    fresh = StreamText(api, "/api/v1/alerts/stream", Auth(token_a), Scaled(6s));
    fresh_done = true;
  });
  std::this_thread::sleep_for(300ms);
  SendFrom(gsocd.port("tcp"), "127.0.0.2", kUserA, 0, 40);
  SendFrom(gsocd.port("tcp"), "127.0.0.3", kUserB, 100, 40);
  ASSERT_TRUE(gsocd.WaitMetricAtLeast("gsoc_store_alerts_committed_total", {}, 80, Scaled(20s)));
  std::this_thread::sleep_for(500ms);  // let correlation alerts land too
  const auto agencies = AgencyById(api, admin);
  std::vector<uint64_t> ids_a, ids_b;
  for (const auto& [id, agency] : agencies) (agency == kAgencyB ? ids_b : ids_a).push_back(id);
  ASSERT_GE(ids_a.size(), 40u);
  ASSERT_GE(ids_b.size(), 40u);
  for (const auto& [id, agency] : agencies) EXPECT_TRUE(agency == kAgencyA || agency == kAgencyB);
  const BLeakCheck check(ids_b);
  auto get = [&](const std::string& target, std::vector<std::string> headers = {}) {
    headers.push_back(Auth(token_a)[0]);
    const HttpResult reply = HttpRequest(api, "GET", target, headers);
    check.ExpectClean(reply.headers + reply.body, target);
    return reply;
  };

  // Every read route.
  const HttpResult all = get("/api/v1/alerts?limit=10000");
  EXPECT_EQ(all.status, 200);
  size_t seen = 0;
  for (size_t at = all.body.find("\"agency\":\"agency-alpha\""); at != std::string::npos;
       at = all.body.find("\"agency\":\"agency-alpha\"", at + 1)) {
    ++seen;
  }
  EXPECT_EQ(seen, ids_a.size());
  get("/api/v1/alerts?order=asc&limit=3");
  get("/api/v1/alerts?limit=5", {"Accept: application/x-ndjson"});
  EXPECT_EQ(get("/api/v1/alerts?agency=agency-bravo").body, R"({"alerts":[],"next_cursor":null})");
  get("/api/v1/alerts?q=bravouser");
  get("/api/v1/alerts?cursor=" + std::to_string(ids_b.back()) + "&limit=2");
  get("/api/v1/rules");
  get("/api/v1/whoami");
  EXPECT_EQ(get("/api/v1/alerts/" + std::to_string(ids_b.front())).status, 404);
  EXPECT_EQ(get("/api/v1/alerts/" + std::to_string(ids_a.front())).status, 200);
  EXPECT_EQ(get("/api/v1/tokens").status, 403);
  EXPECT_EQ(get("/api/v1/audit").status, 403);

  // The stream resumed from the start (header and query), and from a B id.
  size_t events = 0;
  std::string resumed = StreamText(api, "/api/v1/alerts/stream",
                                   {Auth(token_a)[0], "Last-Event-ID: 0"}, Scaled(1500ms), &events);
  check.ExpectClean(resumed, "stream resumed from 0");
  EXPECT_EQ(events, ids_a.size());
  resumed = StreamText(api, "/api/v1/alerts/stream?last_event_id=" + std::to_string(ids_b.front()),
                       Auth(token_a), Scaled(1500ms));
  check.ExpectClean(resumed, "stream resumed from a B id");
  resumed = StreamText(api, "/api/v1/alerts/stream?agency=agency-bravo&last_event_id=0",
                       Auth(token_a), Scaled(1000ms), &events);
  EXPECT_EQ(events, 0u);

  fresh_reader.join();
  check.ExpectClean(fresh, "fresh stream");
  EXPECT_NE(fresh.find("id: " + std::to_string(ids_a.back()) + "\n"), std::string::npos)
      << "the fresh stream saw A's live alerts";
  std::printf("[e2e] %zu alerts of A, %zu of B; A's token saw %zu, none of B\n", ids_a.size(),
              ids_b.size(), seen);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eScoping, ViewerChangesNothingRevokeIsImmediateAndTokensAreHashed) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ScopingConfig(dir)}));
  const uint16_t api = gsocd.port("api");
  const std::string admin = ApiToken(dir);
  const std::string viewer = CreateToken(api, admin, R"({"role":"viewer","name":"vic"})");
  const std::string analyst = CreateToken(api, admin, R"({"role":"analyst","name":"ana"})");
  ASSERT_FALSE(viewer.empty());

  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts", Auth(viewer)).status, 200);
  EXPECT_EQ(HttpRequest(api, "POST", "/api/v1/rules/reload", Auth(viewer)).status, 403);
  EXPECT_EQ(
      HttpRequest(api, "POST", "/api/v1/tokens", Auth(viewer), R"({"role":"admin","name":"me"})")
          .status,
      403);
  const HttpResult list = HttpRequest(api, "GET", "/api/v1/tokens", Auth(admin));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(viewer), std::string::npos) << "a token is shown once only";
  const std::string analyst_id = analyst.substr(5, 16);
  EXPECT_EQ(HttpRequest(api, "DELETE", "/api/v1/tokens/" + analyst_id, Auth(viewer)).status, 403);
  EXPECT_EQ(HttpRequest(api, "DELETE", "/api/v1/tokens/" + analyst_id, Auth(analyst)).status, 403);
  EXPECT_EQ(HttpRequest(api, "POST", "/api/v1/rules/reload", Auth(analyst)).status, 403);

  // Revoke: refused on the very next request, and its open stream ends at
  // the next alert.
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/whoami", Auth(analyst)).status, 200);
  std::atomic<int> stream_status{-1};
  size_t after_revoke = 0;
  std::atomic<bool> revoked{false};
  const auto stream_start = Clock::now();
  std::thread stream([&] {
    stream_status = ReadSse(api, "/api/v1/alerts/stream", Auth(analyst), Scaled(20s),
                            [&](uint64_t, const std::string&) {
                              if (revoked) ++after_revoke;
                              return true;
                            });
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(HttpRequest(api, "DELETE", "/api/v1/tokens/" + analyst_id, Auth(admin)).status, 200);
  revoked = true;
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/whoami", Auth(analyst)).status, 401);
  EXPECT_EQ(HttpRequest(api, "GET", "/api/v1/alerts", Auth(analyst)).status, 401);
  SendFrom(gsocd.port("tcp"), "127.0.0.2", kUserA, 0, 3);
  stream.join();
  EXPECT_EQ(stream_status, 200);
  EXPECT_EQ(after_revoke, 0u) << "alerts sent to a revoked token's stream";
  EXPECT_LT(Clock::now() - stream_start, Scaled(10s)) << "the revoked stream stayed open";

  // The audit log saw every state-changing request, refused ones too.
  const HttpResult audit = HttpRequest(api, "GET", "/api/v1/audit?limit=100", Auth(admin));
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find(R"("name":"vic","method":"POST","route":"/api/v1/rules/reload")"),
            std::string::npos)
      << audit.body;
  EXPECT_NE(audit.body.find(R"("method":"DELETE","route":"/api/v1/tokens/{id}")"),
            std::string::npos);
  EXPECT_NE(audit.body.find("\"status\":403"), std::string::npos);
  EXPECT_NE(audit.body.find("\"peer\":\"127.0.0.1:"), std::string::npos);
  EXPECT_EQ(audit.body.find(viewer.substr(22)), std::string::npos);
  EXPECT_EQ(gsocd.Stop(), 0);

  // No secret in any byte of auth.db, after the daemon wrote and closed it.
  std::string bytes;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "var/auth.db")) {
    if (entry.is_regular_file()) bytes += ReadFile(entry.path());
  }
  EXPECT_NE(bytes.find(analyst_id), std::string::npos);
  for (const std::string& token : {viewer, analyst}) {
    EXPECT_EQ(bytes.find(token.substr(22)), std::string::npos) << "secret stored in clear";
  }
}

TEST(E2eScoping, GsocctlTokensThroughTheApiAndOnAStoppedDataDir) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ScopingConfig(dir)}));
  const std::string url = "http://127.0.0.1:" + std::to_string(gsocd.port("api"));
  const std::string admin = ApiToken(dir);
  const RunResult created =
      RunProgram({GSOCCTL_PATH, "token", "create", "--role", "agency-analyst", "--agency", kAgencyA,
                  "--name", "alpha desk", "--url", url, "--token", admin});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const size_t at = created.output.find("gsoc_");
  ASSERT_NE(at, std::string::npos) << created.output;
  const std::string token = created.output.substr(at, 86);
  EXPECT_NE(created.output.find(token + "\n"), std::string::npos) << "the token on its own line";
  const HttpResult whoami = HttpRequest(gsocd.port("api"), "GET", "/api/v1/whoami", Auth(token));
  EXPECT_NE(whoami.body.find(R"("name":"alpha desk","role":"agency-analyst")"), std::string::npos)
      << whoami.body;
  const RunResult list =
      RunProgram({GSOCCTL_PATH, "token", "list", "--url", url, "--token", admin});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("alpha desk"), std::string::npos) << list.output;
  EXPECT_EQ(list.output.find(token.substr(22)), std::string::npos);
  // Not an admin: refused by the API.
  const RunResult refused =
      RunProgram({GSOCCTL_PATH, "token", "list", "--url", url, "--token", token});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("403"), std::string::npos) << refused.output;
  // The data dir of a running gsocd: said clearly.
  const std::string data_dir = (dir / "var").string();
  const RunResult busy = RunProgram({GSOCCTL_PATH, "token", "list", "--data-dir", data_dir});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.output.find("gsocd is running"), std::string::npos) << busy.output;
  EXPECT_EQ(gsocd.Stop(), 0);

  // Stopped: revoke directly; the token is refused after the restart.
  const std::string id = token.substr(5, 16);
  const RunResult revoke =
      RunProgram({GSOCCTL_PATH, "token", "revoke", id, "--data-dir", data_dir});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.output;
  const RunResult offline = RunProgram({GSOCCTL_PATH, "token", "list", "--data-dir", data_dir});
  EXPECT_NE(offline.output.find("revoked"), std::string::npos) << offline.output;
  Gsocd again;
  ASSERT_TRUE(again.Start({ScopingConfig(dir)}));  // the same data dir
  EXPECT_EQ(HttpRequest(again.port("api"), "GET", "/api/v1/whoami", Auth(token)).status, 401);
  EXPECT_EQ(HttpRequest(again.port("api"), "GET", "/api/v1/whoami", Auth(admin)).status, 200);
  EXPECT_EQ(again.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
