// gsocctl as an analyst runs it: the real binary as a subprocess.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/util/temp_dir.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code;
  std::string out;
};

enum class Capture { kBoth, kStdout, kStderr };

// Runs `gsocctl ARGS` (with environment assignments `env`, "NAME=value
// ...") and captures its stdout, stderr or both.
Result Gsocctl(const std::string& args, Capture capture = Capture::kBoth,
               const std::string& env = "") {
  static const char* const kRedirect[] = {" 2>&1", " 2>/dev/null", " 2>&1 >/dev/null"};
  const std::string command = (env.empty() ? "" : "env " + env + " ") + std::string(GSOCCTL_PATH) +
                              " " + args + kRedirect[static_cast<int>(capture)];
  std::FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kPack = std::string(GSOC_SOURCE_DIR) + "/rules";
const std::string kCorpus = GSOC_CORPUS_DIR;

TEST(Gsocctl, RulesCheckPassesOnTheShippedPack) {
  const Result result = Gsocctl("rules check " + kPack + "/sigma");
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("18 rule(s) loaded, 5 correlation(s), 0 refused"), std::string::npos)
      << result.out;
  // The summary says how many patterns are anchored literals in tries (the
  // pack's endswith/startswith/equals values), not in Hyperscan databases.
  unsigned patterns = 0, anchored = 0;
  const size_t at = result.out.find(" pattern(s) (");
  ASSERT_NE(at, std::string::npos) << result.out;
  const size_t start = result.out.rfind(' ', at - 1) + 1;
  ASSERT_EQ(std::sscanf(result.out.c_str() + start,
                        "%u pattern(s) (%u anchored literal(s) in tries)", &patterns, &anchored),
            2)
      << result.out;
  EXPECT_GT(anchored, 0u);
  EXPECT_LT(anchored, patterns);
}

TEST(Gsocctl, RulesCheckNamesFileLineAndReasonAndFails) {
  const gsoc::test::TempDir temp("gsocctl-test");
  const fs::path& dir = temp.path();
  std::ofstream(dir / "bad.yml") << "title: t\nid: bad-1\nlogsource: {product: linux}\n"
                                    "detection:\n  sel:\n    message|frobnicate: x\n"
                                    "  condition: sel\n";
  const Result result = Gsocctl("rules check " + (dir / "bad.yml").string());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("bad.yml:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("frobnicate"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("1 refused"), std::string::npos) << result.out;
}

TEST(Gsocctl, RulesCheckCountsEveryWarningItPrints) {
  // A description past the metadata limit: the build's warning (it was
  // printed, and the summary said 0 warning(s)).
  const gsoc::test::TempDir temp("gsocctl-test");
  std::ofstream(temp / "long.yml") << "title: Long\nid: 00000000-0000-0000-0000-0000000010n9\n"
                                      "description: "
                                   << std::string(20000, 'd')
                                   << "\nlogsource: {product: linux}\ndetection:\n  sel:\n"
                                      "    message|contains: zzlong\n  condition: sel\n";
  const Result result = Gsocctl("rules check --no-cache " + (temp / "long.yml").string());
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find(": warning: rule 00000000-0000-0000-0000-0000000010n9: "),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("; 1 warning(s)"), std::string::npos) << result.out;
}

// Keywords on a JSON Windows event search its values: a keyword with
// backslashes or quotes fires, though the line holds them escaped.
TEST(Gsocctl, ReplayedJsonEventsKeywordsSearchTheirValues) {
  const gsoc::test::TempDir temp("gsocctl-test");
  std::ofstream(temp / "kw.yml") << "title: Keywords\nid: 00000000-0000-0000-0000-00000000c0de\n"
                                    "logsource: {product: windows}\ndetection:\n  keywords:\n"
                                    "    - 'C:\\Windows\\Temp\\evil'\n    - '-Confirm \"False\"'\n"
                                    "  condition: keywords\nlevel: high\n";
  std::ofstream(temp / "events.json")
      << R"({"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational",)"
      << R"("Image":"C:\\Windows\\Temp\\evil.exe","Hostname":"h"})"
      << "\n"
      << R"({"EventID":1,"Channel":"MSExchange Management","Hostname":"h",)"
      << R"("Data":"Remove-MailboxExportRequest -Confirm \"False\""})"
      << "\n"
      << R"({"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational",)"
      << R"("Image":"C:\\Windows\\notepad.exe","Hostname":"h"})"
      << "\n";
  const Result result = Gsocctl("replay --no-cache --format json --logsources " + kPack +
                                    "/logsources.yaml --rules " + (temp / "kw.yml").string() + " " +
                                    (temp / "events.json").string(),
                                Capture::kStderr);
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("3 event(s), 0 parse error(s), 2 alert(s)"), std::string::npos)
      << result.out;
}

