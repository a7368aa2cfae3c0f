// JsonParseStage: the lines a json_tcp listener deferred (Event::
// parse_deferred) are parsed by the pipeline worker as the io thread would
// have parsed them; other events are left alone, a second Prepare changes
// nothing, a line that is not JSON is kept and counted under its own
// listener, and the event-time policy is applied.
#include "collectors/json/json_parse_stage.h"

#include <gtest/gtest.h>

#include <string>

#include "collectors/json/json_parser.h"
#include "engine/event/field_access.h"

namespace gsoc {
namespace {

constexpr int64_t kReceived = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr int64_t kSkew = 3600LL * 1'000'000'000;

Event& AddDeferred(EventBatch& batch, std::string_view line, uint16_t listener) {
  Event& event = batch.AddEvent();
  event.raw = event.message = batch.arena().CopyPadded(line);
  event.receive_time_ns = event.event_time_ns = kReceived;
  event.listener = listener;
  event.parse_deferred = true;
  return event;
}

class JsonParseStageTest : public ::testing::Test {
 protected:
  IngestMetrics metrics_{{"syslog", "json", "json2"}, {"local"}};
  JsonParseStage stage_{metrics_, kSkew};
};

TEST_F(JsonParseStageTest, ParsesDeferredLinesAsTheListenerWould) {
  const std::string line =
      R"({"EventTime":"2023-11-14 22:00:00","Hostname":"WS5","EventID":1,)"
      R"("SourceName":"Microsoft-Windows-Sysmon","Image":"C:\\Windows\\rundll32.exe"})";
  EventBatch batch;
  AddDeferred(batch, line, 1);
  EventBatch expected;
  Event& direct = expected.AddEvent();
  SyslogParseContext context;
  context.receive_time_ns = kReceived;
  ASSERT_TRUE(JsonLineParser().ParseOrKeepRaw(expected.arena().CopyPadded(line), context, direct,
                                              expected));

  stage_.Prepare(batch);
  const Event& event = batch.events()[0];
  EXPECT_FALSE(event.parse_deferred);
  EXPECT_EQ(event.format, EventFormat::kJson);
  EXPECT_EQ(event.host, "WS5");
  EXPECT_EQ(event.event_time_ns, direct.event_time_ns);
  EXPECT_NE(event.event_time_ns, kReceived);
  ASSERT_EQ(event.fields_count, direct.fields_count);
  for (uint32_t i = 0; i < event.fields_count; ++i) {
    EXPECT_EQ(batch.FieldsOf(event)[i].name, expected.FieldsOf(direct)[i].name);
    EXPECT_EQ(batch.FieldsOf(event)[i].value, expected.FieldsOf(direct)[i].value);
  }
  EXPECT_EQ(GetField(batch, event, "Image").value, R"(C:\Windows\rundll32.exe)");
  EXPECT_EQ(GetField(batch, event, "Provider_Name").value, "Microsoft-Windows-Sysmon");

  // A second Prepare (the pipeline may call it again) changes nothing.
  const uint32_t fields = event.fields_count;
  stage_.Prepare(batch);
  stage_.Process(batch);
  EXPECT_EQ(batch.events()[0].fields_count, fields);
}

TEST_F(JsonParseStageTest, KeepsAndCountsWhatIsNotJsonUnderItsListener) {
  EventBatch batch;
  AddDeferred(batch, R"({"a":)", 1);
  AddDeferred(batch, "not json", 2);
  AddDeferred(batch, R"({"a":"b"})", 2);
  stage_.Prepare(batch);
  EXPECT_TRUE(batch.events()[0].parse_error);
  EXPECT_EQ(batch.events()[0].format, EventFormat::kUnparsed);
  EXPECT_EQ(batch.events()[0].message, R"({"a":)");
  EXPECT_TRUE(batch.events()[1].parse_error);
  EXPECT_FALSE(batch.events()[2].parse_error);
  EXPECT_EQ(GetField(batch, batch.events()[2], "a").value, "b");
  EXPECT_EQ(metrics_.SumParseErrors(1, ParseFormat::kJson), 1u);
  EXPECT_EQ(metrics_.SumParseErrors(2, ParseFormat::kJson), 1u);
  EXPECT_EQ(metrics_.SumParseErrors(0, ParseFormat::kJson), 0u);
}

// What a hostile sender may send within max_message_size: nesting past the
// depth bound, more members than the field bound, and a listener field
// (tls_client) added before the parse beside events that have none. Each
// bad line is kept and counted; the others keep their own fields only.
TEST_F(JsonParseStageTest, HostileLinesAreKeptAndCountedAndOthersStayWhole) {
  EventBatch batch;
  Event& first = AddDeferred(batch, R"({"a":"1"})", 1);
  batch.AddField(first, "tls_client", "agency-a");
  AddDeferred(batch, std::string(40, '[') + std::string(40, ']'), 1);
  std::string wide = "{";
  for (int i = 0; i < 1100; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  wide += "}";
  AddDeferred(batch, "{\"depth\":" + std::string(40, '[') + std::string(40, ']') + "}", 1);
  AddDeferred(batch, wide, 1);
  Event& last = AddDeferred(batch, R"({"b":"2"})", 1);
  batch.AddField(last, "tls_client", "agency-b");
  stage_.Prepare(batch);
  const auto events = batch.events();
  EXPECT_EQ(GetField(batch, events[0], "tls_client").value, "agency-a");
  EXPECT_EQ(GetField(batch, events[0], "a").value, "1");
  EXPECT_EQ(events[0].fields_count, 2u);
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE(events[i].parse_error) << i;
    EXPECT_EQ(events[i].fields_count, 0u) << i;
    EXPECT_EQ(events[i].message, events[i].raw) << i;
  }
  EXPECT_EQ(GetField(batch, events[4], "tls_client").value, "agency-b");
  EXPECT_EQ(GetField(batch, events[4], "b").value, "2");
  EXPECT_FALSE(GetField(batch, events[4], "a").present);
  EXPECT_EQ(events[4].fields_count, 2u);
  EXPECT_EQ(metrics_.SumParseErrors(1, ParseFormat::kJson), 3u);
}

// As a DetectionStage's DeferredParser: one event at a time, the others
// left deferred, errors counted the same way.
TEST_F(JsonParseStageTest, ParsesOneEventAtATimeAsADeferredParser) {
  EventBatch batch;
  AddDeferred(batch, R"({"a":"1"})", 1);
  AddDeferred(batch, "not json", 2);
  AddDeferred(batch, R"({"b":"2"})", 1);
  DeferredParser& parser = stage_;
  parser.ParseDeferred(batch, batch.events()[2]);
  EXPECT_FALSE(batch.events()[2].parse_deferred);
  EXPECT_EQ(GetField(batch, batch.events()[2], "b").value, "2");
  EXPECT_TRUE(batch.events()[0].parse_deferred);
  EXPECT_EQ(batch.events()[0].fields_count, 0u);
  parser.ParseDeferred(batch, batch.events()[1]);
  EXPECT_TRUE(batch.events()[1].parse_error);
  EXPECT_EQ(metrics_.SumParseErrors(2, ParseFormat::kJson), 1u);
  parser.ParseDeferred(batch, batch.events()[0]);
  parser.ParseDeferred(batch, batch.events()[0]);  // parsed already: nothing
  EXPECT_EQ(batch.events()[0].fields_count, 1u);
  EXPECT_EQ(GetField(batch, batch.events()[0], "a").value, "1");
  EXPECT_EQ(GetField(batch, batch.events()[2], "b").value, "2");
}

TEST_F(JsonParseStageTest, LeavesOtherEventsAlone) {
  EventBatch batch;
  Event& syslog = batch.AddEvent();
  syslog.format = EventFormat::kRfc5424;
  syslog.message = syslog.raw = batch.arena().CopyPadded(R"({"a":"b"})");
  syslog.event_time_ns = 42;
  stage_.Prepare(batch);
  EXPECT_EQ(batch.events()[0].format, EventFormat::kRfc5424);
  EXPECT_EQ(batch.events()[0].fields_count, 0u);
  EXPECT_EQ(batch.events()[0].event_time_ns, 42);
}

TEST_F(JsonParseStageTest, AppliesTheEventTimePolicy) {
  EventBatch batch;
  AddDeferred(batch, R"({"@timestamp":"2099-01-01T00:00:00Z","a":1})", 1);
  AddDeferred(batch, R"({"@timestamp":"2023-11-14T22:40:00Z","a":1})", 1);  // 27 min ahead
  stage_.Prepare(batch);
  EXPECT_EQ(batch.events()[0].event_time_ns, kReceived);  // beyond the skew
  EXPECT_EQ(batch.events()[1].event_time_ns, kReceived + 1600LL * 1'000'000'000);
  // Only the time refused for being ahead is counted, under its listener.
  EXPECT_EQ(metrics_.SumTimesAhead(1), 1u);
  EXPECT_EQ(metrics_.SumTimesAhead(0) + metrics_.SumTimesAhead(2), 0u);
}

TEST_F(JsonParseStageTest, ALineWithoutATimeIsNotCountedAhead) {
  EventBatch batch;
  AddDeferred(batch, R"({"a":1})", 1);
  stage_.Prepare(batch);
  EXPECT_EQ(batch.events()[0].event_time_ns, kReceived);
  EXPECT_EQ(metrics_.SumTimesAhead(1), 0u);
}

}  // namespace
}  // namespace gsoc
