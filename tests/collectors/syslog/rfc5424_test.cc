// Unit tests of the strict RFC 5424 parser and of ParseSyslog's failure policy.
#include <gtest/gtest.h>

#include <string>

#include "collectors/syslog/syslog_parser.h"
#include "engine/util/time_format.h"

namespace gsoc {
namespace {

struct Parsed {
  EventBatch batch;
  Event* event = nullptr;
  ParseError error;
  bool ok = false;
};

// Parses a copy of `text` placed in the batch arena, as a collector does.
void Parse5424(Parsed& out, std::string_view text, int64_t receive_ns = 0) {
  const std::string_view message = out.batch.arena().CopyPadded(text);
  out.event = &out.batch.AddEvent();
  SyslogParseContext context;
  context.receive_time_ns = receive_ns;
  out.ok = ParseRfc5424(message, context, *out.event, out.batch, &out.error);
}

int64_t Utc(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * kNanosPerSecond;
}

TEST(Rfc5424, FullMessage) {
  Parsed p;
  Parse5424(p,
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 77 ID47 "
            "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][x@1 a=\"b\"] An event");
  ASSERT_TRUE(p.ok) << p.error.reason;
  const Event& e = *p.event;
  EXPECT_EQ(e.format, EventFormat::kRfc5424);
  EXPECT_EQ(e.facility, 20);
  EXPECT_EQ(e.severity, 5);
  EXPECT_EQ(e.version, 1);
  EXPECT_TRUE(e.has_message_time);
  EXPECT_EQ(e.event_time_ns, Utc(2003, 10, 11, 22, 14, 15) + 3'000'000);
  EXPECT_EQ(e.host, "mymachine.example.com");
  EXPECT_EQ(e.program, "evntslog");
  EXPECT_EQ(e.pid, "77");
  EXPECT_EQ(e.msgid, "ID47");
  EXPECT_EQ(e.structured_data,
            "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][x@1 a=\"b\"]");
  EXPECT_EQ(e.message, "An event");
  ASSERT_EQ(e.fields_count, 3u);
  EXPECT_EQ(p.batch.FieldValue(e, "sd.exampleSDID@32473.iut"), "3");
  EXPECT_EQ(p.batch.FieldValue(e, "sd.exampleSDID@32473.eventSource"), "Application");
  EXPECT_EQ(p.batch.FieldValue(e, "sd.x@1.a"), "b");
}

TEST(Rfc5424, NilValueInEveryHeaderField) {
  Parsed p;
  Parse5424(p, "<0>1 - - - - - -", 42);
  ASSERT_TRUE(p.ok);
  const Event& e = *p.event;
  EXPECT_EQ(e.facility, 0);
  EXPECT_EQ(e.severity, 0);
  EXPECT_FALSE(e.has_message_time);
  EXPECT_EQ(e.event_time_ns, 42);
  EXPECT_TRUE(e.host.empty());
  EXPECT_TRUE(e.program.empty());
  EXPECT_TRUE(e.pid.empty());
  EXPECT_TRUE(e.msgid.empty());
  EXPECT_TRUE(e.structured_data.empty());
  EXPECT_TRUE(e.message.empty());
  EXPECT_EQ(e.fields_count, 0u);
}

TEST(Rfc5424, EachNilFieldAlone) {
  const char* cases[] = {
      "<1>1 - h a p m - x",                     // timestamp
      "<1>1 2020-01-01T00:00:00Z - a p m - x",  // hostname
      "<1>1 2020-01-01T00:00:00Z h - p m - x",  // app-name
      "<1>1 2020-01-01T00:00:00Z h a - m - x",  // procid
      "<1>1 2020-01-01T00:00:00Z h a p - - x",  // msgid
  };
  for (const char* text : cases) {
    Parsed p;
    Parse5424(p, text);
    ASSERT_TRUE(p.ok) << text;
    EXPECT_EQ(p.event->message, "x");
  }
  Parsed p;
  Parse5424(p, "<1>1 2020-01-01T00:00:00Z - a p m - x");
  EXPECT_TRUE(p.event->host.empty());
  EXPECT_EQ(p.event->program, "a");
}

TEST(Rfc5424, EverySdEscape) {
  Parsed p;
  Parse5424(p, R"(<1>1 - - - - - [e q="a\"b" b="c\\d" r="e\]f" all="\"\\\]" lit="C:\Win\n"] m)");
  ASSERT_TRUE(p.ok) << p.error.reason;
  const Event& e = *p.event;
  EXPECT_EQ(p.batch.FieldValue(e, "sd.e.q"), "a\"b");
  EXPECT_EQ(p.batch.FieldValue(e, "sd.e.b"), "c\\d");
  EXPECT_EQ(p.batch.FieldValue(e, "sd.e.r"), "e]f");
  EXPECT_EQ(p.batch.FieldValue(e, "sd.e.all"), "\"\\]");
  // RFC 5424 6.3.3: a backslash before any other character is kept.
  EXPECT_EQ(p.batch.FieldValue(e, "sd.e.lit"), "C:\\Win\\n");
  EXPECT_EQ(e.message, "m");
}

TEST(Rfc5424, UnescapedValueIsAViewOfTheInput) {
  Parsed p;
  Parse5424(p, R"(<1>1 - - - - - [e plain="abc" esc="a\"c"])");
  ASSERT_TRUE(p.ok);
  const std::string_view raw = p.event->structured_data;
  const std::string_view plain = p.batch.FieldValue(*p.event, "sd.e.plain");
  EXPECT_TRUE(plain.data() >= raw.data() && plain.data() < raw.data() + raw.size());
  const std::string_view esc = p.batch.FieldValue(*p.event, "sd.e.esc");
  EXPECT_FALSE(esc.data() >= raw.data() && esc.data() < raw.data() + raw.size());
}

