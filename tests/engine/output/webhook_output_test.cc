// WebhookOutput against a scripted HTTP(S) server on 127.0.0.1.
#include "engine/output/webhook_output.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/output/webhook_url.h"

namespace gsoc::output {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- the scripted server ----

enum class Action {
  kRespond,          // answer with the status
  kRespondAndClose,  // answer (keep-alive) and then close the connection
  kHang,             // never answer
  kHold,             // answer 200 once Release() is called
};

struct Reply {
  int status = 200;
  Action action = Action::kRespond;
  std::chrono::milliseconds delay{0};
};

struct Recorded {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int connection = 0;
  int status = 0;  // what the server answered (0: nothing)
  Clock::time_point at;

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = body.find('\n', start)) != std::string::npos; start = end + 1) {
      lines.push_back(body.substr(start, end - start));
    }
    if (start != body.size()) lines.push_back(body.substr(start) + "<no final newline>");
    return lines;
  }
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class TestServer {
 public:
  explicit TestServer(ssl::context* tls = nullptr) : tls_(tls) {}
  ~TestServer() { Stop(); }

  void Start(uint16_t port = 0) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  void Stop() {
    if (!accept_thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    changed_.notify_all();
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes accept()
    accept_thread_.join();
    for (std::thread& thread : connection_threads_) thread.join();
    acceptor_.close();
  }

  uint16_t port() const { return port_; }
  void Script(std::vector<Reply> replies) {
    std::lock_guard lock(mutex_);
    script_.assign(replies.begin(), replies.end());
  }
  void SetDefaultReply(Reply reply) {
    std::lock_guard lock(mutex_);
    default_reply_ = reply;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t request_count() const { return requests().size(); }
  int handshake_failures() const { return handshake_failures_; }
  std::string last_sni() const {
    std::lock_guard lock(mutex_);
    return last_sni_;
  }
  // The lines of every request answered with 2xx, in arrival order.
  std::vector<std::string> DeliveredLines() const {
    std::vector<std::string> lines;
    for (const Recorded& request : requests()) {
      if (request.status < 200 || request.status > 299) continue;
      for (std::string& line : request.Lines()) lines.push_back(std::move(line));
    }
    return lines;
  }

 private:
  void AcceptLoop() {
    for (int connection = 1;; ++connection) {
      tcp::socket socket(io_);
      beast::error_code error;
      acceptor_.accept(socket, error);
      std::lock_guard lock(mutex_);
      if (stopping_ || error) return;
      open_fds_.insert(socket.native_handle());
      connection_threads_.emplace_back(
          [this, connection, s = std::move(socket)]() mutable { Serve(std::move(s), connection); });
    }
  }

  void Serve(tcp::socket socket, int connection) {
    const int fd = socket.native_handle();
    if (tls_) {
      ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
      beast::error_code error;
      stream.handshake(ssl::stream_base::server, error);
      if (error) {
        ++handshake_failures_;
      } else {
        RecordSni(stream.native_handle());
        ServeHttp(stream, connection);
      }
      Forget(fd);
    } else {
      ServeHttp(socket, connection);
      Forget(fd);
    }
  }

  void RecordSni(SSL* ssl) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(mutex_);
    last_sni_ = name ? name : "";
  }

  void Forget(int fd) {
    std::lock_guard lock(mutex_);
    open_fds_.erase(fd);  // before the socket closes: Stop must not shut a reused fd
  }

  template <typename Stream>
  void ServeHttp(Stream& stream, int connection) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      beast::error_code error;
      http::read(stream, buffer, request, error);
      if (error) return;
      Reply reply = NextReply();
      size_t index = Record(request, connection);
      if (reply.action == Action::kHang) continue;
      if (reply.action == Action::kHold && !WaitForRelease()) return;
      std::this_thread::sleep_for(reply.delay);
      SetStatus(index, reply.status);
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      response.set(http::field::content_type, "text/plain");
      response.body() = "status " + std::to_string(reply.status);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(stream, response, error);
      if (error || reply.action == Action::kRespondAndClose || !request.keep_alive()) return;
    }
  }

  Reply NextReply() {
    std::lock_guard lock(mutex_);
    if (script_.empty()) return default_reply_;
    Reply reply = script_.front();
    script_.pop_front();
    return reply;
  }

  size_t Record(const http::request<http::string_body>& request, int connection) {
    Recorded recorded;
    recorded.target = std::string(request.target());
    for (const auto& field : request) {
      recorded.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
    }
    recorded.body = request.body();
    recorded.connection = connection;
    recorded.at = Clock::now();
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(recorded));
    return requests_.size() - 1;
  }

  void SetStatus(size_t index, int status) {
    std::lock_guard lock(mutex_);
    requests_[index].status = status;
  }

  bool WaitForRelease() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return released_ || stopping_; });
    return !stopping_;
  }

  ssl::context* tls_;
  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;
  std::atomic<int> handshake_failures_{0};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::set<int> open_fds_;
  std::deque<Reply> script_;
  Reply default_reply_;
  std::vector<Recorded> requests_;
  std::string last_sni_;
  bool released_ = false;
  bool stopping_ = false;
};

