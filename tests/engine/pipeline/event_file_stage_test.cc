#include "engine/pipeline/event_file_stage.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collectors/agency/agency_table.h"
#include "engine/util/time_format.h"
#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

using TempDir = gsoc::test::TempDir;

std::vector<std::string> ReadLines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      ADD_FAILURE() << "last line has no newline";
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

const std::vector<std::string> kListeners = {"syslog_tcp", "syslog_udp", "json"};
const std::vector<std::string> kAgencies = {"unknown", "mof", "moh"};

constexpr int64_t kTime = 1065910455003000000;     // 2003-10-11T22:14:15.003Z
constexpr int64_t kReceive = 1065910456789000000;  // 2003-10-11T22:14:16.789Z

// A fully populated RFC 5424 event.
Event& AddFullEvent(EventBatch& batch) {
  ByteArena& arena = batch.arena();
  Event& e = batch.AddEvent();
  e.event_time_ns = kTime;
  e.receive_time_ns = kReceive;
  e.agency = 1;
  e.listener = 0;
  e.format = EventFormat::kRfc5424;
  e.facility = 4;
  e.severity = 2;
  e.version = 1;
  e.peer = PeerAddress::FromV4(0x0a140001, 50514);  // 10.20.0.1
  e.raw = arena.Copy(
      "<34>1 2003-10-11T22:14:15.003Z mymachine su 77 ID47 [origin ip=\"10.0.0.1\"] 'su root' "
      "failed");
  e.host = arena.Copy("mymachine");
  e.program = arena.Copy("su");
  e.pid = arena.Copy("77");
  e.msgid = arena.Copy("ID47");
  e.structured_data = arena.Copy("[origin ip=\"10.0.0.1\"]");
  e.message = arena.Copy("'su root' failed");
  batch.AddField(e, arena.Copy("sd.origin.ip"), arena.Copy("10.0.0.1"));
  batch.AddField(e, arena.Copy("user"), arena.Copy("root"));
  return e;
}

// Parses one line and returns the document (owned by `parser`).
simdjson::dom::object ParseLine(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::object object;
  const auto error = parser.parse(simdjson::padded_string(line)).get(object);
  EXPECT_EQ(error, simdjson::SUCCESS) << simdjson::error_message(error) << "\n" << line;
  return object;
}

std::string String(simdjson::dom::object object, const char* key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no string member " << key;
    return "<missing>";
  }
  return std::string(value);
}

bool Has(simdjson::dom::object object, const char* key) {
  return object[key].error() == simdjson::SUCCESS;
}

