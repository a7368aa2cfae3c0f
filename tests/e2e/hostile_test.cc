// End to end: hostile and broken input against a running gsocd. After each,
// gsocd must still be up and accept a normal message, and must have counted
// what happened under the documented metric and reason.
#include <gtest/gtest.h>

#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

const char* kConfig = R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
  - name: udp
    type: syslog_udp
    port: 0
)";

const std::string kNormal = "<13>Jan  1 00:00:00 host prog: normal after hostile\n";

// Sends `data` on a new TCP connection, then closes it.
bool SendOnce(Gsocd& gsocd, const std::string& data) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  return SendAll(fd.get(), data);
}

// Sends one normal message on a new connection and waits until it is processed.
void ExpectStillAlive(Gsocd& gsocd, const std::string& message = kNormal) {
  ASSERT_TRUE(gsocd.running()) << "gsocd died:\n" << gsocd.Stderr();
  const std::string text = gsocd.Scrape();
  const double before = FindMetric(text, "gsoc_events_processed_total").value_or(-1);
  ASSERT_GE(before, 0) << text;
  ASSERT_TRUE(SendOnce(gsocd, message));
  // At least: an event the hostile input produced may be processed with it.
  EXPECT_TRUE(gsocd.WaitMetricAtLeast("gsoc_events_processed_total", {}, before + 1))
      << "a normal message after the hostile input was not processed\n"
      << gsocd.Scrape();
}

// Sends `data` on a new connection and expects gsocd to close it.
void SendExpectClosed(Gsocd& gsocd, const std::string& data) {
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  ASSERT_GE(fd.get(), 0);
  SendAll(fd.get(), data);  // may fail part way once gsocd closes
  EXPECT_TRUE(WaitPeerClosed(fd.get(), Scaled(5s))) << "gsocd kept the connection open";
}

double Closed(Gsocd& gsocd, const std::string& reason) {
  return gsocd.Metric("gsoc_connections_closed_total", {{"listener", "tcp"}, {"reason", reason}});
}

TEST(E2eHostile, OctetCountWithThousandsOfLeadingZeros) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  // A good frame first: it is handed on before the connection is closed.
  SendExpectClosed(gsocd, "<13>Jan  1 00:00:00 host prog: before the bad count\n" +
                              std::string(5000, '0') + "12 <13>hi there");
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "bad_octet_count"}}, 1));
  EXPECT_EQ(gsocd.WaitEventLines(1), 1u);
  // A zero count is bad too.
  SendExpectClosed(gsocd, "0 <13>x");
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "bad_octet_count"}}, 2));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}}), 2);
  EXPECT_EQ(Closed(gsocd, "octet_count_too_large"), 0);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].Get("message"), "before the bad count");
}

TEST(E2eHostile, OctetCountOverMaxMessageSize) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
    max_message_size: 1024
)"}));
  SendExpectClosed(gsocd, "1025 <13>" + std::string(1020, 'x'));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "octet_count_too_large"}}, 1));
  SendExpectClosed(gsocd, "9999999999 <13>x");
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "octet_count_too_large"}}, 2));
  EXPECT_EQ(Closed(gsocd, "bad_octet_count"), 0);
  // Exactly max_message_size is fine.
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    const std::string body = "<13>Jan  1 00:00:00 host prog: " + std::string(1024 - 31, 'y');
    ASSERT_EQ(body.size(), 1024u);
    ASSERT_TRUE(SendAll(fd.get(), "1024 " + body));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}}), 2);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eHostile, OutOfRangePriIsKeptUnparsed) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  const std::string huge = "<44444444444444444444>Jan  1 00:00:00 host prog: huge pri";
  const std::string over = "<192>Jan  1 00:00:00 host prog: pri 192";
  ASSERT_TRUE(SendOnce(gsocd, huge + "\n" + over + "\n"));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2));
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total", {{"listener", "tcp"}, {"format", "rfc3164"}}),
            2);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total", {{"format", "rfc5424"}}), 0);
  // The same over UDP.
  {
    Fd udp(UdpSocket());
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), over));
  }
  EXPECT_TRUE(
      gsocd.WaitMetric("gsoc_parse_errors_total", {{"listener", "udp"}, {"format", "rfc3164"}}, 1));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 4u);
  int unparsed = 0;
  for (const auto& event : events) {
    if (event.Get("parse_error") != "true") continue;
    ++unparsed;
    EXPECT_EQ(event.Get("format"), "unparsed");
    EXPECT_EQ(event.Get("message"), event.Get("raw"));
    EXPECT_FALSE(event.Has("facility"));
    EXPECT_FALSE(event.Has("severity"));
    EXPECT_TRUE(event.Get("raw") == huge || event.Get("raw") == over) << event.Get("raw");
  }
  EXPECT_EQ(unparsed, 3);
}

