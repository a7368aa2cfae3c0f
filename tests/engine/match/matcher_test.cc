// Unit tests of the matcher: every op and flag. Each check also holds the
// result to the reference evaluator.
#include "engine/match/matcher.h"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "engine/indicators/indicator_list.h"
#include "engine/match/direct_ops.h"
#include "engine/rules/logsource_map.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;
using K = rules::Condition::Kind;
using Ids = std::vector<std::string>;

class MatcherTest : public ::testing::Test {
 protected:
  void Compile(std::vector<rules::Rule> rules) {
    CompileOptions options;
    options.indicators = registry_.empty() ? nullptr : &registry_;
    options.logsources = logsources_ ? &*logsources_ : nullptr;
    result_ = Matcher::Compile(std::move(rules), options);
    ASSERT_NE(result_.matcher, nullptr);
    scratch_ = result_.matcher->MakeScratch();
  }
  // Rule ids matching the event; fails the test if the reference disagrees.
  Ids Run(const EventSpec& spec) {
    EventBatch batch;
    Event& event = AddTestEvent(batch, spec);
    Ids ids = MatchIds(*result_.matcher, *scratch_, batch, event);
    EXPECT_EQ(ids,
              ReferenceIds(*result_.matcher, batch, event, registry_.empty() ? nullptr : &registry_,
                           logsources_ ? &*logsources_ : nullptr))
        << "reference disagrees on message '" << spec.message << "'";
    return ids;
  }
  Ids RunField(const std::string& name, const std::string& value) {
    return Run({"msg", "prog", {{name, value}}});
  }
  // One rule: field <op> values.
  void CompileOne(const std::string& field, std::vector<rules::ValueMatcher> values,
                  bool all = false) {
    Compile({MakeRule("r", {Sel("s", {Pred(field, std::move(values), all)})}, C(0))});
    ASSERT_TRUE(result_.refused.empty()) << result_.refused.front().message;
  }

  Matcher::CompileResult result_;
  std::unique_ptr<Matcher::Scratch> scratch_;
  indicators::IndicatorRegistry registry_;
  std::optional<rules::LogSourceMap> logsources_;
};

EventSpec Msg(std::string message, std::string program = "") {
  EventSpec spec;
  spec.message = std::move(message);
  spec.program = std::move(program);
  return spec;
}

const Ids kR = {"r"};
const Ids kNone = {};

TEST_F(MatcherTest, EqualsIsWholeValueAndCaseless) {
  CompileOne("user", {Value(MatchOp::kEquals, "root")});
  EXPECT_EQ(RunField("user", "root"), kR);
  EXPECT_EQ(RunField("user", "ROOT"), kR);
  EXPECT_EQ(RunField("user", "roots"), kNone);
  EXPECT_EQ(RunField("user", "xroot"), kNone);
  EXPECT_EQ(RunField("user", "root\n"), kNone);  // anchored at the very end
  EXPECT_EQ(RunField("other", "root"), kNone);   // absent field
}

// A field whose patterns are all whole-value literals is looked up in a
// table instead of scanned (ExactTable): same answers, cased and caseless
// literals of the same bytes apart, ASCII-only case folding, escaped
// wildcards literal; a field with another op or a literal past the table's
// bound keeps the scan.
TEST_F(MatcherTest, WholeValueLiteralsLookedUpAsScanned) {
  const std::string long_value(200, 'a');
  Compile(
      {MakeRule("caseless", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "Root")})})}, C(0)),
       MakeRule("cased", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "Root", true)})})}, C(0)),
       MakeRule("escaped", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "a\\*b")})})}, C(0)),
       MakeRule("bytes", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "\xc3\x89t\xc3\xa9")})})},
                C(0)),
       MakeRule("mixed",
                {Sel("s", {Pred("action", {Value(MatchOp::kEquals, "fail"),
                                           Value(MatchOp::kStartsWith, "deny")})})},
                C(0)),
       MakeRule("long",
                {Sel("s", {Pred("path", {Value(MatchOp::kEquals, long_value),
                                         Value(MatchOp::kEquals, "etc")})})},
                C(0))});
  ASSERT_TRUE(result_.refused.empty()) << result_.refused.front().message;
  EXPECT_EQ(RunField("user", "root"), Ids{"caseless"});
  EXPECT_EQ(RunField("user", "Root"), (Ids{"caseless", "cased"}));
  EXPECT_EQ(RunField("user", "ROOT"), Ids{"caseless"});
  EXPECT_EQ(RunField("user", "a*b"), Ids{"escaped"});
  EXPECT_EQ(RunField("user", "axb"), kNone);
  EXPECT_EQ(RunField("user", "\xc3\x89t\xc3\xa9"), Ids{"bytes"});
  EXPECT_EQ(RunField("user", "\xc3\xa9t\xc3\xa9"), kNone);  // no folding past ASCII
  EXPECT_EQ(RunField("user", "root "), kNone);
  EXPECT_EQ(RunField("action", "FAIL"), Ids{"mixed"});
  EXPECT_EQ(RunField("action", "deny-all"), Ids{"mixed"});
  EXPECT_EQ(RunField("path", long_value), Ids{"long"});
  EXPECT_EQ(RunField("path", "ETC"), Ids{"long"});
  EXPECT_EQ(RunField("path", long_value + "a"), kNone);
}

