// Finding 10: log lines that carry terminal escape sequences and a NUL reach
// the analyst through gsocctl: nothing it prints may drive the terminal, and
// a NUL must not hide the rest of a line.
#include <gtest/gtest.h>

#include "tests/adversarial/adversarial.h"

namespace gsoc::adversarial {
namespace {

// ESC ] 0 ; title BEL (retitles the window), ESC [ 2 J (clears the screen),
// a NUL, then text that must still be shown.
const std::string kHostileUser =
    std::string("\x1b]0;PWNED\x07\x1b[2J") + std::string(1, '\0') + "hidden-tail";

void ExpectTerminalSafe(const std::string& output, const std::string& what) {
  size_t unsafe = 0;
  for (const char c : output) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n') || byte == 0x7f) ++unsafe;
  }
  ExpectAtMost(what + "_control_bytes", static_cast<double>(unsafe), 0, "bytes");
  EXPECT_NE(output.find("\\x1b"), std::string::npos) << what << ":\n" << output;
  EXPECT_NE(output.find("hidden-tail"), std::string::npos) << what << ":\n" << output;
}

TEST(Terminal, GsocctlEscapesEverythingItPrints) {
  Gsocd gsocd;
  // UDP: one datagram is one message, NUL included (TCP framing may split at
  // a NUL, as RFC 6587 senders use it as a trailer).
  ASSERT_TRUE(gsocd.Start({RulesConfig(gsocd.dir(), "",
                                       "  - {name: tcp, type: syslog_tcp, port: 0}\n"
                                       "  - {name: udp, type: syslog_udp, port: 0}\n")}));
  {
    Fd sender(UdpSocket());
    std::string line = FailedPasswordLine(1, kHostileUser);
    line.pop_back();  // the newline
    ASSERT_TRUE(SendUdp(sender.get(), gsocd.port("udp"), line));
  }
  ASSERT_TRUE(gsocd.WaitMetricAtLeast("gsoc_store_alerts_committed_total", {}, 1, 30s))
      << gsocd.Scrape();
  const std::vector<std::string> api = {
      "--url",   "http://127.0.0.1:" + std::to_string(gsocd.port("api")),
      "--token", gsocd.ApiToken(),
      "--color", "never"};
  const auto run = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), api.begin(), api.end());
    return RunProgram(argv, 30s);
  };
  const RunResult tail = run({GSOCCTL_PATH, "tail", "-n", "5"});
  const RunResult query = run({GSOCCTL_PATH, "query", "--since", "1h"});
  const RunResult tail_json = run({GSOCCTL_PATH, "tail", "-n", "5", "--json"});
  // The alert's id, from the JSON line.
  const size_t id_at = tail_json.output.find("{\"id\":\"");
  ASSERT_NE(id_at, std::string::npos) << tail_json.output;
  const std::string id =
      tail_json.output.substr(id_at + 7, tail_json.output.find('"', id_at + 7) - id_at - 7);
  const RunResult alert = run({GSOCCTL_PATH, "alert", id});
  const RunResult alert_json = run({GSOCCTL_PATH, "alert", id, "--json"});
  for (const auto& [what, result] : std::vector<std::pair<std::string, const RunResult*>>{
           {"tail", &tail}, {"query", &query}, {"alert", &alert}}) {
    EXPECT_EQ(result->exit_code, 0) << what << ":\n" << result->output;
    ExpectTerminalSafe(result->output, "gsocctl_" + what);
  }
  for (const auto& [what, result] : std::vector<std::pair<std::string, const RunResult*>>{
           {"tail_json", &tail_json}, {"alert_json", &alert_json}}) {
    EXPECT_EQ(result->exit_code, 0) << what << ":\n" << result->output;
    size_t unsafe = 0;
    for (const char c : result->output) unsafe += static_cast<unsigned char>(c) < 0x20 && c != '\n';
    ExpectAtMost("gsocctl_" + what + "_control_bytes", static_cast<double>(unsafe), 0, "bytes");
    EXPECT_NE(result->output.find("hidden-tail"), std::string::npos) << result->output;
  }
}

}  // namespace
}  // namespace gsoc::adversarial
