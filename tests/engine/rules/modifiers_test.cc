// Selections, values and every Sigma value modifier.
#include <gmock/gmock.h>

#include "tests/engine/rules/rule_test_util.h"

namespace gsoc::rules {
namespace {

using ::testing::ElementsAre;
using testing::FirstValues;
using ::testing::HasSubstr;
using testing::LoadOne;
using testing::RefusalOf;
using testing::RuleWithDetection;
using testing::RuleWithSelection;
using testing::Texts;

TEST(Selections, MapIsAndListOfMapsIsOr) {
  const Rule rule = LoadOne(RuleWithSelection(
      "    - program: sshd\n      message|contains: Failed\n    - program: sudo\n"));
  ASSERT_EQ(rule.selections[0].alternatives.size(), 2u);
  ASSERT_EQ(rule.selections[0].alternatives[0].size(), 2u);
  EXPECT_EQ(rule.selections[0].alternatives[0][0].field, "program");
  EXPECT_EQ(rule.selections[0].alternatives[0][1].values[0].op, MatchOp::kContains);
  EXPECT_EQ(rule.selections[0].alternatives[1][0].values[0].text, "sudo");
}

TEST(Selections, ListOfValuesIsOrAndAllMakesItAnd) {
  Rule rule = LoadOne(RuleWithSelection("    user: [root, admin]\n"));
  EXPECT_FALSE(rule.selections[0].alternatives[0][0].all);
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("root", "admin"));
  rule = LoadOne(RuleWithSelection("    message|contains|all: [a, b]\n"));
  EXPECT_TRUE(rule.selections[0].alternatives[0][0].all);
}

TEST(Selections, KeywordsListAndScalar) {
  Rule rule = LoadOne(RuleWithSelection("    - 'error: x'\n    - 42\n"));
  const FieldPredicate& keywords = rule.selections[0].alternatives[0][0];
  EXPECT_EQ(keywords.field, "");
  EXPECT_EQ(keywords.values[0].op, MatchOp::kContains);
  EXPECT_THAT(Texts(keywords.values), ElementsAre("error: x", "42"));
  rule = LoadOne(RuleWithDetection("  sel: 'one keyword'\n  condition: sel\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("one keyword"));
  rule = LoadOne(RuleWithSelection("    '|all': [a, b]\n"));
  EXPECT_TRUE(rule.selections[0].alternatives[0][0].all);
  EXPECT_EQ(FirstValues(rule)[0].op, MatchOp::kContains);
}

TEST(Selections, NullNumbersAndBooleans) {
  const Rule rule = LoadOne(RuleWithSelection("    a: null\n    b: 4625\n    c: true\n    d: ~\n"));
  const auto& predicates = rule.selections[0].alternatives[0];
  EXPECT_EQ(predicates[0].values[0].op, MatchOp::kNull);
  EXPECT_EQ(predicates[1].values[0].op, MatchOp::kEquals);
  EXPECT_EQ(predicates[1].values[0].text, "4625");
  EXPECT_EQ(predicates[2].values[0].text, "true");
  EXPECT_EQ(predicates[3].values[0].op, MatchOp::kNull);
  EXPECT_EQ(
      LoadOne(RuleWithSelection("    a: 'null'\n")).selections[0].alternatives[0][0].values[0].op,
      MatchOp::kEquals);
}

TEST(Selections, MalformedAreRefused) {
  EXPECT_THAT(RefusalOf(RuleWithSelection("    - a: b\n    - plain\n")),
              HasSubstr("must be a map"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a: {b: c}\n")),
              HasSubstr("must be a scalar or a list"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a: [[x]]\n")),
              HasSubstr("a value must be a scalar"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a: []\n")), HasSubstr("empty list of values"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    - null\n")), HasSubstr("null"));
  EXPECT_THAT(RefusalOf(RuleWithDetection("  sel:\n  condition: sel\n")), HasSubstr("is empty"));
  EXPECT_THAT(RefusalOf(RuleWithDetection("  condition: sel\n")), HasSubstr("no selections"));
  EXPECT_THAT(RefusalOf(RuleWithDetection("  sel: x\n")), HasSubstr("no condition"));
}

TEST(Modifiers, StringOperatorsCasedAndEscapesKept) {
  const Rule rule =
      LoadOne(RuleWithSelection("    a|contains: x\n    b|startswith: y\n    c|endswith|cased: z\n"
                                "    d: 'C:\\Windows\\*.exe\\?'\n"));
  const auto& p = rule.selections[0].alternatives[0];
  EXPECT_EQ(p[0].values[0].op, MatchOp::kContains);
  EXPECT_FALSE(p[0].values[0].cased);
  EXPECT_EQ(p[1].values[0].op, MatchOp::kStartsWith);
  EXPECT_EQ(p[2].values[0].op, MatchOp::kEndsWith);
  EXPECT_TRUE(p[2].values[0].cased);
  EXPECT_EQ(p[3].values[0].text, "C:\\Windows\\*.exe\\?");
}

TEST(Modifiers, RegexAndFlags) {
  const Rule rule = LoadOne(RuleWithSelection("    a|re: '^x+$'\n    b|re|i|m|s: 'y.z'\n"));
  const auto& p = rule.selections[0].alternatives[0];
  EXPECT_EQ(p[0].values[0].op, MatchOp::kRegex);
  EXPECT_EQ(p[0].values[0].text, "^x+$");
  EXPECT_FALSE(p[0].values[0].regex_caseless);
  EXPECT_TRUE(p[1].values[0].regex_caseless);
  EXPECT_TRUE(p[1].values[0].regex_multiline);
  EXPECT_TRUE(p[1].values[0].regex_dotall);
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|contains|i: x\n")),
            "modifier 'i' applies only to 're'");
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|re|startswith: x\n")),
            "modifiers 're' and 'startswith' cannot be combined");
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|re|base64: x\n")),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|re|cased: x\n")),
              HasSubstr("'cased' cannot be combined"));
}

