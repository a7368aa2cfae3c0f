#include "collectors/json/json_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "collectors/framing/stream_framer.h"
#include "engine/util/time_format.h"

namespace gsoc {
namespace {

using namespace std::string_literals;

constexpr int64_t kReceive = 1'700'000'000LL * kNanosPerSecond;

class JsonParserTest : public ::testing::Test {
 protected:
  // Copies the line into the batch arena (padded) and parses it.
  bool Parse(std::string_view line, JsonLineParser* parser = nullptr) {
    const std::string_view copy = batch_.arena().CopyPadded(line);
    event_ = &batch_.AddEvent();
    SyslogParseContext context;
    context.receive_time_ns = kReceive;
    error_ = {};
    return (parser ? *parser : parser_).Parse(copy, context, *event_, batch_, &error_);
  }
  std::string_view Field(std::string_view name) { return batch_.FieldValue(*event_, name); }
  bool HasField(std::string_view name) {
    for (const gsoc::Field& f : batch_.FieldsOf(*event_)) {
      if (f.name == name) return true;
    }
    return false;
  }

  JsonLineParser parser_;
  EventBatch batch_;
  Event* event_ = nullptr;
  ParseError error_;
};

// What the listeners and gsocctl use: a bad line is kept, not dropped.
TEST_F(JsonParserTest, ParseOrKeepRawKeepsABadLineAsUnparsed) {
  SyslogParseContext context;
  context.receive_time_ns = kReceive;
  const std::string_view good = batch_.arena().CopyPadded(R"({"msg":"hi","a":{"b":1}})");
  Event& first = batch_.AddEvent();
  EXPECT_TRUE(parser_.ParseOrKeepRaw(good, context, first, batch_));
  EXPECT_EQ(first.format, EventFormat::kJson);
  EXPECT_EQ(batch_.FieldValue(first, "a.b"), "1");
  const std::string_view bad = batch_.arena().CopyPadded(R"({"msg":"cut off", "a":)");
  Event& second = batch_.AddEvent();
  EXPECT_FALSE(parser_.ParseOrKeepRaw(bad, context, second, batch_));
  EXPECT_EQ(second.format, EventFormat::kUnparsed);
  EXPECT_TRUE(second.parse_error);
  EXPECT_EQ(second.message, bad);
  EXPECT_EQ(second.raw, bad);
  EXPECT_EQ(second.fields_count, 0u);
}

// Time members go through the syslog RFC 3339 scanner plus the ISO forms
// JSON shippers write (space for T, comma fraction, +HH, no zone = UTC).
TEST_F(JsonParserTest, TimeFormsShippersWrite) {
  const int64_t expected = 1'588'334'400'250'000'000;  // 2020-05-01T12:00:00.25Z
  for (const char* time :
       {"2020-05-01T12:00:00.25Z", "2020-05-01 12:00:00,25", "2020-05-01T14:00:00.25+02",
        "2020-05-01T14:00:00.250+02:00", "2020-05-01t12:00:00.25z"}) {
    ASSERT_TRUE(Parse(std::string(R"({"@timestamp":")") + time + R"("})")) << time;
    EXPECT_TRUE(event_->has_message_time) << time;
    EXPECT_EQ(event_->event_time_ns, expected) << time;
  }
  for (const char* time : {"2020-05-01T12:00", "2020-13-01T12:00:00Z", "1969-12-31T23:59:59Z",
                           "2020-05-01T12:00:00Zjunk"}) {
    ASSERT_TRUE(Parse(std::string(R"({"@timestamp":")") + time + R"("})")) << time;
    EXPECT_FALSE(event_->has_message_time) << time;
  }
}

TEST_F(JsonParserTest, FlatZeekConnLine) {
  const std::string line =
      R"({"ts":1588205199.82437,"uid":"Cvf4XX17hSAgXDdGEd","id.orig_h":"10.0.1.6","id.orig_p":54243,"proto":"udp","missed_bytes":0})";
  ASSERT_TRUE(Parse(line)) << error_.reason;
  EXPECT_EQ(event_->format, EventFormat::kJson);
  EXPECT_EQ(event_->raw, line);
  EXPECT_EQ(event_->message, line);
  EXPECT_EQ(event_->fields_count, 6u);
  EXPECT_EQ(Field("id.orig_h"), "10.0.1.6");
  EXPECT_EQ(Field("id.orig_p"), "54243");
  EXPECT_EQ(Field("ts"), "1588205199.82437");
  EXPECT_TRUE(event_->has_message_time);
  EXPECT_EQ(event_->event_time_ns, 1588205199'824370000LL);
  EXPECT_EQ(event_->receive_time_ns, kReceive);
}

TEST_F(JsonParserTest, NestedObjectsBecomeDottedNames) {
  ASSERT_TRUE(Parse(
      R"({"id":{"orig_h":"10.0.0.1","orig_p":1234,"resp":{"h":"10.0.0.2"}},"empty":{},"after":true})"));
  EXPECT_EQ(Field("id.orig_h"), "10.0.0.1");
  EXPECT_EQ(Field("id.orig_p"), "1234");
  EXPECT_EQ(Field("id.resp.h"), "10.0.0.2");
  EXPECT_EQ(Field("after"), "true");
  EXPECT_FALSE(HasField("empty"));
  EXPECT_EQ(event_->fields_count, 4u);
}

TEST_F(JsonParserTest, EscapesAndUnicode) {
  ASSERT_TRUE(Parse(
      R"({"a":"line\nbreak \"q\" \\ \/","u":"\u00e9\u4e2d\ud83d\ude00","raw":"κόσμε","k\u0065y":1})"));
  EXPECT_EQ(Field("a"), "line\nbreak \"q\" \\ /");
  EXPECT_EQ(Field("u"), "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
  EXPECT_EQ(Field("raw"), "κόσμε");
  EXPECT_EQ(Field("key"), "1");
  // Unescaped values live in the batch arena, not in the parser.
  EXPECT_FALSE(Parse(R"({"bad":"\x"})"));
  EXPECT_FALSE(Parse(R"({"bad":"\ud800"})"));  // lone surrogate
}

// A key or string without a backslash is its own text in the line (which
// lives in the batch arena): the field is a view of it, nothing copied. One
// with an escape is unescaped into the arena. Either way the field outlives
// the parser's next line.
TEST_F(JsonParserTest, TextsWithoutEscapesAreViewsOfTheLine) {
  const std::string_view line =
      batch_.arena().CopyPadded(R"({"plain":"C:/x.exe","k\u0065y":"a\\b","n":{"in":"v"},"e":""})");
  event_ = &batch_.AddEvent();
  SyslogParseContext context;
  ASSERT_TRUE(parser_.Parse(line, context, *event_, batch_, &error_));
  const auto in_line = [&](std::string_view text) {
    return text.data() >= line.data() && text.data() + text.size() <= line.data() + line.size();
  };
  std::map<std::string, std::string_view> names;
  for (const gsoc::Field& f : batch_.FieldsOf(*event_)) names[std::string(f.name)] = f.name;
  EXPECT_EQ(Field("plain"), "C:/x.exe");
  EXPECT_TRUE(in_line(Field("plain")));
  EXPECT_TRUE(in_line(names["plain"]));
  EXPECT_EQ(Field("key"), "a\\b");
  EXPECT_FALSE(in_line(Field("key")));
  EXPECT_FALSE(in_line(names["key"]));
  EXPECT_EQ(Field("n.in"), "v");
  EXPECT_TRUE(in_line(Field("n.in")));
  EXPECT_TRUE(HasField("e"));
  EXPECT_EQ(Field("e"), "");
  // The next line parsed by the same parser leaves these fields as they were.
  ASSERT_TRUE(Parse(R"({"plain":"other","k\u0065y":"zz"})"));
  int plain = 0;
  for (const Event& event : batch_.events()) {
    for (const gsoc::Field& f : batch_.FieldsOf(event)) plain += f.name == "plain";
  }
  EXPECT_EQ(plain, 2);
  EXPECT_EQ(batch_.FieldValue(batch_.events().front(), "plain"), "C:/x.exe");
  EXPECT_EQ(batch_.FieldValue(batch_.events().front(), "key"), "a\\b");
}

// Escaped values are unescaped straight into the arena, each taking only
// its own bytes there: long ones (past the unescaper's vector width, as
// NXLog's rendered Message with an escape every few bytes), one after the
// other, each intact after the next.
TEST_F(JsonParserTest, EscapedTextsAreUnescapedIntoTheArenaAtTheirLength) {
  std::string escaped, expected;
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i);
    escaped += "Line " + n + R"(:\r\n\tC:\\Windows\\x.exe \"q\")";
    expected += "Line " + n + ":\r\n\tC:\\Windows\\x.exe \"q\"";
  }
  const std::string line = R"({"Message":")" + escaped + R"(","Short":"a\tb","Last":"\u00e9"})";
  const std::string_view copy = batch_.arena().CopyPadded(line);
  event_ = &batch_.AddEvent();
  const size_t before = batch_.arena().bytes_used();
  SyslogParseContext context;
  ASSERT_TRUE(parser_.Parse(copy, context, *event_, batch_, &error_)) << error_.reason;
  EXPECT_EQ(Field("Message"), expected);
  EXPECT_EQ(Field("Short"), "a\tb");
  EXPECT_EQ(Field("Last"), "\xc3\xa9");
  EXPECT_EQ(batch_.arena().bytes_used() - before, expected.size() + 3 + 2);
  // A bad escape at the end of a long string: refused, and the room made for
  // it is given back (nothing is left of it in the arena).
  const std::string bad = R"({"Message":")" + escaped + R"(\x"})";
  const std::string_view bad_copy = batch_.arena().CopyPadded(bad);
  event_ = &batch_.AddEvent();
  const size_t before_bad = batch_.arena().bytes_used();
  EXPECT_FALSE(parser_.Parse(bad_copy, context, *event_, batch_, &error_));
  EXPECT_EQ(error_.reason, "invalid string");
  EXPECT_EQ(batch_.arena().bytes_used(), before_bad);
}

// A control byte inside a string is not JSON, whether the text is taken in
// place (no escape) or unescaped.
TEST_F(JsonParserTest, ControlBytesInTextsAreRefusedEitherWay) {
  EXPECT_FALSE(Parse("{\"a\":\"x\ty\"}"));
  EXPECT_FALSE(Parse("{\"a\":\"x\\\\\ty\"}"));
  EXPECT_FALSE(Parse("{\"k\x01\":\"v\"}"));
  EXPECT_FALSE(Parse("{\"k\\\\\x01\":\"v\"}"));
  EXPECT_TRUE(Parse("{\"k\":\"v\"}"));
}

TEST_F(JsonParserTest, NumbersBoolsNullKeepJsonText) {
  ASSERT_TRUE(Parse(
      R"({"i":-12 ,"f":1.5e+10,"z":0,"big":123456789012345678901234567890,"t":true,"f2":false,"n":null})"));
  EXPECT_EQ(Field("i"), "-12");
  EXPECT_EQ(Field("f"), "1.5e+10");
  EXPECT_EQ(Field("z"), "0");
  EXPECT_EQ(Field("big"), "123456789012345678901234567890");
  EXPECT_EQ(Field("t"), "true");
  EXPECT_EQ(Field("f2"), "false");
  EXPECT_EQ(Field("n"), "null");
  EXPECT_FALSE(Parse(R"({"n":12abc})"));
  EXPECT_FALSE(Parse(R"({"n":01})"));
  EXPECT_FALSE(Parse(R"({"n":tru})"));
  EXPECT_FALSE(Parse(R"({"n":nulll})"));
}

TEST_F(JsonParserTest, ArraysKeepRawText) {
  ASSERT_TRUE(Parse(R"({"a":[1, "two", {"x":[3]}] , "b":[],"c":{"d":["e"]}})"));
  EXPECT_EQ(Field("a"), R"([1, "two", {"x":[3]}])");
  EXPECT_EQ(Field("b"), "[]");
  EXPECT_EQ(Field("c.d"), R"(["e"])");
  EXPECT_FALSE(Parse(R"({"a":[1,2})"));
  EXPECT_FALSE(Parse(R"({"a":[1,,2]})"));
  EXPECT_FALSE(Parse(R"({"a":[1 2]})"));
}

TEST_F(JsonParserTest, DuplicateKeysAreAllKept) {
  ASSERT_TRUE(Parse(R"({"a":"1","a":"2"})"));
  ASSERT_EQ(event_->fields_count, 2u);
  EXPECT_EQ(batch_.FieldsOf(*event_)[0].value, "1");
  EXPECT_EQ(batch_.FieldsOf(*event_)[1].value, "2");
}

TEST_F(JsonParserTest, HeaderFields) {
  ASSERT_TRUE(Parse(
      R"({"hostname":"h2","host":"h1","appname":"a3","app":"a2","msg":"short","message":"long","pid":7})"));
  EXPECT_EQ(event_->host, "h1");
  EXPECT_EQ(event_->program, "a2");
  EXPECT_EQ(event_->message, "long");
  EXPECT_FALSE(event_->has_message_time);
  EXPECT_EQ(event_->event_time_ns, kReceive);
  // Non-string message members leave the line as message.
  const std::string line = R"({"message":{"text":"x"},"host":5})";
  ASSERT_TRUE(Parse(line));
  EXPECT_EQ(event_->message, line);
  EXPECT_EQ(Field("message.text"), "x");
  EXPECT_TRUE(event_->host.empty());
  // Only top-level members fill the header.
  ASSERT_TRUE(Parse(R"({"x":{"host":"inner","ts":1}})"));
  EXPECT_TRUE(event_->host.empty());
  EXPECT_FALSE(event_->has_message_time);
}

TEST_F(JsonParserTest, TimeVariants) {
  struct Case {
    std::string line;
    int64_t expected;  // 0: no message time
  };
  const int64_t base = 1588205199LL * kNanosPerSecond;  // 2020-04-30T00:06:39Z
  const Case cases[] = {
      {R"({"ts":1588205199})", base},
      {R"({"ts":1588205199.5})", base + 500'000'000},
      {R"({"ts":1588205199.123456789})", base + 123'456'789},
      {R"({"ts":1.588205199e9})", base},
      {R"({"ts":"1588205199.25"})", base + 250'000'000},
      {R"({"@timestamp":"2020-04-30T00:06:39Z"})", base},
      {R"({"@timestamp":"2020-04-30T00:06:39.123Z"})", base + 123'000'000},
      {R"({"timestamp":"2020-04-30T02:06:39.000001+02:00"})", base + 1000},
      {R"({"time":"2020-04-29T19:06:39-05:00"})", base},
      {R"({"time":"2020-04-30 00:06:39"})", base},
      {R"({"time":"2020-04-30T05:36:39+0530"})", base},
      // Preference: @timestamp over timestamp over ts over time, wherever they are.
      {R"({"time":"2000-01-01T00:00:00Z","ts":1588205199,"@timestamp":"2020-04-30T00:06:39Z"})",
       base},
      // Unparsable preferred member: fall back to the next one.
      {R"({"@timestamp":"yesterday","ts":1588205199})", base},
      {R"({"ts":"garbage"})", 0},
      {R"({"ts":-5})", 0},
      {R"({"ts":true})", 0},
      {R"({"time":"2020-02-30T00:00:00Z"})", 0},
      {R"({"time":"2020-04-30T24:00:00Z"})", 0},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(Parse(c.line)) << c.line << ": " << error_.reason;
    if (c.expected == 0) {
      EXPECT_FALSE(event_->has_message_time) << c.line;
      EXPECT_EQ(event_->event_time_ns, kReceive) << c.line;
    } else {
      EXPECT_TRUE(event_->has_message_time) << c.line;
      EXPECT_EQ(event_->event_time_ns, c.expected) << c.line;
    }
  }
}

TEST_F(JsonParserTest, InvalidJsonFails) {
  const std::string bad[] = {
      "",
      " ",
      "{",
      "}",
      R"({"a":})",
      R"({"a" 1})",
      R"({"a":1,})",
      R"({a:1})",
      R"({"a":1} x)",
      R"({"a":1}{"b":2})",
      R"({"a":"unterminated})",
      "nope",
      R"({"a":1)",
      R"({"a":{"b":1})",
  };
  for (const std::string& line : bad) {
    EXPECT_FALSE(Parse(line)) << line;
    EXPECT_NE(error_.reason, "") << line;
    EXPECT_EQ(event_->fields_count, 0u) << line;
    EXPECT_TRUE(event_->parse_error) << line;
    EXPECT_EQ(event_->raw, line);
  }
}

TEST_F(JsonParserTest, NotAnObject) {
  for (const std::string line : {"[1,2]", "\"str\"", "42", "true", "null"}) {
    EXPECT_FALSE(Parse(line)) << line;
    EXPECT_EQ(error_.reason, "not a JSON object") << line;
  }
}

TEST_F(JsonParserTest, DepthLimit) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
  };
  ASSERT_TRUE(Parse(nested(32)));  // default max_depth 32
  EXPECT_EQ(batch_.FieldsOf(*event_)[0].name.size(), 32u * 2 - 1);
  EXPECT_FALSE(Parse(nested(33)));
  EXPECT_EQ(error_.reason, "nesting too deep");
  EXPECT_FALSE(Parse(nested(100000)));
  // Arrays count too.
  std::string arrays = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_FALSE(Parse(arrays));
  JsonLineParser shallow(JsonParseOptions{.max_depth = 2, .max_fields = 1024});
  EXPECT_TRUE(Parse(R"({"a":{"b":1},"c":[1]})", &shallow));
  EXPECT_FALSE(Parse(R"({"a":{"b":{"c":1}}})", &shallow));
  EXPECT_FALSE(Parse(R"({"a":[[1]]})", &shallow));
}

