#include "engine/alert/alert_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace gsoc {
namespace {

Alert FullAlert() {
  Alert alert;
  alert.id = 42;
  alert.time_ns = 1'764'000'000'123'456'789;
  alert.kind = AlertKind::kCorrelation;
  alert.rule = {"rule-id",
                "rule_name",
                "A \"quoted\" title\n",
                rules::Level::kCritical,
                {"attack.t1110", "attack.credential_access"},
                0xfedcba9876543210};
  alert.agency = "mof";
  alert.group = {{"src_ip", "10.0.0.1"}, {"user", ""}};
  alert.window_start_ns = -5;  // before the epoch: zigzag
  alert.window_end_ns = std::numeric_limits<int64_t>::max();
  alert.count = 1'000'000'000'000;
  alert.correlation_type = "value_count";
  alert.value = 0.1 + 0.2;
  alert.condition = "gte 5";
  alert.suppressed = 3;
  alert.fields = {{"host", "web-1"}, {std::string("nul\0name", 8), std::string(300, 'x')}};
  alert.events = {{1, 10, "first raw line"}, {UINT64_MAX, std::numeric_limits<int64_t>::min(), ""}};
  alert.aggregate_key = 0x0123456789abcdef;
  alert.aggregate_version = UINT32_MAX;
  alert.aggregate_opened_ns = 7;
  alert.aggregate_closes_ns = -7;
  alert.replaces = 41;
  return alert;
}

// The detail's members back on an alert whose head members were copied.
Alert RoundTrip(const Alert& alert, std::string* bytes) {
  bytes->clear();
  AppendAlertDetail(*bytes, alert);
  Alert back;
  back.id = alert.id;
  back.time_ns = alert.time_ns;
  back.kind = alert.kind;
  back.rule.id = alert.rule.id;
  back.rule.name = alert.rule.name;
  back.rule.level = alert.rule.level;
  back.agency = alert.agency;
  wire::WireReader in(*bytes);
  EXPECT_TRUE(ReadAlertDetail(in, back, {})) << in.error().reason;
  EXPECT_TRUE(in.at_end());
  return back;
}

std::string Json(const Alert& alert) {
  std::string json;
  AppendAlertJson(json, alert);
  return json;
}

TEST(AlertCodecTest, EveryDetailMemberRoundTripsAndRendersTheSameJson) {
  const Alert alert = FullAlert();
  std::string bytes;
  const Alert back = RoundTrip(alert, &bytes);
  EXPECT_EQ(Json(back), Json(alert));
  EXPECT_EQ(back.rule.title, alert.rule.title);
  EXPECT_EQ(back.rule.tags, alert.rule.tags);
  EXPECT_EQ(back.rule.revision, alert.rule.revision);
  EXPECT_EQ(back.group, alert.group);
  EXPECT_EQ(back.window_start_ns, alert.window_start_ns);
  EXPECT_EQ(back.window_end_ns, alert.window_end_ns);
  EXPECT_EQ(back.count, alert.count);
  EXPECT_EQ(back.value, alert.value);  // the bits, not a printed approximation
  EXPECT_EQ(back.suppressed, alert.suppressed);
  EXPECT_EQ(back.fields, alert.fields);
  ASSERT_EQ(back.events.size(), 2u);
  EXPECT_EQ(back.events[1].id, UINT64_MAX);
  EXPECT_EQ(back.events[1].time_ns, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(back.aggregate_key, alert.aggregate_key);
  EXPECT_EQ(back.aggregate_version, alert.aggregate_version);
  EXPECT_EQ(back.aggregate_opened_ns, 7);
  EXPECT_EQ(back.aggregate_closes_ns, -7);
  EXPECT_EQ(back.replaces, 41u);
  // Smaller than the JSON it stands for.
  EXPECT_LT(bytes.size(), Json(alert).size() / 2);
}

TEST(AlertCodecTest, NanAndTheSmallestAlertRoundTrip) {
  Alert alert;
  alert.value = std::nan("");
  std::string bytes;
  const Alert back = RoundTrip(alert, &bytes);
  EXPECT_TRUE(std::isnan(back.value));
  EXPECT_EQ(bytes.size(), kMinAlertDetailBytes);
  EXPECT_EQ(Json(back), Json(alert));
}

TEST(AlertCodecTest, EveryTruncationIsRefused) {
  std::string bytes;
  AppendAlertDetail(bytes, FullAlert());
  for (size_t size = 0; size < bytes.size(); ++size) {
    Alert back;
    wire::WireReader in(std::string_view(bytes).substr(0, size));
    EXPECT_FALSE(ReadAlertDetail(in, back, {})) << size;
    EXPECT_FALSE(in.error().reason.empty()) << size;
  }
}

TEST(AlertCodecTest, LimitsAndOversizedVersionsAreRefused) {
  std::string bytes;
  AppendAlertDetail(bytes, FullAlert());
  Alert back;
  wire::WireReader tags(bytes);
  EXPECT_FALSE(ReadAlertDetail(tags, back, {.max_tags = 1}));
  EXPECT_EQ(tags.error().reason, "too many tags");
  wire::WireReader events(bytes);
  EXPECT_FALSE(ReadAlertDetail(events, back, {.max_events = 1}));
  EXPECT_EQ(events.error().reason, "too many events");
  wire::WireReader pairs(bytes);
  EXPECT_FALSE(ReadAlertDetail(pairs, back, {.max_pairs = 1}));
  EXPECT_EQ(pairs.error().reason, "too many pairs");

  Alert small;
  std::string tail;
  AppendAlertDetail(tail, small);
  // The aggregate version is the fourth-last varint: make it 2^32.
  std::string huge = tail.substr(0, tail.size() - 4);
  wire::PutVarint(huge, uint64_t{1} << 32);
  huge += tail.substr(tail.size() - 3);
  wire::WireReader version(huge);
  EXPECT_FALSE(ReadAlertDetail(version, back, {}));
  EXPECT_EQ(version.error().reason, "aggregate version beyond 32 bits");
}

}  // namespace
}  // namespace gsoc
