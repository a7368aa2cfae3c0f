#include "engine/api/alert_query.h"

#include <gtest/gtest.h>

#include "tests/engine/api/api_test_util.h"

namespace gsoc::api {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::time_point(std::chrono::seconds(1'800'000'000));
const int64_t kNowNs = 1'800'000'000LL * 1'000'000'000;

AlertsQuery ParseOk(std::string_view query) {
  auto parsed = ParseAlertsQuery(query, kNow);
  if (auto* error = std::get_if<ParamError>(&parsed))
    ADD_FAILURE() << query << ": " << error->message;
  return std::holds_alternative<AlertsQuery>(parsed) ? std::get<AlertsQuery>(parsed)
                                                     : AlertsQuery{};
}

std::string ParseError(std::string_view query) {
  auto parsed = ParseAlertsQuery(query, kNow);
  if (auto* error = std::get_if<ParamError>(&parsed)) return error->message;
  ADD_FAILURE() << query << " was accepted";
  return "";
}

TEST(Rfc3339Test, AcceptsZuluFractionsAndOffsets) {
  const int64_t base = 1'795'600'800LL * 1'000'000'000;  // 2026-11-25T10:00:00Z
  EXPECT_EQ(ParseRfc3339("2026-11-25T10:00:00Z"), base);
  EXPECT_EQ(ParseRfc3339("2026-11-25t10:00:00z"), base);
  EXPECT_EQ(ParseRfc3339("2026-11-25T10:00:00.5Z"), base + 500'000'000);
  EXPECT_EQ(ParseRfc3339("2026-11-25T10:00:00.123456789Z"), base + 123'456'789);
  EXPECT_EQ(ParseRfc3339("2026-11-25T17:00:00+07:00"), base);
  EXPECT_EQ(ParseRfc3339("2026-11-25T17:00:00 07:00"), base);  // '+' decoded to ' '
  EXPECT_EQ(ParseRfc3339("2026-11-25T04:30:00-05:30"), base);
  EXPECT_EQ(ParseRfc3339("2026-11-25 10:00:00Z"), base);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
}

TEST(Rfc3339Test, RefusesMalformedTimes) {
  for (const char* text :
       {"", "2026-11-25", "2026-11-25T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-25T24:00:00Z", "2026-11-25T10:60:00Z", "2026-11-25T10:00:00.Z",
        "2026-11-25T10:00:00+0700", "2026-11-25T10:00:00Zjunk", "26-11-25T10:00:00Z",
        "9999-01-01T00:00:00Z", "2026-11-25X10:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(text).has_value()) << text;
  }
}

TEST(TimeParamTest, DurationsCountBackFromNow) {
  EXPECT_EQ(ParseTimeParam("90s", kNow), kNowNs - 90'000'000'000LL);
  EXPECT_EQ(ParseTimeParam("15m", kNow), kNowNs - 900'000'000'000LL);
  EXPECT_EQ(ParseTimeParam("1h", kNow), kNowNs - 3'600'000'000'000LL);
  EXPECT_EQ(ParseTimeParam("7d", kNow), kNowNs - 7 * 86'400'000'000'000LL);
  EXPECT_EQ(ParseTimeParam("250ms", kNow), kNowNs - 250'000'000LL);
  for (const char* text : {"h", "1", "1y", "-1h", "1.5h", "1 h", "99999999999999999d"}) {
    EXPECT_FALSE(ParseTimeParam(text, kNow).has_value()) << text;
  }
}

TEST(QueryStringTest, DecodesPercentAndPlus) {
  auto parsed = ParseQueryString("a=1&b=x%20y+z&&c&d=%2B");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  ASSERT_TRUE(std::holds_alternative<Pairs>(parsed));
  const auto& pairs = std::get<0>(parsed);
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[1].second, "x y z");
  EXPECT_EQ(pairs[2].first, "c");
  EXPECT_EQ(pairs[2].second, "");
  EXPECT_EQ(pairs[3].second, "+");
  EXPECT_TRUE(std::holds_alternative<ParamError>(ParseQueryString("a=%2")));
  EXPECT_TRUE(std::holds_alternative<ParamError>(ParseQueryString("a=%zz")));
}

TEST(AlertsQueryTest, Defaults) {
  const AlertsQuery query = ParseOk("");
  EXPECT_EQ(query.limit, 100u);
  EXPECT_TRUE(query.newest_first);
  EXPECT_FALSE(query.filter.store.min_level.has_value());
  EXPECT_FALSE(query.filter.exact_level.has_value());
}

TEST(AlertsQueryTest, LevelExactOrAtLeastInEverySpelling) {
  AlertsQuery query = ParseOk("level=high");
  EXPECT_EQ(query.filter.store.min_level, rules::Level::kHigh);
  EXPECT_EQ(query.filter.exact_level, rules::Level::kHigh);
  for (const char* text : {"level=high%2B", "level=high+", "level=high%20"}) {
    query = ParseOk(text);
    EXPECT_EQ(query.filter.store.min_level, rules::Level::kHigh) << text;
    EXPECT_FALSE(query.filter.exact_level.has_value()) << text;
  }
  EXPECT_NE(ParseError("level=severe").find("level"), std::string::npos);
  ParseError("level=High");
  ParseError("level=");
  ParseError("level=high++");
}

TEST(AlertsQueryTest, EveryParameter) {
  const AlertsQuery query = ParseOk(
      "since=2026-11-25T10:00:00Z&until=1h&after_id=5&before_id=90&rule=r1&agency=mof&q=Root"
      "&limit=7&order=asc");
  EXPECT_EQ(query.filter.store.since_ns, 1'795'600'800LL * 1'000'000'000);
  EXPECT_EQ(query.filter.store.until_ns, kNowNs - 3'600'000'000'000LL);
  EXPECT_EQ(query.filter.store.after_id, 5u);
  EXPECT_EQ(query.filter.store.before_id, 90u);
  EXPECT_EQ(query.filter.store.rule, "r1");
  EXPECT_EQ(query.filter.store.agency, "mof");
  EXPECT_EQ(query.filter.store.q, "Root");
  EXPECT_EQ(query.limit, 7u);
  EXPECT_FALSE(query.newest_first);
}

TEST(AlertsQueryTest, CursorFollowsTheOrder) {
  EXPECT_EQ(ParseOk("cursor=40&order=asc").filter.store.after_id, 40u);
  EXPECT_EQ(ParseOk("cursor=40").filter.store.before_id, 40u);
  EXPECT_EQ(ParseOk("cursor=40&before_id=30").filter.store.before_id, 30u);
}

TEST(AlertsQueryTest, ErrorsNameTheParameter) {
  EXPECT_EQ(ParseError("bogus=1"), "unknown parameter 'bogus'");
  EXPECT_NE(ParseError("limit=0").find("limit"), std::string::npos);
  EXPECT_NE(ParseError("limit=10001").find("limit"), std::string::npos);
  EXPECT_NE(ParseError("limit=ten").find("limit"), std::string::npos);
  EXPECT_NE(ParseError("limit=-1").find("limit"), std::string::npos);
  EXPECT_NE(ParseError("order=up").find("order"), std::string::npos);
  EXPECT_NE(ParseError("since=yesterday").find("since"), std::string::npos);
  EXPECT_NE(ParseError("until=2026-11-25").find("until"), std::string::npos);
  EXPECT_NE(ParseError("after_id=x").find("after_id"), std::string::npos);
  EXPECT_NE(ParseError("before_id=1e3").find("before_id"), std::string::npos);
  EXPECT_NE(ParseError("cursor=abc").find("cursor"), std::string::npos);
  EXPECT_NE(ParseError("limit=1&limit=2").find("more than once"), std::string::npos);
  EXPECT_EQ(ParseError("last_event_id=3"), "unknown parameter 'last_event_id'");
}

TEST(StreamQueryTest, AcceptsFiltersAndLastEventIdOnly) {
  auto parsed = ParseStreamQuery("level=critical&agency=mof&last_event_id=17", kNow);
  ASSERT_TRUE(std::holds_alternative<StreamQuery>(parsed));
  const auto& query = std::get<StreamQuery>(parsed);
  EXPECT_EQ(query.last_event_id, 17u);
  EXPECT_EQ(query.filter.exact_level, rules::Level::kCritical);
  for (const char* text : {"limit=5", "order=asc", "cursor=3", "last_event_id=x", "foo=1"}) {
    EXPECT_TRUE(std::holds_alternative<ParamError>(ParseStreamQuery(text, kNow))) << text;
  }
}

TEST(FilterMatchesTest, AgreesWithTheFakeStoreFilter) {
  std::vector<store::AlertFilter> filters(8);
  filters[1].since_ns = testing::kBaseTimeNs + 10'000'000'000;
  filters[2].until_ns = testing::kBaseTimeNs + 10'000'000'000;
  filters[3].after_id = 4;
  filters[3].before_id = 9;
  filters[4].rule = "port_scan";
  filters[5].min_level = rules::Level::kMedium;
  filters[6].agency = "moj";
  filters[7].q = "ROOT-3";
  for (size_t f = 0; f < filters.size(); ++f) {
    for (uint64_t id = 1; id <= 40; ++id) {
      const auto alert = testing::MakeVariedAlert(id);
      EXPECT_EQ(FilterMatches(filters[f], alert), testing::FakeReader::Matches(filters[f], alert))
          << "filter " << f << " id " << id;
    }
  }
  ApiFilter exact;
  exact.exact_level = rules::Level::kLow;
  EXPECT_TRUE(FilterMatches(exact, testing::MakeVariedAlert(1)));
  EXPECT_FALSE(FilterMatches(exact, testing::MakeVariedAlert(2)));
}

TEST(RunAlertsQueryTest, ExactLevelPagesAreFullAndEndWithNullCursor) {
  testing::FakeReader reader;
  for (uint64_t id = 1; id <= 100; ++id) reader.Add(testing::MakeVariedAlert(id));
  AlertsQuery query = ParseOk("level=low&limit=3&order=asc");
  std::vector<uint64_t> ids;
  for (int page = 0; page < 100; ++page) {
    const auto result = RunAlertsQuery(reader, query);
    if (result.next_cursor != 0) {
      EXPECT_EQ(result.alerts.size(), 3u);
    }
    for (const auto& alert : result.alerts) ids.push_back(alert.id);
    if (result.next_cursor == 0) break;
    query.filter.store.after_id = result.next_cursor;
  }
  std::vector<uint64_t> expected;
  for (uint64_t id = 1; id <= 100; id += 5) expected.push_back(id);
  EXPECT_EQ(ids, expected);
}

}  // namespace
}  // namespace gsoc::api
