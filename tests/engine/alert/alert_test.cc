#include "engine/alert/alert.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>

#include "engine/alert/jsonl_output.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  fs::path dir =
      fs::temp_directory_path() / ("gsoc-alert-test-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Alert SampleAlert() {
  Alert alert;
  alert.id = 42;
  alert.time_ns = 1'764'064'805'123'000'000;  // 2025-11-25T10:00:05.123Z
  alert.kind = AlertKind::kCorrelation;
  alert.rule = {
      "r-1", "ssh_bruteforce", "SSH \"brute\" force", rules::Level::kHigh, {"attack.t1110"}};
  alert.agency = "mof";
  alert.group = {{"src_ip", "203.0.113.7"}};
  alert.window_start_ns = alert.time_ns - 5'000'000'000;
  alert.window_end_ns = alert.time_ns;
  alert.count = 7;
  alert.fields = {{"src_ip", "203.0.113.7"}, {"user", "root"}};
  alert.events = {{9, alert.time_ns, "<38>Nov 25 10:00:01 host sshd[12]: Failed \xff password"}};
  return alert;
}

TEST(AlertJsonTest, FollowsTheSchema) {
  std::string json;
  AppendAlertJson(json, SampleAlert());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["id"]), "42");
  EXPECT_EQ(std::string_view(root["time"]), "2025-11-25T10:00:05.123Z");
  EXPECT_EQ(std::string_view(root["kind"]), "correlation");
  EXPECT_EQ(std::string_view(root["rule"]["id"]), "r-1");
  EXPECT_EQ(std::string_view(root["rule"]["name"]), "ssh_bruteforce");
  EXPECT_EQ(std::string_view(root["rule"]["title"]), "SSH \"brute\" force");
  EXPECT_EQ(std::string_view(root["rule"]["level"]), "high");
  EXPECT_EQ(std::string_view(root["rule"]["tags"].at(0)), "attack.t1110");
  EXPECT_EQ(std::string_view(root["agency"]), "mof");
  EXPECT_EQ(std::string_view(root["group"]["src_ip"]), "203.0.113.7");
  EXPECT_EQ(std::string_view(root["window"]["start"]), "2025-11-25T10:00:00.123Z");
  EXPECT_EQ(int64_t(root["count"]), 7);
  EXPECT_EQ(std::string_view(root["fields"]["user"]), "root");
  EXPECT_EQ(std::string_view(root["events"].at(0)["id"]), "9");
  // Invalid UTF-8 in a raw line still gives valid JSON.
  EXPECT_NE(std::string_view(root["events"].at(0)["raw"]).find("\xef\xbf\xbd"),
            std::string_view::npos);
}

TEST(JsonlAlertOutputTest, WritesOneLinePerAlertWithIdsAndRotates) {
  const fs::path dir = TempDir();
  JsonlOutputOptions options;
  options.max_file_bytes = 4096;
  options.keep_files = 2;
  JsonlAlertOutput output(dir / "alerts.jsonl", options);
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Alert> alerts(5, SampleAlert());
    output.Publish(alerts);
  }
  output.Flush();
  EXPECT_EQ(output.alerts_written(), 100u);
  EXPECT_TRUE(fs::exists(dir / "alerts.jsonl.1"));
  EXPECT_TRUE(fs::exists(dir / "alerts.jsonl.2"));
  EXPECT_FALSE(fs::exists(dir / "alerts.jsonl.3"));
  // Every line of every kept file is an alert; ids strictly increase.
  simdjson::dom::parser parser;
  uint64_t last_id = 0;
  for (const char* name : {"alerts.jsonl.2", "alerts.jsonl.1", "alerts.jsonl"}) {
    std::ifstream in(dir / name);
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element root;
      ASSERT_EQ(parser.parse(line).get(root), simdjson::SUCCESS);
      const uint64_t id = std::stoull(std::string(std::string_view(root["id"])));
      EXPECT_GT(id, last_id);
      last_id = id;
    }
  }
  EXPECT_EQ(last_id, 100u);
}

TEST(JsonlAlertOutputTest, AfterACommitWritesTheStoredJsonAsIs) {
  const fs::path dir = TempDir();
  JsonlAlertOutput output(dir / "alerts.jsonl");
  std::vector<store::StoredAlert> committed(2);
  committed[0].id = 41;
  committed[0].json = R"({"id":"41","kind":"detection"})";
  committed[1].id = 42;
  committed[1].json = R"({"id":"42","kind":"correlation"})";
  output.OnCommitted(committed);
  output.Flush();
  std::ifstream in(dir / "alerts.jsonl");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, committed[0].json + "\n" + committed[1].json + "\n");
  EXPECT_EQ(output.alerts_written(), 2u);
}

}  // namespace
}  // namespace gsoc