// ---- helpers ----

std::string AlertJson(uint64_t id) {
  return R"({"id":")" + std::to_string(id) + R"(","kind":"detection","rule":{"name":"r"}})";
}

std::vector<std::string> Jsons(uint64_t first, size_t count) {
  std::vector<std::string> jsons;
  for (uint64_t id = first; id < first + count; ++id) jsons.push_back(AlertJson(id));
  return jsons;
}

void Commit(WebhookOutput& output, uint64_t first, size_t count) {
  std::vector<store::StoredAlert> alerts(count);
  for (size_t i = 0; i < count; ++i) {
    alerts[i].id = first + i;
    alerts[i].json = AlertJson(first + i);
  }
  output.OnCommitted(alerts);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const Clock::time_point until = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

WebhookOptions Options(uint16_t port, const std::string& scheme = "http",
                       const std::string& host = "127.0.0.1") {
  WebhookOptions options;
  options.url = scheme + "://" + host + ":" + std::to_string(port) + "/hook?token=t1";
  options.timeout = 2s;
  options.retry_initial = 10ms;
  options.retry_max = 100ms;
  options.shutdown_grace = 2s;
  return options;
}

uint16_t UnusedPort() {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// ---- URL parsing ----

TEST(WebhookUrl, ParsesSchemesHostsPortsAndTargets) {
  WebhookUrl plain = ParseWebhookUrl("http://soar.example.gov/api/alerts?x=1&y=2#frag");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.host, "soar.example.gov");
  EXPECT_EQ(plain.port, "80");
  EXPECT_EQ(plain.target, "/api/alerts?x=1&y=2");
  EXPECT_FALSE(plain.host_is_ip);
  EXPECT_EQ(plain.HostHeader(), "soar.example.gov");

  WebhookUrl tls = ParseWebhookUrl("HTTPS://10.1.2.3:8443");
  EXPECT_TRUE(tls.tls);
  EXPECT_EQ(tls.host, "10.1.2.3");
  EXPECT_EQ(tls.port, "8443");
  EXPECT_EQ(tls.target, "/");
  EXPECT_TRUE(tls.host_is_ip);
  EXPECT_EQ(tls.HostHeader(), "10.1.2.3:8443");
  EXPECT_EQ(tls.Origin(), "https://10.1.2.3:8443");

  WebhookUrl v6 = ParseWebhookUrl("https://[2001:db8::1]?q=1");
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, "443");
  EXPECT_EQ(v6.target, "/?q=1");
  EXPECT_TRUE(v6.host_is_ip);
  EXPECT_EQ(v6.HostHeader(), "[2001:db8::1]");

  WebhookUrl v6_port = ParseWebhookUrl("http://[::1]:9000/x");
  EXPECT_EQ(v6_port.host, "::1");
  EXPECT_EQ(v6_port.port, "9000");
  EXPECT_EQ(v6_port.HostHeader(), "[::1]:9000");
}

TEST(WebhookUrl, RejectsMalformedUrls) {
  for (const char* url :
       {"", "soar.example.gov/hook", "ftp://host/", "http://", "http:///path", "http://host:/x",
        "http://host:abc/", "http://host:0/", "http://host:70000/", "http://[::1/",
        "http://[zz::1]/", "http://[::1]x/", "http://::1/", "http://user:pw@host/", "http://ho st/",
        "http://host/pa th", "http://host/\r\nX: y"}) {
    EXPECT_THROW(ParseWebhookUrl(url), std::invalid_argument) << url;
  }
}