// Fields are found through the event's own fields: the first of a repeated
// name is its value, a field named like a header wins over the header, and
// many rule fields do not change which event fields are read.
TEST_F(MatcherTest, TheFirstFieldOfANameIsItsValueAsGetFieldHasIt) {
  std::vector<rules::Rule> rules;
  rules.push_back(
      MakeRule("r", {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "evil.exe")})})}, C(0)));
  rules.push_back(
      MakeRule("h", {Sel("s", {Pred("host", {Value(MatchOp::kEquals, "web1")})})}, C(0)));
  for (int i = 0; i < 300; ++i) {  // many field databases besides
    rules.push_back(
        MakeRule("f" + std::to_string(i),
                 {Sel("s", {Pred("F" + std::to_string(i),
                                 {Value(MatchOp::kContains, "x" + std::to_string(i))})})},
                 C(0)));
  }
  Compile(std::move(rules));
  ASSERT_TRUE(result_.refused.empty());
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\good.exe"}, {"Image", "C:\\evil.exe"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\evil.exe"}, {"Image", "C:\\good.exe"}}}), kR);
  EXPECT_EQ(Run({"m", "p", {{"F7", "ax7b"}, {"F299", "x299"}, {"F7", "none"}}}),
            (Ids{"f7", "f299"}));
  EXPECT_EQ(Run({"m", "p", {{"host", "web1"}}}), (Ids{"h"}));
}

// |fieldref: the field equals another field of the same event (caseless);
// an absent side never matches.
TEST_F(MatcherTest, FieldRefComparesTwoFieldsOfTheEvent) {
  CompileOne("Image", {Value(MatchOp::kFieldRef, "ParentImage")});
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}, {"ParentImage", "c:\\A.EXE"}}}), kR);
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}, {"ParentImage", "C:\\b.exe"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"ParentImage", "x"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"Image", ""}, {"ParentImage", ""}}}), kR);
}

// |neq: the field is present and no value matches it; absent never.
TEST_F(MatcherTest, NeqNeedsTheFieldAndNoValueMatching) {
  rules::FieldPredicate user =
      Pred("User", {Value(MatchOp::kEquals, "system"), Value(MatchOp::kEndsWith, "$")});
  user.negated = true;
  Compile({MakeRule("r", {Sel("s", {user})}, C(0))});
  EXPECT_EQ(RunField("User", "alice"), kR);
  EXPECT_EQ(RunField("User", "SYSTEM"), kNone);  // caseless, as without neq
  EXPECT_EQ(RunField("User", "WS01$"), kNone);
  EXPECT_EQ(RunField("User", ""), kR);  // present, empty: differs
  EXPECT_EQ(RunField("Other", "alice"), kNone);
}

// |neq beside a positive selection (its patterns are checked for the
// candidate, not triggers), with fieldref and cidr.
TEST_F(MatcherTest, NeqWithFieldRefCidrAndATrigger) {
  rules::FieldPredicate differs = Pred("Image", {Value(MatchOp::kFieldRef, "ParentImage")});
  differs.negated = true;
  rules::ValueMatcher net = Value(MatchOp::kCidr, "10.0.0.0/8");
  net.cidr = Cidr::Parse(net.text);
  rules::FieldPredicate outside = Pred("DestinationIp", {net});
  outside.negated = true;
  rules::FieldPredicate not_cmd = Pred("CommandLine", {Value(MatchOp::kContains, "--safe")});
  not_cmd.negated = true;
  Compile(
      {MakeRule("ref", {Sel("s", {differs})}, C(0)), MakeRule("net", {Sel("s", {outside})}, C(0)),
       MakeRule("cmd",
                {Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\rundll32.exe")}), not_cmd})},
                C(0))});
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}, {"ParentImage", "C:\\b.exe"}}}), (Ids{"ref"}));
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}, {"ParentImage", "c:\\A.EXE"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\a.exe"}}}), kNone);  // no ParentImage: no answer
  EXPECT_EQ(RunField("DestinationIp", "8.8.8.8"), (Ids{"net"}));
  EXPECT_EQ(RunField("DestinationIp", "10.1.2.3"), kNone);
  EXPECT_EQ(RunField("DestinationIp", "not-an-ip"), (Ids{"net"}));
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\w\\rundll32.exe"}, {"CommandLine", "x --run"}}}),
            (Ids{"cmd"}));
  EXPECT_EQ(Run({"m", "p", {{"Image", "C:\\w\\rundll32.exe"}, {"CommandLine", "x --SAFE"}}}),
            kNone);
  EXPECT_EQ(RunField("Image", "C:\\w\\rundll32.exe"), kNone);  // CommandLine absent
}

