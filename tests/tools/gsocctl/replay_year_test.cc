// gsocctl replay --year over a log that crosses New Year (loghub Linux.log:
// June 2005 to February 2006, RFC 3164, no years). The year starts at 2005
// and rolls forward at the December -> January wrap, so the January lines
// are in 2006, not five months "late" in January 2005 (issue 10 item 4).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "run_command.h"

namespace {

namespace fs = std::filesystem;

const std::string kPack = std::string(GSOC_SOURCE_DIR) + "/rules";
const std::string kLinuxLog = std::string(GSOC_CORPUS_DIR) + "/loghub/Linux_full/Linux.log";

using gsoc::ctl::test::RunCommand;

// The days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t Days(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The independent computation: every PAM failure naming a remote host (the
// detection rule pam_auth_failure_remote: not empty, not local), its time
// with the year counted from 2005 and incremented whenever the month goes
// down; then the rhosts with five failures within 60 s.
std::set<std::string> ExpectedKeys() {
  static const std::regex kLine(
      R"(^([A-Z][a-z]{2}) +(\d+) (\d\d):(\d\d):(\d\d) \S+ [^:]+: (?:PAM \d+ more )?)"
      R"(authentication failures?; logname=\S* uid=\d* euid=\d* tty=\S* ruser=\S* rhost=(\S*))");
  static const std::string kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::map<std::string, std::vector<int64_t>> times;
  std::ifstream in(kLinuxLog);
  int64_t year = 2005;
  unsigned previous_month = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    const size_t month_at = kMonths.find(line.substr(0, 3));
    if (month_at == std::string::npos || line.size() < 3) continue;
    const unsigned month = static_cast<unsigned>(month_at / 3 + 1);
    if (previous_month != 0 && month < previous_month) ++year;
    previous_month = month;
    if (!std::regex_search(line, m, kLine)) continue;
    const std::string rhost = m[6];
    if (rhost.empty() || rhost == "localhost" || rhost == "127.0.0.1" || rhost == "::1") continue;
    const int64_t seconds = Days(year, month, std::stoul(m[2])) * 86400 + std::stoll(m[3]) * 3600 +
                            std::stoll(m[4]) * 60 + std::stoll(m[5]);
    times[rhost].push_back(seconds);
  }
  std::set<std::string> keys;
  for (auto& [rhost, list] : times) {
    std::sort(list.begin(), list.end());
    for (size_t i = 0; i + 4 < list.size(); ++i) {
      if (list[i + 4] - list[i] <= 60) {
        keys.insert(rhost);
        break;
      }
    }
  }
  return keys;
}

TEST(GsocctlReplayYear, PamBruteForceOverNewYearFiresForExactlyTheIndependentKeys) {
  const fs::path dir = fs::temp_directory_path() / ("gsocctl-year-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "pam_bruteforce.yml") << "title: PAM Brute Force From One Remote Host\n"
                                               "id: 1b0e4c8a-7d0e-4f55-9c61-3a2f0d5e9b01\n"
                                               "name: pam_bruteforce\n"
                                               "correlation:\n"
                                               "  type: event_count\n"
                                               "  rules: [6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0a07]\n"
                                               "  group-by: [rhost]\n"
                                               "  timespan: 60s\n"
                                               "  condition: {gte: 5}\n"
                                               "  generate: true\n"
                                               "level: high\n";
  const std::string out =
      RunCommand(std::string(GSOCCTL_PATH) + " replay --year 2005 --rules " + kPack +
                 "/sigma/linux/pam_auth_failure_remote.yml --rules " +
                 (dir / "pam_bruteforce.yml").string() + " " + kLinuxLog + " 2>/dev/null");
  std::set<std::string> fired;
  size_t detections = 0, january_2006 = 0;
  simdjson::dom::parser parser;
  for (size_t start = 0; start < out.size();) {
    const size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    start = end == std::string::npos ? out.size() : end + 1;
    simdjson::dom::element alert;
    ASSERT_EQ(parser.parse(line).get(alert), simdjson::SUCCESS) << line;
    if (std::string_view(alert["kind"]) == "detection") {
      ++detections;
      if (std::string_view(alert["time"]).substr(0, 7) == "2006-01") ++january_2006;
      continue;
    }
    EXPECT_EQ(std::string_view(alert["rule"]["name"]), "pam_bruteforce");
    fired.insert(std::string(std::string_view(alert["group"]["rhost"])));
  }
  const std::set<std::string> expected = ExpectedKeys();
  EXPECT_GT(detections, 100u);
  EXPECT_GT(january_2006, 0u);  // the wrap rolled the year
  ASSERT_GT(expected.size(), 5u);
  EXPECT_EQ(fired, expected);
  std::printf("%zu PAM failures, %zu in January 2006; brute force from %zu rhosts\n", detections,
              january_2006, fired.size());
  fs::remove_all(dir);
}

}  // namespace
