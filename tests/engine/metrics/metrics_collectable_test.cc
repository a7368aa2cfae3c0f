#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/metrics/counters.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using ::testing::HasSubstr;

const MetricFamily* FindFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

std::map<std::string, std::string> Labels(const prometheus::ClientMetric& metric) {
  std::map<std::string, std::string> labels;
  for (const auto& label : metric.label) labels[label.name] = label.value;
  return labels;
}

// The value of the series of `family` whose labels are exactly `labels`; -1 if absent.
double Value(const MetricFamily& family, const std::map<std::string, std::string>& labels) {
  for (const auto& metric : family.metric) {
    if (Labels(metric) == labels) {
      return family.type == MetricType::Counter ? metric.counter.value : metric.gauge.value;
    }
  }
  return -1;
}

class IngestCollectableTest : public ::testing::Test {
 protected:
  IngestCollectableTest() : metrics_({"syslog_tcp", "syslog_udp"}, {"unknown", "mof", "moh"}) {}

  // Counts from two threads so the collectable must sum blocks.
  void Count() {
    auto work = [this](int t) {
      ThreadCounters& c = metrics_.Local();
      c.EventsReceived(0, 1, 10 + t);  // syslog_tcp / mof
      c.EventsReceived(1, 2, 5);       // syslog_udp / moh
      c.EventsReceived(1, 0, 1);       // syslog_udp / unknown
      c.BytesReceived(0, 1000);
      c.Discarded(1, DiscardReason::kQueueFull, 7);
      c.ParseErrors(0, ParseFormat::kRfc3164, 2);
      c.TimesAhead(1, 3);
      c.Rejected(0, RejectReason::kMaxConnections);
      c.Closed(0, CloseReason::kPeerClosed);
      c.EventsProcessed(100);
    };
    std::thread a(work, 0);
    std::thread b(work, 1);
    a.join();
    b.join();
    metrics_.ConnectionOpened(0);
    metrics_.ConnectionOpened(0);
    metrics_.ConnectionOpened(0);
  }

  IngestMetrics metrics_;
};

TEST_F(IngestCollectableTest, FamiliesHaveTheRightNamesTypesAndLabels) {
  IngestCollectable collectable(metrics_, {});
  const auto families = collectable.Collect();
  const std::vector<std::pair<std::string, MetricType>> expected = {
      {"gsoc_events_received_total", MetricType::Counter},
      {"gsoc_bytes_received_total", MetricType::Counter},
      {"gsoc_connections", MetricType::Gauge},
      {"gsoc_event_times_ahead_total", MetricType::Counter},
      {"gsoc_events_discarded_total", MetricType::Counter},
      {"gsoc_parse_errors_total", MetricType::Counter},
      {"gsoc_connections_rejected_total", MetricType::Counter},
      {"gsoc_connections_closed_total", MetricType::Counter},
      {"gsoc_auditd_events_total", MetricType::Counter},
      {"gsoc_events_processed_total", MetricType::Counter},
      {"gsoc_build_info", MetricType::Gauge},
  };
  for (const auto& [name, type] : expected) {
    const MetricFamily* family = FindFamily(families, name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_FALSE(family->help.empty()) << name;
  }
  EXPECT_EQ(families.size(), expected.size());

  // One series per label combination, with exactly these label names.
  const MetricFamily& received = *FindFamily(families, "gsoc_events_received_total");
  EXPECT_EQ(received.metric.size(), 2u * 3);
  for (const auto& metric : received.metric) {
    const auto labels = Labels(metric);
    EXPECT_EQ(labels.size(), 2u);
    EXPECT_TRUE(labels.count("listener"));
    EXPECT_TRUE(labels.count("agency"));
  }
  EXPECT_EQ(FindFamily(families, "gsoc_bytes_received_total")->metric.size(), 2u);
  EXPECT_EQ(FindFamily(families, "gsoc_connections")->metric.size(), 2u);
  EXPECT_EQ(FindFamily(families, "gsoc_event_times_ahead_total")->metric.size(), 2u);
  EXPECT_EQ(FindFamily(families, "gsoc_events_discarded_total")->metric.size(),
            2u * size_t(DiscardReason::kCount));
  EXPECT_EQ(FindFamily(families, "gsoc_parse_errors_total")->metric.size(),
            2u * size_t(ParseFormat::kCount));
  EXPECT_EQ(FindFamily(families, "gsoc_connections_rejected_total")->metric.size(),
            2u * size_t(RejectReason::kCount));
  EXPECT_EQ(FindFamily(families, "gsoc_connections_closed_total")->metric.size(),
            2u * size_t(CloseReason::kCount));
  const MetricFamily& build = *FindFamily(families, "gsoc_build_info");
  ASSERT_EQ(build.metric.size(), 1u);
  EXPECT_EQ(Labels(build.metric[0]).at("version"), GSOC_VERSION);
  EXPECT_EQ(build.metric[0].gauge.value, 1);
}

TEST_F(IngestCollectableTest, ValuesAreSumsOverThreads) {
  Count();
  IngestCollectable collectable(metrics_, {});
  const auto families = collectable.Collect();
  const MetricFamily& received = *FindFamily(families, "gsoc_events_received_total");
  EXPECT_EQ(Value(received, {{"listener", "syslog_tcp"}, {"agency", "mof"}}), 21);
  EXPECT_EQ(Value(received, {{"listener", "syslog_udp"}, {"agency", "moh"}}), 10);
  EXPECT_EQ(Value(received, {{"listener", "syslog_udp"}, {"agency", "unknown"}}), 2);
  EXPECT_EQ(Value(received, {{"listener", "syslog_tcp"}, {"agency", "moh"}}), 0);
  EXPECT_EQ(Value(received, {{"listener", "syslog_udp"}, {"agency", "mof"}}), 0);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_bytes_received_total"), {{"listener", "syslog_tcp"}}),
            2000);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_bytes_received_total"), {{"listener", "syslog_udp"}}),
            0);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_connections"), {{"listener", "syslog_tcp"}}), 3);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_events_discarded_total"),
                  {{"listener", "syslog_udp"}, {"reason", "queue_full"}}),
            14);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_events_discarded_total"),
                  {{"listener", "syslog_udp"}, {"reason", "oversize"}}),
            0);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_parse_errors_total"),
                  {{"listener", "syslog_tcp"}, {"format", "rfc3164"}}),
            4);
  EXPECT_EQ(
      Value(*FindFamily(families, "gsoc_event_times_ahead_total"), {{"listener", "syslog_udp"}}),
      6);
  EXPECT_EQ(
      Value(*FindFamily(families, "gsoc_event_times_ahead_total"), {{"listener", "syslog_tcp"}}),
      0);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_connections_rejected_total"),
                  {{"listener", "syslog_tcp"}, {"reason", "max_connections"}}),
            2);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_connections_closed_total"),
                  {{"listener", "syslog_tcp"}, {"reason", "peer_closed"}}),
            2);
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_events_processed_total"), {}), 200);
  // Values agree with the IngestMetrics sums.
  EXPECT_EQ(Value(received, {{"listener", "syslog_tcp"}, {"agency", "mof"}}),
            double(metrics_.SumEventsReceived(0, 1)));
}

