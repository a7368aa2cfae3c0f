// Rule documents: metadata, multi-document files, collections
// (global/reset/repeat), correlations, refusals with file/line/id.
#include <gmock/gmock.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "tests/engine/rules/rule_test_util.h"

namespace gsoc::rules {
namespace {

using ::testing::HasSubstr;
using testing::Load;
using testing::LoadOne;
using testing::RefusalOf;

TEST(Document, Metadata) {
  const Rule rule = LoadOne(
      "title: T\nid: abc\nname: my_rule\nstatus: test\ndescription: D\nlevel: critical\n"
      "tags: [attack.t1110, attack.credential_access]\n"
      "logsource: {product: linux, service: sshd, category: c}\n"
      "detection:\n  sel: x\n  condition: sel\n");
  EXPECT_EQ(rule.title, "T");
  EXPECT_EQ(rule.id, "abc");
  EXPECT_EQ(rule.name, "my_rule");
  EXPECT_EQ(rule.status, "test");
  EXPECT_EQ(rule.description, "D");
  EXPECT_EQ(rule.level, Level::kCritical);
  EXPECT_THAT(rule.tags, ::testing::ElementsAre("attack.t1110", "attack.credential_access"));
  EXPECT_EQ(rule.logsource.service, "sshd");
  EXPECT_EQ(rule.logsource.category, "c");
  EXPECT_EQ(rule.location.file, "test.yml");
  EXPECT_EQ(rule.location.line, 1);
}

TEST(Document, DefaultsAndDerivedId) {
  const LoadResult result = LoadSigmaText(
      "title: A\nlogsource: {product: linux}\ndetection: {s: x, condition: s}\n---\n"
      "title: B\nlogsource: {product: linux}\ndetection: {s: x, condition: s}\n",
      "/some/dir/my_rules.yml", {});
  ASSERT_EQ(result.rules.size(), 2u);
  EXPECT_EQ(result.rules[0].id, "my_rules:1");
  EXPECT_EQ(result.rules[1].id, "my_rules:2");
  EXPECT_EQ(result.rules[1].location.line, 5);
  EXPECT_EQ(result.rules[0].level, Level::kMedium);
}

TEST(Document, RefusalsWithReasons) {
  const std::string detection = "detection: {s: x, condition: s}\n";
  EXPECT_THAT(RefusalOf("title: T\nlevel: urgent\nlogsource: {product: linux}\n" + detection),
              HasSubstr("unknown level 'urgent'"));
  EXPECT_EQ(RefusalOf("title: T\n" + detection), "missing 'logsource' map");
  EXPECT_EQ(RefusalOf("logsource: {product: linux}\n" + detection), "missing 'title'");
  EXPECT_EQ(RefusalOf("title: T\nlogsource: {product: linux}\n"),
            "document has neither detection nor correlation");
  EXPECT_THAT(
      RefusalOf(
          "title: F\nlogsource: {product: linux}\nfilter:\n  rules: [x]\n  selection: {a: b}\n"),
      HasSubstr("no condition"));  // a Sigma filter without its condition
  EXPECT_EQ(RefusalOf("- a\n- b\n"), "a Sigma document must be a map");
}

TEST(Document, LogsourceWithoutMappingIsRefused) {
  const LogSourceMap map =
      LogSourceMap::Parse("logsources:\n  - logsource: {product: linux}\n", "m.yaml");
  LoadOptions options;
  options.logsources = &map;
  const std::string rule =
      "title: T\nid: x1\nlogsource:\n  product: linux\n  category: process_creation\n"
      "detection: {s: x, condition: s}\n";
  const RuleError error = testing::ErrorOf(rule, options);
  EXPECT_EQ(error.message,
            "no log source mapping for product=linux service= category=process_creation");
  EXPECT_EQ(error.location.line, 4);
  EXPECT_EQ(error.rule_id, "x1");
  EXPECT_EQ(Load(rule).rules.size(), 1u);  // without a map nothing is checked
}

TEST(Document, YamlSyntaxErrorRefusesTheFileWithTheLine) {
  const LoadResult result =
      Load("title: ok\nlogsource: {product: linux}\ndetection:\n  sel: [unclosed\n");
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_TRUE(result.rules.empty());
  EXPECT_THAT(result.refused[0].message, HasSubstr("YAML syntax error"));
  EXPECT_GE(result.refused[0].location.line, 4);
  EXPECT_EQ(result.refused[0].rule_id, "");
}

TEST(Document, OneBadDocumentDoesNotStopTheOthers) {
  const LoadResult result = Load(
      "title: A\nid: a\nlogsource: {product: linux}\ndetection: {s: x, condition: s}\n---\n"
      "title: B\nid: b\nlogsource: {product: linux}\ndetection: {s|bad: x, condition: s}\n---\n"
      "title: C\nid: c\nlogsource: {product: linux}\ndetection: {s: x, condition: s}\n");
  ASSERT_EQ(result.rules.size(), 2u);
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].rule_id, "b");
  EXPECT_EQ(result.refused[0].location.line, 9);
}

