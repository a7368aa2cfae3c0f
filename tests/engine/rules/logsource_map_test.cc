// LogSourceMap: matching, most specific entry, event filters, bad files.
#include "engine/rules/logsource_map.h"

#include <gmock/gmock.h>

#include <filesystem>

namespace gsoc::rules {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* kMap = R"(logsources:
  - logsource: {product: linux}
  - logsource: {product: linux, service: sshd}
    programs: [sshd, SSHD]
  - logsource: {product: zeek, service: '*'}
    formats: [json]
  - logsource: {product: zeek, service: dns}
    formats: [json]
    programs: [zeek-dns]
  - logsource: {product: linux, service: auth}
    programs: [sudo]
    facilities: [4, 10]
)";

std::string ParseError(const std::string& yaml) {
  try {
    LogSourceMap::Parse(yaml, "bad.yaml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(LogSourceMap, ResolvesExactAndMostSpecific) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  auto filter = map.Resolve({"linux", "", ""});
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->programs.empty());
  filter = map.Resolve({"Linux", "SSHD", ""});
  ASSERT_TRUE(filter);
  EXPECT_THAT(filter->programs, ElementsAre("sshd"));
  filter = map.Resolve({"zeek", "conn", ""});
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->programs.empty());
  filter = map.Resolve({"zeek", "dns", ""});
  ASSERT_TRUE(filter);
  EXPECT_THAT(filter->programs, ElementsAre("zeek-dns"));
  EXPECT_TRUE(map.Resolve({"zeek", "", ""}));  // '*' also accepts no service
}

TEST(LogSourceMap, UnmappedIsNullopt) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  EXPECT_FALSE(map.Resolve({"linux", "", "process_creation"}));
  EXPECT_FALSE(map.Resolve({"linux", "auditd", ""}));
  EXPECT_FALSE(map.Resolve({"windows", "security", ""}));
  EXPECT_FALSE(map.Resolve({"zeek", "dns", "x"}));
}

TEST(LogSourceMap, EventFilterMatches) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  const EventFilter auth = *map.Resolve({"linux", "auth", ""});
  Event event;
  event.program = "SUDO";
  event.facility = 10;
  EXPECT_TRUE(auth.Matches(event));
  event.facility = 3;
  EXPECT_FALSE(auth.Matches(event));
  event.facility = 4;
  event.program = "cron";
  EXPECT_FALSE(auth.Matches(event));
  const EventFilter zeek = *map.Resolve({"zeek", "http", ""});
  event.format = EventFormat::kJson;
  EXPECT_TRUE(zeek.Matches(event));
  event.format = EventFormat::kRfc3164;
  EXPECT_FALSE(zeek.Matches(event));
  EXPECT_TRUE(map.Resolve({"linux", "", ""})->Matches(event));
}

TEST(LogSourceMap, BadFilesNameFileAndLine) {
  EXPECT_EQ(ParseError("logsources:\n  - logsource: {product: linux}\n    program: [x]\n"),
            "bad.yaml:3: unknown key 'program' (logsource, programs, facilities, formats)");
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: linux}\n    facilities: [4, 99]\n"),
              HasSubstr("bad.yaml:3: facility '99'"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: linux}\n    formats: [xml]\n"),
              HasSubstr("bad.yaml:3: unknown format 'xml'"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {os: linux}\n"),
              HasSubstr("bad.yaml:2: unknown logsource key 'os'"));
  EXPECT_THAT(ParseError("logsources:\n  - programs: [x]\n"),
              HasSubstr("bad.yaml:2: entry has no logsource"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n  - logsource: {product: A}\n"),
              HasSubstr("bad.yaml:3: a second entry"));
  EXPECT_THAT(ParseError("rules: []\n"), HasSubstr("bad.yaml:1:"));
  EXPECT_THAT(ParseError("logsources: [\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(ParseError("logsources: {a: b}\n"), HasSubstr("must be a list"));
  try {
    LogSourceMap::Load("/nonexistent/logsources.yaml");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/logsources.yaml"));
  }
}

TEST(LogSourceMap, ShippedFile) {
  const LogSourceMap map =
      LogSourceMap::Load(std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml");
  EXPECT_THAT(map.Resolve({"linux", "sshd", ""})->programs, ElementsAre("sshd"));
  EXPECT_THAT(map.Resolve({"linux", "cron", ""})->programs, ElementsAre("cron", "crond"));
  // auth goes by program: replayed files carry no PRI, so no facility.
  EXPECT_TRUE(map.Resolve({"linux", "auth", ""})->facilities.empty());
  EXPECT_THAT(map.Resolve({"linux", "auth", ""})->programs, Contains("sshd"));
  EXPECT_TRUE(map.Resolve({"linux", "syslog", ""})->programs.empty());
  EXPECT_THAT(map.Resolve({"", "", "webserver"})->programs,
              ElementsAre("nginx", "apache2", "httpd"));
  EXPECT_FALSE(map.Resolve({"linux", "", "process_creation"}));
  EXPECT_FALSE(map.Resolve({"linux", "auditd", ""}));
}

}  // namespace
}  // namespace gsoc::rules
