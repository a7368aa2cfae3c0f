// End to end: auditd records forwarded over syslog (TCP and UDP, as
// audisp-syslog -> rsyslog sends them) are joined per serial inside gsocd's
// collectors, so SigmaHQ's auditd rules fire once per execve, not once per
// record; a serial whose EOE never comes is handed on after the join
// timeout; and every record is accounted for (received = processed +
// discarded, the folded records counted as reason auditd_joined).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;
const fs::path kPack = fs::path(GSOC_SOURCE_DIR) / "rules";
const fs::path kLinux = fs::path(GSOC_CORPUS_DIR) / "sigmahq/rules/linux";

// An execve of chattr -i (SigmaHQ "Remove Immutable File Attribute",
// service auditd) and one of base64 -d (process_creation), their records
// interleaved; then a USER_CMD (a user-space record: one record, no EOE).
std::string Records(const std::string& host, int serial) {
  const std::string a = std::to_string(serial), b = std::to_string(serial + 1);
  const std::string head = "<14>" + Rfc3164Now() + " " + host + " audispd: ";
  return head + "type=SYSCALL msg=audit(1700000000.100:" + a +
         "): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=900 pid=901 auid=1000 "
         "uid=0 comm=\"chattr\" exe=\"/usr/bin/chattr\" key=(null)\n" +
         head + "type=SYSCALL msg=audit(1700000000.150:" + b +
         "): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=900 pid=902 auid=1000 "
         "uid=1000 comm=\"base64\" exe=\"/usr/bin/base64\" key=(null)\n" +
         head + "type=EXECVE msg=audit(1700000000.100:" + a +
         "): argc=3 a0=636861747472 a1=\"-i\" a2=\"/etc/passwd\"\n" + head +
         "type=EXECVE msg=audit(1700000000.150:" + b +
         "): argc=3 a0=\"base64\" a1=\"-d\" a2=\"/tmp/p.b64\"\n" + head +
         "type=CWD msg=audit(1700000000.100:" + a + "): cwd=\"/root\"\n" + head +
         "type=EOE msg=audit(1700000000.100:" + a + "): \n" + head +
         "type=USER_CMD msg=audit(1700000000.200:" + std::to_string(serial + 2) +
         "): pid=903 uid=1000 auid=1000 ses=3 msg='cwd=\"/home/a\" cmd=6964 exe=\"/usr/bin/sudo\" "
         "terminal=pts/0 res=success'\n";
}

std::string AuditConfig(const TempDir& dir) {
  fs::create_directories(dir / "sigma");
  fs::copy_file(kLinux / "auditd/execve/lnx_auditd_chattr_immutable_removal.yml",
                dir / "sigma/chattr.yml");
  fs::copy_file(kLinux / "process_creation/proc_creation_lnx_base64_decode.yml",
                dir / "sigma/base64.yml");
  return "listeners:\n"
         "  - {name: tcp, type: syslog_tcp, port: 0}\n"
         "  - {name: udp, type: syslog_udp, port: 0}\n"
         "rules:\n  sigma: [" +
         (dir / "sigma").string() + "]\n  logsources: " + (kPack / "logsources.yaml").string() +
         "\n  cache_dir: " + (dir / "hs-cache").string() +
         "\nalerts:\n  aggregate: {enabled: false}\n  file: " + (dir / "alerts.jsonl").string() +
         "\n";
}

// Alerts of `rule_id` in the alerts file.
size_t AlertsOf(const TempDir& dir, const std::string& rule_id) {
  size_t n = 0;
  for (const std::string& line : SplitLines(ReadFile(dir / "alerts.jsonl"))) {
    if (line.find("\"id\":\"" + rule_id + "\"") != std::string::npos) ++n;
  }
  return n;
}

// Sends `records` from `host` as audisp-syslog does (one syslog line each)
// on one TCP connection, then closes it.
void SendRecords(Gsocd& gsocd, const std::string& host, const std::vector<std::string>& records) {
  const std::string head = "<14>" + Rfc3164Now() + " " + host + " audispd: ";
  std::string text;
  for (const std::string& record : records) text += head + record + "\n";
  Fd fd(ConnectTcp(gsocd.port("tcp")));
  ASSERT_TRUE(SendAll(fd.get(), text));
}

double Discarded(Gsocd& gsocd, const std::string& listener, const std::string& reason) {
  return gsocd.Metric("gsoc_events_discarded_total", {{"listener", listener}, {"reason", reason}});
}

