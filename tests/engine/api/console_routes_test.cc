// The web console's routes on a real ApiServer: static files (no token,
// headers), GET /api/v1/overview and GET /api/v1/rules/{id}.
#include <gtest/gtest.h>

#include <regex>

#include "engine/api/api_server.h"
#include "engine/api/console_assets.h"
#include "engine/api/overview.h"
#include "tests/engine/api/api_test_util.h"

namespace gsoc::api {
namespace {

using testing::Fetch;
using testing::HttpReply;

const std::vector<std::string> kAuth = {"Authorization: Bearer console-token"};

class ConsoleRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiOptions options;
    options.port = 0;
    options.tokens = {"console-token"};
    ApiHooks hooks;
    hooks.rules_json = [] { return std::string(R"({"rules":[]})"); };
    hooks.reload = [this] { ++reloads_; };
    hooks.rule_detail_json = [](std::string_view id,
                                uint64_t revision) -> std::optional<std::string> {
      if (id != "rule one/1" && id != "r1") return std::nullopt;
      if (revision == 0xab) return std::string(R"({"id":"r1","title":"Rule one, as it was"})");
      return std::string(R"({"id":"r1","title":"Rule one"})");
    };
    hooks.overview = &overview_;
    server_ = std::make_unique<ApiServer>(options, reader_, hub_, std::move(hooks));
    port_ = server_->port();
  }

  HttpReply Get(const std::string& target, const std::vector<std::string>& headers = kAuth) {
    return Fetch(port_, "GET", target, headers);
  }

  testing::FakeReader reader_;
  LiveHub hub_;
  OverviewRollup overview_;
  int reloads_ = 0;
  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ConsoleRoutesTest, IndexAndHashedAssetsNeedNoTokenAndCarryTheirHeaders) {
  if (ConsoleAssets().empty()) GTEST_SKIP() << "built with GSOC_CONSOLE=OFF";
  const HttpReply index = Get("/", {});
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.at("cache-control"), "no-store");
  EXPECT_NE(index.headers.at("content-security-policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(index.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(Get("/index.html", {}).body, index.body);
  // Every script and style the page names is served, hashed, cached for a year.
  const std::regex asset(R"re((src|href)="(/assets/[^"]+)")re");
  int hashed = 0;
  for (std::sregex_iterator it(index.body.begin(), index.body.end(), asset), end; it != end; ++it) {
    const std::string path = (*it)[2];
    const HttpReply reply = Get(path, {});
    ASSERT_EQ(reply.status, 200) << path;
    EXPECT_FALSE(reply.body.empty());
    if (path.ends_with(".js")) {
      ++hashed;
      EXPECT_EQ(reply.headers.at("content-type"), "text/javascript; charset=utf-8");
      EXPECT_EQ(reply.headers.at("cache-control"), "public, max-age=31536000, immutable");
    }
    if (path.ends_with(".css")) {
      ++hashed;
      EXPECT_EQ(reply.headers.at("content-type"), "text/css; charset=utf-8");
    }
  }
  EXPECT_EQ(hashed, 2) << index.body;
}

TEST_F(ConsoleRoutesTest, UnknownAssetsAre404AndOnlyGetAndHeadAreServed) {
  EXPECT_EQ(Get("/assets/nope.js", {}).status, 404);
  EXPECT_EQ(Fetch(port_, "POST", "/", {}).status, 405);
  if (ConsoleAssets().empty()) return;
  testing::RawConnection connection(port_);
  connection.Send(testing::BuildRequest("HEAD", "/", {}));
  const auto head = connection.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), std::to_string(Get("/", {}).body.size()));
}

TEST_F(ConsoleRoutesTest, ApiRoutesStillNeedTheToken) {
  EXPECT_EQ(Get("/api/v1/overview", {}).status, 401);
  EXPECT_EQ(Get("/api/v1/rules/r1", {}).status, 401);
  EXPECT_EQ(Get("/api/v1/alerts", {}).status, 401);
}

TEST_F(ConsoleRoutesTest, OverviewSumsOrScopesToTheAgencyAsked) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<store::StoredAlert> alerts;
  for (uint64_t id = 1; id <= 6; ++id) {
    alerts.push_back(
        testing::MakeAlert(id, now, rules::Level::kHigh, "rule-x", "", id <= 2 ? "mof" : "moh"));
  }
  overview_.OnCommitted(alerts);
  HttpReply all = Get("/api/v1/overview");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.headers.at("content-type"), "application/json");
  EXPECT_NE(all.body.find("\"agency\":null"), std::string::npos);
  EXPECT_NE(all.body.find("\"open\":6,"), std::string::npos) << all.body;
  HttpReply mof = Get("/api/v1/overview?agency=mof");
  ASSERT_EQ(mof.status, 200);
  EXPECT_NE(mof.body.find("\"agency\":\"mof\""), std::string::npos);
  EXPECT_NE(mof.body.find("\"open\":2,"), std::string::npos) << mof.body;
  EXPECT_NE(mof.body.find("{\"rule_id\":\"rule-x\",\"title\":\"\",\"count\":2}"), std::string::npos)
      << mof.body;
  EXPECT_EQ(Get("/api/v1/overview?agency=a&agency=b").status, 400);
  EXPECT_EQ(Get("/api/v1/overview?since=1h").status, 400);
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/overview", kAuth).status, 405);
}