// Time parts read the timestamp as written: ISO 8601 / RFC 3339 with `T`
// or a space (Sysmon's UtcTime), zones ignored; ISO week numbers.
TEST_F(MatcherTest, TimePartsReadTheTimestampAsWritten) {
  auto part = [](rules::TimePart p, int n) {
    rules::ValueMatcher value = Value(MatchOp::kTimePart, "");
    value.time_part = p;
    value.number = n;
    return value;
  };
  Compile({MakeRule("h3", {Sel("s", {Pred("ts", {part(rules::TimePart::kHour, 3)})})}, C(0)),
           MakeRule("m5", {Sel("s", {Pred("ts", {part(rules::TimePart::kMinute, 5)})})}, C(0)),
           MakeRule("w53", {Sel("s", {Pred("ts", {part(rules::TimePart::kWeek, 53)})})}, C(0)),
           MakeRule("w1", {Sel("s", {Pred("ts", {part(rules::TimePart::kWeek, 1)})})}, C(0)),
           MakeRule("d29", {Sel("s", {Pred("ts", {part(rules::TimePart::kDay, 29)})})}, C(0)),
           MakeRule("y", {Sel("s", {Pred("ts", {part(rules::TimePart::kYear, 2024)})})}, C(0))});
  EXPECT_EQ(RunField("ts", "2024-02-29T03:05:00Z"), (Ids{"h3", "m5", "d29", "y"}));
  EXPECT_EQ(RunField("ts", "2024-02-29 03:05:59.123"), (Ids{"h3", "m5", "d29", "y"}));
  EXPECT_EQ(RunField("ts", "2024-02-29T03:05:00-08:00"), (Ids{"h3", "m5", "d29", "y"}));
  EXPECT_EQ(RunField("ts", "2021-01-03"), (Ids{"w53"}));  // a Sunday: week 53 of 2020
  EXPECT_EQ(RunField("ts", "2021-01-04"), (Ids{"w1"}));
  EXPECT_EQ(RunField("ts", "2024-12-30T00:00:00Z"), (Ids{"w1", "y"}));  // week 1 of 2025
  EXPECT_EQ(RunField("ts", "2026-12-31"), (Ids{"w53"}));
  EXPECT_EQ(RunField("ts", "2023-02-29T03:05:00Z"), kNone);  // no such day
  EXPECT_EQ(RunField("ts", "2024-02-29T24:05:00Z"), kNone);
  EXPECT_EQ(RunField("ts", "03:05 2024-02-29"), kNone);
  EXPECT_EQ(RunField("ts", "1709175900"), kNone);  // epoch seconds: not a written date
  EXPECT_EQ(RunField("other", "2024-02-29T03:05:00Z"), kNone);
}

// The week part against glibc's strftime %V (the ISO 8601 week), every day
// of 1990-2039, and the other parts against gmtime.
TEST(TimeParts, AgreeWithTheCLibraryEveryDayOfFiftyYears) {
  for (time_t t = 631152000; t < 2208988800; t += 86400 + 3600 + 61) {  // drifting clock times
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32], week[4];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::strftime(week, sizeof(week), "%V", &tm);
    const auto equals = [&](rules::TimePart part, int n) {
      return internal::TimePartEquals(text, part, n);
    };
    ASSERT_TRUE(equals(rules::TimePart::kWeek, std::atoi(week))) << text;
    ASSERT_FALSE(equals(rules::TimePart::kWeek, std::atoi(week) % 53 + 1)) << text;
    ASSERT_TRUE(equals(rules::TimePart::kYear, tm.tm_year + 1900)) << text;
    ASSERT_TRUE(equals(rules::TimePart::kMonth, tm.tm_mon + 1)) << text;
    ASSERT_TRUE(equals(rules::TimePart::kDay, tm.tm_mday)) << text;
    ASSERT_TRUE(equals(rules::TimePart::kHour, tm.tm_hour)) << text;
    ASSERT_TRUE(equals(rules::TimePart::kMinute, tm.tm_min)) << text;
  }
}