TEST(E2eAuditd, RecordsJoinPerSerialOverTcpAndUdp) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({AuditConfig(dir)}));
  const std::string tcp_records = Records("web-1", 501);
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), tcp_records));
    // The chattr serial ends with its EOE, the USER_CMD at once; the base64
    // serial has no EOE: it is handed on after the join timeout (2 s), with
    // the connection still open.
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_auditd_events_total", {{"listener", "tcp"}}, 3, 10s));
    EXPECT_EQ(gsocd.Metric("gsoc_auditd_events_total", {{"listener", "tcp"}, {"end", "eoe"}}), 1);
    EXPECT_EQ(
        gsocd.Metric("gsoc_auditd_events_total", {{"listener", "tcp"}, {"end", "standalone"}}), 1);
    EXPECT_EQ(gsocd.Metric("gsoc_auditd_events_total", {{"listener", "tcp"}, {"end", "timed_out"}}),
              1);
  }
  // UDP: one datagram per record; the open serial is handed on by the timer.
  Fd udp(UdpSocket());
  for (const std::string& line : SplitLines(Records("db-2", 701))) {
    ASSERT_TRUE(SendUdp(udp.get(), gsocd.port("udp"), line));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_auditd_events_total", {{"listener", "udp"}}, 3, 10s));

  // Once per execve and listener: 2 of each rule, not once per record.
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {}, 4));
  // 7 records per listener became 3 events: 4 folded (2 joined records and
  // the EOE, plus the base64 EXECVE), none dropped.
  for (const std::string listener : {"tcp", "udp"}) {
    EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", listener}}), 7);
    EXPECT_EQ(Discarded(gsocd, listener, "auditd_joined"), 4);
    EXPECT_EQ(Discarded(gsocd, listener, "auditd_dropped"), 0);
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 6));
  EXPECT_EQ(gsocd.WaitEventLines(6), 6u);
  size_t joined_execve = 0;
  for (const JsonEvent& event : gsocd.Events()) {
    const std::string message = event.Get("message");
    if (message.find("type=EXECVE") != std::string::npos &&
        message.find("type=SYSCALL") != std::string::npos) {
      ++joined_execve;
    }
  }
  EXPECT_EQ(joined_execve, 4u) << "each execve is one event holding all its records";
  EXPECT_EQ(gsocd.Stop(), 0);
  EXPECT_EQ(AlertsOf(dir, "a5b977d6-8a81-4475-91b9-49dbfcd941f7"), 2u);  // chattr -i
  EXPECT_EQ(AlertsOf(dir, "e2072cab-8c9a-459b-b63c-40ae79e27031"), 2u);  // base64 -d
}

// A connection that closes with a serial open: it is handed on at close,
// not lost.
TEST(E2eAuditd, OpenSerialIsHandedOnWhenTheConnectionCloses) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({AuditConfig(dir)}));
  SendRecords(gsocd, "web-3",
              {"type=SYSCALL msg=audit(1700000001.000:9): syscall=59 exe=\"/usr/bin/id\"",
               "type=EXECVE msg=audit(1700000001.000:9): argc=1 a0=\"id\""});
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_auditd_events_total",
                               {{"listener", "tcp"}, {"end", "flushed"}}, 1, 5s));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  EXPECT_EQ(Discarded(gsocd, "tcp", "auditd_joined"), 1);
  EXPECT_EQ(gsocd.Stop(), 0);
}

// A joined event's time comes from its records' audit(...) stamp, not the
// syslog header: a stamp beyond max_clock_skew ahead is replaced by the
// receive time and counted, once for the one joined event.
TEST(E2eAuditd, AJoinedEventsTimeFarAheadIsReplacedAndCounted) {
  TempDir dir;
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({AuditConfig(dir)}));
  SendRecords(gsocd, "web-4",
              {"type=SYSCALL msg=audit(4102444800.000:77): syscall=59 exe=\"/usr/bin/id\"",
               "type=EOE msg=audit(4102444800.000:77): "});
  ASSERT_TRUE(
      gsocd.WaitMetric("gsoc_auditd_events_total", {{"listener", "tcp"}, {"end", "eoe"}}, 1, 5s));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_event_times_ahead_total", {{"listener", "tcp"}}, 1));
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 1));
  EXPECT_EQ(gsocd.Metric("gsoc_event_times_ahead_total", {{"listener", "tcp"}}), 1);
  EXPECT_EQ(gsocd.Stop(), 0);
  const auto events = gsocd.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].Get("time"), events[0].Get("receive_time"));
}

}  // namespace
}  // namespace gsoc::e2e
