// Webhook routing (issue 12 item 4) against a real gsocd: two receivers,
// one webhook per agency with a match; agency A's endpoint receives exactly
// A's alerts (ids as the store has them), B's exactly B's.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"
#include "tests/util/loopback_listener.h"

namespace gsoc::e2e {
namespace {

// A minimal HTTP receiver on loopback: answers every request 200 and keeps
// the alert ids of the NDJSON bodies.
class Receiver {
 public:
  Receiver() {
    listen_ = test::ListenOnLoopback(16, &port_);
    EXPECT_GE(listen_, 0);
    thread_ = std::thread([this] { Run(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  uint16_t port() const { return port_; }
  std::vector<uint64_t> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  std::string bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  void Run() {
    std::vector<Fd> connections;
    std::vector<std::string> buffers;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (const Fd& fd : connections) fds.push_back({fd.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        connections.emplace_back(::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC));
        buffers.emplace_back();
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        char chunk[65536];
        const ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
        if (n <= 0) continue;
        buffers[i - 1].append(chunk, static_cast<size_t>(n));
        while (TakeRequest(buffers[i - 1], fds[i].fd)) {
        }
      }
    }
  }

  // Consumes one whole request from `buffer` (answering it); false if none.
  bool TakeRequest(std::string& buffer, int fd) {
    const size_t head_end = buffer.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::string head = buffer.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = head.find("content-length:");
    const size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
    if (buffer.size() < head_end + 4 + length) return false;
    const std::string body = buffer.substr(head_end + 4, length);
    buffer.erase(0, head_end + 4 + length);
    Record(body);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    SendAll(fd, reply);
    return true;
  }

  void Record(const std::string& body) {
    simdjson::dom::parser parser;
    std::lock_guard lock(mutex_);
    bodies_ += body;
    for (const std::string& line : SplitLines(body)) {
      std::string_view id;
      if (parser.parse(line)["id"].get(id) == simdjson::SUCCESS) {
        ids_.push_back(std::stoull(std::string(id)));
      }
    }
  }

  int listen_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> ids_;
  std::string bodies_;
};

TEST(E2eWebhookRouting, EachAgencysEndpointReceivesExactlyItsAlerts) {
  Receiver receiver_a, receiver_b;
  TempDir dir;
  Gsocd gsocd;
  const std::string hooks =
      "agencies:\n"
      "  - {name: agency-alpha, cidrs: [127.0.0.2/32]}\n"
      "  - {name: agency-bravo, cidrs: [127.0.0.3/32]}\n"
      "alerts:\n"
      "  aggregate: {enabled: false}\n"
      "  webhooks:\n"
      "    - name: alpha\n"
      "      url: http://127.0.0.1:" +
      std::to_string(receiver_a.port()) +
      "/a\n"
      "      match: {agencies: [agency-alpha]}\n"
      "    - name: bravo\n"
      "      url: http://127.0.0.1:" +
      std::to_string(receiver_b.port()) +
      "/b\n"
      "      match: {agencies: [agency-bravo]}\n";
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(dir, hooks)}));
  {
    Fd a(ConnectTcp(gsocd.port("tcp"), "127.0.0.2"));
    Fd b(ConnectTcp(gsocd.port("tcp"), "127.0.0.3"));
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(SendAll(a.get(), FailedPasswordLine(i, "alphauser")));
      ASSERT_TRUE(SendAll(b.get(), FailedPasswordLine(100 + i, "bravouser")));
    }
  }
  ASSERT_TRUE(gsocd.WaitMetricAtLeast("gsoc_store_alerts_committed_total", {}, 60, Scaled(20s)));
  std::this_thread::sleep_for(500ms);  // correlation alerts too
  std::vector<uint64_t> want_a, want_b;
  simdjson::dom::parser parser;
  for (const std::string& json : StoredAlertJsons(gsocd.port("api"), ApiToken(dir))) {
    simdjson::dom::element alert;
    ASSERT_EQ(parser.parse(json).get(alert), simdjson::SUCCESS);
    std::string_view id, agency;
    ASSERT_EQ(alert["id"].get(id), simdjson::SUCCESS);
    ASSERT_EQ(alert["agency"].get(agency), simdjson::SUCCESS);
    (agency == "agency-alpha" ? want_a : want_b).push_back(std::stoull(std::string(id)));
  }
  ASSERT_GE(want_a.size(), 30u);
  ASSERT_GE(want_b.size(), 30u);
  const double total = static_cast<double>(want_a.size() + want_b.size());
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_webhook_delivered_total", {}, total, Scaled(10s)));
  EXPECT_EQ(receiver_a.ids(), want_a);
  EXPECT_EQ(receiver_b.ids(), want_b);
  EXPECT_EQ(receiver_a.bodies().find("agency-bravo"), std::string::npos);
  EXPECT_EQ(receiver_b.bodies().find("agency-alpha"), std::string::npos);
  EXPECT_EQ(gsocd.Metric("gsoc_webhook_unmatched_total", {{"webhook", "alpha"}}),
            static_cast<double>(want_b.size()));
  std::printf("[e2e] alpha's endpoint got %zu alerts, bravo's %zu: each exactly its own\n",
              receiver_a.ids().size(), receiver_b.ids().size());
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
