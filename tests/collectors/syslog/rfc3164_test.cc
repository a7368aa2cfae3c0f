// Unit tests of the lenient RFC 3164 parser.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "collectors/syslog/syslog_parser.h"
#include "engine/util/time_format.h"

namespace gsoc {
namespace {

int64_t Utc(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * kNanosPerSecond;
}

const int64_t kReceive = Utc(2024, 6, 10, 12, 0, 0);

struct Parsed {
  EventBatch batch;
  Event* event = nullptr;
  ParseError error;
  bool ok = false;
};

void Parse3164(Parsed& out, std::string_view text, int64_t receive_ns = kReceive,
               int32_t offset = 0) {
  const std::string_view message = out.batch.arena().CopyPadded(text);
  out.event = &out.batch.AddEvent();
  SyslogParseContext context;
  context.receive_time_ns = receive_ns;
  context.default_utc_offset_seconds = offset;
  out.ok = ParseRfc3164(message, context, *out.event, out.batch, &out.error);
}

TEST(Rfc3164, RfcExample) {
  Parsed p;
  Parse3164(p, "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
  ASSERT_TRUE(p.ok);
  const Event& e = *p.event;
  EXPECT_EQ(e.format, EventFormat::kRfc3164);
  EXPECT_EQ(e.facility, 4);
  EXPECT_EQ(e.severity, 2);
  EXPECT_EQ(e.version, 0);
  EXPECT_TRUE(e.has_message_time);
  EXPECT_EQ(e.event_time_ns, Utc(2023, 10, 11, 22, 14, 15));  // nearest, not ahead
  EXPECT_EQ(e.host, "mymachine");
  EXPECT_EQ(e.program, "su");
  EXPECT_TRUE(e.pid.empty());
  EXPECT_EQ(e.message, "'su root' failed for lonvick on /dev/pts/8");
}

TEST(Rfc3164, MissingPriDefaultsToUserNotice) {
  Parsed p;
  Parse3164(p, "Oct 11 22:14:15 host prog[123]: msg");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->facility, 1);
  EXPECT_EQ(p.event->severity, 5);
  EXPECT_EQ(p.event->host, "host");
  EXPECT_EQ(p.event->program, "prog");
  EXPECT_EQ(p.event->pid, "123");
  EXPECT_EQ(p.event->message, "msg");
}

TEST(Rfc3164, IsoTimestampWithOffset) {
  Parsed p;
  Parse3164(p, "<13>2024-01-05T10:00:00.123+01:00 host app: x");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 1, 5, 9, 0, 0) + 123'000'000);
  EXPECT_EQ(p.event->host, "host");
  EXPECT_EQ(p.event->program, "app");
  EXPECT_EQ(p.event->message, "x");
}

TEST(Rfc3164, IsoTimestampWithoutZoneUsesDefaultOffset) {
  Parsed p;
  Parse3164(p, "<13>2024-01-05T10:00:00 host app: x", kReceive, 2 * 3600);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 1, 5, 8, 0, 0));
}

TEST(Rfc3164, BsdTimestampWithYear) {
  Parsed p;
  Parse3164(p, "<13>Jan  5 2024 10:00:00 host app: x");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 1, 5, 10, 0, 0));
  EXPECT_EQ(p.event->host, "host");
  EXPECT_EQ(p.event->program, "app");
}

TEST(Rfc3164, DefaultOffsetAppliesToBsdTimestamps) {
  Parsed p;
  Parse3164(p, "<13>Jun 10 13:00:00 host app: x", kReceive, 3600);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 6, 10, 12, 0, 0));
}

TEST(Rfc3164, MissingHostname) {
  Parsed p;
  Parse3164(p, "<13>Jan  5 10:00:00 app[1]: x");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.event->host.empty());
  EXPECT_EQ(p.event->program, "app");
  EXPECT_EQ(p.event->pid, "1");
  EXPECT_EQ(p.event->message, "x");
  Parsed q;
  Parse3164(q, "<13>Jan  5 10:00:00 app: x");
  EXPECT_TRUE(q.event->host.empty());
  EXPECT_EQ(q.event->program, "app");
}