TEST(WebhookOutputConfig, BadUrlOrHeaderThrowsInvalidArgument) {
  WebhookOptions options;
  options.url = "htp://127.0.0.1/";
  EXPECT_THROW(WebhookOutput{options}, std::invalid_argument);
  options.url = "http://127.0.0.1:99999/";
  EXPECT_THROW(WebhookOutput{options}, std::invalid_argument);
  options.url = "http://127.0.0.1/";
  options.headers = {{"X-Token", "a\r\nInjected: 1"}};
  EXPECT_THROW(WebhookOutput{options}, std::invalid_argument);
  options.headers = {{"Bad Name", "v"}};
  EXPECT_THROW(WebhookOutput{options}, std::invalid_argument);
  options.headers = {};
  options.url = "https://127.0.0.1/";
  options.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(WebhookOutput{options}, std::invalid_argument);
}

TEST(WebhookOutputConfig, CredentialsOverPlainHttpAreRefused) {
  WebhookOptions options;
  options.url = "http://127.0.0.1:9/";
  for (const char* name : {"Authorization", "authorization", "Proxy-Authorization", "Cookie"}) {
    options.headers = {{name, "secret"}};
    EXPECT_THROW(WebhookOutput{options}, std::invalid_argument) << name;
  }
  options.headers = {{"X-Source", "gsoc"}};
  EXPECT_NO_THROW(WebhookOutput{options});
  options.headers = {{"Authorization", "secret"}};
  options.allow_insecure_headers = true;
  EXPECT_NO_THROW(WebhookOutput{options});
}

// ---- delivery ----

TEST(WebhookOutput, DeliversABatchAsNdjsonWithHeaders) {
  TestServer server;
  server.Start();
  WebhookOptions options = Options(server.port());
  options.headers = {{"Authorization", "Bearer s3cret"}, {"X-Gsoc-Source", "test"}};
  options.allow_insecure_headers = true;  // the test server speaks plain http
  WebhookOutput output(options);
  Commit(output, 1, 3);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 3; }));

  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Recorded& request = requests[0];
  EXPECT_EQ(request.target, "/hook?token=t1");
  EXPECT_EQ(request.Lines(), Jsons(1, 3));
  EXPECT_EQ(request.headers.at("content-type"), "application/x-ndjson");
  EXPECT_EQ(request.headers.at("user-agent"), std::string("gsoc/") + GSOC_VERSION);
  EXPECT_EQ(request.headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(request.headers.at("x-gsoc-source"), "test");
  EXPECT_EQ(request.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(request.headers.at("content-length"), std::to_string(request.body.size()));

  WebhookStats stats = output.stats();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(WebhookOutput, SplitsIntoBatchesOfAtMostMaxBatch) {
  TestServer server;
  server.Start();
  WebhookOptions options = Options(server.port());
  options.max_batch = 3;
  WebhookOutput output(options);
  Commit(output, 1, 7);  // one call: all 7 are queued before the sender wakes
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 7; }));

  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Lines(), Jsons(1, 3));
  EXPECT_EQ(requests[1].Lines(), Jsons(4, 3));
  EXPECT_EQ(requests[2].Lines(), Jsons(7, 1));
  EXPECT_EQ(output.stats().requests, 3u);
}

TEST(WebhookOutput, KeepsTheConnectionAliveBetweenRequests) {
  TestServer server;
  server.Start();
  WebhookOutput output(Options(server.port()));
  for (uint64_t id = 1; id <= 3; ++id) {
    Commit(output, id, 1);
    ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == id; }));
  }
  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].connection, requests[1].connection);
  EXPECT_EQ(requests[1].connection, requests[2].connection);
}

TEST(WebhookOutput, ReconnectsAtOnceWhenTheServerClosedAnIdleConnection) {
  TestServer server;
  server.Start();
  server.Script({{200, Action::kRespondAndClose}});
  WebhookOutput output(Options(server.port()));
  Commit(output, 1, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 1; }));
  std::this_thread::sleep_for(50ms);  // the server has closed by now
  Commit(output, 2, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 2; }));

  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].connection, requests[1].connection);
  EXPECT_EQ(output.stats().retries, 0u);
  EXPECT_EQ(server.DeliveredLines(), Jsons(1, 2));
}

// ---- retries ----