TEST(Collection, GlobalIsMergedIntoFollowingDocuments) {
  const LoadResult result = Load(
      "action: global\ntitle: Shared\nlogsource: {product: linux}\nlevel: high\n"
      "detection:\n  common: {program: sshd}\n  condition: common and specific\n---\n"
      "id: one\ndetection:\n  specific: {user: root}\n---\n"
      "id: two\nlogsource: {service: sshd}\ndetection:\n  specific: {user: admin}\n");
  ASSERT_TRUE(result.refused.empty()) << result.refused[0].ToString();
  ASSERT_EQ(result.rules.size(), 2u);
  const Rule& one = result.rules[0];
  EXPECT_EQ(one.title, "Shared");
  EXPECT_EQ(one.level, Level::kHigh);
  EXPECT_EQ(one.location.line, 9);
  ASSERT_EQ(one.selections.size(), 2u);
  EXPECT_EQ(one.selections[0].name, "specific");
  EXPECT_EQ(one.condition.kind, Condition::Kind::kAnd);
  const Rule& two = result.rules[1];
  EXPECT_EQ(two.logsource.product, "linux");
  EXPECT_EQ(two.logsource.service, "sshd");
  EXPECT_EQ(two.selections[0].alternatives[0][0].values[0].text, "admin");
}

TEST(Collection, GlobalValuesWinOnConflictAsInSigmac) {
  const Rule rule = LoadOne(
      "action: global\nlevel: low\n---\n"
      "title: T\nlevel: high\nlogsource: {product: linux}\ndetection: {s: x, condition: s}\n");
  EXPECT_EQ(rule.level, Level::kLow);
}

TEST(Collection, ResetEndsTheGlobal) {
  const LoadResult result = Load(
      "action: global\nlogsource: {product: linux}\n---\n"
      "title: A\ndetection: {s: x, condition: s}\n---\n"
      "action: reset\n---\n"
      "title: B\ndetection: {s: x, condition: s}\n");
  ASSERT_EQ(result.rules.size(), 1u);
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].message, "missing 'logsource' map");
  EXPECT_EQ(result.refused[0].rule_id, "test:4");
}

TEST(Collection, RepeatReusesThePreviousRule) {
  const LoadResult result = Load(
      "title: A\nid: a\nlogsource: {product: linux, service: sshd}\ndetection: {s: x, condition: "
      "s}\n---\n"
      "action: repeat\nid: b\nlogsource: {service: sudo}\n");
  ASSERT_EQ(result.rules.size(), 2u)
      << (result.refused.empty() ? "" : result.refused[0].ToString());
  EXPECT_EQ(result.rules[1].id, "b");
  EXPECT_EQ(result.rules[1].title, "A");
  EXPECT_EQ(result.rules[1].logsource.service, "sudo");
  EXPECT_EQ(result.rules[1].logsource.product, "linux");
  EXPECT_EQ(result.rules[1].location.line, 6);
}

TEST(Collection, ActionErrors) {
  EXPECT_EQ(RefusalOf("action: repeat\ntitle: x\n"),
            "action: repeat needs a previous rule document");
  EXPECT_THAT(RefusalOf("action: again\ntitle: x\n"), HasSubstr("unknown action 'again'"));
}

