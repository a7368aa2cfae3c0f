// End to end: a real rsyslogd (its own config, work directory and pid file,
// no system socket) receives messages from logger on imtcp and forwards them
// to gsocd with omfwd over TCP, once octet-counted in RFC 5424 and once with
// traditional LF framing in the default RFC 3164 forwarding format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ostream>
#include <set>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";
constexpr int kMessages = 1000;

struct Variant {
  const char* name;
  const char* framing;        // omfwd TCP_Framing
  const char* template_;      // omfwd template ("" = default forwarding format)
  const char* logger_format;  // how logger sends into rsyslog
  const char* expected_format;
};

// Shown by gtest instead of the bytes of the struct.
void PrintTo(const Variant& variant, std::ostream* out) { *out << variant.name; }

std::string Hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

class E2eRsyslog : public ::testing::TestWithParam<Variant> {};

TEST_P(E2eRsyslog, ForwardsEveryMessage) {
  const Variant& variant = GetParam();
  ASSERT_TRUE(std::filesystem::exists(kRsyslogd)) << "rsyslog is not installed";
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({R"(listeners:
  - name: tcp
    type: syslog_tcp
    port: 0
)"}));

  TempDir dir;
  std::filesystem::create_directories(dir / "work");
  const uint16_t input_port = FreePort();
  std::string conf;
  conf += "global(workDirectory=\"" + (dir / "work").string() + "\")\n";
  conf += "module(load=\"imtcp\")\n";
  conf += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(input_port) +
          "\" ruleset=\"forward\")\n";
  conf += "ruleset(name=\"forward\") {\n";
  conf += "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" +
          std::to_string(gsocd.port("tcp")) + "\" protocol=\"tcp\" TCP_Framing=\"" +
          variant.framing + "\"";
  if (*variant.template_) conf += std::string(" template=\"") + variant.template_ + "\"";
  conf += "\n         queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\"";
  conf += " action.resumeInterval=\"1\")\n}\n";
  // rsyslogd's own messages stay out of gsocd.
  conf += "*.* action(type=\"omfile\" file=\"" + (dir / "internal.log").string() + "\")\n";
  WriteFile(dir / "rsyslog.conf", conf);

  const RunResult check = RunProgram({kRsyslogd, "-N1", "-f", (dir / "rsyslog.conf").string()});
  ASSERT_EQ(check.exit_code, 0) << "rsyslogd -N1 rejected the config:\n"
                                << check.output << "\n"
                                << conf;

  SpawnOptions options;
  options.cwd = dir.path();
  options.stdout_file = dir / "rsyslogd.out";
  Process rsyslogd({kRsyslogd, "-n", "-f", (dir / "rsyslog.conf").string(), "-i",
                    (dir / "rsyslogd.pid").string()},
                   options);
  ASSERT_TRUE(WaitTcpListening(input_port, 15s))
      << "rsyslogd did not listen on " << input_port << ":\n"
      << ReadFile(dir / "rsyslogd.out");

  std::string lines;
  for (int i = 0; i < kMessages; ++i) lines += "rsyslog message " + std::to_string(i) + "\n";
  WriteFile(dir / "messages.txt", lines);
  const RunResult sent = RunProgram({"/usr/bin/logger", "-T", variant.logger_format, "-n",
                                     "127.0.0.1", "-P", std::to_string(input_port), "-t", "rtest",
                                     "-p", "local4.notice", "-f", (dir / "messages.txt").string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.output;

  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, kMessages, 20s))
      << gsocd.Scrape() << "\nrsyslogd output:\n"
      << ReadFile(dir / "rsyslogd.out");
  EXPECT_EQ(gsocd.WaitEventLines(kMessages), size_t(kMessages));
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tcp"}, {"agency", "local"}}),
            kMessages);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_events_discarded_total"), 0);
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tcp"}}), 1);

  // rsyslogd stops cleanly and closes its forwarding connection.
  const int status = rsyslogd.Stop(10s);
  EXPECT_EQ(DescribeStatus(status), "exit 0") << ReadFile(dir / "rsyslogd.out");
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_connections_closed_total",
                               {{"listener", "tcp"}, {"reason", "peer_closed"}}, 1));
  EXPECT_EQ(gsocd.Metric("gsoc_events_processed_total"), kMessages);  // nothing extra
  EXPECT_EQ(gsocd.Stop(), 0);

  const std::vector<JsonEvent> events = gsocd.Events();
  ASSERT_EQ(events.size(), size_t(kMessages));
  const std::string host = Hostname();
  const std::string expected_host =
      std::string(variant.expected_format) == "rfc3164" ? host.substr(0, host.find('.')) : host;
  std::set<std::string> messages;
  for (const JsonEvent& event : events) {
    const std::string raw = event.Get("raw");
    EXPECT_EQ(event.Get("format"), variant.expected_format) << raw;
    EXPECT_EQ(event.Get("parse_error"), "false") << raw;
    EXPECT_EQ(event.Get("agency"), "local") << raw;
    EXPECT_EQ(event.Get("listener"), "tcp") << raw;
    EXPECT_EQ(event.Get("program"), "rtest") << raw;
    EXPECT_EQ(event.Get("host"), expected_host) << raw;
    EXPECT_EQ(event.Get("facility"), "20") << raw;
    EXPECT_EQ(event.Get("severity"), "5") << raw;
    if (std::string(variant.expected_format) == "rfc5424") {
      EXPECT_EQ(event.Get("fields.sd.timeQuality.tzKnown"), "1") << raw;
    }
    messages.insert(event.Get("message"));
    if (::testing::Test::HasFailure()) break;
  }
  std::set<std::string> expected;
  for (int i = 0; i < kMessages; ++i) expected.insert("rsyslog message " + std::to_string(i));
  EXPECT_TRUE(messages == expected) << "the set of messages differs";
}

INSTANTIATE_TEST_SUITE_P(
    Framings, E2eRsyslog,
    ::testing::Values(Variant{"OctetCounted5424", "octet-counted", "RSYSLOG_SyslogProtocol23Format",
                              "--octet-count", "rfc5424"},
                      Variant{"Traditional3164", "traditional", "", "--rfc3164", "rfc3164"}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gsoc::e2e