// A sender's clock days ahead must not move event time (correlation
// windows, per-source watermarks): the receive time is used, and each such
// message is counted under its listener, over TCP and UDP alike.
TEST(E2eHostile, MessageTimesFarAheadAreReplacedAndCounted) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  const std::string ahead = "<13>1 2099-01-01T00:00:00Z host prog - - - from the future";
  const std::string past = "<13>1 2023-11-14T22:13:20Z host prog - - - from the past";
  ASSERT_TRUE(SendOnce(gsocd, ahead + "\n" + past + "\n" + ahead + "\n"));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_event_times_ahead_total", {{"listener", "tcp"}}, 2));
  {
    Fd udp(UdpSocket());
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), ahead));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_event_times_ahead_total", {{"listener", "udp"}}, 1));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 4));
  EXPECT_EQ(gsocd.Metric("gsoc_event_times_ahead_total", {{"listener", "tcp"}}), 2);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total"), 0);
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 5u);
  int replaced = 0;
  for (const auto& event : events) {
    if (event.Get("raw") == ahead) {
      ++replaced;
      EXPECT_EQ(event.Get("time"), event.Get("receive_time"));
    } else if (event.Get("raw") == past) {
      EXPECT_EQ(event.Get("time").substr(0, 19), "2023-11-14T22:13:20");  // behind: kept
    }
  }
  EXPECT_EQ(replaced, 3);
}

TEST(E2eHostile, TruncatedStructuredDataIsKeptUnparsed) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  const std::string truncated =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Appli";
  ASSERT_TRUE(SendOnce(gsocd, truncated + "\n"));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total", {{"listener", "tcp"}, {"format", "rfc5424"}}),
            1);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total", {{"format", "rfc3164"}}), 0);
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].Get("raw"), truncated);
  EXPECT_EQ(events[0].Get("message"), truncated);
  EXPECT_EQ(events[0].Get("format"), "unparsed");
  EXPECT_EQ(events[0].Get("parse_error"), "true");
}

TEST(E2eHostile, InvalidUtf8KeepsTheEventsFileValidJson) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  const std::string bad = "<13>Jan  1 00:00:00 host prog: bad \xff\xfe\xc3\x28 \xed\xa0\x80 bytes";
  ASSERT_TRUE(SendOnce(gsocd, bad + "\n"));
  {
    Fd udp(UdpSocket());
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), bad));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
  // simdjson validates UTF-8: every line must parse.
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 3u);
  const std::string fffd = "\xef\xbf\xbd";
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(events[i].parse_ok);
    EXPECT_EQ(events[i].Get("format"), "rfc3164");
    EXPECT_EQ(events[i].Get("program"), "prog");
    EXPECT_EQ(events[i].Get("message"),
              "bad " + fffd + fffd + fffd + "( " + fffd + fffd + fffd + " bytes");
  }
}

TEST(E2eHostile, TenMegabyteLineIsDiscardedAndTheNextLineArrives) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({kConfig}));
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), "<13>Jan  1 00:00:00 host prog: " + std::string(10 << 20, 'A')));
    ASSERT_TRUE(SendAll(fd.get(), "\n<13>Jan  1 00:00:00 host prog: after the big one\n"));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "peer_closed"}}, 1));
  EXPECT_EQ(
      gsocd.Metric("gsoc_events_discarded_total", {{"listener", "tcp"}, {"reason", "oversize"}}),
      1);
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 1);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total"), 1);
  EXPECT_GE(gsocd.Metric("gsoc_bytes_received_total", {{"listener", "tcp"}}), 10 << 20);
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].Get("message"), "after the big one");
}