TEST_F(ConsoleRoutesTest, RuleDetailByPercentEncodedIdOr404) {
  const HttpReply rule = Get("/api/v1/rules/r1");
  ASSERT_EQ(rule.status, 200);
  EXPECT_EQ(rule.body, R"({"id":"r1","title":"Rule one"})");
  EXPECT_EQ(Get("/api/v1/rules/rule%20one%2F1").status, 200);
  const HttpReply missing = Get("/api/v1/rules/r2");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"no rule r2"})");
  EXPECT_EQ(Get("/api/v1/rules/r1%2").status, 400);
  EXPECT_EQ(Get("/api/v1/rules/r1?x=1").status, 400);
  // ?revision= (an alert's rule.revision) asks for that revision of the rule.
  EXPECT_EQ(Get("/api/v1/rules/r1?revision=00000000000000ab").body,
            R"({"id":"r1","title":"Rule one, as it was"})");
  EXPECT_EQ(Get("/api/v1/rules/r1?revision=00000000000000AB").status, 200);
  for (const char* bad :
       {"?revision=ab", "?revision=0000000000000000", "?revision=zz00000000000000",
        "?revision=00000000000000ab&revision=00000000000000ab"})
    EXPECT_EQ(Get(std::string("/api/v1/rules/r1") + bad).status, 400) << bad;
  EXPECT_EQ(Get("/api/v1/rules/r1/more").status, 404);
  // The rule set and reload routes are unchanged.
  EXPECT_EQ(Get("/api/v1/rules").status, 200);
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/rules/reload", kAuth).status, 202);
  EXPECT_EQ(reloads_, 1);
}

TEST(ConsoleRoutePatterns, NameTheRoutesForTheMetrics) {
  // Via the stats: each route counts under its pattern.
  testing::FakeReader reader;
  LiveHub hub;
  ApiOptions options;
  options.port = 0;
  options.tokens = {"t"};
  ApiServer server(options, reader, hub, ApiHooks{});
  Fetch(server.port(), "GET", "/assets/x-1.js", {});
  Fetch(server.port(), "GET", "/api/v1/rules/abc", {"Authorization: Bearer t"});
  Fetch(server.port(), "GET", "/api/v1/overview", {"Authorization: Bearer t"});
  std::map<std::string, int> codes;
  for (const auto& [key, count] : server.stats().requests) codes[key.first] = key.second;
  EXPECT_EQ(codes["/assets/{file}"], 404);
  EXPECT_EQ(codes["/api/v1/rules/{id}"], 503);  // no rule hook: no rule set
  EXPECT_EQ(codes["/api/v1/overview"], 503);
}

// One alert carries its rule's metadata, joined at read time; the list does not.
TEST_F(ConsoleRoutesTest, OneAlertCarriesItsRulesDetailAndTheListStaysLean) {
  store::StoredAlert known;
  known.id = 7;
  known.rule_id = "r1";
  known.json = R"({"id":7,"rule":{"id":"r1","title":"Rule one"}})";
  store::StoredAlert gone = known;
  gone.id = 8;
  gone.rule_id = "removed-rule";
  gone.json = R"({"id":8,"rule":{"id":"removed-rule"}})";
  reader_.Add({known, gone});
  const HttpReply one = Get("/api/v1/alerts/7");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_TRUE(one.body.starts_with(R"({"id":7,"rule":{"id":"r1","title":"Rule one"},)"))
      << one.body;
  EXPECT_TRUE(one.body.ends_with(R"(,"rule_detail":{"id":"r1","title":"Rule one"}})")) << one.body;
  const HttpReply other = Get("/api/v1/alerts/8");
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_NE(other.body.find(R"("rule_detail":null})"), std::string::npos) << other.body;
  const HttpReply list = Get("/api/v1/alerts");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(R"("id":7)"), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("rule_detail"), std::string::npos) << list.body;
}

}  // namespace
}  // namespace gsoc::api