TEST_F(JsonParserTest, FieldLimit) {
  JsonLineParser few(JsonParseOptions{.max_depth = 32, .max_fields = 3});
  EXPECT_TRUE(Parse(R"({"a":1,"b":{"c":2,"d":3}})", &few));
  EXPECT_FALSE(Parse(R"({"a":1,"b":{"c":2,"d":3,"e":4}})", &few));
  EXPECT_EQ(error_.reason, "too many fields");
  EXPECT_EQ(event_->fields_count, 0u);
  // The NXLog shape's canonical fields count too (fuzz_windows_event found
  // an event of 1,024 members that ended with 1,026 fields).
  const std::string nxlog = R"({"EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing")";
  JsonLineParser three(JsonParseOptions{.max_depth = 32, .max_fields = 3});
  EXPECT_TRUE(Parse(nxlog + "}", &three));  // + Provider_Name
  EXPECT_EQ(event_->fields_count, 3u);
  EXPECT_FALSE(Parse(nxlog + R"(,"Hostname":"ws1"})", &three));  // + Provider_Name, Computer
  EXPECT_EQ(error_.reason, "too many fields");
  EXPECT_EQ(event_->fields_count, 0u);
}

TEST_F(JsonParserTest, InvalidUtf8FailsGracefully) {
  EXPECT_FALSE(Parse("{\"a\":\"\xff\xfe\"}"));
  EXPECT_FALSE(Parse("{\"a\":\"\xc3\"}"));
  EXPECT_FALSE(Parse("{\"\xed\xa0\x80\":1}"));  // UTF-8 encoded surrogate
  EXPECT_FALSE(Parse("{\"a\":\"x\"}\xc0"));
  EXPECT_EQ(error_.reason, "invalid UTF-8");
}