// A hostile or cut value is read only where it has bytes (each prefix is
// its own heap string: ASan sees a read past it) and answers false for a
// part it does not hold; a mangled byte anywhere in the date or time is no
// match either.
TEST(TimeParts, CutOrMangledTimestampsAreFalseAndReadInBounds) {
  const std::string whole = "2024-02-29T03:05:00Z";
  using P = rules::TimePart;
  for (size_t size = 0; size <= whole.size(); ++size) {
    const std::string cut = whole.substr(0, size);
    const bool date = size >= 10, time = size >= 16;
    EXPECT_EQ(internal::TimePartEquals(cut, P::kYear, 2024), date) << cut;
    EXPECT_EQ(internal::TimePartEquals(cut, P::kWeek, 9), date) << cut;
    EXPECT_EQ(internal::TimePartEquals(cut, P::kHour, 3), time) << cut;
    EXPECT_EQ(internal::TimePartEquals(cut, P::kMinute, 5), time) << cut;
  }
  for (size_t at = 0; at < 16; ++at) {
    for (char bad : {'x', '/', ' ', '\0'}) {
      std::string mangled = whole;
      if (mangled[at] == bad || (at == 10 && bad == ' ')) continue;  // ' ' is a valid separator
      mangled[at] = bad;
      EXPECT_FALSE(internal::TimePartEquals(mangled, P::kMinute, 5)) << at << " " << mangled;
    }
  }
  EXPECT_FALSE(internal::TimePartEquals(std::string(1 << 20, '9'), P::kYear, 9999));
  EXPECT_FALSE(internal::TimePartEquals("2024-02-29T03:05:00Z", P::kNone, 0));
}

TEST_F(MatcherTest, CasedEquals) {
  CompileOne("user", {Value(MatchOp::kEquals, "Root", /*cased=*/true)});
  EXPECT_EQ(RunField("user", "Root"), kR);
  EXPECT_EQ(RunField("user", "root"), kNone);
}

TEST_F(MatcherTest, ContainsStartsWithEndsWith) {
  Compile(
      {MakeRule("c", {Sel("s", {Pred("cmd", {Value(MatchOp::kContains, "wget")})})}, C(0)),
       MakeRule("s", {Sel("s", {Pred("cmd", {Value(MatchOp::kStartsWith, "/tmp/")})})}, C(0)),
       MakeRule("e", {Sel("s", {Pred("cmd", {Value(MatchOp::kEndsWith, ".sh")})})}, C(0)),
       MakeRule("cc", {Sel("s", {Pred("cmd", {Value(MatchOp::kContains, "WGET", true)})})}, C(0))});
  EXPECT_EQ(RunField("cmd", "/tmp/x; WGET http://a/b.sh"), (Ids{"c", "s", "e", "cc"}));
  EXPECT_EQ(RunField("cmd", "x /tmp/wget.sh.bak"), (Ids{"c"}));
  EXPECT_EQ(RunField("cmd", "/TMP/run.SH"), (Ids{"s", "e"}));
  EXPECT_EQ(RunField("cmd", "curl"), kNone);
}

TEST_F(MatcherTest, Wildcards) {
  Compile({MakeRule("star", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "r*t")})})}, C(0)),
           MakeRule("one", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "r?t")})})}, C(0)),
           MakeRule("mid", {Sel("s", {Pred("v", {Value(MatchOp::kContains, "a*b")})})}, C(0)),
           MakeRule("lead", {Sel("s", {Pred("v", {Value(MatchOp::kStartsWith, "*x")})})}, C(0))});
  EXPECT_EQ(RunField("v", "root"), (Ids{"star"}));
  EXPECT_EQ(RunField("v", "rot"), (Ids{"star", "one"}));
  EXPECT_EQ(RunField("v", "rt"), (Ids{"star"}));
  EXPECT_EQ(RunField("v", "r\nt"), (Ids{"star", "one"}));  // wildcards span newlines
  EXPECT_EQ(RunField("v", "zzAzzBzz"), (Ids{"mid"}));
  EXPECT_EQ(RunField("v", "ba"), kNone);
  EXPECT_EQ(RunField("v", "yyX"), (Ids{"lead"}));
}

TEST_F(MatcherTest, EscapedWildcardsAreLiteral) {
  Compile(
      {MakeRule("star", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "a\\*b")})})}, C(0)),
       MakeRule("q", {Sel("s", {Pred("v", {Value(MatchOp::kContains, "\\?")})})}, C(0)),
       MakeRule("path", {Sel("s", {Pred("v", {Value(MatchOp::kEndsWith, "\\Windows\\cmd.exe")})})},
                C(0)),
       MakeRule("bs", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "x\\\\*")})})}, C(0))});
  EXPECT_EQ(RunField("v", "a*b"), (Ids{"star"}));
  EXPECT_EQ(RunField("v", "axb"), kNone);
  EXPECT_EQ(RunField("v", "what?"), (Ids{"q"}));
  EXPECT_EQ(RunField("v", "C:\\WINDOWS\\cmd.exe"), (Ids{"path"}));
  EXPECT_EQ(RunField("v", "x\\anything"), (Ids{"bs"}));  // `\\` then a wildcard
  EXPECT_EQ(RunField("v", "xanything"), kNone);
}

