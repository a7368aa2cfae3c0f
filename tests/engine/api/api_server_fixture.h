// The fixture of the API server tests (api_server_test.cc, api_stream_test.cc,
// api_tls_test.cc): an ApiServer on a free port over a FakeReader and a
// LiveHub, 250 varied alerts to seed it, and helpers to query, paginate and
// read its stream.
#pragma once

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

#include "engine/api/api_server.h"
#include "tests/engine/api/api_test_util.h"
#include "tests/util/temp_dir.h"

namespace gsoc::api::server_test {

using TempDir = gsoc::test::TempDir;
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

inline constexpr uint64_t kSeedAlerts = 250;
inline const std::vector<std::string> kAuth = {"Authorization: Bearer secret-token"};

inline std::string CursorOf(const std::string& body) {
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

}  // namespace gsoc::api::server_test
