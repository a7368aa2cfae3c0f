// The triage and case routes through a real ApiServer (fake alert reader,
// real triage store): bulk changes, conflicts, history, filters, the
// stream's triage events, cases, bounds.
#include <gtest/gtest.h>

#include <chrono>

#include "engine/api/api_server.h"
#include "engine/triage/triage_store.h"
#include "tests/engine/api/api_test_util.h"
#include "tests/engine/triage/triage_test_util.h"

namespace gsoc::api {
namespace {

using testing::AlertIds;
using testing::Fetch;
using testing::HttpReply;
using testing::MakeVariedAlert;

const std::vector<std::string> kAuth = {"Authorization: Bearer secret-token",
                                        "Content-Type: application/json"};

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

class TriageRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    triage::TriageOptions options = dir_.Options();
    options.sync = true;  // as gsocd runs it (sync policy batch)
    triage_ = triage::TriageStore::Open(options);
    hub_ = std::make_unique<LiveHub>(65536);
    triage_->SetChangeListener([this](const triage::ChangeEvent& change) {
      hub_->PublishTriage(change.agency, change.state);
    });
    ApiOptions api;
    api.port = 0;
    api.tokens = {"secret-token"};
    api.max_request_bytes = 256 * 1024;  // 10,000 ids
    ApiHooks hooks;
    hooks.triage = triage_.get();
    server_ = std::make_unique<ApiServer>(std::move(api), reader_, *hub_, std::move(hooks));
    std::vector<store::StoredAlert> alerts;
    for (uint64_t id = 1; id <= 1200; ++id) alerts.push_back(MakeVariedAlert(id));
    Commit(alerts);
  }

  // As gsocd: the triage store sees each commit before the hub.
  void Commit(const std::vector<store::StoredAlert>& alerts) {
    reader_.Add(alerts);
    triage_->OnCommitted(alerts);
    hub_->OnCommitted(alerts);
  }

  HttpReply Get(const std::string& target) { return Fetch(server_->port(), "GET", target, kAuth); }
  HttpReply Post(const std::string& target, const std::string& body) {
    return Fetch(server_->port(), "POST", target, kAuth, body);
  }

  triage::TempTriageDir dir_;
  std::unique_ptr<triage::TriageStore> triage_;
  testing::FakeReader reader_;
  std::unique_ptr<LiveHub> hub_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(TriageRoutesTest, BulkAckReportsEachAlertAndServesTheState) {
  const HttpReply reply = Post("/api/v1/alerts/triage", R"({"ids":[1,"2",999999],"action":"ack"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find(R"({"id":1,"ok":true,"triage":{"status":"acknowledged")"),
            std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find(R"({"id":2,"ok":true)"), std::string::npos);
  EXPECT_NE(reply.body.find(R"({"id":999999,"ok":false,"error":"not_found"})"), std::string::npos);
  const HttpReply alert = Get("/api/v1/alerts/1");
  EXPECT_NE(alert.body.find(R"("triage":{"status":"acknowledged","reason":null,"assignee":null,)"
                            R"("version":1,"updated_at":")"),
            std::string::npos)
      << alert.body;
  EXPECT_NE(alert.body.find(R"("updated_by":"config-1"})"), std::string::npos);
  EXPECT_NE(Get("/api/v1/alerts/3").body.find(R"("triage":{"status":"new")"), std::string::npos);
}

TEST_F(TriageRoutesTest, StaleExpectedVersionIsAConflictWithTheCurrentState) {
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[5],"action":"ack"})").status, 200);
  const HttpReply reply =
      Post("/api/v1/alerts/triage",
           R"({"ids":[5],"action":"close","reason":"false_positive","expected_versions":{"5":0}})");
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find(R"("ok":false,"error":"conflict")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("status":"acknowledged")"), std::string::npos);
  EXPECT_NE(reply.body.find(R"("version":1)"), std::string::npos);
  const HttpReply ok =
      Post("/api/v1/alerts/triage",
           R"({"ids":[5],"action":"close","reason":"false_positive","expected_versions":{"5":1}})");
  EXPECT_NE(ok.body.find(R"("ok":true,"triage":{"status":"closed","reason":"false_positive")"),
            std::string::npos)
      << ok.body;
}