TEST(Collection, CorrelationsAreReturnedSeparately) {
  const std::filesystem::path file = std::filesystem::path(GSOC_CORPUS_DIR) /
                                     "sigma-specification/spec_examples/corr_spec_line0664.yml";
  const LoadResult result = LoadSigma({file}, {});
  EXPECT_EQ(result.files, 1u);
  EXPECT_TRUE(result.refused.empty());
  ASSERT_EQ(result.rules.size(), 2u);
  EXPECT_EQ(result.rules[0].name, "failed_login");
  EXPECT_EQ(result.rules[0].location.line, 35);
  ASSERT_EQ(result.correlations.size(), 2u);
  EXPECT_EQ(result.correlations[0].location.line, 1);
  EXPECT_EQ(result.correlations[1].location.line, 21);
  ASSERT_NE(result.correlations[0].node, nullptr);
  ASSERT_NE(result.correlations[1].node, nullptr);
  const YAML::Node& first = *result.correlations[0].node;
  EXPECT_EQ(first["correlation"]["type"].as<std::string>(), "temporal_ordered");
  const YAML::Node& second = *result.correlations[1].node;
  EXPECT_EQ(second["name"].as<std::string>(), "multiple_failed_login");
  EXPECT_EQ(second["correlation"]["condition"]["gte"].as<int>(), 10);
  // The node's marks are the file's lines: `correlation:` of the second
  // document is below its first line.
  EXPECT_GT(second["correlation"].Mark().line + 1, 21);
}

TEST(Collection, CorrelationWithDetectionIsRefused) {
  EXPECT_THAT(
      RefusalOf("title: x\ncorrelation: {type: event_count}\ndetection: {s: x, condition: s}\n"),
      HasSubstr("both detection and correlation"));
}

TEST(Files, MissingPathIsRefused) {
  const LoadResult result = LoadSigma({"/nonexistent/rule.yml"}, {});
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].message, "cannot open: No such file or directory");
}

TEST(Files, StrayCommaIsASyntaxErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll loops forever on this; the loader splits documents itself.
  const LoadResult result = Load("title: x\n---\n- a\n, s\n");
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(result.refused[0].message, "YAML syntax error: unexpected content after the document");
  EXPECT_EQ(result.refused[0].location.line, 4);
}

TEST(Files, ContentAfterADocumentIsRefusedWhateverItsRoot) {
  // A root map at column 0 parses once; other roots are checked for content
  // that would end the document early and be dropped.
  for (const char* text :
       {"  title: x\nb: 2\n", "{title: x}\n{b: 2}\n", "- a\nb: 2\n", "--- {title: x}\n[1]\n",
        "# c\n\n  title: x\nb: 2\n",
        // A directive line ends a document wherever it is (the rest would be dropped).
        "title: x\n%TAG ! !x\nlogsource: {product: windows}\n",
        "title: x\ndescription: |\n  text\n% not text\ndetection: {s: x, condition: s}\n"}) {
    const LoadResult result = Load(text);
    ASSERT_EQ(result.refused.size(), 1u) << text;
    EXPECT_EQ(result.refused[0].message, "YAML syntax error: unexpected content after the document")
        << text;
    EXPECT_TRUE(result.rules.empty()) << text;
  }
}

TEST(Files, StrayContentInsideARootMapIsASyntaxError) {
  for (const char* text :
       {"title: x\n, s\n", "title: x\n- a\n", "title: x\n{a: 1}\n", "title: x\n]\n"}) {
    const LoadResult result = Load(text);
    ASSERT_EQ(result.refused.size(), 1u) << text;
    EXPECT_THAT(result.refused[0].message, HasSubstr("YAML syntax error")) << text;
    EXPECT_EQ(result.refused[0].location.line, 2) << text;
  }
}

TEST(Files, HostileInputNeverThrows) {
  for (const char* text : {"", "---\n---\n", "&a [*a]", "a: &x [1]\nb: *x\n", ": : :", "\t\x01\xff",
                           "title: [", "detection: !!binary AAAA"}) {
    EXPECT_NO_THROW(Load(text)) << text;
  }
}

}  // namespace
}  // namespace gsoc::rules
