// End to end: triage and cases through a running gsocd.
//  - Two HTTP clients close the same alerts at once: for each alert exactly
//    one wins, the other gets a conflict with the winner's state; then both
//    add notes concurrently and every one is in the history.
//  - The triage state and history survive kill -9 (restart, read back).
//  - An auto case rule groups alerts of one source address; a case by hand.
//  - gsocctl ack/close on several ids, query --status, case create/show.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <barrier>
#include <map>
#include <set>
#include <thread>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

const std::string kExtra =
    "agencies:\n  - {name: moj, cidrs: [127.0.0.0/8]}\n"
    "cases:\n  auto:\n    - {name: by-src, entity: src_ip, window: 1h}\n";

std::vector<std::string> Auth(const std::string& token) {
  return {"Authorization: Bearer " + token, "Content-Type: application/json"};
}

std::string IdArray(const std::vector<uint64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

// id -> (ok, error, triage version) of a triage reply.
struct Outcome {
  bool ok = false;
  std::string error;
  uint64_t version = 0;
  std::string updated_by;
};
std::map<uint64_t, Outcome> Outcomes(const std::string& body) {
  std::map<uint64_t, Outcome> out;
  simdjson::dom::parser parser;
  simdjson::dom::array results;
  if (parser.parse(body)["results"].get(results) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not a triage reply: " << body;
    return out;
  }
  for (auto result : results) {
    Outcome outcome;
    uint64_t id = 0;
    EXPECT_EQ(result["id"].get(id), simdjson::SUCCESS);
    EXPECT_EQ(result["ok"].get(outcome.ok), simdjson::SUCCESS);
    std::string_view text;
    if (result["error"].get(text) == simdjson::SUCCESS) outcome.error = text;
    if (result["triage"]["version"].get(outcome.version) != simdjson::SUCCESS) outcome.version = 0;
    if (result["triage"]["updated_by"].get(text) == simdjson::SUCCESS) outcome.updated_by = text;
    out[id] = outcome;
  }
  return out;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

std::vector<uint64_t> SendAndCollect(Gsocd& gsocd, const std::string& token, int first, int lines,
                                     size_t expect_total) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  std::string text;
  for (int i = first; i < first + lines; ++i) text += FailedPasswordLine(i);
  EXPECT_TRUE(SendAll(fd.get(), text));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_store_alerts_committed_total", {}, double(expect_total)));
  return StoredAlertIds(gsocd.port("api"), token);
}

TEST(E2eTriage, ConcurrentClientsHistoryAndKillNine) {
  TempDir dir;
  const std::string config = ShippedPackConfig(dir, kExtra);
  std::vector<uint64_t> ids;
  std::map<uint64_t, std::string> histories;
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    const uint16_t api = gsocd.port("api");
    const std::string token = ApiToken(dir);
    ids = SendAndCollect(gsocd, token, 0, 4, 8);  // two alerts a line
    ASSERT_EQ(ids.size(), 8u);
    // Two clients close every alert at once, both having seen version 0.
    std::string expected = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      expected += (i ? ",\"" : "\"") + std::to_string(ids[i]) + "\":0";
    }
    expected += "}";
    std::barrier start(2);
    std::string replies[2];
    auto close = [&](int who) {
      const std::string body = R"({"action":"close","reason":")" +
                               std::string(who ? "benign" : "true_positive") + R"(","ids":)" +
                               IdArray(ids) + R"(,"expected_versions":)" + expected + "}";
      start.arrive_and_wait();
      replies[who] = HttpRequest(api, "POST", "/api/v1/alerts/triage", Auth(token), body).body;
    };
    std::thread first(close, 0), second(close, 1);
    first.join();
    second.join();
    const auto a = Outcomes(replies[0]);
    const auto b = Outcomes(replies[1]);
    int a_wins = 0;
    for (uint64_t id : ids) {
      ASSERT_TRUE(a.count(id) && b.count(id)) << replies[0] << replies[1];
      EXPECT_NE(a.at(id).ok, b.at(id).ok) << "alert " << id << ": exactly one close wins";
      const Outcome& loser = a.at(id).ok ? b.at(id) : a.at(id);
      EXPECT_EQ(loser.error, "conflict");
      EXPECT_EQ(loser.version, 1u) << "the conflict carries the winner's state";
      a_wins += a.at(id).ok;
    }
    std::printf("[e2e] concurrent close of %zu alerts: client A won %d, client B won %zu\n",
                ids.size(), a_wins, ids.size() - a_wins);
    // Both add notes concurrently, no expected version: none is lost.
    auto notes = [&](int who) {
      for (int n = 0; n < 10; ++n) {
        const std::string body = R"({"action":"note","note":"client )" + std::to_string(who) +
                                 " note " + std::to_string(n) + R"(","ids":)" + IdArray(ids) + "}";
        const HttpResult reply =
            HttpRequest(api, "POST", "/api/v1/alerts/triage", Auth(token), body);
        EXPECT_EQ(Count(reply.body, R"("ok":true)"), ids.size()) << reply.body;
      }
    };
    std::thread note_a(notes, 0), note_b(notes, 1);
    note_a.join();
    note_b.join();
    for (uint64_t id : ids) {
      const HttpResult history =
          HttpRequest(api, "GET", "/api/v1/alerts/" + std::to_string(id) + "/history", Auth(token));
      ASSERT_EQ(history.status, 200);
      EXPECT_EQ(Count(history.body, "\"version\":"), 21u) << history.body;
      for (int who = 0; who < 2; ++who) {
        for (int n = 0; n < 10; ++n) {
          EXPECT_NE(
              history.body.find("client " + std::to_string(who) + " note " + std::to_string(n)),
              std::string::npos);
        }
      }
      histories[id] = history.body;
    }
    gsocd.Kill();  // kill -9: no shutdown
  }
  Gsocd again;
  ASSERT_TRUE(again.Start({config}));
  const uint16_t api = again.port("api");
  const std::string token = ApiToken(dir);
  for (uint64_t id : ids) {
    const HttpResult history =
        HttpRequest(api, "GET", "/api/v1/alerts/" + std::to_string(id) + "/history", Auth(token));
    EXPECT_EQ(history.body, histories[id]) << "alert " << id << " after kill -9";
    const HttpResult alert =
        HttpRequest(api, "GET", "/api/v1/alerts/" + std::to_string(id), Auth(token));
    EXPECT_NE(alert.body.find(R"("triage":{"status":"closed")"), std::string::npos) << alert.body;
    EXPECT_NE(alert.body.find(R"("version":21)"), std::string::npos);
  }
  const HttpResult closed =
      HttpRequest(api, "GET", "/api/v1/alerts?status=closed&limit=100", Auth(token));
  EXPECT_EQ(Count(closed.body, R"("status":"closed")"), ids.size()) << closed.body;
  EXPECT_EQ(again.Stop(), 0);
}