TEST_F(TriageRoutesTest, HistoryListsEveryChange) {
  Post("/api/v1/alerts/triage", R"({"ids":[7],"action":"assign","assignee":"bob"})");
  Post("/api/v1/alerts/triage", R"({"ids":[7],"action":"note","note":"phoned the agency"})");
  Post("/api/v1/alerts/triage", R"({"ids":[7],"action":"close","reason":"benign"})");
  const HttpReply reply = Get("/api/v1/alerts/7/history");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Count(reply.body, "\"version\":"), 3u) << reply.body;
  EXPECT_NE(reply.body.find(R"("author":"config-1","action":"assign","status":"new","reason":null,)"
                            R"("assignee":"bob","note":null)"),
            std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find(R"("note":"phoned the agency")"), std::string::npos);
  EXPECT_NE(reply.body.find(R"("action":"close","status":"closed","reason":"benign")"),
            std::string::npos);
  EXPECT_EQ(Get("/api/v1/alerts/999999/history").status, 404);
  EXPECT_EQ(Get("/api/v1/alerts/8/history").body, R"({"history":[]})");
}

TEST_F(TriageRoutesTest, StatusAndAssigneeFilterTheAlertList) {
  Post("/api/v1/alerts/triage", R"({"ids":[10,20,30],"action":"ack"})");
  Post("/api/v1/alerts/triage", R"({"ids":[20],"action":"assign","assignee":"bob"})");
  Post("/api/v1/alerts/triage", R"({"ids":[30],"action":"close","reason":"duplicate"})");
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?status=acknowledged").body),
            (std::vector<uint64_t>{20, 10}));
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?status=acknowledged,closed&order=asc").body),
            (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?assignee=bob").body), (std::vector<uint64_t>{20}));
  EXPECT_TRUE(AlertIds(Get("/api/v1/alerts?assignee=bob&status=closed").body).empty());
  // Other filters still apply.
  const std::string agency = MakeVariedAlert(20).agency;
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?status=acknowledged&agency=" + agency).body).size(),
            MakeVariedAlert(10).agency == agency ? 2u : 1u);
  const auto fresh = AlertIds(Get("/api/v1/alerts?status=new&limit=1000&order=asc").body);
  ASSERT_EQ(fresh.size(), 1000u);
  EXPECT_EQ(fresh.back(), 1003u);  // 1..1003 but 10, 20 and 30
  EXPECT_EQ(std::count(fresh.begin(), fresh.end(), 20), 0);
  // Paging through the index: two pages of one.
  const HttpReply first = Get("/api/v1/alerts?status=acknowledged&limit=1");
  EXPECT_EQ(AlertIds(first.body), (std::vector<uint64_t>{20}));
  EXPECT_NE(first.body.find(R"("next_cursor":"20")"), std::string::npos) << first.body;
  EXPECT_EQ(AlertIds(Get("/api/v1/alerts?status=acknowledged&limit=1&cursor=20").body),
            (std::vector<uint64_t>{10}));
  EXPECT_EQ(Get("/api/v1/alerts?status=done").status, 400);
}