TEST(Modifiers, CidrIpv4AndIpv6) {
  const Rule rule =
      LoadOne(RuleWithSelection("    src_ip|cidr: ['10.0.0.0/8', '2001:db8::/32']\n"));
  const auto values = FirstValues(rule);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].op, MatchOp::kCidr);
  ASSERT_TRUE(values[0].cidr.has_value());
  EXPECT_EQ(values[0].cidr->prefix_length, 96 + 8);
  EXPECT_EQ(values[0].text, "10.0.0.0/8");
  ASSERT_TRUE(values[1].cidr.has_value());
  EXPECT_EQ(values[1].cidr->prefix_length, 32);
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|cidr: 10.0.0.0/33\n")),
            "invalid CIDR '10.0.0.0/33'");
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|cidr|contains: 10.0.0.0/8\n")),
            "modifiers 'cidr' and 'contains' cannot be combined");
}

TEST(Modifiers, Base64AndBase64OffsetSpecExamples) {
  Rule rule = LoadOne(RuleWithSelection("    a|base64: 'http://'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("aHR0cDovLw=="));
  EXPECT_EQ(FirstValues(rule)[0].op, MatchOp::kEquals);
  rule = LoadOne(RuleWithSelection("    a|base64offset|contains: 'http://'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"));
  EXPECT_EQ(FirstValues(rule)[0].op, MatchOp::kContains);
  rule = LoadOne(RuleWithSelection("    a|base64offset: '/bin/bash'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"));
  EXPECT_EQ(FirstValues(rule)[0].op, MatchOp::kContains);  // base64offset implies contains
}

TEST(Modifiers, Base64RefusesWildcardsButEncodesEscapedOnes) {
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|base64: 'x*'\n")),
              HasSubstr("cannot encode wildcards"));
  const Rule rule = LoadOne(RuleWithSelection("    a|base64: 'x\\*'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("eCo="));  // base64("x*")
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|base64offset|contains: 'a'\n")),
              HasSubstr("too short"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|base64|base64offset: 'abc'\n")),
              HasSubstr("must come before"));
}

TEST(Modifiers, Utf16WithBase64) {
  Rule rule = LoadOne(RuleWithSelection("    a|wide|base64offset|contains: 'ping'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("cABpAG4AZw", "AAaQBuAGcA", "wAGkAbgBnA"));
  rule = LoadOne(RuleWithSelection("    a|utf16le|base64: 'cmd'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("YwBtAGQA"));
  rule = LoadOne(RuleWithSelection("    a|utf16be|base64: 'ping'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("AHAAaQBuAGc="));
  rule = LoadOne(RuleWithSelection("    a|utf16|base64: 'ping'\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre("//5wAGkAbgBnAA=="));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|base64|wide: 'ping'\n")),
              HasSubstr("'wide' must come before 'base64'"));
}

TEST(Modifiers, Utf16AloneKeepsWildcardsAndEscapesProducedSpecials) {
  Rule rule = LoadOne(RuleWithSelection("    a|wide|contains: 'a*'\n"));
  EXPECT_EQ(FirstValues(rule)[0].text, std::string("a\0*", 3));
  rule = LoadOne(RuleWithSelection("    a|wide: '\\*'\n"));  // literal * -> bytes 2A 00
  EXPECT_EQ(FirstValues(rule)[0].text, std::string("\\*\0", 3));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|wide: '\xC3('\n")), HasSubstr("valid UTF-8"));
}

TEST(Modifiers, Windash) {
  Rule rule = LoadOne(RuleWithSelection("    a|windash|contains: ' -exec '\n"));
  EXPECT_THAT(Texts(FirstValues(rule)), ElementsAre(" -exec ", " /exec ",
                                                    " \xE2\x80\x93"
                                                    "exec ",
                                                    " \xE2\x80\x94"
                                                    "exec ",
                                                    " \xE2\x80\x95"
                                                    "exec "));
  rule = LoadOne(RuleWithSelection("    a|windash: '-a x-y /b'\n"));  // x-y: no word start
  EXPECT_EQ(FirstValues(rule).size(), 25u);
  EXPECT_EQ(FirstValues(rule)[6].text, "/a x-y /b");
  rule = LoadOne(RuleWithSelection("    a|windash|base64: '-e'\n"));
  EXPECT_EQ(FirstValues(rule).size(), 5u);
  EXPECT_EQ(FirstValues(rule)[1].text, "L2U=");  // base64("/e")
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|windash: '-a -b -c -d -e -f'\n")),
              HasSubstr("too many"));
}

TEST(Modifiers, AllOverExpandedValuesGivesOnePredicatePerValue) {
  const Rule rule = LoadOne(RuleWithSelection("    a|windash|contains|all: ['-x', 'y']\n"));
  const auto& predicates = rule.selections[0].alternatives[0];
  ASSERT_EQ(predicates.size(), 2u);
  EXPECT_FALSE(predicates[0].all);
  EXPECT_EQ(predicates[0].values.size(), 5u);
  EXPECT_EQ(predicates[1].values.size(), 1u);
}

TEST(Modifiers, ExistsAndNumeric) {
  const Rule rule =
      LoadOne(RuleWithSelection("    a|exists: true\n    b|exists: false\n    c|lt: 10\n    d|lte: "
                                "1.5\n    e|gt: -3\n    f|gte: 0\n"));
  const auto& p = rule.selections[0].alternatives[0];
  EXPECT_EQ(p[0].values[0].op, MatchOp::kExists);
  EXPECT_TRUE(p[0].values[0].exists);
  EXPECT_FALSE(p[1].values[0].exists);
  EXPECT_EQ(p[2].values[0].op, MatchOp::kLt);
  EXPECT_EQ(p[2].values[0].number, 10);
  EXPECT_EQ(p[3].values[0].op, MatchOp::kLte);
  EXPECT_EQ(p[3].values[0].number, 1.5);
  EXPECT_EQ(p[4].values[0].op, MatchOp::kGt);
  EXPECT_EQ(p[4].values[0].number, -3);
  EXPECT_EQ(p[5].values[0].op, MatchOp::kGte);
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|gt: ten\n")),
            "modifier 'gt' needs a number, got 'ten'");
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|exists: maybe\n")), HasSubstr("true or false"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|gt|contains: 1\n")),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|lt|all: [1, 2]\n")),
              HasSubstr("'all' cannot be combined"));
}

// |neq (spec v2.1, generic): the predicate negated, over every value; it
// combines with the string, regex, cidr, fieldref, expand and time
// modifiers, not with what has its own opposite.
TEST(Modifiers, NeqNegatesThePredicate) {
  LoadOptions options;
  options.indicator_lists = {"bad_ips"};
  const Rule rule = LoadOne(
      RuleWithSelection("    User|neq: SYSTEM\n    Image|endswith|neq: ['\\a.exe', '\\b.exe']\n"
                        "    Parent|fieldref|neq: Image\n    src_ip|cidr|neq: 10.0.0.0/8\n"
                        "    dst_ip|expand|neq: '%bad_ips%'\n    ts|hour|neq: 3\n"
                        "    cmd|re|neq: '^a'\n    plain: x\n"),
      options);
  const auto& p = rule.selections[0].alternatives[0];
  ASSERT_EQ(p.size(), 8u);
  for (size_t i = 0; i < 7; ++i) EXPECT_TRUE(p[i].negated) << p[i].field;
  EXPECT_FALSE(p[7].negated);
  EXPECT_EQ(p[0].values[0].op, MatchOp::kEquals);
  EXPECT_EQ(p[1].values.size(), 2u);
  EXPECT_FALSE(p[1].all);
  EXPECT_EQ(p[2].values[0].op, MatchOp::kFieldRef);
  EXPECT_EQ(p[5].values[0].op, MatchOp::kTimePart);
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|neq|all: [x, y]\n")),
              HasSubstr("'neq' cannot be combined with 'all'"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|exists|neq: true\n")),
              HasSubstr("use exists: false"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|gt|neq: 3\n")),
              HasSubstr("use the opposite bound"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|neq: null\n")), HasSubstr("null"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    '|neq': x\n")), HasSubstr("needs a field"));
}

// Time modifiers (spec v2.1): an integer part of a timestamp field.
TEST(Modifiers, TimePartsTakeAnIntegerInTheirRange) {
  const Rule rule = LoadOne(
      RuleWithSelection("    a|minute: 59\n    b|hour: [0, 23]\n    c|day: 31\n    d|week: 53\n"
                        "    e|month: 1\n    f|year: 2026\n"));
  const auto& p = rule.selections[0].alternatives[0];
  const TimePart parts[] = {TimePart::kMinute, TimePart::kHour,  TimePart::kDay,
                            TimePart::kWeek,   TimePart::kMonth, TimePart::kYear};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(p[i].values[0].op, MatchOp::kTimePart);
    EXPECT_EQ(p[i].values[0].time_part, parts[i]);
  }
  EXPECT_EQ(p[1].values.size(), 2u);
  EXPECT_EQ(p[1].values[1].number, 23);
  EXPECT_EQ(p[5].values[0].number, 2026);
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|hour: 24\n")),
            "modifier 'hour' needs an integer from 0 to 23, got '24'");
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|day: 0\n")), HasSubstr("from 1 to 31"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|minute: 1.5\n")), HasSubstr("integer"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|month: june\n")), HasSubstr("needs a number"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|hour|all: [1, 2]\n")),
              HasSubstr("'all' cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|hour|contains: 1\n")),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|hour|minute: 1\n")),
              HasSubstr("cannot be combined"));
}