TEST_F(MatcherTest, EmptyAndStarOnlyValues) {
  Compile({MakeRule("empty", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "")})})}, C(0)),
           MakeRule("any", {Sel("s", {Pred("v", {Value(MatchOp::kEquals, "*")})})}, C(0))});
  EXPECT_EQ(RunField("v", ""), (Ids{"empty", "any"}));
  EXPECT_EQ(RunField("v", "x"), (Ids{"any"}));
  EXPECT_EQ(RunField("w", "x"), kNone);
}

TEST_F(MatcherTest, NonAsciiAndBinaryBytes) {
  CompileOne("v", {Value(MatchOp::kContains, "caf\xc3\xa9"),
                   Value(MatchOp::kContains, std::string("a\0b", 3))});
  EXPECT_EQ(RunField("v", "le CAF\xc3\xa9!"), kR);
  EXPECT_EQ(RunField("v", std::string("xa\0bx", 5)), kR);
  EXPECT_EQ(RunField("v", "\xff\xfe invalid utf-8"), kNone);
}

TEST_F(MatcherTest, AllNeedsEveryValue) {
  CompileOne("cmd", {Value(MatchOp::kContains, "nc"), Value(MatchOp::kContains, "-e")}, true);
  EXPECT_EQ(RunField("cmd", "nc -e /bin/sh"), kR);
  EXPECT_EQ(RunField("cmd", "nc host"), kNone);
  EXPECT_EQ(RunField("cmd", "-e"), kNone);
}

TEST_F(MatcherTest, KeywordsSearchTheMessage) {
  CompileOne("", {Value(MatchOp::kContains, "failed password"),
                  Value(MatchOp::kContains, "invalid user")});
  EXPECT_EQ(Run(Msg("Failed password for root")), kR);
  EXPECT_EQ(Run(Msg("x INVALID USER y")), kR);
  EXPECT_EQ(Run({"accepted", "p", {{"message", "failed password"}}}), kNone);
}

TEST_F(MatcherTest, Conditions) {
  auto sel = Sel("sel", {Pred("user", {Value(MatchOp::kEquals, "root")})});
  auto filter = Sel("filter", {Pred("host", {Value(MatchOp::kStartsWith, "admin")})});
  auto other = Sel("other", {Pred("cmd", {Value(MatchOp::kContains, "sudo")})});
  Compile({MakeRule("and_not", {sel, filter}, And(C(0), Not(C(1)))),
           MakeRule("not_only", {sel}, Not(C(0))),
           MakeRule("one_of", {sel, other}, Of(K::kOneOf, {0, 1})),
           MakeRule("all_of", {sel, other}, Of(K::kAllOf, {0, 1})),
           MakeRule("or", {filter, other}, Or(C(0), C(1))),
           MakeRule("not_not", {other}, Not(Not(C(0))))});
  EXPECT_EQ(Run({"m", "p", {{"user", "root"}, {"host", "web1"}}}), (Ids{"and_not", "one_of"}));
  EXPECT_EQ(Run({"m", "p", {{"user", "root"}, {"host", "admin2"}}}), (Ids{"one_of", "or"}));
  EXPECT_EQ(Run({"m", "p", {{"user", "bob"}}}), (Ids{"not_only"}));
  EXPECT_EQ(Run({"m", "p", {{"user", "root"}, {"cmd", "sudo su"}}}),
            (Ids{"and_not", "one_of", "all_of", "or", "not_not"}));
  EXPECT_EQ(Run({"m", "p", {}}), (Ids{"not_only"}));
}

TEST_F(MatcherTest, SelectionAlternativesAreOred) {
  rules::Selection selection;
  selection.name = "s";
  selection.alternatives.push_back(
      {Pred("user", {Value(MatchOp::kEquals, "a")}), Pred("host", {Value(MatchOp::kEquals, "h")})});
  selection.alternatives.push_back({Pred("user", {Value(MatchOp::kEquals, "b")})});
  Compile({MakeRule("r", {selection}, C(0))});
  EXPECT_EQ(Run({"m", "p", {{"user", "a"}, {"host", "h"}}}), kR);
  EXPECT_EQ(Run({"m", "p", {{"user", "a"}}}), kNone);
  EXPECT_EQ(Run({"m", "p", {{"user", "b"}}}), kR);
}

