// What gsocd hands out under attack (issue 11 findings 12, 13, 14): the
// alerts file after kill -9, alert queries over large alerts, live streams
// whose clients never read, and a resume id from the future.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "tests/adversarial/adversarial.h"

namespace gsoc::adversarial {
namespace {

namespace fs = std::filesystem;

// The ids of the alerts file's lines; fails on a line that is not an alert
// (a torn last line is allowed right after a kill: `whole` false).
std::vector<uint64_t> FileIds(const fs::path& file, bool whole = true) {
  std::vector<uint64_t> ids;
  simdjson::dom::parser parser;
  std::string text = ReadFile(file);
  if (!whole && !text.empty() && text.back() != '\n') text.resize(text.rfind('\n') + 1);
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "torn last line";
  for (const std::string& line : SplitLines(text)) {
    simdjson::dom::element root;
    if (parser.parse(line).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not an alert line: " << line.substr(0, 200);
      continue;
    }
    ids.push_back(std::stoull(std::string(std::string_view(root["id"]))));
  }
  return ids;
}

void SendLines(uint16_t port, int count, const std::function<std::string(int)>& line) {
  Fd sender(ConnectTcp(port));
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += line(i);
    if (text.size() > (1 << 20)) {
      ASSERT_TRUE(SendAll(sender.get(), text));
      text.clear();
    }
  }
  ASSERT_TRUE(SendAll(sender.get(), text));
}

// Finding 12: after kill -9 the alerts file holds every committed alert once,
// in order, whole lines only, mode 0600: a torn last line is cut and what the
// file missed is written again from the store.
TEST(Outputs, AlertsFileRecoversFromTheStoreAfterKillNine) {
  Gsocd gsocd;
  const std::string config = RulesConfig(gsocd.dir());
  ASSERT_TRUE(gsocd.Start({config}));
  const fs::path file = gsocd.dir() / "var/alerts.jsonl";
  SendLines(gsocd.port("tcp"), 3000, [](int n) { return FailedPasswordLine(n); });
  const auto deadline = Clock::now() + Scaled(30s);  // mid-flood: some committed, some not
  while (CountLines(file) < 50 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  gsocd.Kill();
  // What a crash can leave: the file behind the store, and a torn line.
  std::vector<uint64_t> before = FileIds(file, /*whole=*/false);
  ASSERT_GT(before.size(), 10u);
  std::string text = ReadFile(file);
  size_t cut = text.size();
  for (int i = 0; i < 6; ++i) cut = text.rfind('\n', cut - 2) + 1;  // five whole lines lost
  text.resize(cut);
  text += R"({"id":"99999999","time":"2026-)";  // a torn write
  WriteFile(file, text);

  ASSERT_TRUE(gsocd.Start({config}));
  const std::vector<uint64_t> stored = StoredAlertIds(gsocd.port("api"), gsocd.ApiToken());
  ASSERT_FALSE(stored.empty());
  // New alerts after the restart land on lines of their own.
  SendLines(gsocd.port("tcp"), 20, [](int n) { return FailedPasswordLine(100000 + n); });
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_pending_alerts", {}, 0, 10s));
  EXPECT_EQ(gsocd.Stop(), 0);
  const std::vector<uint64_t> after = FileIds(file);
  ExpectAtLeast("alerts_file_lines_after_recovery", static_cast<double>(after.size()),
                static_cast<double>(stored.size()), "alerts");
  // Every committed alert before the restart is in the file exactly once, in order.
  std::vector<uint64_t> head(
      after.begin(), after.begin() + static_cast<ptrdiff_t>(std::min(after.size(), stored.size())));
  EXPECT_EQ(head, stored);
  for (size_t i = 1; i < after.size(); ++i) ASSERT_LT(after[i - 1], after[i]) << i;
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

// Finding 13: alert queries over large alerts, three at once, stay bounded:
// each page ends early (with a cursor) at max_response_size, and gsocd's
// peak memory grows by far less than the alerts it holds.
TEST(Outputs, LargeAlertQueriesStayBoundedInBytes) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({RulesConfig(gsocd.dir())}));
  const std::string big(60 * 1024, 'u');
  SendLines(gsocd.port("tcp"), 600,
            [&](int n) { return FailedPasswordLine(n, big + std::to_string(n)); });
  ASSERT_TRUE(gsocd.WaitMetricAtLeast("gsoc_events_processed_total", {}, 600, 60s))
      << gsocd.Scrape();
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_pending_alerts", {}, 0, 30s));
  const double committed = gsocd.Metric("gsoc_store_alerts_committed_total");
  ExpectAtLeast("large_alerts_stored", committed, 100, "alerts");  // over 12 MB of alert JSON
  const uint64_t baseline_kib = gsocd.RssKiB();
  const uint16_t port = gsocd.port("api");
  const std::string token = gsocd.ApiToken();
  std::atomic<size_t> largest{0};
  std::atomic<int> with_cursor{0};
  {
    Attackers queries(3, [&](int, const std::atomic<bool>&) {
      for (int round = 0; round < 3; ++round) {
        const HttpResult reply =
            HttpRequest(port, "GET", "/api/v1/alerts?limit=10000", Bearer(token));
        if (reply.status != 200) continue;
        size_t seen = largest.load();
        while (reply.body.size() > seen &&
               !largest.compare_exchange_weak(seen, reply.body.size())) {
        }
        if (reply.body.find("\"next_cursor\":\"") != std::string::npos) with_cursor.fetch_add(1);
      }
    });
  }
  const double growth_mib = (static_cast<double>(gsocd.PeakRssKiB()) - baseline_kib) / 1024;
  ExpectAtMost("large_query_reply_bytes", static_cast<double>(largest.load()),
               4 * 1024 * 1024 + 256 * 1024, "bytes");
  ExpectAtLeast("large_query_pages_with_cursor", with_cursor.load(), 9, "replies");
  ExpectAtMost("large_query_peak_rss_growth_mib", growth_mib, 200, "MiB");
  // The cursor leads on to every alert.
  EXPECT_EQ(static_cast<double>(StoredAlertIds(port, token).size()), committed);
}