TEST_F(JsonParserTest, ParserIsReusableAfterErrors) {
  EXPECT_FALSE(Parse(R"({"a":)"));
  ASSERT_TRUE(Parse(R"({"a":"ok"})"));
  EXPECT_EQ(Field("a"), "ok");
}

TEST_F(JsonParserTest, EveryZeekLineParses) {
  std::ifstream in(GSOC_CORPUS_DIR "/otrf-security-datasets/apt29_zeek/day1_combined_zeek.jsonl",
                   std::ios::binary);
  ASSERT_TRUE(in) << "corpus missing";
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StreamFramer framer(FramingMode::kLinesOnly, 1 << 20);
  size_t lines = 0, parsed = 0, with_time = 0, fields = 0;
  const FeedResult r = framer.Feed(
      data,
      [&](std::string_view line) {
        ++lines;
        if (Parse(line)) {
          ++parsed;
          fields += event_->fields_count;
          with_time += event_->has_message_time;
        } else {
          ADD_FAILURE() << "line " << lines << ": " << error_.reason << " at " << error_.column;
        }
        if (batch_.size() >= 512) batch_.Clear();
      },
      [] { ADD_FAILURE() << "oversize"; });
  EXPECT_EQ(r.consumed, data.size());
  std::printf("day1_combined_zeek.jsonl: %zu lines, %zu parsed, %zu with ts, %zu fields\n", lines,
              parsed, with_time, fields);
  EXPECT_EQ(lines, 2140u);
  EXPECT_EQ(parsed, lines);
  EXPECT_EQ(with_time, lines);
}

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