TEST(Rfc5424, EmptyValueAndElementWithoutParams) {
  Parsed p;
  Parse5424(p, R"(<1>1 - - - - - [a][b k=""])");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->fields_count, 1u);
  EXPECT_EQ(p.batch.FieldsOf(*p.event)[0].name, "sd.b.k");
  EXPECT_EQ(p.batch.FieldsOf(*p.event)[0].value, "");
}

TEST(Rfc5424, BomIsStripped) {
  Parsed p;
  Parse5424(p, "<1>1 - - - - - - \xEF\xBB\xBFhello");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->message, "hello");
  Parsed q;
  Parse5424(q, "<1>1 - - - - - - x\xEF\xBB\xBF");  // only a leading BOM
  EXPECT_EQ(q.event->message, "x\xEF\xBB\xBF");
}

TEST(Rfc5424, FractionsAndOffsets) {
  struct Case {
    const char* ts;
    int64_t want;
  } cases[] = {
      {"2003-08-24T05:14:15Z", Utc(2003, 8, 24, 5, 14, 15)},
      {"2003-08-24T05:14:15.1Z", Utc(2003, 8, 24, 5, 14, 15) + 100'000'000},
      {"2003-08-24T05:14:15.000003-07:00", Utc(2003, 8, 24, 12, 14, 15) + 3'000},
      {"2003-08-24T05:14:15.123456+05:30", Utc(2003, 8, 23, 23, 44, 15) + 123'456'000},
      {"2018-12-31T23:59:59.999999-23:59", Utc(2019, 1, 1, 23, 58, 59) + 999'999'000},
      {"2016-02-29T00:00:00+00:00", Utc(2016, 2, 29, 0, 0, 0)},
  };
  for (const Case& c : cases) {
    Parsed p;
    Parse5424(p, std::string("<1>1 ") + c.ts + " - - - - -");
    ASSERT_TRUE(p.ok) << c.ts << ": " << p.error.reason;
    EXPECT_TRUE(p.event->has_message_time);
    EXPECT_EQ(p.event->event_time_ns, c.want) << c.ts;
  }
}

TEST(Rfc5424, UnrepresentableYearsParseWithoutMessageTime) {
  for (const char* ts : {"0001-01-01T00:00:00Z", "1008-01-15T01:00:43Z", "9999-12-31T23:59:59Z"}) {
    Parsed p;
    Parse5424(p, std::string("<1>1 ") + ts + " h - - - -", 7);
    ASSERT_TRUE(p.ok) << ts;
    EXPECT_FALSE(p.event->has_message_time) << ts;
    EXPECT_EQ(p.event->event_time_ns, 7);
    EXPECT_EQ(p.event->host, "h");
  }
}

TEST(Rfc5424, RejectsBadTimestamps) {
  const char* bad[] = {
      "2003-08-24T05:14:15.1234567Z",                         // 7 fraction digits
      "2003-08-24T05:14:15.Z",        "2003-08-24T05:14:15",  // no zone
      "2003-08-24t05:14:15Z",         "2003-08-24T05:14:15z",
      "2003-02-29T05:14:15Z",  // not a leap year
      "2003-09-31T05:14:15Z",         "2003-08-24T24:00:00Z",      "2003-08-24T05:60:15Z",
      "2003-08-24T05:14:60Z",         "2003-08-24T05:14:15+24:00", "2003-08-24T05:14:15+05:60",
      "2003-08-24T05:14:15+0500",     "2003-8-24T05:14:15Z",
  };
  for (const char* ts : bad) {
    Parsed p;
    Parse5424(p, std::string("<1>1 ") + ts + " - - - - -");
    EXPECT_FALSE(p.ok) << ts;
  }
}

TEST(Rfc5424, PriAndVersionLimits) {
  const char* good[] = {"<0>1 - - - - - -", "<191>1 - - - - - -", "<7>999 - - - - - -"};
  for (const char* text : good) {
    Parsed p;
    Parse5424(p, text);
    EXPECT_TRUE(p.ok) << text;
  }
  const char* bad[] = {"<192>1 - - - - - -",
                       "<00>1 - - - - - -",
                       "<01>1 - - - - - -",
                       "<44444444444444444444>1 - - - - - -",
                       "<>1 - - - - - -",
                       "<1>0 - - - - - -",
                       "<1>1000 - - - - - -",
                       "<1>01 - - - - - -",
                       "1 - - - - - -",
                       "<1",
                       "<1>",
                       "<1>1",
                       ""};
  for (const char* text : bad) {
    Parsed p;
    Parse5424(p, text);
    EXPECT_FALSE(p.ok) << text;
    EXPECT_FALSE(p.error.reason.empty());
  }
}

TEST(Rfc5424, HeaderFieldLengths) {
  const std::string h255(255, 'h'), a48(48, 'a'), p128(128, 'p'), m32(32, 'm');
  Parsed ok;
  Parse5424(ok, "<1>1 - " + h255 + " " + a48 + " " + p128 + " " + m32 + " -");
  EXPECT_TRUE(ok.ok);
  const std::string too_long[] = {"<1>1 - " + h255 + "h a p m -", "<1>1 - h " + a48 + "a p m -",
                                  "<1>1 - h a " + p128 + "p m -", "<1>1 - h a p " + m32 + "m -"};
  for (const std::string& text : too_long) {
    Parsed p;
    Parse5424(p, text);
    EXPECT_FALSE(p.ok) << text.size();
  }
}

TEST(Rfc5424, BadStructuredData) {
  const char* bad[] = {
      "<1>1 - - - - - [a b=\"c",    // truncated value
      "<1>1 - - - - - [a b=\"c\"",  // missing ']'
      "<1>1 - - - - - [a b=\"c\\",  // escape at end
      "<1>1 - - - - - [a b",
      "<1>1 - - - - - [a",
      "<1>1 - - - - - [",
      "<1>1 - - - - - []",
      "<1>1 - - - - - [a b=c]",
      "<1>1 - - - - - [a b=\"]\"]",
      "<1>1 - - - - - [a b= \"c\"]",
      "<1>1 - - - - - [a  b=\"c\"]",
      "<1>1 - - - - - [a][a]",
      "<1>1 - - - - - [a b=\"c\"]x",
      "<1>1 - - - - - X",
      "<1>1 - - - - - -x",
      "<1>1 - - - - - [abcdefghijklmnopqrstuvwxyz0123456]",
  };
  for (const char* text : bad) {
    Parsed p;
    Parse5424(p, text);
    EXPECT_FALSE(p.ok) << text;
  }
}

TEST(Rfc5424, InvalidUtf8InMessageIsKept) {
  Parsed p;
  Parse5424(p, "<1>1 - - - - - - \xff\xfe\xc3(\x80");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.event->message, "\xff\xfe\xc3(\x80");
}

