// gsocctl replay over raw auditd records: the records of one serial are
// joined into one event (engine/decode/auditd_joiner.h) and SigmaHQ's
// `service: auditd` and `category: process_creation` rules fire on it, once
// per execve (not once per record).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "run_command.h"

namespace {

namespace fs = std::filesystem;

const std::string kPack = std::string(GSOC_SOURCE_DIR) + "/rules";
const std::string kLinux = std::string(GSOC_CORPUS_DIR) + "/sigmahq/rules/linux";
const std::string kChattrRule = kLinux + "/auditd/execve/lnx_auditd_chattr_immutable_removal.yml";
const std::string kChattrId = "a5b977d6-8a81-4475-91b9-49dbfcd941f7";
const std::string kBase64Rule = kLinux + "/process_creation/proc_creation_lnx_base64_decode.yml";
const std::string kBase64Id = "e2072cab-8c9a-459b-b63c-40ae79e27031";

// Two execves as auditd writes them (the first with a hex-encoded argv[0],
// interleaved with the second's records, the second without EOE), then an
// unrelated SYSCALL (open) of another serial.
constexpr char kLog[] =
    "type=SYSCALL msg=audit(1700000000.100:501): arch=c000003e syscall=59 success=yes exit=0 "
    "a0=5581 a1=5582 a2=5583 a3=8 items=2 ppid=900 pid=901 auid=1000 uid=0 comm=\"chattr\" "
    "exe=\"/usr/bin/chattr\" key=(null)\n"
    "type=SYSCALL msg=audit(1700000000.150:502): arch=c000003e syscall=59 success=yes exit=0 "
    "a0=5591 a1=5592 a2=5593 a3=8 items=2 ppid=900 pid=902 auid=1000 uid=1000 comm=\"base64\" "
    "exe=\"/usr/bin/base64\" key=(null)\n"
    "type=EXECVE msg=audit(1700000000.100:501): argc=3 a0=636861747472 a1=\"-i\" "
    "a2=\"/etc/passwd\"\n"
    "type=EXECVE msg=audit(1700000000.150:502): argc=3 a0=\"base64\" a1=\"-d\" a2=\"/tmp/p.b64\"\n"
    "type=CWD msg=audit(1700000000.100:501): cwd=\"/root\"\n"
    "type=PATH msg=audit(1700000000.100:501): item=0 name=\"/usr/bin/chattr\" nametype=NORMAL\n"
    "type=PROCTITLE msg=audit(1700000000.100:501): "
    "proctitle=636861747472002D69002F6574632F706173737764\n"
    "type=EOE msg=audit(1700000000.100:501): \n"
    "type=SYSCALL msg=audit(1700000009.000:503): arch=c000003e syscall=257 success=yes exit=3 "
    "a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=900 pid=903 auid=1000 uid=0 comm=\"cat\" "
    "exe=\"/usr/bin/cat\" key=(null)\n"
    "type=PATH msg=audit(1700000009.000:503): item=0 name=\"/etc/shadow\" nametype=NORMAL\n"
    "type=EOE msg=audit(1700000009.000:503): \n";

struct ReplayRun {
  std::map<std::string, int> alerts;  // rule id -> alerts
  std::string err;
};

ReplayRun Replay(const std::string& log, const std::string& options = "--format syslog") {
  const fs::path dir = fs::temp_directory_path() / ("gsocctl-auditd-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "audit.log";
  std::ofstream(file) << log;
  const std::string command = std::string(GSOCCTL_PATH) + " replay " + options + " --rules " +
                              kChattrRule + " --rules " + kBase64Rule + " --logsources " + kPack +
                              "/logsources.yaml " + file.string() + " 2>" + (dir / "err").string();
  const std::string out = gsoc::ctl::test::RunCommand(command);
  ReplayRun run;
  std::ifstream err(dir / "err");
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  fs::remove_all(dir);
  simdjson::dom::parser parser;
  size_t start = 0;
  while (start < out.size()) {
    const size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    start = end == std::string::npos ? out.size() : end + 1;
    simdjson::dom::element alert;
    if (parser.parse(line).get(alert)) continue;
    std::string_view id;
    if (alert["rule"]["id"].get(id)) continue;
    ++run.alerts[std::string(id)];
  }
  return run;
}

TEST(ReplayAuditd, SigmaHqRulesFireOncePerJoinedExecve) {
  const ReplayRun run = Replay(kLog);
  SCOPED_TRACE(run.err);
  EXPECT_EQ(run.alerts.size(), 2u);
  EXPECT_EQ(run.alerts.count(kChattrId) ? run.alerts.at(kChattrId) : 0, 1);  // service: auditd
  EXPECT_EQ(run.alerts.count(kBase64Id) ? run.alerts.at(kBase64Id) : 0, 1);  // process_creation
  EXPECT_NE(run.err.find("2 rule(s)"), std::string::npos);
}

// Records, not a joined event: split over serials the rule does not fire
// (its a0 and a1 come from one EXECVE record, and `type` from the join).
TEST(ReplayAuditd, RecordsOfDifferentSerialsDoNotJoin) {
  const std::string log =
      "type=SYSCALL msg=audit(1700000000.100:601): syscall=59 exe=\"/usr/bin/chattr\"\n"
      "type=EXECVE msg=audit(1700000000.100:602): argc=1 a0=\"chattr\"\n"
      "type=EXECVE msg=audit(1700000000.100:603): argc=2 a0=\"x\" a1=\"-i\"\n"
      "type=EOE msg=audit(1700000000.100:601): \n";
  const ReplayRun run = Replay(log);
  SCOPED_TRACE(run.err);
  EXPECT_TRUE(run.alerts.empty());
}

// As on gsocd's JSON listener, a JSON event is never taken for an audit
// record, whatever its message says, and whatever the thread count (JSON
// lines are parsed on the matching threads, out of order).
TEST(ReplayAuditd, JsonEventsAreNotJoinedAsAuditRecords) {
  std::string json;
  for (size_t start = 0; start < sizeof(kLog) - 1;) {
    const size_t end = std::string_view(kLog).find('\n', start);
    std::string line(kLog + start, end - start);
    std::string escaped;
    for (char c : line) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    json += "{\"host\":\"web1\",\"message\":\"" + escaped + "\"}\n";
    start = end + 1;
  }
  for (const char* threads : {"1", "2"}) {
    const ReplayRun run = Replay(json, std::string("--format json --threads ") + threads);
    SCOPED_TRACE(run.err);
    EXPECT_NE(run.err.find("11 event(s), 0 parse error(s), 0 alert(s)"), std::string::npos)
        << threads << " threads";
  }
}

}  // namespace
