// FillDetectionAlert on a recycled alert makes the alert MakeDetectionAlert
// makes: DetectionStage refills published alerts for the next batch.
#include <gtest/gtest.h>

#include "engine/detect/detection_stage.h"

namespace gsoc {
namespace {

rules::Rule MakeRule(const std::string& id, std::vector<std::string> tags, rules::Level level) {
  rules::Rule rule;
  rule.id = id;
  rule.name = "name-" + id;
  rule.title = "Title of " + id;
  rule.level = level;
  rule.tags = std::move(tags);
  rule.revision = 0x1234;
  return rule;
}

Event& AddEvent(EventBatch& batch, uint64_t id, std::string_view raw, std::string_view host,
                const std::vector<std::pair<std::string, std::string>>& fields) {
  Event& event = batch.AddEvent();
  event.id = id;
  event.event_time_ns = static_cast<int64_t>(id) * 1'000'000'000;
  event.raw = batch.arena().Copy(raw);
  event.host = batch.arena().Copy(host);
  for (const auto& [name, value] : fields) {
    batch.AddField(event, batch.arena().Copy(name), batch.arena().Copy(value));  // views
  }
  return event;
}

std::string Json(const Alert& alert) {
  std::string out;
  AppendAlertJson(out, alert);
  return out;
}

TEST(DetectionAlert, RefilledAlertEqualsANewOne) {
  EventBatch batch;
  const std::string long_value(100, 'v');  // past the small-string buffer
  AddEvent(batch, 1, "first raw line, the longer of the two", "host-one",
           {{"Image", long_value}, {"CommandLine", "a b c"}, {"User", "alice"}});
  AddEvent(batch, 2, "second", "", {{"Image", "x.exe"}});
  const Event& first = batch.events()[0];
  const Event& second = batch.events()[1];
  const rules::Rule tagged = MakeRule("r1", {"attack.t1", "attack.t2"}, rules::Level::kHigh);
  const rules::Rule plain = MakeRule("r2", {}, rules::Level::kLow);

  // A used alert, with what a correlation or an aggregate alert carries too.
  Alert recycled = MakeDetectionAlert(tagged, batch, first, "agency-a");
  recycled.id = 77;
  recycled.kind = AlertKind::kCorrelation;
  recycled.group = {{"user", "alice"}};
  recycled.count = 9;
  recycled.correlation_type = "event_count";
  recycled.value = 3.5;
  recycled.condition = "gte 3";
  recycled.suppressed = 2;
  recycled.events.push_back({5, 6, "another"});
  recycled.aggregate_key = 1;
  recycled.aggregate_version = 2;
  recycled.aggregate_opened_ns = 3;
  recycled.aggregate_closes_ns = 4;
  recycled.replaces = 5;

  FillDetectionAlert(recycled, plain, batch, second, "agency-b");
  const Alert fresh = MakeDetectionAlert(plain, batch, second, "agency-b");
  EXPECT_EQ(Json(recycled), Json(fresh));
  EXPECT_EQ(recycled.id, 0u);
  EXPECT_EQ(recycled.fields, fresh.fields);
  ASSERT_EQ(recycled.events.size(), 1u);
  EXPECT_EQ(recycled.events[0].raw, "second");
  EXPECT_TRUE(recycled.rule.tags.empty());

  // And back to the event with more fields than the slots left.
  FillDetectionAlert(recycled, tagged, batch, first, "agency-a");
  EXPECT_EQ(Json(recycled), Json(MakeDetectionAlert(tagged, batch, first, "agency-a")));
  EXPECT_EQ(recycled.fields.size(), 4u);  // host, then the event's three
}

}  // namespace
}  // namespace gsoc
