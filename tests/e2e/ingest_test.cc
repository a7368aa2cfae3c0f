// End to end: util-linux logger over every transport and format, and the
// OpenSSH_2k corpus replayed byte for byte.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

constexpr const char* kLogger = "/usr/bin/logger";

const char* kTcpUdpConfig = R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
  - name: udp
    type: syslog_udp
    port: 0
)";

std::string Hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

std::string ShortHostname() {
  std::string name = Hostname();
  return name.substr(0, name.find('.'));
}

// Runs logger with the common options plus `extra`; expects exit 0.
void RunLogger(uint16_t port, std::vector<std::string> extra) {
  std::vector<std::string> argv = {kLogger, "-n", "127.0.0.1", "-P", std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const RunResult result = RunProgram(argv);
  ASSERT_EQ(result.exit_code, 0) << "logger failed:\n" << result.output;
}

const JsonEvent* FindByMessage(const std::vector<JsonEvent>& events, const std::string& message) {
  const JsonEvent* found = nullptr;
  int matches = 0;
  for (const JsonEvent& event : events) {
    if (event.Get("message") == message) {
      found = &event;
      ++matches;
    }
  }
  EXPECT_EQ(matches, 1) << "events with message '" << message << "'";
  return found;
}

struct Expected {
  std::string message;
  std::string listener;
  std::string format;
  std::string program;
  std::string host;
  int facility;
  int severity;
};

void ExpectEvent(const std::vector<JsonEvent>& events, const Expected& want) {
  SCOPED_TRACE("message: " + want.message);
  const JsonEvent* event = FindByMessage(events, want.message);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->Get("listener"), want.listener);
  EXPECT_EQ(event->Get("agency"), "local");
  EXPECT_EQ(event->Get("peer"), "127.0.0.1");
  EXPECT_EQ(event->Get("format"), want.format);
  EXPECT_EQ(event->Get("parse_error"), "false");
  EXPECT_EQ(event->Get("program"), want.program);
  EXPECT_EQ(event->Get("host"), want.host);
  EXPECT_EQ(event->Get("facility"), std::to_string(want.facility));
  EXPECT_EQ(event->Get("severity"), std::to_string(want.severity));
  EXPECT_NE(event->Get("raw").find(want.message), std::string::npos) << event->Get("raw");
}

TEST(E2eLogger, EveryTransportAndFormat) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kTcpUdpConfig}));
  const uint16_t tcp = gsocd.port("tcp");
  const uint16_t udp = gsocd.port("udp");
  const std::string host = Hostname();
  const std::string short_host = ShortHostname();

  // TCP, non-transparent framing (LF), logger's default RFC 5424: 5 lines from a file.
  {
    std::string lines;
    for (int i = 0; i < 5; ++i) lines += "tcp lf line " + std::to_string(i) + "\n";
    WriteFile(gsocd.dir() / "lf.txt", lines);
    RunLogger(tcp, {"-T", "-t", "tcp_lf", "-p", "local3.warning", "-f",
                    (gsocd.dir() / "lf.txt").string()});
  }
  // TCP, octet counting (RFC 6587): 5 lines, with a pid.
  {
    std::string lines;
    for (int i = 0; i < 5; ++i) lines += "tcp octet line " + std::to_string(i) + "\n";
    WriteFile(gsocd.dir() / "octet.txt", lines);
    RunLogger(tcp, {"-T", "--octet-count", "--id=4242", "-t", "tcp_octet", "-p", "auth.err", "-f",
                    (gsocd.dir() / "octet.txt").string()});
  }
  // TCP, explicit --rfc5424 with MSGID and structured data; UTF-8 text.
  RunLogger(tcp, {"-T", "--rfc5424", "--msgid", "LOGIN", "--sd-id", "origin@32473", "--sd-param",
                  "user=\"alice\"", "-t", "tcp_5424", "-p", "local7.info",
                  "rfc5424 h\xc3\xa9llo w\xc3\xb6rld"});
  // TCP, --rfc3164: 3 messages.
  for (int i = 0; i < 3; ++i) {
    RunLogger(tcp, {"-T", "--rfc3164", "-t", "tcp_3164", "-p", "user.notice",
                    "rfc3164 message " + std::to_string(i)});
  }
  // UDP (-d): two in the default RFC 5424, two in RFC 3164.
  RunLogger(udp, {"-d", "-t", "udp_5424", "-p", "daemon.crit", "udp default 0"});
  RunLogger(udp, {"-d", "-t", "udp_5424", "-p", "daemon.crit", "udp default 1"});
  RunLogger(udp, {"-d", "--rfc3164", "-t", "udp_3164", "-p", "mail.debug", "udp 3164 0"});
  RunLogger(udp, {"-d", "--rfc3164", "-t", "udp_3164", "-p", "mail.debug", "udp 3164 1"});

  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 18)) << gsocd.Scrape();
  EXPECT_EQ(gsocd.WaitEventLines(18), 18u);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}, {"agency", "local"}}),
            14);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "udp"}, {"agency", "local"}}),
            4);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"agency", "unknown"}}), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 0);
  // Each logger run is one connection, closed by the peer.
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "peer_closed"}}, 6));
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tcp"}}), 0);

  const std::vector<JsonEvent> events = gsocd.Events();
  ASSERT_EQ(events.size(), 18u);
  for (int i = 0; i < 5; ++i) {
    ExpectEvent(events,
                {"tcp lf line " + std::to_string(i), "tcp", "rfc5424", "tcp_lf", host, 19, 4});
    ExpectEvent(events,
                {"tcp octet line " + std::to_string(i), "tcp", "rfc5424", "tcp_octet", host, 4, 3});
    const JsonEvent* octet = FindByMessage(events, "tcp octet line " + std::to_string(i));
    if (octet) {
      EXPECT_EQ(octet->Get("pid"), "4242");
    }
  }
  ExpectEvent(events,
              {"rfc5424 h\xc3\xa9llo w\xc3\xb6rld", "tcp", "rfc5424", "tcp_5424", host, 23, 6});
  if (const JsonEvent* e = FindByMessage(events, "rfc5424 h\xc3\xa9llo w\xc3\xb6rld")) {
    EXPECT_EQ(e->Get("msgid"), "LOGIN");
    EXPECT_EQ(e->Get("fields.sd.origin@32473.user"), "alice");
    EXPECT_NE(e->Get("structured_data").find("[origin@32473 user=\"alice\"]"), std::string::npos)
        << e->Get("structured_data");
  }
  for (int i = 0; i < 3; ++i) {
    ExpectEvent(events, {"rfc3164 message " + std::to_string(i), "tcp", "rfc3164", "tcp_3164",
                         short_host, 1, 5});
  }
  for (int i = 0; i < 2; ++i) {
    ExpectEvent(events,
                {"udp default " + std::to_string(i), "udp", "rfc5424", "udp_5424", host, 3, 2});
    ExpectEvent(events,
                {"udp 3164 " + std::to_string(i), "udp", "rfc3164", "udp_3164", short_host, 2, 7});
  }
  EXPECT_EQ(gsocd.Stop(), 0) << gsocd.Stderr();
}