TEST(AppendEventJsonTest, FullEventHasEveryKey) {
  EventBatch batch;
  const Event& e = AddFullEvent(batch);
  std::string out;
  AppendEventJson(out, batch, e, kListeners, kAgencies);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line";
  simdjson::dom::parser parser;
  auto object = ParseLine(parser, out);
  EXPECT_EQ(String(object, "time"), "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(String(object, "receive_time"), "2003-10-11T22:14:16.789Z");
  EXPECT_EQ(String(object, "agency"), "mof");
  EXPECT_EQ(String(object, "listener"), "syslog_tcp");
  EXPECT_EQ(String(object, "peer"), "10.20.0.1");
  EXPECT_EQ(String(object, "format"), "rfc5424");
  bool parse_error = true;
  ASSERT_EQ(object["parse_error"].get_bool().get(parse_error), simdjson::SUCCESS);
  EXPECT_FALSE(parse_error);
  int64_t facility = -1, severity = -1;
  ASSERT_EQ(object["facility"].get_int64().get(facility), simdjson::SUCCESS);
  ASSERT_EQ(object["severity"].get_int64().get(severity), simdjson::SUCCESS);
  EXPECT_EQ(facility, 4);
  EXPECT_EQ(severity, 2);
  EXPECT_EQ(String(object, "host"), "mymachine");
  EXPECT_EQ(String(object, "program"), "su");
  EXPECT_EQ(String(object, "pid"), "77");
  EXPECT_EQ(String(object, "msgid"), "ID47");
  EXPECT_EQ(String(object, "structured_data"), "[origin ip=\"10.0.0.1\"]");
  EXPECT_EQ(String(object, "message"), "'su root' failed");
  EXPECT_EQ(String(object, "raw"), std::string(e.raw));
  simdjson::dom::object fields;
  ASSERT_EQ(object["fields"].get_object().get(fields), simdjson::SUCCESS);
  EXPECT_EQ(fields.size(), 2u);
  EXPECT_EQ(String(fields, "sd.origin.ip"), "10.0.0.1");
  EXPECT_EQ(String(fields, "user"), "root");
}

TEST(AppendEventJsonTest, MinimalEventOmitsEmptyOptionalKeys) {
  EventBatch batch;
  Event& e = batch.AddEvent();
  e.event_time_ns = -1;
  e.receive_time_ns = 0;
  e.agency = AgencyTable::kUnknown;
  e.listener = 2;
  e.parse_error = true;
  e.format = EventFormat::kUnparsed;
  e.peer.bytes[15] = 1;  // ::1
  e.raw = batch.arena().Copy("garbage");
  e.message = e.raw;
  std::string out;
  AppendEventJson(out, batch, e, kListeners, kAgencies);
  simdjson::dom::parser parser;
  auto object = ParseLine(parser, out);
  EXPECT_EQ(String(object, "time"), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(String(object, "receive_time"), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(String(object, "agency"), "unknown");
  EXPECT_EQ(String(object, "listener"), "json");
  EXPECT_EQ(String(object, "peer"), "::1");
  EXPECT_EQ(String(object, "format"), "unparsed");
  bool parse_error = false;
  ASSERT_EQ(object["parse_error"].get_bool().get(parse_error), simdjson::SUCCESS);
  EXPECT_TRUE(parse_error);
  for (const char* absent :
       {"facility", "severity", "host", "program", "pid", "msgid", "structured_data"}) {
    EXPECT_FALSE(Has(object, absent)) << absent;
  }
  EXPECT_EQ(String(object, "message"), "garbage");
  EXPECT_EQ(String(object, "raw"), "garbage");
  simdjson::dom::object fields;
  ASSERT_EQ(object["fields"].get_object().get(fields), simdjson::SUCCESS);
  EXPECT_EQ(fields.size(), 0u);
}

TEST(AppendEventJsonTest, OutOfRangeIndexesFallBackToUnknown) {
  EventBatch batch;
  Event& e = batch.AddEvent();
  e.agency = AgencyTable::kNone;
  e.listener = 99;
  std::string out;
  AppendEventJson(out, batch, e, kListeners, kAgencies);
  simdjson::dom::parser parser;
  auto object = ParseLine(parser, out);
  EXPECT_EQ(String(object, "agency"), "unknown");
  EXPECT_EQ(String(object, "listener"), "unknown");
  EXPECT_EQ(String(object, "peer"), "::");
}

TEST(AppendEventJsonTest, HostileContentIsEscaped) {
  EventBatch batch;
  ByteArena& arena = batch.arena();
  Event& e = batch.AddEvent();
  const std::string injection = "x\",\"agency\":\"root\"}\n{\"time\":\"forged";
  static const char kControl[] = "bell\x07 nul\0 esc\x1b[2J tab\t cr\r";
  const std::string control(kControl, sizeof(kControl) - 1);
  const std::string bad_utf8 = "caf\xc3\xa9 \xff\xfe \xc0\xaf \xed\xa0\x80 end\xe2\x82";
  e.host = arena.Copy(injection);
  e.program = arena.Copy("back\\slash\\");
  e.message = arena.Copy(control);
  e.raw = arena.Copy(bad_utf8);
  e.structured_data = arena.Copy("[a b=\"\\\"]\"]");
  batch.AddField(e, arena.Copy("na\"me\n"), arena.Copy(injection));
  batch.AddField(e, arena.Copy("\xff"), arena.Copy("v"));
  std::string out;
  AppendEventJson(out, batch, e, kListeners, kAgencies);
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "a newline in content split the line";
  simdjson::dom::parser parser;
  auto object = ParseLine(parser, out);
  EXPECT_EQ(String(object, "host"), injection);
  EXPECT_EQ(String(object, "agency"), "unknown");  // not overridden by the injection
  EXPECT_EQ(String(object, "program"), "back\\slash\\");
  EXPECT_EQ(String(object, "message"), control);
  EXPECT_EQ(String(object, "structured_data"), "[a b=\"\\\"]\"]");
  const std::string raw = String(object, "raw");
  EXPECT_EQ(raw.substr(0, 6), "caf\xc3\xa9 ");
  EXPECT_NE(raw.find("\xef\xbf\xbd"), std::string::npos);
  EXPECT_EQ(raw.find('\xff'), std::string::npos);
  simdjson::dom::object fields;
  ASSERT_EQ(object["fields"].get_object().get(fields), simdjson::SUCCESS);
  EXPECT_EQ(String(fields, "na\"me\n"), injection);
  EXPECT_EQ(String(fields, "\xef\xbf\xbd"), "v");
}

TEST(EventFileStageTest, WritesOneValidJsonLinePerEvent) {
  TempDir dir;
  const fs::path file = dir.path() / "nested" / "deeper" / "events.jsonl";
  EventFileStage stage(file, kListeners, kAgencies);
  EventBatch batch;
  AddFullEvent(batch);
  for (int i = 0; i < 50; ++i) {
    Event& e = batch.AddEvent();
    e.listener = 1;
    e.agency = 2;
    e.format = EventFormat::kRfc3164;
    e.event_time_ns = kTime + i * 1'000'000;
    e.message = batch.arena().Copy("message " + std::to_string(i) + " with \"quotes\"\n");
    e.raw = e.message;
    batch.AddField(e, "i", batch.arena().Copy(std::to_string(i)));
  }
  stage.Process(batch);
  stage.Flush();

  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), 51u);
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto object = ParseLine(parser, lines[i]);
    for (const char* key : {"time", "agency", "listener", "peer", "format", "parse_error",
                            "message", "fields", "raw"}) {
      EXPECT_TRUE(Has(object, key)) << "line " << i << " lacks " << key;
    }
    if (i == 0) {
      EXPECT_EQ(String(object, "host"), "mymachine");
      EXPECT_EQ(String(object, "program"), "su");
      continue;
    }
    const int n = static_cast<int>(i) - 1;
    char time_text[32];
    EXPECT_EQ(String(object, "time"), FormatRfc3339Millis(kTime + n * 1'000'000, time_text));
    EXPECT_EQ(String(object, "listener"), "syslog_udp");
    EXPECT_EQ(String(object, "agency"), "moh");
    EXPECT_EQ(String(object, "format"), "rfc3164");
    EXPECT_EQ(String(object, "message"), "message " + std::to_string(n) + " with \"quotes\"\n");
    simdjson::dom::object fields;
    ASSERT_EQ(object["fields"].get_object().get(fields), simdjson::SUCCESS);
    EXPECT_EQ(String(fields, "i"), std::to_string(n));
  }
}