TEST_F(TriageRoutesTest, BadRequestsAreRefusedWithAClearError) {
  auto status_of = [&](const std::string& body) { return Post("/api/v1/alerts/triage", body); };
  EXPECT_EQ(status_of(R"({"ids":[1],"action":"delete"})").status, 400);
  const HttpReply no_reason = status_of(R"({"ids":[1],"action":"close"})");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_NE(no_reason.body.find("reason"), std::string::npos);
  EXPECT_EQ(status_of(R"({"ids":[],"action":"ack"})").status, 400);
  EXPECT_EQ(status_of(R"({"ids":"1","action":"ack"})").status, 400);
  EXPECT_EQ(status_of("not json").status, 400);
  const HttpReply long_note =
      status_of(R"({"ids":[1],"action":"note","note":")" + std::string(5000, 'n') + "\"}");
  EXPECT_EQ(long_note.status, 400);
  EXPECT_NE(long_note.body.find("4096"), std::string::npos) << long_note.body;
  std::string many = R"({"action":"ack","ids":[)";
  for (int i = 1; i <= 10001; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  const HttpReply too_many = status_of(many + "]}");
  EXPECT_EQ(too_many.status, 400);
  EXPECT_NE(too_many.body.find("10000"), std::string::npos) << too_many.body;
  EXPECT_EQ(Get("/api/v1/alerts/triage").status, 405);
  EXPECT_EQ(triage_->Get(1).version, 0u);  // nothing applied
}

TEST_F(TriageRoutesTest, ThousandAlertsInOneRequestWellUnderASecond) {
  std::string body = R"({"action":"close","reason":"false_positive","ids":[)";
  for (int i = 1; i <= 1000; ++i) body += (i > 1 ? "," : "") + std::to_string(i);
  body += "]}";
  const auto start = std::chrono::steady_clock::now();
  const HttpReply reply = Post("/api/v1/alerts/triage", body);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("POST /api/v1/alerts/triage with 1000 ids: %.1f ms\n", ms);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(Count(reply.body, R"("ok":true)"), 1000u);
  EXPECT_LT(ms, 1000.0);
}

TEST_F(TriageRoutesTest, StreamCarriesTriageEventsAndStates) {
  testing::RawConnection connection(server_->port());
  connection.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
  ASSERT_TRUE(connection.ReadHead());
  Post("/api/v1/alerts/triage", R"({"ids":[4],"action":"ack"})");
  testing::SseReader reader(connection);
  const auto event = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->id, 0u);  // no id: a triage event does not move the resume point
  EXPECT_TRUE(event->data.starts_with(R"({"id":4,"agency":")" + MakeVariedAlert(4).agency +
                                      R"(","triage":{"status":"acknowledged","reason":null,)"
                                      R"("assignee":null,"version":1,"updated_at":")"))
      << event->data;
  EXPECT_TRUE(event->data.ends_with(R"(","updated_by":"config-1"}})")) << event->data;
  std::vector<store::StoredAlert> next{MakeVariedAlert(1201)};
  reader_.Add(next);
  hub_->OnCommitted(next);
  const auto alert = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->id, 1201u);
  EXPECT_EQ(alert->data, testing::Served(MakeVariedAlert(1201)));
}

TEST_F(TriageRoutesTest, StreamFiltersByStatus) {
  std::vector<store::StoredAlert> next{MakeVariedAlert(1201), MakeVariedAlert(1202)};
  reader_.Add(next);  // stored: the resumed stream reads them from the store
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[1201],"action":"ack"})").status, 200);
  testing::RawConnection connection(server_->port());
  std::vector<std::string> headers = kAuth;
  headers.push_back("Last-Event-ID: 1200");
  connection.Send(
      testing::BuildRequest("GET", "/api/v1/alerts/stream?status=acknowledged", headers));
  ASSERT_TRUE(connection.ReadHead());
  testing::SseReader reader(connection);
  const auto replayed = reader.Next(std::chrono::seconds(5));  // the ack, made after 1200
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->type, "triage");
  EXPECT_TRUE(replayed->data.starts_with(R"({"id":1201,)")) << replayed->data;
  const auto event = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->id, 1201u);
  EXPECT_NE(event->data.find(R"("triage":{"status":"acknowledged")"), std::string::npos);
  EXPECT_FALSE(reader.Next(std::chrono::milliseconds(300)));  // 1202 is new: filtered out
}