// Finding 14: streams whose clients never read are closed within
// stream_write_timeout, so the stream slots come back.
TEST(Outputs, StalledStreamsAreCutAndSlotsComeBack) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({RulesConfig(
      gsocd.dir(),
      "api: {port: 0, max_streams: 8, stream_write_timeout: 2s, idle_timeout: 120s}\n")}));
  const uint16_t port = gsocd.port("api");
  const std::string token = gsocd.ApiToken();
  std::vector<Fd> stalled;
  for (int i = 0; i < 8; ++i) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int small = 4096;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_TRUE(SendAll(fd.get(),
                        "GET /api/v1/alerts/stream HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " +
                            token + "\r\n\r\n"));
    stalled.push_back(std::move(fd));  // and never read
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(TimedRequest(port, "/api/v1/alerts/stream", Bearer(token), 2s).status, 503);
  const std::string big(30 * 1024, 'v');
  SendLines(gsocd.port("tcp"), 400,
            [&](int n) { return FailedPasswordLine(n, big + std::to_string(n)); });
  const auto start = Clock::now();
  int status = 0;
  while (MillisSince(start) < 30000) {
    status = ReadSse(port, "/api/v1/alerts/stream", Bearer(token), 100ms,
                     [](uint64_t, const std::string&) { return false; });
    if (status == 200) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(status, 200);
  ExpectAtMost("stalled_streams_slot_back_ms", MillisSince(start), 15000, "ms");
  ExpectAtLeast("stalled_streams_cut", gsocd.Metric("gsoc_api_stream_write_timeouts_total"), 1,
                "streams");
}

// Finding 14: a resume id above the newest alert id gets a clear answer.
TEST(Outputs, ResumeFromTheFutureIsRefused) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({RulesConfig(gsocd.dir())}));
  SendLines(gsocd.port("tcp"), 5, [](int n) { return FailedPasswordLine(n); });
  ASSERT_TRUE(gsocd.WaitMetricAtLeast("gsoc_store_alerts_committed_total", {}, 5, 30s));
  const uint16_t port = gsocd.port("api");
  const auto start = Clock::now();
  const int status = ReadSse(port, "/api/v1/alerts/stream",
                             {"Authorization: Bearer " + gsocd.ApiToken(), "Last-Event-ID: 999999"},
                             5s, [](uint64_t, const std::string&) { return false; });
  EXPECT_EQ(status, 409);
  ExpectAtMost("future_resume_answer_ms", MillisSince(start), 1000, "ms");
  EXPECT_EQ(gsocd.Metric("gsoc_api_requests_total",
                         {{"route", "/api/v1/alerts/stream"}, {"code", "409"}}),
            1);
}

}  // namespace
}  // namespace gsoc::adversarial