TEST(WebhookOutput, Retries500And429WithExponentialBackoff) {
  TestServer server;
  server.Start();
  server.Script({{500}, {429}, {200}});
  WebhookOptions options = Options(server.port());
  options.retry_initial = 40ms;
  options.retry_max = 1s;
  WebhookOutput output(options);
  Commit(output, 1, 2);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 2; }));

  WebhookStats stats = output.stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.rejected, 0u);
  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const Recorded& request : requests) EXPECT_EQ(request.Lines(), Jsons(1, 2));
  // Jitter scales each delay by [0.5, 1]: at least 20 ms, then 40 ms.
  EXPECT_GE(requests[1].at - requests[0].at, 20ms);
  EXPECT_GE(requests[2].at - requests[1].at, 40ms);
}

TEST(WebhookOutput, RetriesWhileTheConnectionIsRefused) {
  const uint16_t port = UnusedPort();
  WebhookOutput output(Options(port));
  Commit(output, 1, 2);
  ASSERT_TRUE(WaitFor([&] { return output.stats().retries >= 3; }));
  EXPECT_EQ(output.stats().delivered, 0u);

  TestServer server;
  server.Start(port);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 2; }));
  EXPECT_EQ(server.DeliveredLines(), Jsons(1, 2));
  EXPECT_EQ(output.stats().requests, output.stats().retries + 1);
}

TEST(WebhookOutput, RetriesAfterAReadTimeout) {
  TestServer server;
  server.Start();
  server.Script({{200, Action::kHang}});
  WebhookOptions options = Options(server.port());
  options.timeout = 200ms;
  WebhookOutput output(options);
  Commit(output, 1, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 1; }));
  EXPECT_EQ(output.stats().retries, 1u);
  std::vector<Recorded> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  // The timeout runs from when the client began the first request, a little
  // before the server recorded it (197 ms apart once, on a loaded machine):
  // the retry waited for the timeout, not the exact server-side gap.
  EXPECT_GE(requests[1].at - requests[0].at, 150ms);
  EXPECT_NE(requests[0].connection, requests[1].connection);
}

TEST(WebhookOutput, DropsABatchRefusedWith400AndDeliversLaterOnes) {
  TestServer server;
  server.Start();
  server.Script({{400}});
  WebhookOutput output(Options(server.port()));
  Commit(output, 1, 2);
  ASSERT_TRUE(WaitFor([&] { return output.stats().rejected == 2; }));
  Commit(output, 3, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 1; }));

  WebhookStats stats = output.stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.rejected, 2u);
  EXPECT_EQ(server.DeliveredLines(), Jsons(3, 1));
}

// ---- bounds and order ----

TEST(WebhookOutput, FullQueueDropsTheOldestAndCounts) {
  TestServer server;
  server.Start();
  server.Script({{200, Action::kHold}});
  WebhookOptions options = Options(server.port());
  options.max_queue = 3;
  options.timeout = 10s;
  WebhookOutput output(options);
  Commit(output, 1, 1);  // in flight, held by the server
  ASSERT_TRUE(WaitFor([&] { return server.request_count() == 1; }));
  Commit(output, 2, 5);  // 2 and 3 are pushed out by 4, 5, 6

  WebhookStats stats = output.stats();
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(stats.queued, 3u);
  server.Release();
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 4; }));
  EXPECT_EQ(server.DeliveredLines(),
            (std::vector<std::string>{AlertJson(1), AlertJson(4), AlertJson(5), AlertJson(6)}));
  EXPECT_EQ(output.stats().queued, 0u);
}

TEST(WebhookOutput, QueueIsBoundedInBytes) {
  TestServer server;
  server.Start();
  server.Script({{200, Action::kHold}});
  WebhookOptions options = Options(server.port());
  options.max_queue = 1000;
  options.max_queue_bytes = 3 * AlertJson(10).size();
  options.timeout = 10s;
  WebhookOutput output(options);
  Commit(output, 1, 1);  // in flight, held by the server
  ASSERT_TRUE(WaitFor([&] { return server.request_count() == 1; }));
  Commit(output, 10, 10);  // 10..19: only the newest three fit
  WebhookStats stats = output.stats();
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_LE(stats.queued_bytes, options.max_queue_bytes);
  EXPECT_EQ(stats.dropped, 7u);
  server.Release();
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 4; }));
  EXPECT_EQ(server.DeliveredLines(),
            (std::vector<std::string>{AlertJson(1), AlertJson(17), AlertJson(18), AlertJson(19)}));
  EXPECT_EQ(output.stats().queued_bytes, 0u);
}

