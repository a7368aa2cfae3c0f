// Differential test: random rules and random events, Matcher::Match must
// equal ReferenceMatches for every (rule, event). Fixed seeds.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>

#include "engine/match/matcher.h"
#include "tests/engine/match/match_test_util.h"

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;
using K = rules::Condition::Kind;

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(static_cast<int>(items.size()))];
  }

  // Event text over a small alphabet so that rule values hit often.
  std::string EventText(int max_len) {
    static const std::vector<std::string> kPieces = {"a",  "b",  "c",   "A",   "B", "x",
                                                     " ",  "ab", "bc",  "AB",  "*", "?",
                                                     "\\", "\n", "foo", "Foo", "aa"};
    std::string text;
    int len = Uniform(max_len + 1);
    for (int i = 0; i < len; ++i) text += Pick(kPieces);
    return text;
  }

  // A Sigma value: literals, wildcards and escapes.
  std::string SigmaText() {
    static const std::vector<std::string> kTokens = {"a", "b", "c",   "A",   "B",    "x",  " ",
                                                     "*", "?", "\\*", "\\?", "\\\\", "\\", "foo"};
    std::string text;
    int len = 1 + Uniform(3);
    for (int i = 0; i < len; ++i) text += Pick(kTokens);
    return text;
  }

  rules::ValueMatcher RandomValue(const std::string& field) {
    if (field == "src_ip") {
      static const std::vector<std::string> kCidrs = {"10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24",
                                                      "2001:db8::/32", "203.0.113.7"};
      if (Chance(0.5)) {
        auto value = Value(MatchOp::kCidr, Pick(kCidrs));
        value.cidr = Cidr::Parse(value.text);
        return value;
      }
    }
    if (field == "ts" && Chance(0.8)) {
      static const std::vector<std::pair<rules::TimePart, int>> kParts = {
          {rules::TimePart::kHour, 3},   {rules::TimePart::kHour, 23},
          {rules::TimePart::kMinute, 5}, {rules::TimePart::kDay, 31},
          {rules::TimePart::kWeek, 1},   {rules::TimePart::kWeek, 53},
          {rules::TimePart::kMonth, 12}, {rules::TimePart::kYear, 2026}};
      const auto& [part, number] = Pick(kParts);
      auto value = Value(MatchOp::kTimePart, "");
      value.time_part = part;
      value.number = number;
      return value;
    }
    if (field == "n" && Chance(0.7)) {
      static const std::vector<MatchOp> kOps = {MatchOp::kLt, MatchOp::kLte, MatchOp::kGt,
                                                MatchOp::kGte};
      auto value = Value(Pick(kOps), "");
      value.number = Uniform(40) - 5;
      return value;
    }
    int kind = Uniform(20);
    // One call per statement: argument evaluation order differs between compilers.
    if (kind < 15) {
      static const MatchOp kStringOps[] = {MatchOp::kEquals, MatchOp::kContains,
                                           MatchOp::kStartsWith, MatchOp::kEndsWith};
      MatchOp op = kStringOps[kind < 4 ? 0 : kind < 9 ? 1 : kind < 12 ? 2 : 3];
      std::string text = SigmaText();
      bool cased = Chance(0.3);
      return Value(op, std::move(text), cased);
    }
    if (kind < 18) {
      static const std::vector<std::string> kRegexes = {
          "a.b",    "^ab",  "b+c?",  "(a|b)c", "[ab]{2}", "(a)\\1",  "a(?=b)",
          "a(?!b)", "^$",   "c*",    "ab$",    "^foo",    "o{2}",    "(?<=a)b",
          "\\*",    "\\\\", "a\\sb", "^.$",    "x|B",     "(\\w)\\1"};
      std::string text = Pick(kRegexes);
      bool caseless = Chance(0.3);
      bool multiline = Chance(0.2);
      bool dotall = Chance(0.2);
      return Regex(std::move(text), caseless, multiline, dotall);
    }
    if (kind < 19) {
      auto value = Value(MatchOp::kExists, "");
      value.exists = Chance(0.5);
      return value;
    }
    return Value(MatchOp::kNull, "");
  }

  rules::FieldPredicate RandomPredicate() {
    static const std::vector<std::string> kFields = {"user",    "cmd",     "src_ip", "n",
                                                     "message", "program", "ts",     ""};
    std::string field = Pick(kFields);
    rules::FieldPredicate predicate;
    predicate.field = field;
    int count = 1 + Uniform(3);
    for (int i = 0; i < count; ++i) predicate.values.push_back(RandomValue(field));
    predicate.all = count > 1 && Chance(0.2);
    predicate.negated = !field.empty() && !predicate.all && Chance(0.15);  // |neq
    return predicate;
  }

  rules::Selection RandomSelection(int index) {
    rules::Selection selection;
    selection.name = "s" + std::to_string(index);
    int alternatives = Chance(0.8) ? 1 : 2;
    for (int a = 0; a < alternatives; ++a) {
      std::vector<rules::FieldPredicate> predicates;
      int count = 1 + Uniform(2);
      for (int p = 0; p < count; ++p) predicates.push_back(RandomPredicate());
      selection.alternatives.push_back(std::move(predicates));
    }
    return selection;
  }

  rules::Condition RandomCondition(int selections, int depth) {
    int kind = depth >= 3 ? 0 : Uniform(7);
    switch (kind) {
      case 1:
      case 2: {
        // Locals: argument evaluation order differs between compilers.
        rules::Condition left = RandomCondition(selections, depth + 1);
        rules::Condition right = RandomCondition(selections, depth + 1);
        return kind == 1 ? And(std::move(left), std::move(right))
                         : Or(std::move(left), std::move(right));
      }
      case 3:
        return Not(RandomCondition(selections, depth + 1));
      case 4:
      case 5: {
        std::vector<int> chosen;
        for (int s = 0; s < selections; ++s) {
          if (Chance(0.6)) chosen.push_back(s);
        }
        if (chosen.empty()) chosen.push_back(Uniform(selections));
        return Of(kind == 4 ? K::kOneOf : K::kAllOf, chosen);
      }
      default:
        return C(Uniform(selections));
    }
  }

  rules::Rule RandomRule(int index) {
    int selections = 1 + Uniform(3);
    std::vector<rules::Selection> list;
    for (int s = 0; s < selections; ++s) list.push_back(RandomSelection(s));
    return MakeRule("rule" + std::to_string(index), std::move(list),
                    RandomCondition(selections, 0));
  }

  EventSpec RandomEvent() {
    EventSpec spec;
    spec.message = EventText(8);
    spec.program = Chance(0.8) ? EventText(2) : "";
    if (Chance(0.7)) spec.fields.push_back({"user", EventText(3)});
    if (Chance(0.7)) spec.fields.push_back({"cmd", EventText(6)});
    if (Chance(0.7)) {
      static const std::vector<std::string> kIps = {
          "10.1.2.3",       "10.2.0.1",    "192.168.1.50", "192.168.2.1", "2001:db8::5",
          "2001:db9::1",    "203.0.113.7", "8.8.8.8",      "not-an-ip",   "",
          "::ffff:10.1.0.1"};
      spec.fields.push_back({"src_ip", Pick(kIps)});
    }
    if (Chance(0.7)) {
      static const std::vector<std::string> kNumbers = {"0",  "3",   "10", "17",  "30.5",
                                                        "-2", "abc", "",   "1e1", "12x"};
      spec.fields.push_back({"n", Pick(kNumbers)});
    }
    if (Chance(0.2)) spec.fields.push_back({"message", EventText(4)});
    if (Chance(0.6)) {
      static const std::vector<std::string> kTimes = {
          "2026-12-31T23:05:00Z",      "2026-01-01 03:05:59.123", "2021-01-03",
          "2020-12-31T03:00:00+01:00", "2026-02-30T03:05:00Z",    "2026-13-01",
          "03:05 2026-12-31",          "2027-01-01T00:00",        ""};
      spec.fields.push_back({"ts", Pick(kTimes)});
    }
    return spec;
  }

 private:
  std::mt19937 rng_;
};