// The three Windows shapes of one Sysmon process creation: the same
// Sigma-visible fields, header time and host (collectors/json/windows_event.h).
class WindowsShapesTest : public JsonParserTest {
 protected:
  std::string Names() {
    std::string names;
    for (const gsoc::Field& f : batch_.FieldsOf(*event_)) names += std::string(f.name) + ",";
    return names;
  }
  void ExpectSysmonFields() {
    EXPECT_EQ(Field("EventID"), "1") << Names();
    EXPECT_EQ(Field("Channel"), "Microsoft-Windows-Sysmon/Operational");
    EXPECT_EQ(Field("Provider_Name"), "Microsoft-Windows-Sysmon");
    EXPECT_EQ(Field("Computer"), "ws1.example.org");
    EXPECT_EQ(Field("Image"), "C:\\Windows\\System32\\cmd.exe");
    EXPECT_EQ(Field("CommandLine"), "cmd.exe /c whoami");
    EXPECT_EQ(Field("ParentImage"), "C:\\Windows\\explorer.exe");
    EXPECT_EQ(event_->host, "ws1.example.org");
    EXPECT_TRUE(event_->has_message_time);
    EXPECT_EQ(event_->event_time_ns, 1'765'799'340'470'910'000);  // 2025-12-15T11:49:00.47091Z
  }
};