TEST(Rfc3164, CiscoTag) {
  Parsed p;
  Parse3164(p, "<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->host, "172.20.245.8");
  EXPECT_EQ(p.event->program, "%PIX-7-710005");
  EXPECT_EQ(p.event->message, "UDP request discarded");
  Parsed q;
  Parse3164(q, "<166>%ASA-6-302013: Built outbound TCP connection");
  EXPECT_EQ(q.event->program, "%ASA-6-302013");
  EXPECT_EQ(q.event->message, "Built outbound TCP connection");
  EXPECT_FALSE(q.event->has_message_time);
  EXPECT_EQ(q.event->event_time_ns, kReceive);
}

TEST(Rfc3164, ProgramWithParentheses) {
  Parsed p;
  Parse3164(p, "<38>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->program, "sshd(pam_unix)");
  EXPECT_EQ(p.event->pid, "19939");
  EXPECT_EQ(p.event->message, "authentication failure");
}

TEST(Rfc3164, KernelLine) {
  Parsed p;
  Parse3164(p, "<6>Jun 10 11:59:00 box kernel: [    1.234567] Linux version 6.1");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->program, "kernel");
  EXPECT_EQ(p.event->message, "[    1.234567] Linux version 6.1");
  EXPECT_TRUE(p.event->structured_data.empty());
  EXPECT_EQ(p.event->fields_count, 0u);
}

TEST(Rfc3164, RsyslogStructuredDataInMessage) {
  Parsed p;
  Parse3164(p, "<46>Jun 10 11:59:00 h rsyslogd:  [origin software=\"rsyslogd\" x-pid=\"1\"] start");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->structured_data, "[origin software=\"rsyslogd\" x-pid=\"1\"]");
  EXPECT_EQ(p.batch.FieldValue(*p.event, "sd.origin.software"), "rsyslogd");
  EXPECT_EQ(p.event->message, "start");
  // A bracketed word without parameters stays in the message.
  Parsed q;
  Parse3164(q, "<46>Jun 10 11:59:00 h app: [audit] user=x");
  EXPECT_TRUE(q.event->structured_data.empty());
  EXPECT_EQ(q.event->message, "[audit] user=x");
}

TEST(Rfc3164, YearRollover) {
  // "Dec 31 23:59:59" received on Jan 1 belongs to the previous year.
  Parsed p;
  Parse3164(p, "<13>Dec 31 23:59:59 host app: x", Utc(2025, 1, 1, 0, 0, 5));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 12, 31, 23, 59, 59));
  // A sender slightly ahead across New Year: next year, not a year back.
  Parsed q;
  Parse3164(q, "<13>Jan  1 00:00:03 host app: x", Utc(2024, 12, 31, 23, 59, 58));
  EXPECT_EQ(q.event->event_time_ns, Utc(2025, 1, 1, 0, 0, 3));
  // More than a day ahead is last year.
  Parsed r;
  Parse3164(r, "<13>Jun 12 12:00:00 host app: x", Utc(2024, 6, 10, 12, 0, 0));
  EXPECT_EQ(r.event->event_time_ns, Utc(2023, 6, 12, 12, 0, 0));
}

// Replay (gsocctl replay --year 2005): the first year-less timestamp is in
// 2005 even when it is December; the year then follows the file: forward at
// the wrap to January, back for a line a little out of order across New
// Year. Receive time plays no part. (So a gap of more than half a year
// between two lines is read as a step back.)
TEST(Rfc3164, RollingYearStartsAtTheGivenYearAndFollowsTheFile) {
  RollingYear rolling;
  rolling.year = 2005;
  const auto parse = [&](std::string_view text) {
    EventBatch batch;
    const std::string_view message = batch.arena().CopyPadded(text);
    Event& event = batch.AddEvent();
    SyslogParseContext context;
    context.receive_time_ns = Utc(2026, 12, 3, 0, 0, 0);
    context.rolling_year = &rolling;
    EXPECT_TRUE(ParseRfc3164(message, context, event, batch, nullptr));
    return event.event_time_ns;
  };
  EXPECT_EQ(parse("<13>Dec 30 10:00:00 host app: x"), Utc(2005, 12, 30, 10, 0, 0));
  EXPECT_EQ(parse("<13>Dec 31 23:59:59 host app: x"), Utc(2005, 12, 31, 23, 59, 59));
  EXPECT_EQ(parse("<13>Jan  1 00:00:02 host app: x"), Utc(2006, 1, 1, 0, 0, 2));
  EXPECT_EQ(parse("<13>Dec 31 23:59:58 host app: x"), Utc(2005, 12, 31, 23, 59, 58));
  EXPECT_EQ(parse("<13>Jan  1 00:00:09 host app: x"), Utc(2006, 1, 1, 0, 0, 9));
  EXPECT_EQ(parse("<13>Mar 14 08:00:00 host app: x"), Utc(2006, 3, 14, 8, 0, 0));
  EXPECT_EQ(parse("<13>Jul  1 08:00:00 host app: x"), Utc(2006, 7, 1, 8, 0, 0));
  EXPECT_EQ(parse("<13>Oct  1 08:00:00 host app: x"), Utc(2006, 10, 1, 8, 0, 0));
  EXPECT_EQ(parse("<13>Dec 24 08:00:00 host app: x"), Utc(2006, 12, 24, 8, 0, 0));
  EXPECT_EQ(parse("<13>Feb  2 08:00:00 host app: x"), Utc(2007, 2, 2, 8, 0, 0));
  // A year in the timestamp is taken as written and does not move the file's year.
  EXPECT_EQ(parse("<13>Feb  3 2001 08:00:00 host app: x"), Utc(2001, 2, 3, 8, 0, 0));
  EXPECT_EQ(parse("<13>Feb  4 08:00:00 host app: x"), Utc(2007, 2, 4, 8, 0, 0));
}

