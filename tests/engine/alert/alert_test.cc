#include "engine/alert/alert.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>

#include "engine/alert/jsonl_output.h"
#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

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
  EXPECT_TRUE(root["rule"]["revision"].error());  // 0: no revision, no member
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

// The rule revision the API looks the rule detail up by: 16 hex digits.
TEST(AlertJsonTest, CarriesTheRuleRevision) {
  Alert alert = SampleAlert();
  alert.rule.revision = 0x00ab'cdef'0123'4567;
  std::string json;
  AppendAlertJson(json, alert);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["rule"]["revision"]), "00abcdef01234567");
}

// AppendAlertJsonLines copies the fields and events of an alert equal to
// the previous one's instead of escaping them again: the bytes must be
// those of AppendAlertJson, line by line, whichever parts are equal, and
// however little two parts differ.
// Alerts of one event and rules, then each differing from the one before
// in one part, however little.
std::vector<Alert> AlertsDifferingPartByPart() {
  std::vector<Alert> alerts;
  Alert base = SampleAlert();
  base.events.push_back({10, base.time_ns + 1, "second \"line\"\twith\\escapes"});
  alerts.push_back(base);
  for (const char* rule : {"r-2", "r-3"}) {  // the same event, other rules
    alerts.push_back(base);
    alerts.back().rule.id = rule;
    alerts.back().id = alerts.size();
  }
  auto add_changed = [&](auto change) {
    Alert alert = alerts.back();
    change(alert);
    alerts.push_back(alert);
  };
  add_changed([](Alert& a) { a.fields[1].second = "rooT"; });       // one value byte
  add_changed([](Alert& a) { a.fields[0].first = "src_iP"; });      // one name byte
  add_changed([](Alert& a) { a.fields.pop_back(); });               // one field fewer
  add_changed([](Alert& a) { a.events[1].raw.back() = 'S'; });      // one raw byte
  add_changed([](Alert& a) { a.events[1].id = 11; });               // the event id
  add_changed([](Alert& a) { a.events[0].time_ns += 1'000'000; });  // its time
  add_changed([](Alert& a) { a.events.pop_back(); });               // one event fewer
  add_changed([](Alert& a) { a.fields = a.group; });                // fields and events
  add_changed([](Alert& a) { a.events.clear(); });
  add_changed([](Alert& a) { a.fields.clear(); });
  add_changed([](Alert& a) { a.count = 8; });  // neither
  return alerts;
}

TEST(AlertJsonTest, LinesOfABatchEqualEachAlertRenderedAlone) {
  const std::vector<Alert> alerts = AlertsDifferingPartByPart();
  std::string expected;
  for (const Alert& alert : alerts) {
    AppendAlertJson(expected, alert);
    expected.push_back('\n');
  }
  std::string lines = "already there\n";
  AppendAlertJsonLines(lines, alerts);
  EXPECT_EQ(lines, "already there\n" + expected);
  // Each line is valid JSON with its own alert's values.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::istringstream in(expected);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(parser.parse(line).get(root), simdjson::SUCCESS) << line;
  EXPECT_EQ(std::string_view(root["events"].at(1)["raw"]), "second \"line\"\twith\\escapes");
}

// Rendered in two steps (the bodies first, the ids later), the lines are
// AppendAlertJsonLines's, byte for byte.
TEST(AlertJsonTest, BodiesWithTheirIdsAreTheLines) {
  const std::vector<Alert> alerts = AlertsDifferingPartByPart();
  std::string expected;
  AppendAlertJsonLines(expected, alerts);
  std::string bodies = "before";
  std::vector<size_t> ends;
  AppendAlertJsonBodies(bodies, alerts, ends);
  ASSERT_EQ(ends.size(), alerts.size());
  std::string lines;
  size_t begin = std::string_view("before").size();
  for (size_t i = 0; i < alerts.size(); ++i) {
    AppendAlertJsonIdMember(lines, alerts[i].id);
    lines.append(bodies, begin, ends[i] - begin);
    lines.push_back('\n');
    begin = ends[i];
  }
  EXPECT_EQ(lines, expected);
}