TEST_F(WindowsShapesTest, EvtxDump) {
  ASSERT_TRUE(Parse(
      R"({"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},)"
      R"("System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F"}},)"
      R"("EventID":1,"Version":5,"TimeCreated":{"#attributes":{"SystemTime":"2025-12-15T11:49:00.470910Z"}},)"
      R"("EventRecordID":74726,"Channel":"Microsoft-Windows-Sysmon/Operational",)"
      R"("Computer":"ws1.example.org","Security":{"#attributes":{"UserID":"S-1-5-18"}}},)"
      R"("EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c whoami",)"
      R"("ParentImage":"C:\\Windows\\explorer.exe","Version":"15.0"}}})"));
  ExpectSysmonFields();
  EXPECT_EQ(Field("Security_UserID"), "S-1-5-18");
  EXPECT_EQ(Field("EventRecordID"), "74726");
  // System members without a plain name keep the dotted one, so they never
  // shadow event data of the same name.
  EXPECT_EQ(Field("Event.System.Version"), "5");
  EXPECT_EQ(Field("Version"), "15.0");
  EXPECT_FALSE(HasField("Event.EventData.Image"));
}

TEST_F(WindowsShapesTest, EvtxDumpQualifiedEventIdAndUserData) {
  ASSERT_TRUE(Parse(
      R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Eventlog"}},)"
      R"("EventID":{"#attributes":{"Qualifiers":16384},"#text":104},"Channel":"System","Computer":"dc1"},)"
      R"("UserData":{"LogFileCleared":{"#attributes":{"xmlns":"http://x"},"SubjectUserName":"bob",)"
      R"("Channel":"Application"}}}})"));
  EXPECT_EQ(Field("EventID"), "104") << Names();
  EXPECT_EQ(Field("EventID_Qualifiers"), "16384");
  EXPECT_EQ(Field("SubjectUserName"), "bob");
  EXPECT_EQ(Field("Channel"), "System");  // System first: the log's own channel
  EXPECT_EQ(event_->host, "dc1");
  EXPECT_FALSE(event_->has_message_time);
}