// The rule caches go to the user's own cache directory; one that others
// may write is not used, and every command says so.
TEST(Gsocctl, RuleCachesOnlyInTheUsersOwnDirectory) {
  const gsoc::test::TempDir temp("gsocctl-test");
  const fs::path own = temp / "own";
  const Result first = Gsocctl("rules check", Capture::kBoth, "XDG_CACHE_HOME=" + own.string());
  EXPECT_EQ(first.exit_code, 0) << first.out;
  EXPECT_EQ(fs::status(own / "gsoc").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_FALSE(fs::is_empty(own / "gsoc"));
  const Result again = Gsocctl("rules check", Capture::kBoth, "XDG_CACHE_HOME=" + own.string());
  // The 5 files with a correlation are parsed every time.
  EXPECT_NE(again.out.find("(18 read back from the parse cache)"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("(from cache)"), std::string::npos) << again.out;

  const fs::path shared = temp / "shared" / "gsoc";
  fs::create_directories(shared);
  fs::permissions(shared, fs::perms::all | fs::perms::sticky_bit);  // as /tmp
  const std::string line = temp.path().string() + "/one.json";
  std::ofstream(line) << "{\"a\":1}\n";
  const Result replay = Gsocctl("replay --format json " + line, Capture::kStderr,
                                "XDG_CACHE_HOME=" + (temp / "shared").string());
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_NE(replay.out.find(shared.string() +
                            ": writable by group or others (mode 1777); the rule caches are not "
                            "used (every load parses and compiles)"),
            std::string::npos)
      << replay.out;
  EXPECT_TRUE(fs::is_empty(shared));
}

TEST(Gsocctl, LogtestJsonShowsDecoderFieldsAndRules) {
  const Result result = Gsocctl(
      "logtest --json '<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from "
      "198.51.100.7 port 52144 ssh2'",
      Capture::kStdout);
  ASSERT_EQ(result.exit_code, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(result.out).get(root), simdjson::SUCCESS) << result.out;
  EXPECT_EQ(std::string_view(root["decoder"]), "sshd-failed-auth");
  EXPECT_EQ(std::string_view(root["event"]["fields"]["src_ip"]), "198.51.100.7");
  EXPECT_EQ(std::string_view(root["event"]["program"]), "sshd");
  EXPECT_EQ(simdjson::dom::array(root["rules"]).size(), 2u);
}

TEST(Gsocctl, ReplayPrintsOneAlertPerLineAndASummary) {
  const Result alerts =
      Gsocctl("replay --year 2015 " + kCorpus + "/loghub/OpenSSH/OpenSSH_2k.log", Capture::kStdout);
  ASSERT_EQ(alerts.exit_code, 0);
  // Independent expectation, from the raw lines: the shipped sshd/PAM rules
  // fire once per failed authentication ("Failed <method> for"), once more
  // when it was for root, once per invalid user, per break-in warning and
  // per PAM failure naming a remote host.
  std::ifstream in(kCorpus + "/loghub/OpenSSH/OpenSSH_2k.log");
  const std::regex failed("Failed [a-z-]+ for "), pam_remote("authentication failure.*rhost=[^ ]");
  size_t expected = 0;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, failed)) {
      ++expected;
      if (line.find(" for root from ") != std::string::npos) ++expected;
    }
    if (line.find(": Invalid user ") != std::string::npos ||
        line.find(": input_userauth_request: invalid user ") != std::string::npos) {
      ++expected;
    }
    if (line.find("POSSIBLE BREAK-IN ATTEMPT") != std::string::npos) ++expected;
    if (line.find(": Accepted ") != std::string::npos) ++expected;  // informational
    if (std::regex_search(line, pam_remote)) ++expected;
  }
  EXPECT_GT(expected, 1000u);
  size_t detections = 0, correlations = 0;
  simdjson::dom::parser parser;
  for (size_t start = 0; start < alerts.out.size();) {
    const size_t end = alerts.out.find('\n', start);
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(alerts.out.substr(start, end - start)).get(root), simdjson::SUCCESS);
    const std::string_view kind(root["kind"]);
    ASSERT_TRUE(kind == "detection" || kind == "correlation") << kind;
    ++(kind == "detection" ? detections : correlations);
    start = end + 1;
  }
  EXPECT_EQ(detections, expected);
  EXPECT_GT(correlations, 0u);  // the brute forces in this log (tests/rules covers which)
  const Result summary =
      Gsocctl("replay --year 2015 " + kCorpus + "/loghub/OpenSSH/OpenSSH_2k.log", Capture::kStderr);
  EXPECT_NE(summary.out.find("2000 event(s)"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("events/s"), std::string::npos) << summary.out;
}

TEST(Gsocctl, ReplayStrictRefusesARuleSetWithRefusals) {
  const gsoc::test::TempDir temp("gsocctl-test");
  const fs::path& dir = temp.path();
  std::ofstream(dir / "bad.yml")
      << "title: t\nlogsource: {product: linux}\n"
         "detection:\n  sel: {message: x}\n  condition: sel | count() > 5\n";
  const Result result = Gsocctl("replay --strict --rules " + (dir / "bad.yml").string() + " " +
                                kCorpus + "/loghub/OpenSSH/OpenSSH_2k.log");
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("aggregation"), std::string::npos) << result.out;
}

}  // namespace