TEST(E2eHostile, OversizeUdpDatagramIsDiscarded) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
  - name: udp
    type: syslog_udp
    port: 0
    max_message_size: 1024
)"}));
  {
    Fd udp(UdpSocket());
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), "<13>" + std::string(2000, 'u')));
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), "<13>Jan  1 00:00:00 host prog: small"));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_discarded_total",
                               {{"listener", "udp"}, {"reason", "oversize"}}, 1));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eHostile, PeerOutsideEveryAgencyIsRefused) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(agencies:
  - name: local
    cidrs: [127.0.0.1/32, 127.0.0.3/32]
listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
  - name: udp
    type: syslog_udp
    port: 0
)"}));
  {
    Fd fd(ConnectTcp(gsocd.port("tcp"), "127.0.0.2"));
    ASSERT_GE(fd.get(), 0);
    SendAll(fd.get(), "<13>Jan  1 00:00:00 host prog: from outside\n");
    EXPECT_TRUE(WaitPeerClosed(fd.get(), Scaled(5s)));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_rejected_total",
                               {{"listener", "tcp"}, {"reason", "unknown_agency"}}, 1));
  {
    Fd udp(UdpSocket("127.0.0.2"));
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), "<13>Jan  1 00:00:00 host prog: udp out"));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_discarded_total",
                               {{"listener", "udp"}, {"reason", "unknown_agency"}}, 1));
  // 127.0.0.3 is inside.
  {
    Fd udp(UdpSocket("127.0.0.3"));
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), "<13>Jan  1 00:00:00 host prog: udp in"));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"agency", "unknown"}}), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"agency", "local"}}), 2);
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tcp"}}), 0);
  EXPECT_EQ(gsocd.Stop(), 0);
  for (const auto& event : gsocd.Events()) {
    EXPECT_NE(event.Get("peer"), "127.0.0.2");
    EXPECT_EQ(event.Get("agency"), "local");
  }
}

// True if gsocd has not closed the connection within `wait`.
bool StillOpen(int fd, std::chrono::milliseconds wait) { return !WaitPeerClosed(fd, wait); }

TEST(E2eHostile, ConnectionLimits) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
    max_connections: 3
    max_connections_per_peer: 2
)"}));
  const uint16_t port = gsocd.port("tcp");
  Fd a1(ConnectTcp(port, "127.0.0.1"));
  Fd a2(ConnectTcp(port, "127.0.0.1"));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, 2));
  {
    Fd a3(ConnectTcp(port, "127.0.0.1"));
    EXPECT_TRUE(WaitPeerClosed(a3.get(), Scaled(5s)));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_rejected_total",
                               {{"listener", "tcp"}, {"reason", "max_connections_per_peer"}}, 1));
  Fd b1(ConnectTcp(port, "127.0.0.2"));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, 3));
  {
    Fd c1(ConnectTcp(port, "127.0.0.3"));
    EXPECT_TRUE(WaitPeerClosed(c1.get(), Scaled(5s)));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_rejected_total",
                               {{"listener", "tcp"}, {"reason", "max_connections"}}, 1));
  EXPECT_EQ(gsocd.Metric("gsoc_connections_rejected_total",
                         {{"listener", "tcp"}, {"reason", "max_connections_per_peer"}}),
            1);
  EXPECT_TRUE(StillOpen(a1.get(), 200ms));
  EXPECT_TRUE(StillOpen(b1.get(), 10ms));
  // The accepted connections work.
  ASSERT_TRUE(SendAll(a1.get(), "<13>Jan  1 00:00:00 host prog: a1\n"));
  ASSERT_TRUE(SendAll(b1.get(), "<13>Jan  1 00:00:00 host prog: b1\n"));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2));
  // Closing one frees a slot.
  a1.Close();
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, 2));
  Fd c2(ConnectTcp(port, "127.0.0.3"));
  ASSERT_TRUE(SendAll(c2.get(), "<13>Jan  1 00:00:00 host prog: c2\n"));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 3));
  EXPECT_TRUE(StillOpen(c2.get(), 100ms));
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tcp"}}), 3);
  EXPECT_EQ(gsocd.Metric("gsoc_connections_rejected_total"), 2);
  c2.Close();
  b1.Close();
  a2.Close();
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections", {{"listener", "tcp"}}, 0));
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST(E2eHostile, IdleTimeout) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
    idle_timeout: 1s
)"}));
  const uint16_t port = gsocd.port("tcp");
  Fd idle(ConnectTcp(port));
  Fd silent(ConnectTcp(port));  // never sends anything
  Fd busy(ConnectTcp(port));
  ASSERT_TRUE(SendAll(idle.get(), "<13>Jan  1 00:00:00 host prog: then idle\n"));
  const auto start = Clock::now();
  // The busy one sends every 300 ms for 2.5 s and must stay open.
  int busy_sent = 0;
  while (Clock::now() - start < 2500ms) {
    ASSERT_TRUE(SendAll(busy.get(), "<13>Jan  1 00:00:00 host prog: busy\n"));
    ++busy_sent;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(WaitPeerClosed(idle.get(), 2s)) << "idle connection not closed after 2.5 s";
  EXPECT_TRUE(WaitPeerClosed(silent.get(), 2s)) << "silent connection not closed after 2.5 s";
  EXPECT_TRUE(StillOpen(busy.get(), 10ms));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "idle_timeout"}}, 2));
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tcp"}}), 1);
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1 + busy_sent));
  busy.Close();
  ExpectStillAlive(gsocd);
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