TEST_F(WindowsShapesTest, Winlogbeat) {
  ASSERT_TRUE(Parse(
      R"({"@timestamp":"2025-12-15T11:49:00.470910Z","host":{"name":"ws1.example.org"},)"
      R"("event":{"code":"1","provider":"Microsoft-Windows-Sysmon"},)"
      R"("winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1",)"
      R"("provider_name":"Microsoft-Windows-Sysmon","computer_name":"ws1.example.org","record_id":74726,)"
      R"("user":{"identifier":"S-1-5-18"},"event_data":{"Image":"C:\\Windows\\System32\\cmd.exe",)"
      R"("CommandLine":"cmd.exe /c whoami","ParentImage":"C:\\Windows\\explorer.exe"}}})"));
  ExpectSysmonFields();
  EXPECT_EQ(Field("Security_UserID"), "S-1-5-18");
  EXPECT_EQ(Field("event.code"), "1");  // other members keep their dotted names
  EXPECT_FALSE(HasField("winlog.event_data.Image"));
}

// The walker notes a member name with a space wherever it is: past the
// first 16 bytes, after an escape (the name is unescaped), or only in a
// nested object; then every name loses its spaces.
TEST_F(WindowsShapesTest, NxlogNamesLoseSpacesWhereverTheSpaceIs) {
  ASSERT_TRUE(Parse(R"({"EventID":1116,"Channel":"x","Some Long Event Data Name":"a",)"
                    R"("Esc\\aped Name":"b","Nested":{"Inner Name":"c"}})"));
  EXPECT_EQ(Field("SomeLongEventDataName"), "a");
  EXPECT_EQ(Field("Esc\\apedName"), "b");
  EXPECT_EQ(Field("Nested.InnerName"), "c");
  ASSERT_TRUE(Parse(R"({"EventID":1116,"Channel":"x","Nested":{"Inner\u0020Name":"c"}})"));
  EXPECT_EQ(Field("Nested.InnerName"), "c");
  ASSERT_TRUE(Parse(R"({"EventID":1116,"Channel":"x","NoSpaces":"d"})"));
  EXPECT_EQ(Field("NoSpaces"), "d");
}

