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
}

}  // namespace
}  // namespace gsoc
