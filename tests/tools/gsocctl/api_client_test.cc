// ApiClient in-process against the scripted server: the SSE framing, the
// dead-stream timeout, plain GETs and endpoint URLs.
#include "tools/gsocctl/api_client.h"

#include <gtest/gtest.h>

#include "tests/tools/gsocctl/scripted_api_server.h"

namespace {

using namespace gsoc::ctl::scripted;

// ---------------------------------------------------------------------------
// ApiClient in-process.

gsoc::ctl::ApiEndpoint Endpoint(const ScriptedServer& server) {
  gsoc::ctl::ApiEndpoint endpoint;
  endpoint.port = server.port();
  endpoint.token = "tok";
  return endpoint;
}

TEST(ApiClient, StreamParsesServerSentEvents) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, ChunkedHead("text/event-stream"));
    Send(fd, Chunk(": hello\r\n\r\nid: 7\r\ndata: a\r\ndata:  b\r"));  // CR | LF split over chunks
    Send(fd, Chunk("\n\r\nid: 8\rdata:no-space\r\r"));
    // "message" events are alerts; other named events (event: triage) are skipped.
    Send(fd, Chunk("event: message\nretry: 5\ndata: c\n\nevent: triage\ndata: {\"id\":3}\n\n"
                   "id: 9\n\ndata\n\n"));
    Send(fd, std::string(kLastChunk));
  });
  std::vector<std::pair<uint64_t, std::string>> events;
  std::string error;
  const int status = gsoc::ctl::ApiClient(Endpoint(server))
                         .Stream(
                             "/api/v1/alerts/stream", 41,
                             [&](uint64_t id, const std::string& data) {
                               events.emplace_back(id, data);
                               return true;
                             },
                             &error);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(error, "the server ended the stream");
  const std::vector<std::pair<uint64_t, std::string>> expected = {
      {7, "a\n b"}, {8, "no-space"}, {8, "c"}, {9, ""}};
  EXPECT_EQ(events, expected);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].Header("last-event-id"), "41");
}

TEST(ApiClient, StreamGivesUpOnASilentServerAndStopsWhenAsked) {
  ScriptedServer server("tok", [&](const Request& request, int fd) {
    Send(fd, ChunkedHead("text/event-stream") + Chunk(": keepalive\n\n"));
    if (request.target.ends_with("?more")) Send(fd, Chunk(SseEvent(1) + SseEvent(2)));
    server.HoldOpen(fd);
  });
  gsoc::ctl::ApiEndpoint endpoint = Endpoint(server);
  endpoint.stream_idle_timeout = 300ms;
  const gsoc::ctl::ApiClient client(endpoint);
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Stream(
                "/s", 0, [](uint64_t, const std::string&) { return true; }, &error),
            200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(error, "nothing received for 0.3 s");

  std::vector<uint64_t> ids;
  error.clear();
  const int status = client.Stream(
      "/s?more", 0,
      [&](uint64_t id, const std::string&) {
        ids.push_back(id);
        return false;
      },
      &error);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(ids, std::vector<uint64_t>{1});
  EXPECT_EQ(error, "");
}

TEST(ApiClient, GetReturnsStatusHeadersAndBody) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, ChunkedHead("application/x-ndjson", "X-Next-Cursor: abc\r\n") + Chunk("one\n") +
                 Chunk("two\n") + std::string(kLastChunk));
  });
  const gsoc::ctl::ApiClient client(Endpoint(server));
  const gsoc::ctl::HttpReply reply = client.Get("/api/v1/alerts", "application/x-ndjson");
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.body, "one\ntwo\n");
  EXPECT_EQ(reply.headers.at("x-next-cursor"), "abc");
  gsoc::ctl::ApiEndpoint wrong = Endpoint(server);
  wrong.token = "nope";
  EXPECT_EQ(gsoc::ctl::ApiClient(wrong).Get("/").status, 401);
}

TEST(ApiClient, ParseEndpointUrl) {
  gsoc::ctl::ApiEndpoint endpoint;
  ASSERT_TRUE(gsoc::ctl::ParseEndpointUrl("https://gsoc.example:8443/", &endpoint));
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.host, "gsoc.example");
  EXPECT_EQ(endpoint.port, 8443);
  ASSERT_TRUE(gsoc::ctl::ParseEndpointUrl("http://[::1]", &endpoint));
  EXPECT_FALSE(endpoint.tls);
  EXPECT_EQ(endpoint.host, "::1");
  EXPECT_EQ(endpoint.port, 80);
  for (const char* bad : {"127.0.0.1:8080", "http://", "http://h:0", "http://h:99999",
                          "http://h/api", "http://[::1", "http://h:"}) {
    EXPECT_FALSE(gsoc::ctl::ParseEndpointUrl(bad, &endpoint)) << bad;
  }
}

}  // namespace