// The NXLog header in one pass over the fields: TimeCreated when there is
// no EventTime, EventTime when both; NXLog's member shadowed by event data
// still feeds its canonical field (the first one); a canonical field the
// event carries is not added again; an empty first value gives way.
TEST_F(WindowsShapesTest, NxlogHeaderFallbacksAndCanonicalFieldsOnce) {
  ASSERT_TRUE(Parse(R"({"TimeCreated":"2020-10-18 07:50:06.220","EventID":4689,)"
                    R"("Channel":"Security","Hostname":"WS5","SourceName":"",)"
                    R"("Provider_Name":"Given","SourceName":"Later"})"));
  EXPECT_EQ(event_->event_time_ns, 1'603'007'406'220'000'000);  // 2020-10-18T07:50:06.22Z
  EXPECT_EQ(event_->host, "WS5");
  EXPECT_EQ(Field("Computer"), "WS5");
  size_t providers = 0;
  for (const gsoc::Field& f : batch_.FieldsOf(*event_)) providers += f.name == "Provider_Name";
  EXPECT_EQ(providers, 1u);
  EXPECT_EQ(Field("Provider_Name"), "Given");
  EXPECT_EQ(Field("nxlog_SourceName"), "");  // the first, shadowed by the last
  EXPECT_EQ(Field("SourceName"), "Later");

  ASSERT_TRUE(Parse(R"({"TimeCreated":"2020-10-18 07:50:06.220","EventID":1,"Channel":"c",)"
                    R"("EventTime":"2021-01-02 03:04:05","Hostname":"nx","Hostname":"data",)"
                    R"("SourceName":"","SourceName":"Real"})"));
  EXPECT_EQ(event_->event_time_ns, 1'609'556'645'000'000'000);  // EventTime wins
  EXPECT_EQ(Field("Computer"), "nx");         // NXLog's Hostname, now nxlog_Hostname
  EXPECT_EQ(Field("Hostname"), "data");       // the event data's
  EXPECT_EQ(Field("Provider_Name"), "Real");  // the empty first value gave way
}

