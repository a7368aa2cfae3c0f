// Hostile senders against the TCP listener (issue 11, finding 7): 4,200
// connections from distinct 127.x.y.z addresses sending one byte each. A
// connection keeps only its partial message (no 128 KiB read buffer each),
// the memory comes back when they close, one agency cannot take every slot,
// and a connection that sends no complete message is closed after
// first_message_timeout. And frames, which the listener parses where it
// read them in the batch's arena, arrive whole however reads split them; a
// read of tiny lines fills batches of at most batch_events, and what waits
// in the tail survives a stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "collectors/listener/listener.h"
#include "tests/util/resident_memory.h"
#include "tests/util/sanitizer.h"

namespace gsoc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr size_t kSanitizerSlack = test::kSanitizerRssSlack;

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A TCP connection to 127.0.0.1:port from `source` (any port); -1 on failure.
int ConnectFrom(const std::string& source, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// 127.<agency_octet>.x.y, distinct for i < 64,000.
std::string Address(int agency_octet, int i) {
  return "127." + std::to_string(agency_octet) + "." + std::to_string(i / 250) + "." +
         std::to_string(i % 250 + 1);
}

// True when the peer has closed fd (EOF or reset) within `timeout`.
bool PeerClosed(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// A syslog TCP listener with two agencies (a: 127.1.0.0/16, b:
// 127.2.0.0/16), an io thread and a consumer that drains the queue.
class ListenerHarness {
 public:
  // `keep_raw`: the consumer keeps every event's raw bytes (raws()).
  explicit ListenerHarness(ListenerConfig config, bool keep_raw = false, bool defer_json = false,
                           size_t queue_events = 1 << 20)
      : agencies_({{"a", {*Cidr::Parse("127.1.0.0/16")}}, {"b", {*Cidr::Parse("127.2.0.0/16")}}},
                  false),
        metrics_({"tcp"}, agencies_.names()),
        queue_(queue_events, pool_) {
    config.name = "tcp";
    config.address = "127.0.0.1";
    config.port = 0;
    ListenerContext context;
    context.config = config;
    context.agencies = &agencies_;
    context.metrics = &metrics_;
    context.input = &queue_;
    context.defer_json_parse = defer_json;
    listener_ = MakeListener(io_, std::move(context));
    listener_->Start();
    io_thread_ = std::thread([this] { io_.run(); });
    consumer_ = std::thread([this, keep_raw] {
      for (;;) {
        while (held_) std::this_thread::sleep_for(1ms);
        BatchPtr batch = queue_.Pop();
        if (!batch) break;
        largest_batch_ = std::max<uint64_t>(largest_batch_, batch->size());
        if (keep_raw) {
          std::lock_guard lock(raws_mutex_);
          for (const Event& event : batch->events()) raws_.emplace_back(event.raw);
        }
        events_ += batch->size();
        pool_.Release(std::move(batch));
      }
    });
  }
  ~ListenerHarness() {
    held_ = false;
    listener_->Stop();
    WaitFor([&] { return metrics_.Connections(0) == 0; }, 10s);
    work_.reset();
    io_.stop();
    io_thread_.join();
    queue_.Close();
    consumer_.join();
  }

  uint16_t port() const { return listener_->port(); }

  // One connection sends `message` (a complete frame) and closes, so that
  // thread buffers and a batch exist before a baseline is taken.
  void WarmUp(const std::string& message) {
    const int fd = ConnectFrom("127.1.255.1", port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, message.data(), message.size(), 0), static_cast<ssize_t>(message.size()));
    ASSERT_TRUE(WaitFor([&] { return events() == 1; }, 10s));
    ::close(fd);
    ASSERT_TRUE(WaitFor([&] { return metrics_.Connections(0) == 0; }, 10s));
  }

  // n connections from distinct addresses of agency a, each sending `data`.
  void Open(int n, const std::string& data, std::vector<int>* fds) {
    for (int i = 0; i < n; ++i) {
      const int fd = ConnectFrom(Address(1, i), port());
      ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
      fds->push_back(fd);
      ASSERT_EQ(::send(fd, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
    }
  }

  IngestMetrics& metrics() { return metrics_; }
  uint64_t events() const { return events_; }
  uint64_t largest_batch() const { return largest_batch_; }
  // While held, the consumer takes nothing: the queue fills.
  void Hold(bool held) { held_ = held; }
  void StopListener() { listener_->Stop(); }
  std::vector<std::string> raws() const {
    std::lock_guard lock(raws_mutex_);
    return raws_;
  }

 private:
  AgencyTable agencies_;
  IngestMetrics metrics_;
  BatchPool pool_{1024, 8u << 20};  // idle batches: at most 8 MiB, not counted as the listener's
  BatchQueue queue_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<Listener> listener_;
  std::thread io_thread_;
  std::thread consumer_;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> largest_batch_{0};
  std::atomic<bool> held_{false};
  mutable std::mutex raws_mutex_;
  std::vector<std::string> raws_;
};

void RaiseFileLimit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min(std::max(limit.rlim_cur, wanted), limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

TEST(TcpLimitsTest, ManyOneByteConnectionsCostLittleMemoryAndGiveItBack) {
  constexpr int kConnections = 4200;
  RaiseFileLimit(2 * kConnections + 200);
  ListenerConfig config;
  config.type = "syslog_tcp";
  config.max_connections = 5000;
  config.max_connections_per_agency = 5000;
  config.first_message_timeout = 600s;
  ListenerHarness harness(config);
  ASSERT_NO_FATAL_FAILURE(harness.WarmUp("<13>warm up\n"));
  const size_t baseline = gsoc::test::ResidentBytes();
  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(harness.Open(kConnections, "<", &fds));
  ASSERT_TRUE(
      WaitFor([&] { return harness.metrics().SumBytesReceived(0) == 12u + kConnections; }, 60s))
      << harness.metrics().SumBytesReceived(0);
  EXPECT_EQ(harness.metrics().Connections(0), kConnections);
  const size_t open_rss = gsoc::test::ResidentBytes();
  std::printf("4,200 one-byte connections: RSS +%.1f MiB (baseline %.1f MiB)\n",
              (open_rss - baseline) / 1048576.0, baseline / 1048576.0);
  // The review saw +527 MB (a 128 KiB buffer each); what is left is the
  // sessions, sockets' user-space state and the 1-byte tails.
  EXPECT_LT(open_rss - baseline, (24u << 20) + kSanitizerSlack);

  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(WaitFor([&] { return harness.metrics().Connections(0) == 0; }, 60s));
  const size_t closed_rss = gsoc::test::ResidentBytes();
  std::printf("after they closed: RSS +%.1f MiB\n", (closed_rss - baseline) / 1048576.0);
  EXPECT_LT(closed_rss - baseline, (32u << 20) + kSanitizerSlack);  // the review: +577 MB
}

TEST(TcpLimitsTest, JsonConnectionsDoNotEachKeepAParser) {
  // simdjson keeps buffers sized to the largest line it parsed: one parser
  // per connection made every 60 KB line cost ~0.5 MB for as long as the
  // connection stayed open.
  constexpr int kConnections = 300;
  RaiseFileLimit(2 * kConnections + 200);
  ListenerConfig config;
  config.type = "json_tcp";
  config.first_message_timeout = 600s;
  ListenerHarness harness(config);
  const std::string line = "{\"message\":\"" + std::string(60'000, 'x') + "\"}\n";
  ASSERT_NO_FATAL_FAILURE(harness.WarmUp(line));
  const size_t baseline = gsoc::test::ResidentBytes();
  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(harness.Open(kConnections, line, &fds));
  ASSERT_TRUE(WaitFor([&] { return harness.events() == 1u + kConnections; }, 60s));
  const size_t open_rss = gsoc::test::ResidentBytes();
  std::printf("%d JSON connections after a 60 KB line each: RSS +%.1f MiB\n", kConnections,
              (open_rss - baseline) / 1048576.0);
  EXPECT_LT(open_rss - baseline, (24u << 20) + kSanitizerSlack);
  for (int fd : fds) ::close(fd);
}

TEST(TcpLimitsTest, OneAgencyCannotTakeEverySlot) {
  RaiseFileLimit(1000);
  ListenerConfig config;
  config.type = "syslog_tcp";
  config.max_connections = 200;
  config.max_connections_per_agency = 50;
  ListenerHarness harness(config);
  std::vector<int> fds;
  for (int i = 0; i < 80; ++i) fds.push_back(ConnectFrom(Address(1, i), harness.port()));
  ASSERT_TRUE(WaitFor(
      [&] {
        return harness.metrics().SumRejected(0, RejectReason::kMaxConnectionsPerAgency) == 30;
      },
      10s));
  EXPECT_EQ(harness.metrics().Connections(0), 50);
  // Another agency still gets in.
  for (int i = 0; i < 10; ++i) {
    const int fd = ConnectFrom(Address(2, i), harness.port());
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  ASSERT_TRUE(WaitFor([&] { return harness.metrics().Connections(0) == 60; }, 10s));
  EXPECT_EQ(harness.metrics().SumRejected(0, RejectReason::kMaxConnectionsPerAgency), 30u);
  for (int fd : fds) ::close(fd);
}

TEST(TcpLimitsTest, PartialFirstMessageIsClosedAfterFirstMessageTimeout) {
  ListenerConfig config;
  config.type = "syslog_tcp";
  config.first_message_timeout = 1s;
  config.idle_timeout = 600s;
  ListenerHarness harness(config);
  const auto start = Clock::now();
  const int one_byte = ConnectFrom(Address(1, 1), harness.port());
  const int silent = ConnectFrom(Address(1, 2), harness.port());
  const int sender = ConnectFrom(Address(1, 3), harness.port());
  ASSERT_GE(one_byte, 0);
  ASSERT_GE(silent, 0);
  ASSERT_GE(sender, 0);
  ASSERT_EQ(::send(one_byte, "<", 1, 0), 1);
  ASSERT_EQ(::send(sender, "<13>hello\n<13>and a partial", 27, 0), 27);
  EXPECT_TRUE(PeerClosed(one_byte, 5000ms));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("a connection with 1 byte and no message closed after %.2f s\n", seconds);
  EXPECT_GE(seconds, 0.9);
  // A silent connection (an agent waiting for logs) and one that sent a
  // message are left to idle_timeout.
  EXPECT_FALSE(PeerClosed(silent, 500ms));
  EXPECT_FALSE(PeerClosed(sender, 10ms));
  EXPECT_EQ(harness.metrics().SumClosed(0, CloseReason::kFirstMessageTimeout), 1u);
  EXPECT_EQ(harness.metrics().SumDiscarded(0, DiscardReason::kTruncated), 1u);  // the lone byte
  EXPECT_EQ(harness.events(), 1u);
  EXPECT_EQ(harness.metrics().Connections(0), 2);
  ::close(one_byte);
  ::close(silent);
  ::close(sender);
}

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

// Frames are framed where they were read, in the batch's arena (no copy):
// lines of 1 B to 60 KB, written in pieces of random size (a line split
// over many reads, many lines in one read, tails carried on), arrive byte
// for byte and in order, on each listener kind and JSON parse placement.
// After each 60 KB line come 3,000 tiny ones: a read sized for long lines
// holds more than its batch has room for, and the rest is framed from the
// tail into the next batches.
struct SplitCase {
  const char* name;
  const char* type;
  bool defer_json;
};
void PrintTo(const SplitCase& split, std::ostream* out) { *out << split.name; }
class TcpSplitReadsTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(TcpSplitReadsTest, LinesSplitOverReadsArriveWhole) {
  ListenerConfig config;
  config.type = GetParam().type;
  config.first_message_timeout = 600s;
  ListenerHarness harness(config, /*keep_raw=*/true, GetParam().defer_json);
  const bool json = config.type == "json_tcp";
  std::mt19937 random(7);
  std::vector<std::string> sent;
  std::string stream;
  auto add = [&](int i, size_t length) {
    std::string body(length, static_cast<char>('a' + i % 26));
    std::string line = json ? "{\"n\":" + std::to_string(i) + ",\"m\":\"" + body + "\"}"
                            : "<13>" + std::to_string(i) + " " + body;
    stream += line + "\n";
    sent.push_back(std::move(line));
  };
  for (int i = 0; i < 600; ++i) {
    if (i % 50 != 0) {
      add(i, std::uniform_int_distribution<size_t>(1, 3000)(random));
      continue;
    }
    add(i, 60'000);
    for (int tiny = 0; tiny < 3'000; ++tiny) add(i, 1);
  }
  const int fd = ConnectFrom(Address(1, 1), harness.port());
  ASSERT_GE(fd, 0);
  for (size_t at = 0; at < stream.size();) {
    const size_t piece =
        std::min(stream.size() - at, std::uniform_int_distribution<size_t>(1, 150'000)(random));
    ASSERT_EQ(::send(fd, stream.data() + at, piece, 0), static_cast<ssize_t>(piece));
    at += piece;
    if (random() % 4 == 0) std::this_thread::sleep_for(1ms);  // let a read end here
  }
  ASSERT_TRUE(WaitFor([&] { return harness.events() == sent.size(); }, 30s)) << harness.events();
  const std::vector<std::string> raws = harness.raws();
  ASSERT_EQ(raws.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_TRUE(raws[i] == sent[i]) << "line " << i << ": " << raws[i].size()
                                    << " bytes received for " << sent[i].size() << " sent";
  }
  ::close(fd);
}

// Frames left in the tail are framed without waiting for more bytes: after
// 60 KB lines that make reads of 256 KiB, one burst of 3,000 tiny lines and
// two of 50 KB, then silence, the connection open. One read takes the whole
// burst; the tail left after its batch filled holds tiny lines, then lines
// longer than any prefix sized at the bytes a tiny frame took. A prefix
// holding fewer frames than the batch's room must not end the framing (it
// failed at 1,882 events when it did), and one holding no whole frame must
// be followed by the whole tail (the io thread spun on 2 KiB prefixes, 3,020
// events, when it was not).
TEST(TcpTailTest, ABurstArrivesWholeWhileTheSenderWaits) {
  ListenerConfig config;
  config.type = "syslog_tcp";
  config.first_message_timeout = 600s;
  ListenerHarness harness(config, /*keep_raw=*/true);
  std::vector<std::string> sent;
  std::string stream;
  auto add = [&](size_t length) {
    std::string line = "<13>" + std::to_string(sent.size()) + " " + std::string(length, 'x');
    stream += line + "\n";
    sent.push_back(std::move(line));
  };
  for (int i = 0; i < 3'000; ++i) add(1);
  for (int i = 0; i < 2; ++i) add(50'000);
  const int fd = ConnectFrom(Address(1, 1), harness.port());
  ASSERT_GE(fd, 0);
  // Long lines first, received before the burst: reads grow to 256 KiB and
  // a frame took 60 KB, so the burst's first read holds all its tiny lines.
  std::string warm;
  for (int i = 0; i < 20; ++i) warm += "<13>w " + std::string(60'000, 'w') + "\n";
  ASSERT_EQ(::send(fd, warm.data(), warm.size(), 0), static_cast<ssize_t>(warm.size()));
  ASSERT_TRUE(WaitFor([&] { return harness.events() == 20; }, 10s));
  for (int i = 0; i < 20; ++i) sent.insert(sent.begin(), "<13>w " + std::string(60'000, 'w'));
  ASSERT_EQ(::send(fd, stream.data(), stream.size(), 0), static_cast<ssize_t>(stream.size()));
  EXPECT_TRUE(WaitFor([&] { return harness.events() == sent.size(); }, 10s)) << harness.events();
  const std::vector<std::string> raws = harness.raws();
  ASSERT_EQ(raws.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) ASSERT_TRUE(raws[i] == sent[i]) << "line " << i;
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Kinds, TcpSplitReadsTest,
                         ::testing::Values(SplitCase{"Json", "json_tcp", false},
                                           SplitCase{"JsonDeferred", "json_tcp", true},
                                           SplitCase{"Syslog", "syslog_tcp", false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

// A syslog listener whose queue takes one batch (1,024 events), its
// consumer held: `count` lines (`line`, 2 bytes by default) sent at once
// pile up in the socket.
class TcpBatchBoundTest : public ::testing::Test {
 protected:
  static ListenerConfig Config() {
    ListenerConfig config;
    config.type = "syslog_tcp";
    config.first_message_timeout = 600s;
    return config;
  }
  void SendHeld(size_t count, std::string_view line = "a\n") {
    harness_.Hold(true);
    const std::string lines = [&] {
      std::string out;
      for (size_t i = 0; i < count; ++i) out += line;
      return out;
    }();
    sent_bytes_ = lines.size();
    fd_ = ConnectFrom(Address(1, 1), harness_.port());
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::send(fd_, lines.data(), lines.size(), 0), static_cast<ssize_t>(lines.size()));
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }

  ListenerHarness harness_{Config(), false, false, /*queue_events=*/1024};
  size_t sent_bytes_ = 0;
  int fd_ = -1;
};

// Tiny lines do not make huge batches: a 2-byte line is a 216-byte Event,
// and a 64 KiB read of them was ~32,000 events (~7 MB) in one batch, held
// by the session while the queue is full. A batch now takes at most
// batch_events (1,024) and the rest of the read waits in the tail.
TEST_F(TcpBatchBoundTest, TinyLinesMakeBatchesOfAtMostBatchEvents) {
  // Every read after the first finds its room full of lines.
  ASSERT_NO_FATAL_FAILURE(SendHeld(200'000));
  std::this_thread::sleep_for(100ms);
  harness_.Hold(false);
  ASSERT_TRUE(WaitFor([&] { return harness_.events() == 200'000u; }, 30s)) << harness_.events();
  EXPECT_LE(harness_.largest_batch(), 1024u);
}

// Frames the session had received but not yet framed when the queue was
// full (they wait in its tail) are framed, not dropped as truncated, when
// the listener stops.
TEST_F(TcpBatchBoundTest, FramesWaitingInTheTailSurviveAStopWhileTheQueueIsFull) {
  // A read offers what the batch has room for at the bytes a frame took,
  // but no less than 2 KiB: 3-byte lines overfill a batch's last reads,
  // and the rest waits in the tail. One batch fills the queue, the second
  // waits for room with frames in its tail; the session reads no more.
  constexpr size_t kLine = 3;
  ASSERT_NO_FATAL_FAILURE(SendHeld(3'000, "ab\n"));
  // Until the session has read what it will (it waits for room); a pause
  // of the io thread only makes the stop come earlier, which the counts
  // below allow for.
  size_t seen = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        const size_t before = seen;
        std::this_thread::sleep_for(300ms);
        seen = harness_.metrics().SumBytesReceived(0);
        return seen > 0 && seen == before;
      },
      10s));
  harness_.StopListener();
  harness_.Hold(false);
  ASSERT_TRUE(WaitFor([&] { return harness_.metrics().Connections(0) == 0; }, 10s));
  // Closed: every whole line received arrives; a line cut by the stop is
  // truncated.
  const size_t received = harness_.metrics().SumBytesReceived(0);
  const size_t lines = received / kLine;
  ASSERT_GT(lines, 1024u);
  EXPECT_TRUE(WaitFor([&] { return harness_.events() == lines; }, 30s))
      << harness_.events() << " events for " << lines << " lines received";
  EXPECT_EQ(harness_.metrics().SumDiscarded(0, DiscardReason::kTruncated),
            received % kLine == 0 ? 0u : 1u);
}

}  // namespace
}  // namespace gsoc