TEST(E2eTriage, CasesByAutoRuleAndByHandAndGsocctl) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir, kExtra)}));
  const uint16_t api = gsocd.port("api");
  const std::string token = ApiToken(dir);
  const std::string url = "http://127.0.0.1:" + std::to_string(api);
  // Two lines from 198.18.0.0 and 198.18.1.1: two alerts each (failure and
  // root attempt), one auto case per source address.
  const auto ids = SendAndCollect(gsocd, token, 0, 2, 4);
  ASSERT_EQ(ids.size(), 4u);
  const HttpResult cases = HttpRequest(api, "GET", "/api/v1/cases", Auth(token));
  ASSERT_EQ(cases.status, 200);
  EXPECT_EQ(Count(cases.body, R"("title":"by-src: src_ip 198.18.)"), 2u) << cases.body;
  EXPECT_EQ(Count(cases.body, R"("alert_count":2)"), 2u) << cases.body;
  EXPECT_EQ(Count(cases.body, R"("agency":"moj")"), 2u);

  const std::vector<std::string> common = {"--url", url, "--token", token};
  auto run = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), GSOCCTL_PATH);
    argv.insert(argv.end(), common.begin(), common.end());
    return RunProgram(argv);
  };
  const std::string first = std::to_string(ids[0]), second = std::to_string(ids[1]);
  const RunResult ack = run({"ack", first, second});
  EXPECT_EQ(ack.exit_code, 0) << ack.output;
  EXPECT_EQ(Count(ack.output, "  ok  acknowledged"), 2u) << ack.output;
  const RunResult again = run({"ack", first});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("invalid_transition"), std::string::npos) << again.output;
  const RunResult close =
      run({"close", first, second, "--reason", "false_positive", "--note", "scanner"});
  EXPECT_EQ(close.exit_code, 0) << close.output;
  EXPECT_EQ(Count(close.output, "closed (false_positive)"), 2u) << close.output;
  const RunResult query = run({"query", "--status", "closed", "--json"});
  EXPECT_EQ(query.exit_code, 0) << query.output;
  EXPECT_EQ(SplitLines(query.output).size(), 2u) << query.output;
  const RunResult open = run({"query", "--status", "new", "--json"});
  EXPECT_EQ(SplitLines(open.output).size(), 2u) << open.output;

  const RunResult created =
      run({"case", "create", "--title", "bastion brute force", "--agency", "moj", first, second});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("case 3  "), std::string::npos) << created.output;
  EXPECT_NE(created.output.find("alerts=2"), std::string::npos);
  const RunResult added = run({"case", "add", "3", std::to_string(ids[2])});
  EXPECT_NE(added.output.find("alerts=3"), std::string::npos) << added.output;
  const RunResult closed_case = run({"case", "close", "3"});
  EXPECT_NE(closed_case.output.find("closed"), std::string::npos) << closed_case.output;
  const RunResult show = run({"case", "show", "3"});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.output.find("created"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("add_alerts"), std::string::npos);
  const RunResult list = run({"case", "list", "--status", "open"});
  EXPECT_EQ(SplitLines(list.output).size(), 2u) << list.output;
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