TEST(Rfc5424, NonAsciiInHeaderIsRejected) {
  Parsed p;
  Parse5424(p, "<1>1 - h\xc3\xa9st a p m - x");
  EXPECT_FALSE(p.ok);
}

TEST(Rfc5424, VeryLongInputs) {
  std::string sd = "[big";
  for (int i = 0; i < 2000; ++i)
    sd += " k" + std::to_string(i % 1000) + "=\"" + std::string(50, 'v') + "\"";
  sd += "]";
  Parsed p;
  Parse5424(p, "<1>1 - - - - - " + sd + " " + std::string(1 << 20, 'x'));
  ASSERT_TRUE(p.ok) << p.error.reason;
  EXPECT_EQ(p.event->fields_count, 2000u);
  EXPECT_EQ(p.event->message.size(), size_t{1} << 20);
  Parsed q;
  Parse5424(q, "<1>1 - " + std::string(100000, 'h') + " - - - -");
  EXPECT_FALSE(q.ok);
}

TEST(ParseSyslog, DetectsFormatAndKeepsRaw) {
  EventBatch batch;
  SyslogParseContext context;
  const std::string_view a = batch.arena().CopyPadded("<34>1 - host app - - - hi");
  Event& e1 = batch.AddEvent();
  EventFormat failed = EventFormat::kJson;
  ASSERT_TRUE(ParseSyslog(a, context, e1, batch, &failed));
  EXPECT_EQ(e1.format, EventFormat::kRfc5424);
  EXPECT_EQ(e1.raw, a);
  EXPECT_EQ(failed, EventFormat::kJson);  // untouched on success

  const std::string_view b = batch.arena().CopyPadded("<34>Oct 11 22:14:15 mymachine su: hi\n");
  Event& e2 = batch.AddEvent();
  ASSERT_TRUE(ParseSyslog(b, context, e2, batch, &failed));
  EXPECT_EQ(e2.format, EventFormat::kRfc3164);
  EXPECT_EQ(e2.raw, b);
  EXPECT_EQ(e2.message, "hi");
}