TEST_F(MatcherTest, CidrV4AndV6) {
  auto v4 = Value(MatchOp::kCidr, "10.0.0.0/8");
  v4.cidr = Cidr::Parse(v4.text);
  auto v6 = Value(MatchOp::kCidr, "2001:db8::/32");
  v6.cidr = Cidr::Parse(v6.text);
  ASSERT_TRUE(v4.cidr && v6.cidr);
  Compile({MakeRule("v4", {Sel("s", {Pred("src_ip", {v4})})}, C(0)),
           MakeRule("v6", {Sel("s", {Pred("src_ip", {v6})})}, C(0))});
  EXPECT_EQ(RunField("src_ip", "10.1.2.3"), (Ids{"v4"}));
  EXPECT_EQ(RunField("src_ip", "11.0.0.1"), kNone);
  EXPECT_EQ(RunField("src_ip", "2001:db8::1"), (Ids{"v6"}));
  EXPECT_EQ(RunField("src_ip", "2001:db9::1"), kNone);
  EXPECT_EQ(RunField("src_ip", "::ffff:10.0.0.1"), (Ids{"v4"}));  // IPv4-mapped
  EXPECT_EQ(RunField("src_ip", "10.1.2"), kNone);
  EXPECT_EQ(RunField("src_ip", "not an ip"), kNone);
  EXPECT_EQ(RunField("src_ip", ""), kNone);
  EXPECT_EQ(RunField("dst_ip", "10.1.2.3"), kNone);
}

TEST_F(MatcherTest, NumericComparisons) {
  auto make = [](MatchOp op, double number) {
    auto value = Value(op, std::to_string(number));
    value.number = number;
    return value;
  };
  Compile({MakeRule("lt", {Sel("s", {Pred("n", {make(MatchOp::kLt, 10)})})}, C(0)),
           MakeRule("lte", {Sel("s", {Pred("n", {make(MatchOp::kLte, 10)})})}, C(0)),
           MakeRule("gt", {Sel("s", {Pred("n", {make(MatchOp::kGt, 10)})})}, C(0)),
           MakeRule("gte", {Sel("s", {Pred("n", {make(MatchOp::kGte, 10)})})}, C(0))});
  EXPECT_EQ(RunField("n", "9"), (Ids{"lt", "lte"}));
  EXPECT_EQ(RunField("n", "10"), (Ids{"lte", "gte"}));
  EXPECT_EQ(RunField("n", "10.5"), (Ids{"gt", "gte"}));
  EXPECT_EQ(RunField("n", "-3"), (Ids{"lt", "lte"}));
  EXPECT_EQ(RunField("n", "12abc"), kNone);
  EXPECT_EQ(RunField("n", "abc"), kNone);
  EXPECT_EQ(RunField("n", ""), kNone);
  EXPECT_EQ(RunField("m", "5"), kNone);
}

TEST_F(MatcherTest, ExistsAndNull) {
  auto exists = Value(MatchOp::kExists, "true");
  auto missing = Value(MatchOp::kExists, "false");
  missing.exists = false;
  Compile({MakeRule("exists", {Sel("s", {Pred("user", {exists})})}, C(0)),
           MakeRule("missing", {Sel("s", {Pred("user", {missing})})}, C(0)),
           MakeRule("null", {Sel("s", {Pred("user", {Value(MatchOp::kNull, "")})})}, C(0))});
  EXPECT_EQ(RunField("user", "bob"), (Ids{"exists"}));
  EXPECT_EQ(RunField("user", ""), (Ids{"exists", "null"}));
  EXPECT_EQ(RunField("host", "x"), (Ids{"missing", "null"}));
}

TEST_F(MatcherTest, RegexBackreferenceUsesPrefilterAndPcre) {
  CompileOne("message", {Regex("(\\w+) \\1")});
  EXPECT_EQ(result_.stats.patterns, 1u);  // in Hyperscan (prefilter), not PCRE2 alone
  EXPECT_EQ(Run(Msg("say foo foo")), kR);
  EXPECT_EQ(Run(Msg("say foo bar")), kNone);
}

TEST_F(MatcherTest, RegexLookaround) {
  Compile({MakeRule("ahead", {Sel("s", {Pred("v", {Regex("foo(?=bar)")})})}, C(0)),
           MakeRule("not_ahead", {Sel("s", {Pred("v", {Regex("foo(?!bar)")})})}, C(0)),
           MakeRule("behind", {Sel("s", {Pred("v", {Regex("(?<=x)foo")})})}, C(0))});
  ASSERT_TRUE(result_.refused.empty());
  EXPECT_EQ(RunField("v", "foobar"), (Ids{"ahead"}));
  EXPECT_EQ(RunField("v", "foobaz"), (Ids{"not_ahead"}));
  EXPECT_EQ(RunField("v", "xfoobar"), (Ids{"ahead", "behind"}));
}