// A client that saw every alert up to 1201 and went away gets, on resume,
// the triage changes made since (from the change log), of its agency only,
// oldest first, then the live ones; not the changes made before 1201.
TEST_F(TriageRoutesTest, ResumedStreamReplaysTheTriageChangesItMissed) {
  const std::string agency = MakeVariedAlert(4).agency;
  uint64_t other = 5;
  while (MakeVariedAlert(other).agency == agency) ++other;
  uint64_t same = 5;
  while (MakeVariedAlert(same).agency != agency) ++same;
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[4],"action":"ack"})").status, 200);
  Commit({MakeVariedAlert(1201)});  // the client sees 1201, then disconnects
  ASSERT_EQ(Post("/api/v1/alerts/triage", "{\"ids\":[" + std::to_string(same) + "," +
                                              std::to_string(other) + R"(],"action":"ack"})")
                .status,
            200);
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[4],"action":"note","note":"seen"})").status,
            200);
  testing::RawConnection connection(server_->port());
  std::vector<std::string> headers = kAuth;
  headers.push_back("Last-Event-ID: 1201");
  connection.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream?agency=" + agency, headers));
  ASSERT_TRUE(connection.ReadHead());
  testing::SseReader reader(connection);
  auto first = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, "triage");
  EXPECT_TRUE(first->data.starts_with("{\"id\":" + std::to_string(same) + ",")) << first->data;
  auto second = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, "triage");
  EXPECT_TRUE(second->data.starts_with(R"({"id":4,)")) << second->data;
  EXPECT_NE(second->data.find(R"("version":2)"), std::string::npos) << second->data;
  EXPECT_FALSE(reader.Next(std::chrono::milliseconds(300)));  // not 4's ack, not `other`
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[4],"action":"start"})").status, 200);
  auto live = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(live);
  EXPECT_NE(live->data.find(R"("status":"in_progress")"), std::string::npos) << live->data;
}

// When the log's bound dropped changes the client missed, the resumed
// stream says so (event triage_gap) before what the log still holds.
TEST_F(TriageRoutesTest, ResumedStreamSignalsAGapWhenTheLogDroppedChanges) {
  server_.reset();
  triage_.reset();
  triage::TriageOptions options = dir_.Options();
  options.limits.max_log_changes = 16;
  triage_ = triage::TriageStore::Open(options);
  triage_->NoteAlertPosition(1200);
  ApiOptions api;
  api.port = 0;
  api.tokens = {"secret-token"};
  ApiHooks hooks;
  hooks.triage = triage_.get();
  server_ = std::make_unique<ApiServer>(std::move(api), reader_, *hub_, std::move(hooks));
  ASSERT_EQ(Post("/api/v1/alerts/triage", R"({"ids":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,)"
                                          R"(17,18,19,20],"action":"ack"})")
                .status,
            200);
  testing::RawConnection connection(server_->port());
  std::vector<std::string> headers = kAuth;
  headers.push_back("Last-Event-ID: 1200");
  connection.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", headers));
  ASSERT_TRUE(connection.ReadHead());
  testing::SseReader reader(connection);
  auto gap = reader.Next(std::chrono::seconds(5));
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->type, "triage_gap");
  EXPECT_TRUE(gap->data.starts_with(R"({"last_event_id":1200,"reason":")")) << gap->data;
  size_t replayed = 0;
  while (auto event = reader.Next(std::chrono::milliseconds(500))) {
    EXPECT_EQ(event->type, "triage");
    ++replayed;
  }
  EXPECT_GE(replayed, 14u);  // what the log kept: the newest
  EXPECT_LE(replayed, 16u);
}