// The year rule, searched in full: of the years around the receive year,
// the one whose date is nearest receive time and at most a day after it
// (the later year on a tie); none when no year has the date.
std::optional<int64_t> NearestYearTime(unsigned month, unsigned day, unsigned hour,
                                       int64_t receive_ns, int32_t offset) {
  const int64_t local = receive_ns + int64_t{offset} * kNanosPerSecond;
  const int64_t receive_year = CivilFromNanos(local).year;
  std::optional<int64_t> best;
  for (int64_t year = receive_year + 1; year >= receive_year - 1; --year) {
    if (day > DaysInMonth(year, month)) continue;
    const int64_t t = Utc(year, month, day, hour, 0, 0) - int64_t{offset} * kNanosPerSecond;
    if (t > receive_ns + 86400 * kNanosPerSecond) continue;
    if (!best || std::llabs(t - receive_ns) < std::llabs(*best - receive_ns)) best = t;
  }
  return best;
}

// The parser's shortcut (the receive year when its date is from 363 days
// before receive time to a day after) and its per-thread year cache agree
// with the full search for every date, at receive times stepping over four
// years, both ways, around each New Year, and with zone offsets that put
// local time in another year than UTC.
TEST(Rfc3164, YearChoiceAgreesWithTheFullSearch) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::vector<int64_t> receives;
  for (int64_t k = 0; k < 370; ++k) {
    receives.push_back(Utc(2023, 11, 20, 5, 0, 0) + k * (97 * 3600 + 13) * kNanosPerSecond);
  }
  for (int64_t year = 2023; year <= 2026; ++year) {
    for (const int64_t hours : {-30, -16, -8, -1, 0, 1, 6, 30}) {
      receives.push_back(Utc(year, 1, 1, 0, 0, 1) + hours * 3600 * kNanosPerSecond);
    }
  }
  size_t checked = 0;
  for (const int32_t offset : {0, 14 * 3600, -12 * 3600}) {
    for (int pass = 0; pass < 2; ++pass) {  // forward, then backward in time
      for (size_t k = 0; k < receives.size(); ++k) {
        const size_t i = pass == 0 ? k : receives.size() - 1 - k;
        const int64_t receive = receives[i];
        for (unsigned month = 1; month <= 12; month += (i % 3 == 0 || i >= 370) ? 1 : 2) {
          for (unsigned day : {1u, 15u, 28u, 29u, 30u, 31u}) {
            if (day > DaysInMonth(2024, month)) continue;
            char text[64];
            std::snprintf(text, sizeof(text), "<13>%s %2u 07:00:00 h a: m", kMonths[month - 1],
                          day);
            Parsed p;
            Parse3164(p, text, receive, offset);
            ASSERT_TRUE(p.ok) << text;
            const std::optional<int64_t> expected = NearestYearTime(month, day, 7, receive, offset);
            ASSERT_EQ(p.event->has_message_time, expected.has_value()) << text << " at " << receive;
            if (expected) {
              ASSERT_EQ(p.event->event_time_ns, *expected) << text << " at " << receive;
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 20000u);
}

// Receive times at the ends of what int64 nanoseconds hold (1678, 2261):
// the year next to them is not representable, so it is never a candidate,
// and nothing overflows (UBSan checks this in the sanitizer build).
TEST(Rfc3164, YearChoiceAtTheEndsOfRepresentableTime) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t kYearNs = 366 * 86400 * kNanosPerSecond;
  for (const int64_t receive : {Utc(1678, 1, 2, 0, 0, 0), Utc(2261, 12, 30, 0, 0, 0)}) {
    for (unsigned month = 1; month <= 12; ++month) {
      const std::string text = std::string("<13>") + kMonths[month - 1] + " 28 07:00:00 h a: m";
      Parsed p;
      Parse3164(p, text, receive, 14 * 3600);
      ASSERT_TRUE(p.ok) << text;
      if (!p.event->has_message_time) continue;
      EXPECT_LE(p.event->event_time_ns, receive + 86400 * kNanosPerSecond) << text;
      EXPECT_GE(p.event->event_time_ns, receive - kYearNs) << text;
    }
  }
}

TEST(Rfc3164, Feb29ResolvesToALeapYearOrNoTime) {
  Parsed p;
  Parse3164(p, "<13>Feb 29 10:00:00 host app: x", Utc(2025, 1, 10, 0, 0, 0));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->event_time_ns, Utc(2024, 2, 29, 10, 0, 0));
  Parsed q;
  Parse3164(q, "<13>Feb 29 10:00:00 host app: x", Utc(2026, 6, 1, 0, 0, 0));
  ASSERT_TRUE(q.ok);
  EXPECT_FALSE(q.event->has_message_time);
  EXPECT_EQ(q.event->event_time_ns, Utc(2026, 6, 1, 0, 0, 0));
  EXPECT_EQ(q.event->host, "host");
}

TEST(Rfc3164, TimestampVariants) {
  const char* cases[] = {"<13>Jun 10 11:00:00 h a: m",       "<13>Jun  9 11:00:00 h a: m",
                         "<13>Jun 9 11:00:00 h a: m",        "<13>JUN 10 11:00:00 h a: m",
                         "<13> Jun 10 11:00:00 h a: m",      "<13>Jun 10 11:00:00: h a: m",
                         "<13>Jun 10 2024 11:00:00: h a: m", "<13>Jun 10 11:00:00.250 h a: m"};
  for (const char* text : cases) {
    Parsed p;
    Parse3164(p, text);
    ASSERT_TRUE(p.ok) << text;
    EXPECT_TRUE(p.event->has_message_time) << text;
    EXPECT_EQ(p.event->host, "h") << text;
    EXPECT_EQ(p.event->program, "a") << text;
    EXPECT_EQ(p.event->message, "m") << text;
  }
}

TEST(Rfc3164, UnrepresentableYearsParseWithoutMessageTime) {
  for (const char* text : {"<13>0001-01-01T00:00:00Z h a: x", "<13>Jan  5 9999 10:00:00 h a: x"}) {
    Parsed p;
    Parse3164(p, text);
    ASSERT_TRUE(p.ok) << text;
    EXPECT_FALSE(p.event->has_message_time) << text;
    EXPECT_EQ(p.event->event_time_ns, kReceive);
    EXPECT_EQ(p.event->host, "h");
    EXPECT_EQ(p.event->message, "x");
  }
}

TEST(Rfc3164, NoTimestampNoTag) {
  Parsed p;
  Parse3164(p, "<189>date=2024-01-05 time=10:00:00 devname=fw1");
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.event->has_message_time);
  EXPECT_TRUE(p.event->host.empty());
  EXPECT_TRUE(p.event->program.empty());
  EXPECT_EQ(p.event->message, "date=2024-01-05 time=10:00:00 devname=fw1");
}

TEST(Rfc3164, HostileAndInvalidPri) {
  for (const char* text : {"<192>Oct 11 22:14:15 h a: b", "<44444444444444444444>x", "<1x>y", "<",
                           "<-1>x", "<1000>x"}) {
    Parsed p;
    Parse3164(p, text);
    EXPECT_FALSE(p.ok) << text;
    EXPECT_FALSE(p.error.reason.empty());
  }
  Parsed empty;
  Parse3164(empty, "");
  EXPECT_FALSE(empty.ok);
  Parsed lead;
  Parse3164(lead, "<013>x");  // leading zeros are tolerated in the lenient parser
  EXPECT_TRUE(lead.ok);
  EXPECT_EQ(lead.event->facility, 1);
}

TEST(Rfc3164, OnlyPriAndTimestamp) {
  Parsed p;
  Parse3164(p, "<14>Aug 30 23:00:05");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.event->host.empty());
  EXPECT_TRUE(p.event->message.empty());
  Parsed q;
  Parse3164(q, "<14>");
  ASSERT_TRUE(q.ok);
  EXPECT_TRUE(q.event->message.empty());
}

TEST(Rfc3164, InvalidUtf8AndControlBytes) {
  Parsed p;
  Parse3164(p, "<13>Jun 10 11:00:00 h\xff\xfe a\x01: \xc3(\x00z");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->host, "h\xff\xfe");
  EXPECT_EQ(p.event->program, "a\x01");
}

TEST(Rfc3164, VeryLongInput) {
  const std::string big = "<13>Jun 10 11:00:00 " + std::string(300, 'h') + " " +
                          std::string(100000, 't') + ": " + std::string(1 << 20, 'm');
  Parsed p;
  Parse3164(p, big);
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.event->host.empty());  // longer than 255: not a hostname
  EXPECT_EQ(p.event->program.size(), 300u);
  EXPECT_EQ(p.event->message.size(), 100000 + 2 + (size_t{1} << 20));
  const std::string brackets = "<13>x: " + std::string(200000, '[');
  Parsed q;
  Parse3164(q, brackets);
  EXPECT_TRUE(q.ok);
}

}  // namespace
}  // namespace gsoc
