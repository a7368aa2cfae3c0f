// Match allocates nothing: operator new is counted while Match runs (after
// a warm-up event), with every kind of atom in the rule set.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/match/matcher.h"
#include "engine/rules/logsource_map.h"
#include "tests/engine/match/match_test_util.h"
#include "tests/util/sanitizer.h"

#if GSOC_TEST_ASAN
#define GSOC_NO_ALLOC_TEST_SKIP 1
#endif

#ifndef GSOC_NO_ALLOC_TEST_SKIP  // ASan owns operator new
// The replaced operator new below is malloc-backed, so its delete frees with
// free(); GCC cannot see the pairing and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<bool> counting{false};
std::atomic<size_t> allocations{0};
}  // namespace

void* operator new(size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace gsoc::match {
namespace {

using namespace gsoc::match::testing;
using rules::MatchOp;

TEST(MatcherNoAlloc, MatchDoesNotAllocate) {
#ifdef GSOC_NO_ALLOC_TEST_SKIP
  GTEST_SKIP() << "operator new is the sanitizer's";
#else
  auto cidr = Value(MatchOp::kCidr, "10.0.0.0/8");
  cidr.cidr = Cidr::Parse(cidr.text);
  auto gt = Value(MatchOp::kGt, "5");
  gt.number = 5;
  std::vector<rules::Rule> rules;
  rules.push_back(
      MakeRule("a", {Sel("s", {Pred("", {Value(MatchOp::kContains, "failed")})})}, C(0)));
  rules.push_back(MakeRule("b", {Sel("s", {Pred("user", {Regex("(\\w+)-\\1")})})}, C(0)));
  rules.push_back(MakeRule("c", {Sel("s", {Pred("src_ip", {cidr}), Pred("n", {gt})})}, C(0)));
  rules.push_back(
      MakeRule("d", {Sel("s", {Pred("user", {Value(MatchOp::kEquals, "*")})})}, Not(C(0))));
  rules.push_back(
      MakeRule("e", {Sel("s", {Pred("message", {Value(MatchOp::kStartsWith, "x*y")})})}, C(0)));
  auto result = Matcher::Compile(std::move(rules), {});
  ASSERT_TRUE(result.refused.empty());
  auto scratch = result.matcher->MakeScratch();
  EventBatch batch;
  Event& event = AddTestEvent(
      batch, {"xy failed",
              "p",
              {{"user", "ab-ab"}, {"src_ip", "10.1.1.1"}, {"n", "7"}, {"message", "x..y"}}});
  size_t matches = 0;
  std::function<void(size_t)> on_match = [&](size_t) { ++matches; };
  result.matcher->Match(batch, event, *scratch, on_match);  // warm-up
  matches = 0;
  counting = true;
  for (int i = 0; i < 100; ++i) result.matcher->Match(batch, event, *scratch, on_match);
  counting = false;
  EXPECT_EQ(allocations.load(), 0u);
  EXPECT_EQ(matches, 400u);  // a, b, c, e
#endif
}

// With rule groups: events of several logsources, each eligible for other
// groups (selectors, a program-checked group, one without a filter).
TEST(MatcherNoAlloc, MatchWithRuleGroupsDoesNotAllocate) {
#ifdef GSOC_NO_ALLOC_TEST_SKIP
  GTEST_SKIP() << "operator new is the sanitizer's";
#else
  const rules::LogSourceMap logsources = rules::LogSourceMap::Parse(
      "logsources:\n"
      "  - logsource: {product: windows, category: process_creation}\n"
      "    events:\n"
      "      - when: {Channel: Sysmon, EventID: 1}\n"
      "  - logsource: {product: windows, service: sysmon}\n"
      "    events:\n"
      "      - when: {Channel: Sysmon}\n"
      "  - logsource: {product: linux, service: sshd}\n"
      "    programs: [sshd]\n"
      "  - logsource: {product: linux}\n",
      "logsources.yaml");
  auto rule = [](std::string id, std::string product, std::string category, std::string service,
                 rules::Selection selection, rules::Condition condition) {
    rules::Rule r = MakeRule(std::move(id), {std::move(selection)}, std::move(condition));
    r.logsource.product = std::move(product);
    r.logsource.category = std::move(category);
    r.logsource.service = std::move(service);
    return r;
  };
  std::vector<rules::Rule> rules;
  rules.push_back(rule("proc", "windows", "process_creation", "",
                       Sel("s", {Pred("Image", {Value(MatchOp::kEndsWith, "\\cmd.exe")})}), C(0)));
  rules.push_back(rule("sysmon", "windows", "", "sysmon",
                       Sel("s", {Pred("Image", {Value(MatchOp::kContains, "cmd")})}), Not(C(0))));
  rules.push_back(rule("sshd", "linux", "", "sshd",
                       Sel("s", {Pred("", {Value(MatchOp::kContains, "failed")})}), C(0)));
  rules.push_back(
      rule("linux", "linux", "", "", Sel("s", {Pred("", {Value(MatchOp::kContains, "x")})}), C(0)));
  CompileOptions options;
  options.logsources = &logsources;
  options.group_min_rules = 0;  // a few rules, grouped all the same
  auto result = Matcher::Compile(std::move(rules), options);
  ASSERT_TRUE(result.refused.empty());
  ASSERT_EQ(result.stats.groups, 4u);
  auto scratch = result.matcher->MakeScratch();
  EventBatch batch;
  AddTestEvent(batch,
               {"x", "", {{"Channel", "Sysmon"}, {"EventID", "1"}, {"Image", "c:\\cmd.exe"}}});
  AddTestEvent(batch, {"x", "", {{"Channel", "Sysmon"}, {"EventID", "3"}, {"Image", "c:\\a.exe"}}});
  AddTestEvent(batch, {"failed x", "sshd", {}});
  for (Event& event : batch.events()) logsources.Classify(batch, event);
  size_t matches = 0;
  std::function<void(size_t)> on_match = [&](size_t) { ++matches; };
  for (const Event& event : batch.events()) result.matcher->Match(batch, event, *scratch, on_match);
  matches = 0;
  counting = true;
  for (int i = 0; i < 100; ++i) {
    for (const Event& event : batch.events())
      result.matcher->Match(batch, event, *scratch, on_match);
  }
  counting = false;
  EXPECT_EQ(allocations.load(), 0u);
  EXPECT_EQ(matches, 600u);  // proc + linux, sysmon + linux, sshd + linux
#endif
}

}  // namespace
}  // namespace gsoc::match