TEST_F(MatcherTest, RegexFlags) {
  Compile({MakeRule("cased", {Sel("s", {Pred("v", {Regex("Root")})})}, C(0)),
           MakeRule("i", {Sel("s", {Pred("v", {Regex("Root", true)})})}, C(0)),
           MakeRule("m", {Sel("s", {Pred("v", {Regex("^b", false, true)})})}, C(0)),
           MakeRule("s", {Sel("s", {Pred("v", {Regex("a.c", false, false, true)})})}, C(0)),
           MakeRule("plain", {Sel("s", {Pred("v", {Regex("a.c")})})}, C(0))});
  EXPECT_EQ(RunField("v", "root"), (Ids{"i"}));
  EXPECT_EQ(RunField("v", "Root"), (Ids{"cased", "i"}));
  EXPECT_EQ(RunField("v", "a\nb"), (Ids{"m"}));
  EXPECT_EQ(RunField("v", "a\nc"), (Ids{"s"}));
  EXPECT_EQ(RunField("v", "abc"), (Ids{"s", "plain"}));
}

TEST_F(MatcherTest, RegexMatchingEmptyRunsInPcre) {
  Compile({MakeRule("empty", {Sel("s", {Pred("v", {Regex("^$")})})}, C(0)),
           MakeRule("star", {Sel("s", {Pred("v", {Regex("x*")})})}, C(0))});
  EXPECT_EQ(RunField("v", ""), (Ids{"empty", "star"}));
  EXPECT_EQ(RunField("v", "abc"), (Ids{"star"}));
  EXPECT_EQ(RunField("w", "abc"), kNone);
}

TEST_F(MatcherTest, InvalidRegexRefusesTheRule) {
  Compile({MakeRule("bad", {Sel("s", {Pred("v", {Regex("(unclosed")})})}, C(0)),
           MakeRule("good", {Sel("s", {Pred("v", {Regex("ok")})})}, C(0))});
  ASSERT_EQ(result_.refused.size(), 1u);
  EXPECT_EQ(result_.refused[0].rule_id, "bad");
  EXPECT_EQ(result_.refused[0].location.file, "test/bad.yml");
  EXPECT_EQ(result_.refused[0].location.line, 3);
  EXPECT_NE(result_.refused[0].message.find("regex '(unclosed': "), std::string::npos)
      << result_.refused[0].message;
  EXPECT_EQ(result_.stats.rules, 1u);
  EXPECT_EQ(RunField("v", "ok"), (Ids{"good"}));
}

TEST_F(MatcherTest, SharedPatternsReportEveryRuleInOrder) {
  std::vector<rules::Rule> rules;
  for (int i = 0; i < 5; ++i) {
    rules.push_back(MakeRule("r" + std::to_string(i),
                             {Sel("s", {Pred("v", {Value(MatchOp::kContains, "same")})})},
                             i % 2 ? Not(C(0)) : C(0)));
  }
  Compile(std::move(rules));
  EXPECT_EQ(result_.stats.patterns, 1u);
  EXPECT_EQ(RunField("v", "the same"), (Ids{"r0", "r2", "r4"}));
  EXPECT_EQ(RunField("v", "other"), (Ids{"r1", "r3"}));
}

TEST_F(MatcherTest, LogsourceFilter) {
  logsources_ = rules::LogSourceMap::Parse(
      "logsources:\n"
      "  - logsource: {product: linux, service: sshd}\n"
      "    programs: [sshd]\n"
      "  - logsource: {product: linux}\n",
      "logsources.yaml");
  auto rule = [](std::string id, std::string product, std::string service) {
    auto r = MakeRule(id, {Sel("s", {Pred("", {Value(MatchOp::kContains, "failed")})})}, C(0));
    r.logsource.product = std::move(product);
    r.logsource.service = std::move(service);
    return r;
  };
  Compile({rule("sshd", "linux", "sshd"), rule("linux", "linux", ""),
           rule("windows", "windows", "security")});
  ASSERT_EQ(result_.refused.size(), 1u);
  EXPECT_EQ(result_.refused[0].rule_id, "windows");
  EXPECT_NE(result_.refused[0].message.find("logsource"), std::string::npos);
  EXPECT_EQ(Run(Msg("failed password", "sshd")), (Ids{"sshd", "linux"}));
  EXPECT_EQ(Run(Msg("failed password", "SSHD")), (Ids{"sshd", "linux"}));
  EXPECT_EQ(Run(Msg("failed password", "cron")), (Ids{"linux"}));
}