TEST(WebhookOutput, PreservesOrderAcrossBatchesAndRetries) {
  TestServer server;
  server.Start();
  server.Script({{500}, {200}, {503}, {200}, {429}, {502}, {200}, {500}});
  WebhookOptions options = Options(server.port());
  options.max_batch = 7;
  options.retry_initial = 1ms;
  WebhookOutput output(options);
  for (uint64_t first = 1; first <= 100; first += 10) Commit(output, first, 10);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 100; }));
  EXPECT_EQ(server.DeliveredLines(), Jsons(1, 100));
  EXPECT_EQ(output.stats().retries, 5u);
}

// ---- shutdown ----

TEST(WebhookOutput, ShutdownDeliversWhatIsQueuedWithinTheGrace) {
  TestServer server;
  server.Start();
  server.SetDefaultReply({200, Action::kRespond, 20ms});
  WebhookOptions options = Options(server.port());
  options.max_batch = 5;
  options.shutdown_grace = 5s;
  {
    WebhookOutput output(options);
    Commit(output, 1, 50);  // 10 requests of 20 ms each: most still queued here
  }
  EXPECT_EQ(server.DeliveredLines(), Jsons(1, 50));
}

TEST(WebhookOutput, ShutdownStopsRetryingAfterTheGrace) {
  WebhookOptions options = Options(UnusedPort());
  options.retry_initial = 20ms;
  options.retry_max = 20ms;
  options.shutdown_grace = 300ms;
  auto output = std::make_unique<WebhookOutput>(options);
  Commit(*output, 1, 3);
  ASSERT_TRUE(WaitFor([&] { return output->stats().retries >= 1; }));
  const Clock::time_point start = Clock::now();
  output.reset();
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 250ms);  // it kept trying during the grace
  EXPECT_LT(took, 2s);
}

TEST(WebhookOutput, ShutdownInterruptsARequestThatOutlastsTheGrace) {
  TestServer server;
  server.Start();
  server.SetDefaultReply({200, Action::kHang});
  WebhookOptions options = Options(server.port());
  options.timeout = 30s;
  options.shutdown_grace = 200ms;
  auto output = std::make_unique<WebhookOutput>(options);
  Commit(*output, 1, 1);
  ASSERT_TRUE(WaitFor([&] { return server.request_count() == 1; }));
  const Clock::time_point start = Clock::now();
  output.reset();
  EXPECT_LT(Clock::now() - start, 3s);
}

// ---- https ----

class WebhookTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("gsoc-webhook-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string command = "cd '" + dir_.string() +
                          "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out "
                          "c.pem -days 1 -subj /CN=localhost >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void SetUp() override {
    server_context_.use_certificate_chain_file((dir_ / "c.pem").string());
    server_context_.use_private_key_file((dir_ / "k.pem").string(), ssl::context::pem);
    server_.Start();
  }

  static std::string Cert() { return (dir_ / "c.pem").string(); }
  WebhookOptions TlsOptions(const std::string& host) const {
    WebhookOptions options = Options(server_.port(), "https", host);
    options.shutdown_grace = 100ms;  // the failing cases have nothing to deliver at the end
    return options;
  }

  static inline std::filesystem::path dir_;
  ssl::context server_context_{ssl::context::tls_server};
  TestServer server_{&server_context_};
};

TEST_F(WebhookTlsTest, SelfSignedCertificateFailsVerification) {
  WebhookOutput output(TlsOptions("localhost"));
  Commit(output, 1, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().retries >= 2; }));
  EXPECT_EQ(output.stats().delivered, 0u);
  EXPECT_EQ(server_.request_count(), 0u);
  EXPECT_GE(server_.handshake_failures(), 1);
}

TEST_F(WebhookTlsTest, DeliversWithoutVerification) {
  WebhookOptions options = TlsOptions("localhost");
  options.tls_verify = false;
  WebhookOutput output(options);
  Commit(output, 1, 2);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 2; }));
  EXPECT_EQ(server_.DeliveredLines(), Jsons(1, 2));
  EXPECT_EQ(output.stats().retries, 0u);
}

TEST_F(WebhookTlsTest, VerifiesChainAndNameAgainstAGivenCaAndSendsSni) {
  WebhookOptions options = TlsOptions("localhost");
  options.tls_ca_file = Cert();
  WebhookOutput output(options);
  Commit(output, 1, 2);
  ASSERT_TRUE(WaitFor([&] { return output.stats().delivered == 2; }));
  EXPECT_EQ(server_.DeliveredLines(), Jsons(1, 2));
  EXPECT_EQ(server_.last_sni(), "localhost");
}