TEST(Modifiers, ExpandBindsIndicatorLists) {
  LoadOptions options;
  options.indicator_lists = {"bad_ips"};
  const Rule rule = LoadOne(RuleWithSelection("    src_ip|expand: '%bad_ips%'\n"), options);
  EXPECT_EQ(FirstValues(rule)[0].op, MatchOp::kIndicator);
  EXPECT_EQ(FirstValues(rule)[0].indicator_list, "bad_ips");
  EXPECT_EQ(RefusalOf(RuleWithSelection("    src_ip|expand: '%admins%'\n"), options),
            "placeholder %admins% is bound to no indicator list");
  EXPECT_THAT(RefusalOf(RuleWithSelection("    src_ip|expand: 'x%bad_ips%'\n"), options),
              HasSubstr("one %placeholder%"));
}

TEST(Modifiers, UnsupportedAndUnknownAreRefusedByName) {
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|fieldref|contains: b\n")),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|fieldref: ''\n")), HasSubstr("fieldref needs"));
  EXPECT_EQ(RefusalOf(RuleWithSelection("    a|sometimes: b\n")), "unknown modifier 'sometimes'");
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a||contains: b\n")), HasSubstr("empty modifier"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|contains|endswith: b\n")),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(RefusalOf(RuleWithSelection("    a|contains: null\n")), HasSubstr("null"));
}

TEST(Modifiers, ErrorNamesTheLineOfTheOffendingValue) {
  const RuleError error = testing::ErrorOf(RuleWithSelection("    a: x\n    b|nope: y\n"));
  EXPECT_EQ(error.location.file, "test.yml");
  EXPECT_EQ(error.location.line, 8);
  EXPECT_EQ(error.rule_id, "test-rule");
  EXPECT_EQ(error.ToString(), "test.yml:8:13: rule test-rule: unknown modifier 'nope'");
}

}  // namespace
}  // namespace gsoc::rules
