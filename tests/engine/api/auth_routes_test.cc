// Roles, scoping and the audit log at the route level (RouteRequest over a
// real AlertStore and AuthStore).
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>

#include "engine/triage/triage_store.h"
#include "tests/engine/api/scoped_api_fixture.h"
#include "tests/engine/triage/triage_test_util.h"

namespace gsoc::api::testing {
namespace {

using boost::beast::http::verb;

int Status(const Routed& routed) {
  return routed.reply ? static_cast<int>(routed.reply->result_int()) : 200;
}
std::string Body(const Routed& routed) { return routed.reply ? routed.reply->body() : ""; }

TEST(AuthRoutes, WhoAmINamesTheTokenAndItsScope) {
  ScopedApi api("whoami", 2);
  const Routed routed = api.Route(api.Request(verb::get, "/api/v1/whoami", api.agency_a));
  EXPECT_EQ(Status(routed), 200);
  EXPECT_NE(
      Body(routed).find(R"("name":"alpha-1","role":"agency-analyst","agencies":["agency-alpha"])"),
      std::string::npos)
      << Body(routed);
  const Routed config =
      api.Route(api.Request(verb::get, "/api/v1/whoami", "config-token-0123456789"));
  EXPECT_NE(Body(config).find(R"("role":"admin")"), std::string::npos) << Body(config);
}

TEST(AuthRoutes, AgencyAnalystSeesOnlyItsAgencyOnEveryReadRoute) {
  ScopedApi api("scope", 40);
  const std::vector<std::string> targets = {
      "/api/v1/alerts",
      "/api/v1/alerts?limit=3",
      "/api/v1/alerts?order=asc&limit=5",
      "/api/v1/alerts?agency=agency-bravo",
      "/api/v1/alerts?rule=rule-b",
      "/api/v1/alerts?q=bravo",
      "/api/v1/alerts?level=high%2B&limit=1",
      "/api/v1/alerts?cursor=" + std::to_string(api.ids_b.back()),
      "/api/v1/rules",
      "/api/v1/whoami"};
  for (const std::string& target : targets) {
    const Routed routed = api.Route(api.Request(verb::get, target, api.agency_a));
    EXPECT_EQ(Status(routed), 200) << target;
    EXPECT_FALSE(HoldsAgencyB(Body(routed), api.ids_b)) << target << " -> " << Body(routed);
  }
  // Its own agency: every one of its alerts, over pages.
  size_t seen = 0;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const Routed routed = api.Route(api.Request(
        verb::get, "/api/v1/alerts?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor),
        api.agency_a));
    const std::string body = Body(routed);
    for (size_t at = body.find("\"agency\":\"agency-alpha\""); at != std::string::npos;
         at = body.find("\"agency\":\"agency-alpha\"", at + 1)) {
      ++seen;
    }
    const size_t mark = body.find("\"next_cursor\":\"");
    if (mark == std::string::npos) break;
    cursor = body.substr(mark + 15, body.find('"', mark + 15) - mark - 15);
  }
  EXPECT_EQ(seen, api.ids_a.size());
  // The analyst (every agency) sees B.
  const Routed all = api.Route(api.Request(verb::get, "/api/v1/alerts?limit=100", api.analyst));
  EXPECT_TRUE(HoldsAgencyB(Body(all), api.ids_b));
}

TEST(AuthRoutes, AnotherAgencysAlertIs404) {
  ScopedApi api("get", 4);
  const std::string b = std::to_string(api.ids_b[0]), a = std::to_string(api.ids_a[0]);
  const Routed theirs = api.Route(api.Request(verb::get, "/api/v1/alerts/" + b, api.agency_a));
  EXPECT_EQ(Status(theirs), 404);
  const Routed missing = api.Route(api.Request(verb::get, "/api/v1/alerts/999", api.agency_a));
  EXPECT_EQ(Status(missing), 404);
  // Same reply shape as an id that does not exist (no existence oracle).
  EXPECT_EQ(Body(theirs), R"({"error":"no alert )" + b + "\"}");
  const Routed mine = api.Route(api.Request(verb::get, "/api/v1/alerts/" + a, api.agency_a));
  EXPECT_EQ(Status(mine), 200);
  EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/alerts/" + b, api.viewer))), 200);
}