// The loghub OpenSSH_2k sample: CRLF line ends, no final newline, no PRI.
TEST(E2eReplay, OpenSsh2kOverOneConnection) {
  const std::string corpus = ReadFile(GSOC_CORPUS_DIR "/loghub/OpenSSH/OpenSSH_2k.log");
  ASSERT_FALSE(corpus.empty()) << "missing " GSOC_CORPUS_DIR "/loghub/OpenSSH/OpenSSH_2k.log";
  ASSERT_NE(corpus.back(), '\n');
  std::vector<std::string> expected;
  size_t crlf = 0;
  for (std::string line : SplitLines(corpus)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
      ++crlf;
    }
    expected.push_back(line);
  }
  ASSERT_EQ(expected.size(), 2000u);
  ASSERT_EQ(crlf, 1999u);  // the input really is CRLF (the last line has no end)

  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kTcpUdpConfig}));
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), corpus));
  }  // closed: the last line has no trailer and ends with the connection
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2000)) << gsocd.Scrape();
  EXPECT_EQ(gsocd.WaitEventLines(2000), 2000u);
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "peer_closed"}}, 1));
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}, {"agency", "local"}}),
            2000);
  EXPECT_EQ(gsocd.Metric("gsoc_bytes_received_total", {{"listener", "tcp"}}),
            static_cast<double>(corpus.size()));
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total"), 0);
  EXPECT_EQ(gsocd.Stop(), 0);

  const std::vector<JsonEvent> events = gsocd.Events();
  ASSERT_EQ(events.size(), 2000u);
  std::vector<std::string> raws;
  int with_cr = 0;
  for (const JsonEvent& event : events) {
    const std::string raw = event.Get("raw");
    if (!raw.empty() && raw.back() == '\r') ++with_cr;
    raws.push_back(raw);
    EXPECT_EQ(event.Get("format"), "rfc3164") << raw;
    EXPECT_EQ(event.Get("host"), "LabSZ") << raw;
    EXPECT_EQ(event.Get("program"), "sshd") << raw;
    EXPECT_TRUE(event.Has("pid")) << raw;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_EQ(with_cr, 0);
  std::sort(raws.begin(), raws.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_TRUE(raws == expected) << "raw texts differ from the corpus lines";
}

}  // namespace
}  // namespace gsoc::e2e