TEST_F(WindowsShapesTest, NxlogImMsvistalog) {
  ASSERT_TRUE(Parse(
      R"({"EventTime":"2025-12-15 11:49:00.47091","Hostname":"ws1.example.org","EventType":"INFO",)"
      R"("SeverityValue":2,"EventID":1,"SourceName":"Microsoft-Windows-Sysmon",)"
      R"("Channel":"Microsoft-Windows-Sysmon/Operational","UserID":"S-1-5-18",)"
      R"("Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c whoami",)"
      R"("ParentImage":"C:\\Windows\\explorer.exe","EventType":"SetValue"})"));
  ExpectSysmonFields();
  EXPECT_EQ(Field("Security_UserID"), "S-1-5-18");
  // NXLog's own EventType gives way to the event data's.
  EXPECT_EQ(Field("EventType"), "SetValue");
  EXPECT_EQ(Field("nxlog_EventType"), "INFO");
}

// Classic PowerShell events carry unnamed <Data> elements: one `Data` field,
// the strings joined by newlines (rules search it with contains).
TEST_F(WindowsShapesTest, UnnamedDataStringsAreJoined) {
  ASSERT_TRUE(
      Parse(R"({"Event":{"System":{"EventID":400,"Channel":"Windows PowerShell"},)"
            R"("EventData":{"Data":{"#text":["Available","None","\tHostName=ConsoleHost\r\n"]},)"
            R"("Binary":null}}})"));
  EXPECT_EQ(Field("Data"), "Available\nNone\n\tHostName=ConsoleHost\r\n") << Names();
  ASSERT_TRUE(Parse(R"({"winlog":{"event_data":{"param":["a",1]}}})"));
  EXPECT_EQ(Field("param"), R"(["a",1])");  // not all strings: the JSON text
}

// Defender's event data names have spaces; Sigma rules write them without.
TEST_F(WindowsShapesTest, EventDataNamesLoseTheirSpaces) {
  ASSERT_TRUE(
      Parse(R"({"Event":{"System":{"EventID":1116},"EventData":{"Threat Name":"EICAR"}}})"));
  EXPECT_EQ(Field("ThreatName"), "EICAR");
  ASSERT_TRUE(Parse(R"({"winlog":{"event_data":{"Threat Name":"EICAR"}}})"));
  EXPECT_EQ(Field("ThreatName"), "EICAR");
  ASSERT_TRUE(
      Parse(R"({"EventID":1116,"Channel":"x","SourceName":"Defender","Threat Name":"EICAR",)"
            R"("Source Name":"Real-Time Protection"})"));
  EXPECT_EQ(Field("ThreatName"), "EICAR");
  EXPECT_EQ(Field("SourceName"), "Real-Time Protection");  // event data, not NXLog's
  EXPECT_EQ(Field("nxlog_SourceName"), "Defender");
  EXPECT_EQ(Field("Provider_Name"), "Defender");
  ASSERT_TRUE(Parse(R"({"Threat Name":"EICAR"})"));  // not Windows: kept
  EXPECT_EQ(Field("Threat Name"), "EICAR");
}

TEST_F(WindowsShapesTest, OtherJsonIsNotRenamed) {
  ASSERT_TRUE(Parse(R"({"a":{"Event":{"EventData":{"x":1}}},"EventID":5})"));
  EXPECT_EQ(Field("a.Event.EventData.x"), "1");
  EXPECT_FALSE(HasField("Provider_Name"));  // EventID alone is not NXLog
}

}  // namespace
}  // namespace gsoc