TEST(AuthRoutes, StreamFreshAndResumedCarryOnlyTheAgency) {
  ScopedApi api("stream", 20);
  // Resumed from 0: everything stored, filtered.
  Routed resumed =
      api.Route(api.Request(verb::get, "/api/v1/alerts/stream?last_event_id=0", api.agency_a));
  ASSERT_TRUE(resumed.stream);
  const std::string stored = api.StreamBytes(resumed);
  EXPECT_FALSE(HoldsAgencyB(stored, api.ids_b)) << stored;
  EXPECT_NE(stored.find("id: " + std::to_string(api.ids_a.back()) + "\n"), std::string::npos);
  // Resumed with the header from a B id; fresh then live alerts.
  HttpRequest header = api.Request(verb::get, "/api/v1/alerts/stream", api.agency_a);
  header.set("Last-Event-ID", std::to_string(api.ids_b[2]));
  Routed from_b = api.Route(header);
  ASSERT_TRUE(from_b.stream);
  Routed fresh = api.Route(api.Request(verb::get, "/api/v1/alerts/stream", api.agency_a));
  ASSERT_TRUE(fresh.stream);
  StreamFeed live(*static_cast<const store::AlertReader*>(&api.context().reader), api.context().hub,
                  fresh.stream->filter, fresh.stream->last_event_id);
  api.Publish(10);
  std::string live_bytes;
  for (int i = 0; i < 100 && live.Next(live_bytes, 3); ++i) {
  }
  EXPECT_FALSE(HoldsAgencyB(live_bytes, api.ids_b)) << live_bytes;
  EXPECT_NE(live_bytes.find("id: " + std::to_string(api.ids_a.back()) + "\n"), std::string::npos);
  const std::string after_b = api.StreamBytes(from_b);
  EXPECT_FALSE(HoldsAgencyB(after_b, api.ids_b)) << after_b;
  EXPECT_NE(after_b.find("id: " + std::to_string(api.ids_a.back()) + "\n"), std::string::npos);
  // A resume id above the newest: 409 without naming the newest id.
  const Routed above =
      api.Route(api.Request(verb::get, "/api/v1/alerts/stream?last_event_id=100000", api.agency_a));
  EXPECT_EQ(Status(above), 409);
  EXPECT_EQ(Body(above).find(std::to_string(api.ids_b.back())), std::string::npos) << Body(above);
}

// A resumed stream replays the triage changes it missed (the change log):
// an agency analyst gets only its agencies' changes there too.
TEST(AuthRoutes, ResumedStreamReplaysOnlyTheAgencysTriageChanges) {
  ScopedApi api("replay", 20);
  triage::TempTriageDir dir;
  auto triage = triage::TriageStore::Open(dir.Options());
  const uint64_t newest = std::max(api.ids_a.back(), api.ids_b.back());
  triage->NoteAlertPosition(newest);  // as gsocd does at start
  std::vector<triage::ChangeTarget> targets;
  for (uint64_t id : api.ids_a) targets.push_back({id, kAgencyA, 0});
  for (uint64_t id : api.ids_b) targets.push_back({id, kAgencyB, 0});
  triage->Apply(triage::MakeChange(triage::Action::kAck, "ana"), targets);
  HttpRequest header = api.Request(verb::get, "/api/v1/alerts/stream", api.agency_a);
  header.set("Last-Event-ID", std::to_string(newest));
  Routed resumed = api.Route(header);
  ASSERT_TRUE(resumed.stream);
  StreamFeed feed(*static_cast<const store::AlertReader*>(&api.context().reader), api.context().hub,
                  resumed.stream->filter, resumed.stream->last_event_id, triage.get());
  std::string out;
  for (int i = 0; i < 100 && feed.Next(out, 3); ++i) {
  }
  size_t events = 0;
  for (size_t at = out.find("event: triage\n"); at != std::string::npos;
       at = out.find("event: triage\n", at + 1)) {
    ++events;
  }
  EXPECT_EQ(events, api.ids_a.size()) << out;
  EXPECT_EQ(out.find(kAgencyB), std::string::npos) << out;
  for (uint64_t id : api.ids_b) {
    EXPECT_EQ(out.find("{\"id\":" + std::to_string(id) + ","), std::string::npos) << out;
  }
  for (uint64_t id : api.ids_a) {
    EXPECT_NE(out.find("{\"id\":" + std::to_string(id) + ","), std::string::npos) << out;
  }
}

TEST(AuthRoutes, ViewerAndAnalystsMayNotAdminister) {
  ScopedApi api("roles", 2);
  struct Case {
    verb method;
    std::string target;
    std::string body;
  };
  const std::vector<Case> changes = {
      {verb::post, "/api/v1/rules/reload", ""},
      {verb::post, "/api/v1/tokens", R"({"role":"admin","name":"x"})"},
      {verb::delete_, "/api/v1/tokens/0011223344556677", ""}};
  for (const std::string* token : {&api.viewer, &api.analyst, &api.agency_a}) {
    for (const Case& c : changes) {
      const Routed routed = api.Route(api.Request(c.method, c.target, *token, c.body));
      EXPECT_EQ(Status(routed), 403) << c.target;
    }
    EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/tokens", *token))), 403);
    EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/audit", *token))), 403);
  }
  EXPECT_EQ(api.auth().ListTokens().size(), 4u);  // nothing was created
  EXPECT_EQ(Status(api.Route(api.Request(verb::post, "/api/v1/rules/reload", api.admin))), 202);
  EXPECT_EQ(Status(api.Route(api.Request(verb::put, "/api/v1/tokens", api.admin))), 405);
}