// What a stream holds after `publish` wrote to it, `before` written to it
// first through stdio (and left in its buffer).
std::string WrittenBy(const std::function<void(JsonlAlertOutput&)>& publish,
                      const char* before = "") {
  std::FILE* stream = std::tmpfile();
  std::fputs(before, stream);
  {
    JsonlAlertOutput output(stream);
    publish(output);
    output.Flush();
  }
  std::rewind(stream);
  std::string text;
  for (int c; (c = std::fgetc(stream)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(stream);
  return text;
}

// gsocctl replay's workers render the detection alerts, the main thread
// numbers them and renders what the correlator added: the same lines as
// Publish, ids from 1 across calls.
TEST(JsonlAlertOutputTest, PublishRenderedWritesThePublishLines) {
  const std::vector<Alert> alerts = AlertsDifferingPartByPart();
  const std::string expected = WrittenBy([&](JsonlAlertOutput& output) {
    for (int round = 0; round < 2; ++round) {
      std::vector<Alert> copy = alerts;
      output.Publish(copy);
    }
  });
  for (size_t rendered : {size_t{0}, size_t{1}, alerts.size() / 2, alerts.size()}) {
    const std::string written = WrittenBy([&](JsonlAlertOutput& output) {
      for (int round = 0; round < 2; ++round) {
        std::vector<Alert> copy = alerts;
        std::string bodies;
        std::vector<size_t> ends;
        AppendAlertJsonBodies(bodies, std::span<const Alert>(copy).first(rendered), ends);
        output.PublishRendered(copy, bodies, ends);
      }
    });
    EXPECT_EQ(written, expected) << rendered << " rendered before";
  }
}

// A stream's batch goes out in one write(2) on its descriptor, after what
// stdio held for it; a stream with no descriptor (fmemopen) goes through
// stdio. Both give the same lines.
TEST(JsonlAlertOutputTest, StreamsGetTheLinesAfterWhatStdioHeld) {
  const std::vector<Alert> alerts = AlertsDifferingPartByPart();
  auto publish = [&](JsonlAlertOutput& output) {
    std::vector<Alert> copy = alerts;
    output.Publish(copy);
  };
  const std::string expected = WrittenBy(publish);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(WrittenBy(publish, "held by stdio\n"), "held by stdio\n" + expected);
  std::string memory(expected.size() + 64, '\0');
  std::FILE* stream = ::fmemopen(memory.data(), memory.size(), "w");
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(::fileno(stream), -1);
  {
    JsonlAlertOutput output(stream);
    publish(output);
  }
  std::fclose(stream);
  EXPECT_EQ(memory.substr(0, memory.find('\0')), expected);
}

TEST(JsonlAlertOutputTest, WritesOneLinePerAlertWithIdsAndRotates) {
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
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
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
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

// A store that holds alerts 1..n (the recovery source).
class MemoryReader : public store::AlertReader {
 public:
  explicit MemoryReader(uint64_t n) {
    for (uint64_t id = 1; id <= n; ++id) alerts_.push_back(Stored(id));
  }
  static store::StoredAlert Stored(uint64_t id) {
    store::StoredAlert alert;
    alert.id = id;
    alert.json = "{\"id\":\"" + std::to_string(id) + "\",\"kind\":\"detection\"}";
    return alert;
  }
  store::QueryResult Query(const store::QueryRequest& request) const override {
    store::QueryResult result;
    for (const auto& alert : alerts_) {
      if (alert.id <= request.filter.after_id) continue;
      if (result.alerts.size() == request.limit) {
        result.next_cursor = result.alerts.back().id;
        break;
      }
      result.alerts.push_back(alert);
    }
    return result;
  }
  std::optional<store::StoredAlert> Get(uint64_t) const override { return std::nullopt; }
  uint64_t last_id() const override { return alerts_.empty() ? 0 : alerts_.back().id; }

 private:
  std::vector<store::StoredAlert> alerts_;
};

std::string Slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Lines(uint64_t first, uint64_t last) {
  std::string text;
  for (uint64_t id = first; id <= last; ++id) text += MemoryReader::Stored(id).json + "\n";
  return text;
}

TEST(JsonlAlertOutputTest, IsCreatedWithMode0600) {
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
  JsonlAlertOutput output(dir / "alerts.jsonl");
  struct stat info {};
  ASSERT_EQ(::stat((dir / "alerts.jsonl").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

// After kill -9: a torn last line is cut, and every committed alert after the
// last whole line is written again from the store, once, in order.
TEST(JsonlAlertOutputTest, CutsATornLineAndRecoversTheRestFromTheStore) {
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
  const fs::path file = dir / "alerts.jsonl";
  std::ofstream(file) << Lines(1, 40) << R"({"id":"41","kin)";
  MemoryReader store(1000);
  {
    JsonlAlertOutput output(file);
    EXPECT_EQ(output.torn_bytes(), std::string(R"({"id":"41","kin)").size());
    EXPECT_EQ(output.RecoverFrom(store), 960u);
    std::vector<store::StoredAlert> next{MemoryReader::Stored(1001)};
    output.OnCommitted(next);
  }
  EXPECT_EQ(Slurp(file), Lines(1, 1001));
  EXPECT_EQ(JsonlAlertOutput::LastWrittenId(file), 1001u);
  // Nothing missing: nothing written again.
  JsonlAlertOutput again(file);
  EXPECT_EQ(again.torn_bytes(), 0u);
  EXPECT_EQ(again.RecoverFrom(store), 0u);
}

TEST(JsonlAlertOutputTest, LongLinesAndRotatedFilesStillGiveTheLastId) {
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
  const fs::path file = dir / "alerts.jsonl";
  const std::string padded = R"({"id":"7","pad":")" + std::string(300000, 'p') + "\"}\n";
  std::ofstream(file) << Lines(1, 6) << padded;
  EXPECT_EQ(JsonlAlertOutput::LastWrittenId(file), 7u);
  // Just rotated: the new file is empty, the last id is in file.1.
  fs::rename(file, dir / "alerts.jsonl.1");
  MemoryReader store(10);
  JsonlAlertOutput output(file);
  EXPECT_EQ(output.RecoverFrom(store), 3u);
  EXPECT_EQ(Slurp(file), Lines(8, 10));
}

TEST(JsonlAlertOutputTest, ANewFileStartsWithNewAlerts) {
  const gsoc::test::TempDir temp("alert-test");
  const fs::path& dir = temp.path();
  MemoryReader store(50);
  JsonlAlertOutput output(dir / "alerts.jsonl");
  EXPECT_EQ(output.RecoverFrom(store), 0u);
  EXPECT_EQ(Slurp(dir / "alerts.jsonl"), "");
}

}  // namespace
}  // namespace gsoc