TEST_F(MatcherTest, IndicatorLists) {
  TempDir dir("indicators");
  {
    std::ofstream out(dir.path() / "bad.txt");
    out << "# bad things\n10.9.0.0/16\n192.0.2.7\nevil.example.com\n";
  }
  std::shared_ptr<const indicators::IndicatorList> list =
      indicators::IndicatorList::Load({"bad", dir.path() / "bad.txt", ""});
  registry_["bad"] = list;
  auto expand = Value(MatchOp::kIndicator, "%bad%");
  expand.indicator_list = "bad";
  auto missing = expand;
  missing.indicator_list = "nope";
  Compile({MakeRule("ip", {Sel("s", {Pred("src_ip", {expand})})}, C(0)),
           MakeRule("kw", {Sel("s", {Pred("", {expand})})}, C(0)),
           MakeRule("missing", {Sel("s", {Pred("src_ip", {missing})})}, C(0))});
  ASSERT_EQ(result_.refused.size(), 1u);
  EXPECT_EQ(result_.refused[0].rule_id, "missing");
  EXPECT_EQ(Run({"x", "p", {{"src_ip", "10.9.3.4"}}}), (Ids{"ip"}));
  EXPECT_EQ(Run({"x", "p", {{"src_ip", "192.0.2.7"}}}), (Ids{"ip"}));
  EXPECT_EQ(Run({"x", "p", {{"src_ip", "192.0.2.8"}}}), kNone);
  EXPECT_EQ(Run({"GET http://EVIL.example.com/x", "p", {}}), (Ids{"kw"}));
  EXPECT_EQ(Run({"GET http://good.example.com/x", "p", {}}), kNone);
}

// Keywords on a JSON event without a message member search its values,
// unescaped: its line holds a quote or an inner backslash escaped, among
// member names. The reference agrees.
TEST(MatcherKeywords, AJsonEventsKeywordsSearchItsValuesNotItsLine) {
  std::vector<rules::Rule> rules = {
      MakeRule("path",
               {Sel("k", {Pred("", {Value(MatchOp::kContains, "C:\\Windows\\Temp\\evil")})})},
               C(0)),
      MakeRule("quote", {Sel("k", {Pred("", {Value(MatchOp::kContains, "-Confirm \"False\"")})})},
               C(0)),
      MakeRule("name", {Sel("k", {Pred("", {Value(MatchOp::kContains, "CommandLine")})})}, C(0)),
      MakeRule("regex", {Sel("k", {Pred("", {Regex("Temp\\\\evil\\.exe")})})}, C(0)),
  };
  auto result = Matcher::Compile(std::move(rules), CompileOptions{});
  ASSERT_NE(result.matcher, nullptr);
  auto scratch = result.matcher->MakeScratch();
  EventBatch batch;
  auto json = [&](std::string_view line,
                  std::vector<std::pair<std::string, std::string>> fields) -> Event& {
    Event& event = batch.AddEvent();
    event.format = EventFormat::kJson;
    event.raw = event.message = batch.arena().Copy(line);
    for (auto& [name, value] : fields)
      batch.AddField(event, batch.arena().Copy(name), batch.arena().Copy(value));
    return event;
  };
  Event& line = json(
      R"({"Image":"C:\\Windows\\Temp\\evil.exe","CommandLine":"Remove-X -Confirm \"False\""})",
      {{"Image", "C:\\Windows\\Temp\\evil.exe"}, {"CommandLine", "Remove-X -Confirm \"False\""}});
  const std::vector<std::string> expected = {"path", "quote", "regex"};
  EXPECT_EQ(MatchIds(*result.matcher, *scratch, batch, line), expected);
  EXPECT_EQ(ReferenceIds(*result.matcher, batch, line), expected);
  // With a message member, keywords search that message only.
  Event& member = json(R"({"message":"CommandLine was -Confirm \"False\""})", {});
  member.message = batch.arena().Copy("CommandLine was -Confirm \"False\"");
  const std::vector<std::string> message = {"quote", "name"};
  EXPECT_EQ(MatchIds(*result.matcher, *scratch, batch, member), message);
  EXPECT_EQ(ReferenceIds(*result.matcher, batch, member), message);
  // A syslog event's keywords search its message, as before.
  Event& syslog = AddTestEvent(batch, {"run C:\\Windows\\Temp\\evil.exe", "p", {}});
  EXPECT_EQ(MatchIds(*result.matcher, *scratch, batch, syslog),
            (std::vector<std::string>{"path", "regex"}));
}

}  // namespace
}  // namespace gsoc::match