// A text search scans at most 25,000 ids per request (the newest before
// the cursor): a page that found nothing in its window still has a cursor,
// one window further each time, and paging on reaches the older matches.
TEST_F(TriageRoutesTest, TextSearchScansABoundedWindowAndPagesOn) {
  Commit({MakeVariedAlert(300000)});  // "Root-1": the newest windows have no "root-3"
  HttpReply page = Get("/api/v1/alerts?q=root-3&limit=10");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body, R"({"alerts":[],"next_cursor":"275001"})");
  uint64_t cursor = 275001;
  size_t pages = 1;
  while (page.body.starts_with(R"({"alerts":[],)") && pages < 20) {
    page = Get("/api/v1/alerts?q=root-3&limit=10&cursor=" + std::to_string(cursor));
    ++pages;
    if (cursor > 25001) {
      cursor -= 25000;
      EXPECT_EQ(page.body, R"({"alerts":[],"next_cursor":")" + std::to_string(cursor) + "\"}");
    }
  }
  EXPECT_EQ(pages, 12u);  // 300,000 ids in windows of 25,000
  EXPECT_EQ(Count(page.body, "Root-3"), 10u) << page.body;
  EXPECT_NE(page.body.find(R"({"alerts":[{"id":"1200",)"), std::string::npos);  // 1200 % 7 == 3
  // Within one window (an older cursor) nothing changes.
  EXPECT_EQ(Count(Get("/api/v1/alerts?q=root-1&limit=1000&cursor=1201").body, "Root-1"), 172u);
  EXPECT_NE(Get("/api/v1/alerts?q=root-1&limit=5").body.find(R"({"alerts":[{"id":"300000",)"),
            std::string::npos);
  // Oldest first: windows after the cursor, up to the newest id and no further.
  page = Get("/api/v1/alerts?q=root-1&order=asc&limit=1000");
  EXPECT_EQ(Count(page.body, "Root-1"), 172u);
  EXPECT_TRUE(page.body.ends_with(R"(,"next_cursor":"25000"})")) << page.body.substr(0, 200);
  page = Get("/api/v1/alerts?q=root-1&order=asc&limit=1000&cursor=275000");
  EXPECT_TRUE(page.body.starts_with(R"({"alerts":[{"id":"300000",)")) << page.body;
  EXPECT_TRUE(page.body.ends_with(R"(,"next_cursor":null})")) << page.body;
}

TEST_F(TriageRoutesTest, CasesCreateListShowChange) {
  const std::string agency = MakeVariedAlert(1).agency;  // alerts 1 and 2 share it
  const HttpReply created = Post("/api/v1/cases", R"({"title":"ssh brute force","agency":")" +
                                                      agency + R"(","alert_ids":[1,2]})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find(R"("id":1,"title":"ssh brute force")"), std::string::npos);
  EXPECT_NE(created.body.find(R"("alert_count":2)"), std::string::npos);
  EXPECT_NE(created.body.find(R"("alert_ids":[1,2])"), std::string::npos);
  const std::string severity =
      rules::LevelName(std::max(MakeVariedAlert(1).level, MakeVariedAlert(2).level));
  EXPECT_NE(created.body.find("\"severity\":\"" + severity + "\""), std::string::npos);
  const HttpReply list = Get("/api/v1/cases?status=open");
  EXPECT_NE(list.body.find(R"({"cases":[{"id":1,)"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"("next_cursor":null)"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/cases?status=closed").body, R"({"cases":[],"next_cursor":null})");
  const HttpReply noted =
      Post("/api/v1/cases/1", R"({"action":"note","note":"called them","expected_version":1})");
  ASSERT_EQ(noted.status, 200) << noted.body;
  EXPECT_NE(noted.body.find(R"("notes":[{"time":")"), std::string::npos);
  const HttpReply stale = Post("/api/v1/cases/1", R"({"action":"close","expected_version":1})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find(R"("error":"conflict","case":{"id":1)"), std::string::npos);
  const HttpReply shown = Get("/api/v1/cases/1");
  EXPECT_NE(shown.body.find(R"("action":"created")"), std::string::npos);
  EXPECT_NE(shown.body.find(R"("action":"note","detail":"called them")"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/cases/77").status, 404);
  EXPECT_EQ(
      Post("/api/v1/cases", R"({"title":"x","agency":")" + agency + R"(","alert_ids":[999999]})")
          .status,
      400);
  EXPECT_EQ(Post("/api/v1/cases/1", R"({"action":"explode"})").status, 400);
}

}  // namespace
}  // namespace gsoc::api