TEST_F(IngestCollectableTest, GaugeSourcesAreReadAtCollect) {
  int reads = 0;
  double depth = 17;
  IngestCollectable collectable(metrics_, {{"gsoc_queue_events", "Events queued", [&] {
                                              ++reads;
                                              return depth;
                                            }}});
  auto families = collectable.Collect();
  const MetricFamily* queue = FindFamily(families, "gsoc_queue_events");
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queue->type, MetricType::Gauge);
  EXPECT_EQ(queue->help, "Events queued");
  EXPECT_EQ(Value(*queue, {}), 17);
  depth = 5;
  families = collectable.Collect();
  EXPECT_EQ(Value(*FindFamily(families, "gsoc_queue_events"), {}), 5);
  EXPECT_EQ(reads, 2);
}

TEST_F(IngestCollectableTest, TextExposition) {
  Count();
  IngestCollectable collectable(metrics_,
                                {{"gsoc_queue_events", "Events queued", [] { return 3.0; }}});
  const std::string text = prometheus::TextSerializer().Serialize(collectable.Collect());
  EXPECT_THAT(text, HasSubstr("# TYPE gsoc_events_received_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# HELP gsoc_events_received_total "));
  EXPECT_THAT(
      text, HasSubstr("\ngsoc_events_received_total{listener=\"syslog_tcp\",agency=\"mof\"} 21\n"));
  EXPECT_THAT(
      text, HasSubstr("\ngsoc_events_received_total{listener=\"syslog_udp\",agency=\"moh\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_bytes_received_total{listener=\"syslog_tcp\"} 2000\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE gsoc_connections gauge\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_connections{listener=\"syslog_tcp\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_events_discarded_total{listener=\"syslog_udp\",reason="
                              "\"queue_full\"} 14\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_parse_errors_total{listener=\"syslog_tcp\",format="
                              "\"rfc3164\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_connections_rejected_total{listener=\"syslog_tcp\",reason="
                              "\"max_connections\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_connections_closed_total{listener=\"syslog_udp\",reason="
                              "\"shutdown\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_events_processed_total 200\n"));
  EXPECT_THAT(text, HasSubstr("\ngsoc_queue_events 3\n"));
  EXPECT_THAT(text, HasSubstr("gsoc_build_info{version=\"" GSOC_VERSION "\"} 1\n"));
}

TEST(MetricsServerTest, ServesOnAnEphemeralPortAndRefusesABusyOne) {
  IngestMetrics metrics({"l"}, {"unknown"});
  MetricsServer server("127.0.0.1", 0);
  EXPECT_NE(server.port(), 0);
  server.Register(std::make_shared<IngestCollectable>(metrics, std::vector<GaugeSource>{}));
  EXPECT_THROW(MetricsServer("127.0.0.1", server.port()), std::runtime_error);
}

// --- the endpoint under slow and idle clients ---------------------------------

int Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// True when the server closes `fd` within `timeout`.
bool ClosedWithin(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return true;
  }
  return false;
}

constexpr std::string_view kScrape =
    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

// The reply to a request already sent on `fd` (Connection: close).
std::string ReadReply(int fd) {
  std::string reply;
  char buffer[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  return reply;
}

// One GET /metrics; the status (0: none) and the time it took.
std::pair<int, std::chrono::milliseconds> Scrape(uint16_t port) {
  const auto start = std::chrono::steady_clock::now();
  const int fd = Connect(port);
  ::send(fd, kScrape.data(), kScrape.size(), MSG_NOSIGNAL);
  const std::string reply = ReadReply(fd);
  ::close(fd);
  const int status = reply.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(reply.c_str() + 9) : 0;
  return {status, std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)};
}

TEST(MetricsServerTest, PartialRequestsNeitherBlockScrapesNorStay) {
  MetricsServerOptions options;
  options.port = 0;
  options.request_timeout = std::chrono::milliseconds(500);
  MetricsServer server(options);
  std::vector<int> partial;
  for (int i = 0; i < 8; ++i) {
    partial.push_back(Connect(server.port()));
    const std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\n";  // never finished
    ::send(partial.back(), head.data(), head.size(), MSG_NOSIGNAL);
  }
  for (int i = 0; i < 10; ++i) {
    const auto [status, took] = Scrape(server.port());
    EXPECT_EQ(status, 200);
    EXPECT_LT(took, std::chrono::milliseconds(1000));
  }
  for (int fd : partial) {
    EXPECT_TRUE(ClosedWithin(fd, std::chrono::seconds(3)));
    ::close(fd);
  }
  const auto [status, took] = Scrape(server.port());
  EXPECT_EQ(status, 200);
}

TEST(MetricsServerTest, AtTheLimitTheOldestWaitingConnectionMakesRoom) {
  MetricsServerOptions options;
  options.port = 0;
  options.max_connections = 4;
  MetricsServer server(options);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(Connect(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto [status, took] = Scrape(server.port());
  EXPECT_EQ(status, 200);
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  EXPECT_TRUE(ClosedWithin(idle.front(), std::chrono::seconds(2)));
  for (int fd : idle) ::close(fd);
}

// Counts its collections; each takes `delay` (a slow scrape, as under ASan).
class SlowCollectable : public prometheus::Collectable {
 public:
  explicit SlowCollectable(std::chrono::milliseconds delay) : delay_(delay) {}
  std::vector<MetricFamily> Collect() const override {
    std::this_thread::sleep_for(delay_);
    const uint64_t n = collections.fetch_add(1) + 1;
    return {GaugeSample("test_collections", "Collections so far", n),
            GaugeSample("test_value", "Set by the test", value.load())};
  }
  mutable std::atomic<uint64_t> collections{0};
  std::atomic<uint64_t> value{0};

 private:
  std::chrono::milliseconds delay_;
};

// A flood of scrapes shares collections: 24 scrapes sent at once on open
// connections are all answered, by two or three collections, not 24.
TEST(MetricsServerTest, ScrapesThatWaitTogetherShareOneCollection) {
  MetricsServerOptions options;
  options.port = 0;
  MetricsServer server(options);
  auto slow = std::make_shared<SlowCollectable>(std::chrono::milliseconds(200));
  server.Register(slow);
  std::vector<int> fds;
  for (int i = 0; i < 24; ++i) fds.push_back(Connect(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted
  const uint64_t before = slow->collections.load();
  for (int fd : fds) ::send(fd, kScrape.data(), kScrape.size(), MSG_NOSIGNAL);
  for (int fd : fds) {
    const std::string reply = ReadReply(fd);
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply.substr(0, 200);
    EXPECT_THAT(reply, HasSubstr("\ntest_collections "));
    ::close(fd);
  }
  EXPECT_LE(slow->collections.load() - before, 3u);
}

// Shared or not, a reply never holds values from before its request.
TEST(MetricsServerTest, AScrapeSeesWhatChangedBeforeItsRequest) {
  MetricsServerOptions options;
  options.port = 0;
  MetricsServer server(options);
  auto slow = std::make_shared<SlowCollectable>(std::chrono::milliseconds(0));
  server.Register(slow);
  for (uint64_t i = 1; i <= 20; ++i) {
    slow->value = i;
    const int fd = Connect(server.port());
    ::send(fd, kScrape.data(), kScrape.size(), MSG_NOSIGNAL);
    EXPECT_THAT(ReadReply(fd), HasSubstr("\ntest_value " + std::to_string(i) + "\n"));
    ::close(fd);
  }
}

TEST(MetricsServerTest, StopReturnsPromptlyWithClientsConnected) {
  auto server = std::make_unique<MetricsServer>("127.0.0.1", 0);
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(Connect(server->port()));
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  server.reset();  // Stop again: idempotent; every connection is closed by now
  for (int fd : clients) {
    EXPECT_TRUE(ClosedWithin(fd, std::chrono::seconds(1)));
    ::close(fd);
  }
}

}  // namespace
}  // namespace gsoc