TEST(AuthRoutes, AdminCreatesListsAndRevokesTokens) {
  ScopedApi api("tokens", 1);
  const Routed created = api.Route(
      api.Request(verb::post, "/api/v1/tokens", api.admin,
                  R"({"role":"agency-analyst","agencies":["agency-alpha"],"name":"new one"})"));
  ASSERT_EQ(Status(created), 201) << Body(created);
  const std::string body = Body(created);
  const size_t at = body.find("\"token\":\"") + 9;
  const std::string token = body.substr(at, body.find('"', at) - at);
  const size_t id_at = body.find("\"token_id\":\"") + 12;
  const std::string id = body.substr(id_at, body.find('"', id_at) - id_at);
  EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/whoami", token))), 200);

  const Routed list = api.Route(api.Request(verb::get, "/api/v1/tokens", api.admin));
  EXPECT_NE(Body(list).find("\"name\":\"new one\""), std::string::npos);
  EXPECT_EQ(Body(list).find(token), std::string::npos);  // never shown again

  EXPECT_EQ(Status(api.Route(api.Request(verb::delete_, "/api/v1/tokens/" + id, api.admin))), 200);
  EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/whoami", token))), 401);
  EXPECT_EQ(Status(api.Route(api.Request(verb::delete_, "/api/v1/tokens/nope", api.admin))), 404);

  for (const char* bad :
       {"", "[]", R"({"role":"root","name":"x"})", R"({"role":"viewer"})",
        R"({"role":"agency-analyst","name":"x"})", R"({"role":"viewer","name":"x","extra":1})",
        R"({"role":"viewer","name":"x","agencies":[1]})"}) {
    EXPECT_EQ(Status(api.Route(api.Request(verb::post, "/api/v1/tokens", api.admin, bad))), 400)
        << bad;
  }
}

TEST(AuthRoutes, EveryStateChangingRequestIsAudited) {
  ScopedApi api("audit", 1);
  api.Route(api.Request(verb::post, "/api/v1/rules/reload", api.viewer));     // 403
  api.Route(api.Request(verb::post, "/api/v1/rules/reload", "wrong-token"));  // 401
  api.Route(api.Request(verb::post, "/api/v1/rules/reload", api.admin));      // 202
  api.Route(api.Request(verb::get, "/api/v1/alerts", api.admin));             // not audited
  const Routed audit = api.Route(api.Request(verb::get, "/api/v1/audit?limit=10", api.admin));
  ASSERT_EQ(Status(audit), 200);
  const std::string body = Body(audit);
  EXPECT_EQ(api.auth().audit_entries(), 3u) << body;
  EXPECT_NE(
      body.find(
          R"("name":"root","method":"POST","route":"/api/v1/rules/reload","target":"/api/v1/rules/reload","peer":"10.0.0.9:4242","status":202)"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("name":"vic","method":"POST")"), std::string::npos);
  EXPECT_NE(body.find(R"("token_id":"","name":"","method":"POST")"), std::string::npos);
  EXPECT_NE(body.find("\"status\":401"), std::string::npos);
  EXPECT_EQ(body.find("wrong-token"), std::string::npos);  // a bearer is never logged
  const Routed page =
      api.Route(api.Request(verb::get, "/api/v1/audit?limit=1&before=3", api.admin));
  EXPECT_NE(Body(page).find("\"seq\":2"), std::string::npos) << Body(page);
  EXPECT_EQ(Status(api.Route(api.Request(verb::get, "/api/v1/audit?limit=0", api.admin))), 400);
}

TEST(AuthRoutes, RoutePatternsCoverTheTable) {
  EXPECT_EQ(RoutePattern("/api/v1/alerts/stream?x"), "/api/v1/alerts/stream");
  EXPECT_EQ(RoutePattern("/api/v1/alerts/17"), "/api/v1/alerts/{id}");
  EXPECT_EQ(RoutePattern("/api/v1/alerts/17/"), "other");
  EXPECT_EQ(RoutePattern("/api/v1/alerts/"), "other");
  EXPECT_EQ(RoutePattern("/api/v1/tokens/abc"), "/api/v1/tokens/{id}");
  EXPECT_EQ(RoutePattern("/api/v1/rules/reload"), "/api/v1/rules/reload");
  EXPECT_EQ(RoutePattern("/api/v1/whoami"), "/api/v1/whoami");
  EXPECT_EQ(RoutePattern("//api/v1/whoami"), "other");
  EXPECT_EQ(RoutePattern(""), "other");
}

}  // namespace
}  // namespace gsoc::api::testing
