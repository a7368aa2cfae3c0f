// End to end: Windows events (NXLog shape) over gsocd's json_tcp listener
// with a Sigma rule and the shipped logsource map. The listener only frames
// the lines; the pipeline's workers parse them (JsonParseStage). What a
// sender and an analyst see must be what an io-thread parse gave: the
// fields unescaped and normalised (Provider_Name), the host and time from
// the event, a line that is not JSON kept and counted under its listener,
// a time from the far future replaced by the receive time, and the rule
// firing on the event's fields.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRule = R"(title: Rundll32 comsvcs MiniDump
id: 5ef4a1f2-5d5b-4b8e-9e2a-7d1c3f0a9b11
status: test
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\rundll32.exe'
    CommandLine|contains|all: [comsvcs, MiniDump]
  condition: selection
level: high
)";

// An NXLog im_msvistalog line: Sysmon event `event_id` at `time`.
std::string NxlogLine(int event_id, const std::string& time, const std::string& image,
                      const std::string& command_line) {
  return R"({"EventTime":")" + time + R"(","Hostname":"WS5.corp.example","EventID":)" +
         std::to_string(event_id) +
         R"(,"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","Image":")" +
         image + R"(","CommandLine":")" + command_line + R"(","User":"CORP\\alice"})" + "\n";
}

std::string TimeText(std::time_t seconds) {
  char text[32];
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

TEST(E2eJsonIngest, WindowsEventsAreParsedCountedAndMatched) {
  TempDir rules;
  fs::create_directories(rules / "sigma");
  WriteFile(rules / "sigma" / "comsvcs.yml", kRule);
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start(
      {"listeners:\n  - {name: json, type: json_tcp, port: 0}\n"
       "pipeline: {workers: 2}\n"
       "max_clock_skew: 1h\n"
       "rules:\n  sigma: [" +
       (rules / "sigma").string() +
       "]\n  logsources: " + (fs::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml").string() +
       "\nalerts:\n  aggregate: {enabled: false}\n"}));

  const std::time_t now = std::time(nullptr);
  const std::string dump =
      NxlogLine(1, TimeText(now - 60), R"(C:\\Windows\\System32\\rundll32.exe)",
                R"(rundll32.exe C:\\Windows\\System32\\comsvcs.dll, )"
                R"(MiniDump 624 C:\\Temp\\lsass.dmp full)");
  const std::string future =
      NxlogLine(1, "2099-01-01 00:00:00", R"(C:\\Windows\\explorer.exe)", "explorer.exe");
  const std::string broken = R"({"EventID":1,"Channel":)"
                             "\n";
  {
    Fd fd(ConnectTcp(gsocd.port("json")));
    ASSERT_TRUE(SendAll(fd.get(), dump + broken + future));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 3));
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total", {{"listener", "json"}, {"format", "json"}}), 1);
  EXPECT_EQ(gsocd.Metric("gsoc_parse_errors_total"), 1);
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_alerts_total", {}, 1));

  ASSERT_EQ(gsocd.WaitEventLines(3), 3u);
  const std::vector<JsonEvent> events = gsocd.Events();
  ASSERT_EQ(events.size(), 3u);
  const JsonEvent& parsed = events[0];
  EXPECT_EQ(parsed.Get("format"), "json");
  EXPECT_EQ(parsed.Get("parse_error"), "false");
  EXPECT_EQ(parsed.Get("listener"), "json");
  EXPECT_EQ(parsed.Get("host"), "WS5.corp.example");
  EXPECT_EQ(parsed.Get("fields.Image"), R"(C:\Windows\System32\rundll32.exe)");
  EXPECT_EQ(parsed.Get("fields.User"), R"(CORP\alice)");
  EXPECT_EQ(parsed.Get("fields.Provider_Name"), "Microsoft-Windows-Sysmon");
  EXPECT_EQ(parsed.Get("time").substr(0, 19), TimeText(now - 60).replace(10, 1, "T"));

  const JsonEvent& kept = events[1];
  EXPECT_EQ(kept.Get("format"), "unparsed");
  EXPECT_EQ(kept.Get("parse_error"), "true");
  EXPECT_EQ(kept.Get("message"), R"({"EventID":1,"Channel":)");

  const JsonEvent& late = events[2];
  EXPECT_EQ(late.Get("format"), "json");
  EXPECT_EQ(late.Get("fields.Image"), R"(C:\Windows\explorer.exe)");
  EXPECT_EQ(late.Get("time"), late.Get("receive_time"));  // 2099 is beyond max_clock_skew
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