TEST(ParseSyslog, FailedRfc5424IsKeptUnparsed) {
  EventBatch batch;
  SyslogParseContext context;
  context.receive_time_ns = 99;
  const std::string_view m = batch.arena().CopyPadded("<34>1 - host app - - [a x=\"1\"][b y=\"2");
  Event& e = batch.AddEvent();
  EventFormat failed = EventFormat::kJson;
  EXPECT_FALSE(ParseSyslog(m, context, e, batch, &failed));
  EXPECT_EQ(failed, EventFormat::kRfc5424);
  EXPECT_EQ(e.format, EventFormat::kUnparsed);
  EXPECT_TRUE(e.parse_error);
  EXPECT_EQ(e.message, m);
  EXPECT_EQ(e.raw, m);
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.fields_count, 0u);
  EXPECT_EQ(e.event_time_ns, 99);
  // The next event's fields are unaffected by the orphaned ones.
  Event& next = batch.AddEvent();
  const std::string_view ok = batch.arena().CopyPadded("<34>1 - h a - - [c z=\"3\"]");
  ASSERT_TRUE(ParseSyslog(ok, context, next, batch, &failed));
  ASSERT_EQ(next.fields_count, 1u);
  EXPECT_EQ(batch.FieldsOf(next)[0].name, "sd.c.z");
}

TEST(ParseSyslog, HostilePriIsRefusedBy3164) {
  for (const char* text :
       {"<44444444444444444444>Oct 11 22:14:15 host a: b", "<192>x", "<1a>x", "<", "<>"}) {
    EventBatch batch;
    const std::string_view m = batch.arena().CopyPadded(text);
    Event& e = batch.AddEvent();
    EventFormat failed = EventFormat::kJson;
    EXPECT_FALSE(ParseSyslog(m, SyslogParseContext{}, e, batch, &failed)) << text;
    EXPECT_EQ(failed, EventFormat::kRfc3164) << text;
    EXPECT_EQ(e.format, EventFormat::kUnparsed);
    EXPECT_EQ(e.message, m);
  }
}

TEST(ParseSyslog, EmptyFrame) {
  EventBatch batch;
  Event& e = batch.AddEvent();
  EventFormat failed = EventFormat::kJson;
  EXPECT_FALSE(ParseSyslog({}, SyslogParseContext{}, e, batch, &failed));
  EXPECT_EQ(failed, EventFormat::kRfc3164);
  EXPECT_TRUE(e.parse_error);
}

TEST(LooksLikeRfc5424, Detection) {
  EXPECT_TRUE(LooksLikeRfc5424("<34>1 2003-10-11T22:14:15.003Z h a - - -"));
  EXPECT_TRUE(LooksLikeRfc5424("<0>999 - - - - - -"));
  EXPECT_FALSE(LooksLikeRfc5424("<34>Oct 11 22:14:15 mymachine su: x"));
  EXPECT_FALSE(LooksLikeRfc5424("<13>12 apples"));
  EXPECT_FALSE(LooksLikeRfc5424("<13>1"));
  EXPECT_FALSE(LooksLikeRfc5424("1 - - - - - -"));
  EXPECT_FALSE(LooksLikeRfc5424(""));
}

}  // namespace
}  // namespace gsoc