TEST(EventFileStageTest, AppendsToAnExistingFile) {
  TempDir dir;
  const fs::path file = dir.path() / "events.jsonl";
  {
    std::ofstream out(file);
    out << "{\"previous\":true}\n";
  }
  {
    EventFileStage stage(file, kListeners, kAgencies);
    EventBatch batch;
    AddFullEvent(batch);
    stage.Process(batch);
  }
  {
    EventFileStage stage(file, kListeners, kAgencies);
    EventBatch batch;
    AddFullEvent(batch);
    AddFullEvent(batch);
    stage.Process(batch);
    stage.Flush();
  }
  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "{\"previous\":true}");
}

TEST(EventFileStageTest, EmptyBatchWritesNothing) {
  TempDir dir;
  const fs::path file = dir.path() / "events.jsonl";
  EventFileStage stage(file, kListeners, kAgencies);
  EventBatch batch;
  stage.Process(batch);
  stage.Flush();
  EXPECT_EQ(fs::file_size(file), 0u);
}

TEST(EventFileStageTest, ConcurrentBatchesDoNotInterleaveLines) {
  TempDir dir;
  const fs::path file = dir.path() / "events.jsonl";
  EventFileStage stage(file, kListeners, kAgencies);
  constexpr int kThreads = 4;
  constexpr int kBatches = 50;
  constexpr int kEvents = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      EventBatch batch;
      for (int b = 0; b < kBatches; ++b) {
        batch.Clear();
        for (int i = 0; i < kEvents; ++i) {
          Event& e = batch.AddEvent();
          e.listener = static_cast<uint16_t>(t % 3);
          e.message = batch.arena().Copy(std::string(200 + i, 'a' + t));
        }
        stage.Process(batch);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stage.Flush();
  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), size_t(kThreads * kBatches * kEvents));
  simdjson::dom::parser parser;
  for (const auto& line : lines) {
    auto object = ParseLine(parser, line);
    if (HasFailure()) return;
    const std::string message = String(object, "message");
    ASSERT_GE(message.size(), 200u);
    ASSERT_EQ(message.find_first_not_of(message[0]), std::string::npos);
  }
}

TEST(EventFileStageTest, ThrowsWhenTheFileCannotBeOpened) {
  TempDir dir;
  const fs::path blocker = dir.path() / "a_file";
  std::ofstream(blocker) << "x";
  // Its parent is a regular file: neither the folder nor the file can be made.
  EXPECT_THROW(EventFileStage(blocker / "events.jsonl", kListeners, kAgencies), std::runtime_error);
  // A folder cannot be opened for appending.
  EXPECT_THROW(EventFileStage(dir.path(), kListeners, kAgencies), std::runtime_error);
}

}  // namespace
}  // namespace gsoc