bool HasNot(const rules::Condition& condition) {
  if (condition.kind == K::kNot) return true;
  for (const auto& child : condition.children) {
    if (HasNot(child)) return true;
  }
  return false;
}

void RunDifferential(uint32_t seed, int rule_count, int event_count) {
  Generator gen(seed);
  std::vector<rules::Rule> rules;
  for (int i = 0; i < rule_count; ++i) rules.push_back(gen.RandomRule(i));
  auto result = Matcher::Compile(rules, {});
  ASSERT_TRUE(result.refused.empty()) << result.refused.front().message;
  ASSERT_EQ(result.matcher->rules().size(), rules.size());
  auto scratch = result.matcher->MakeScratch();

  EventBatch batch;
  for (int i = 0; i < event_count; ++i) AddTestEvent(batch, gen.RandomEvent());

  // Rules without `not` match only through positive atoms: the share of
  // events they match says the random values really hit.
  std::vector<char> positive(rules.size());
  for (size_t r = 0; r < rules.size(); ++r) positive[r] = !HasNot(rules[r].condition);
  size_t pairs = 0, events_matched = 0, events_positive = 0, mismatches = 0;
  std::vector<char> fired(rules.size());
  for (const Event& event : batch.events()) {
    std::fill(fired.begin(), fired.end(), 0);
    size_t last = 0;
    bool ordered = true, first = true;
    result.matcher->Match(batch, event, *scratch, [&](size_t index) {
      ordered = ordered && (first || index > last);
      first = false;
      last = index;
      fired[index] = 1;
    });
    EXPECT_TRUE(ordered) << "callbacks not in ascending rule order";
    bool any = false, any_positive = false;
    for (size_t r = 0; r < rules.size(); ++r) {
      bool expected = ReferenceMatches(result.matcher->rules()[r], batch, event, nullptr, nullptr);
      if (expected != static_cast<bool>(fired[r]) && ++mismatches <= 10) {
        ADD_FAILURE() << "seed " << seed << " rule " << r << " expected " << expected
                      << " on message '" << event.message << "'";
      }
      pairs += expected;
      any = any || expected;
      any_positive = any_positive || (expected && positive[r]);
    }
    events_matched += any;
    events_positive += any_positive;
  }
  std::printf(
      "differential seed %u: %d rules x %d events: %zu matching pairs; %zu events (%.1f%%) "
      "match some rule, %zu (%.1f%%) a rule without `not`; %zu mismatches; %zu patterns in "
      "%zu databases\n",
      seed, rule_count, event_count, pairs, events_matched, 100.0 * events_matched / event_count,
      events_positive, 100.0 * events_positive / event_count, mismatches, result.stats.patterns,
      result.stats.databases);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(events_positive * 20, static_cast<size_t>(event_count)) << "too few matches (< 5%)";
  EXPECT_LT(pairs * 2, rules.size() * event_count) << "most pairs match: too trivial";
}

TEST(MatcherDifferential, Seed1) { RunDifferential(1, 300, 3000); }
TEST(MatcherDifferential, Seed2) { RunDifferential(2, 300, 3000); }
TEST(MatcherDifferential, Seed3ManyRules) { RunDifferential(3, 1000, 2000); }

}  // namespace
}  // namespace gsoc::match