TEST_F(WebhookTlsTest, RefusesACertificateForAnotherName) {
  WebhookOptions options = TlsOptions("127.0.0.1");  // the certificate names localhost
  options.tls_ca_file = Cert();
  WebhookOutput output(options);
  Commit(output, 1, 1);
  ASSERT_TRUE(WaitFor([&] { return output.stats().retries >= 2; }));
  EXPECT_EQ(output.stats().delivered, 0u);
  EXPECT_EQ(server_.request_count(), 0u);
}

}  // namespace
}  // namespace gsoc::output

// ---- routing (match) ----

namespace gsoc::output {
namespace {

store::StoredAlert RoutedAlert(uint64_t id, const std::string& agency, rules::Level level,
                               std::vector<std::string> tags) {
  Alert alert;
  alert.id = id;
  alert.rule = {"rule-" + std::to_string(id % 3), "r", "a title with \"tags\":[\"x\"]", level,
                std::move(tags)};
  alert.agency = agency;
  alert.events.push_back({id, 0, "raw \"tags\":[\"attack.t1110\"] in an event"});
  store::StoredAlert stored;
  stored.id = id;
  stored.agency = agency;
  stored.level = level;
  AppendAlertJson(stored.json, alert);
  return stored;
}

TEST(WebhookMatch, EveryGivenConditionMustHold) {
  const auto high_a = RoutedAlert(1, "mof", rules::Level::kHigh, {"attack.t1110", "attack.x"});
  const auto low_b = RoutedAlert(2, "moh", rules::Level::kLow, {});
  EXPECT_TRUE(WebhookMatch{}.Matches(high_a));
  EXPECT_TRUE(WebhookMatch{}.Matches(low_b));
  const WebhookMatch mof{{"mof"}, std::nullopt, {}};
  EXPECT_TRUE(mof.Matches(high_a));
  EXPECT_FALSE(mof.Matches(low_b));
  const WebhookMatch medium{{}, rules::Level::kMedium, {}};
  EXPECT_TRUE(medium.Matches(high_a));
  EXPECT_FALSE(medium.Matches(low_b));
  const WebhookMatch tagged{{}, std::nullopt, {"attack.t1110"}};
  EXPECT_TRUE(tagged.Matches(high_a));
  EXPECT_FALSE(tagged.Matches(low_b)) << "a tag in the title or an event is not a rule tag";
  EXPECT_TRUE((WebhookMatch{{}, std::nullopt, {"nope", "attack.x"}}.Matches(high_a)));
  EXPECT_FALSE((WebhookMatch{{}, std::nullopt, {"attack"}}.Matches(high_a)));  // exact
  EXPECT_FALSE((WebhookMatch{{"mof"}, rules::Level::kCritical, {}}.Matches(high_a)));
}

TEST(WebhookOutput, AnAgencysEndpointReceivesExactlyItsAlerts) {
  TestServer server_a, server_b;
  server_a.Start();
  server_b.Start();
  WebhookOptions a = Options(server_a.port()), b = Options(server_b.port());
  a.match.agencies = {"mof"};
  b.match.agencies = {"moh"};
  b.match.min_level = rules::Level::kHigh;
  WebhookOutput out_a(a), out_b(b);
  std::vector<store::StoredAlert> alerts;
  std::vector<std::string> want_a, want_b;
  for (uint64_t id = 1; id <= 30; ++id) {
    const std::string agency = id % 3 == 0 ? "mof" : id % 3 == 1 ? "moh" : "moj";
    const auto level = id % 2 ? rules::Level::kHigh : rules::Level::kLow;
    alerts.push_back(RoutedAlert(id, agency, level, {}));
    if (agency == "mof") want_a.push_back(alerts.back().json);
    if (agency == "moh" && level == rules::Level::kHigh) want_b.push_back(alerts.back().json);
  }
  out_a.OnCommitted(alerts);
  out_b.OnCommitted(alerts);
  ASSERT_TRUE(WaitFor([&] { return out_a.stats().delivered == want_a.size(); }));
  ASSERT_TRUE(WaitFor([&] { return out_b.stats().delivered == want_b.size(); }));
  EXPECT_EQ(server_a.DeliveredLines(), want_a);
  EXPECT_EQ(server_b.DeliveredLines(), want_b);
  EXPECT_EQ(out_a.stats().unmatched, 30 - want_a.size());
  EXPECT_EQ(out_b.stats().unmatched, 30 - want_b.size());
}

}  // namespace
}  // namespace gsoc::output
