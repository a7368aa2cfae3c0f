// Sigma correlation loader: the specification's examples, chaining, order,
// aliases, silencing, routes, fingerprints, gsoc's extensions and every
// refusal path with its reason and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/rules/correlation_rule.h"
#include "engine/rules/sigma_loader.h"

namespace gsoc::correlate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::filesystem::path kSpecDir =
    std::filesystem::path(GSOC_CORPUS_DIR) / "sigma-specification";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  EXPECT_TRUE(stream) << "cannot read " << path;
  return text.str();
}

rules::Rule Detection(const std::string& id, const std::string& name) {
  rules::Rule rule;
  rule.id = id;
  rule.name = name;
  rule.title = "detection " + id;
  rule.location = {"detections.yml", 1};
  return rule;
}

// Detection rules most tests refer to.
std::vector<rules::Rule> BaseDetections() {
  return {Detection("d-failed", "failed_login"), Detection("d-success", "successful_login"),
          Detection("d-other", "other")};
}

struct Loaded {
  rules::LoadResult sigma;
  std::vector<rules::Rule> detections;  // sigma.rules, then the extra ones
  CorrelationLoadResult result;
  const CorrelationSet& set() const { return *result.set; }
};

Loaded Load(const std::string& yaml, const std::vector<rules::Rule>& extra = BaseDetections(),
            const std::string& file = "test.yml") {
  Loaded loaded;
  loaded.sigma = rules::LoadSigmaText(yaml, file, {});
  loaded.detections = loaded.sigma.rules;
  loaded.detections.insert(loaded.detections.end(), extra.begin(), extra.end());
  loaded.result = LoadCorrelations(loaded.sigma.correlations, loaded.detections);
  return loaded;
}

std::string Describe(const CorrelationLoadResult& result) {
  std::string text;
  for (const rules::RuleError& error : result.refused) text += error.ToString() + "\n";
  return text;
}

// Loads text whose correlations must all load.
Loaded LoadAll(const std::string& yaml, const std::vector<rules::Rule>& extra = BaseDetections()) {
  Loaded loaded = Load(yaml, extra);
  EXPECT_TRUE(loaded.result.refused.empty()) << Describe(loaded.result);
  EXPECT_TRUE(loaded.sigma.refused.empty());
  return loaded;
}

// 1-based line of the first line of `text` containing `needle`.
int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  if (at == std::string::npos) return -1;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

const CorrelationRule* Find(const CorrelationSet& set, const std::string& id) {
  for (const CorrelationRule& rule : set.rules)
    if (rule.id == id) return &rule;
  return nullptr;
}

size_t IndexOf(const CorrelationSet& set, const std::string& id) {
  for (size_t i = 0; i < set.rules.size(); ++i)
    if (set.rules[i].id == id) return i;
  ADD_FAILURE() << "no correlation " << id;
  return set.rules.size();
}

size_t DetectionIndex(const std::vector<rules::Rule>& rules, const std::string& id) {
  for (size_t i = 0; i < rules.size(); ++i)
    if (rules[i].id == id) return i;
  ADD_FAILURE() << "no detection rule " << id;
  return rules.size();
}

// A correlation document: title, id, optional top-level lines, then the
// given `correlation:` body (lines indented by two spaces).
std::string Correlation(const std::string& id, const std::string& body,
                        const std::string& top = "") {
  return "title: Correlation " + id + "\nid: " + id + "\n" + top + "correlation:\n" + body;
}

const std::string kEventCountBody =
    "  type: event_count\n"
    "  rules:\n"
    "    - failed_login\n"
    "  group-by:\n"
    "    - User\n"
    "  timespan: 10m\n"
    "  condition:\n"
    "    gte: 10\n";

const std::string kOrderedBody =
    "  type: temporal_ordered\n"
    "  rules:\n"
    "    - failed_login\n"
    "    - successful_login\n"
    "  group-by:\n"
    "    - User\n"
    "  timespan: 5m\n";

// ---- CountCondition and names ----

TEST(CountCondition, HoldsEveryBound) {
  CountCondition condition;
  EXPECT_TRUE(condition.empty());
  condition.gt = 100;
  condition.lte = 200;
  EXPECT_FALSE(condition.empty());
  EXPECT_FALSE(condition.Holds(100));
  EXPECT_TRUE(condition.Holds(101));
  EXPECT_TRUE(condition.Holds(200));
  EXPECT_FALSE(condition.Holds(200.5));
  EXPECT_EQ(condition.ToString(), "gt 100 and lte 200");
  EXPECT_TRUE(condition.HasUpperBound());
}

TEST(CountCondition, EachOperator) {
  const auto holds = [](auto set_bound, double value) {
    CountCondition condition;
    set_bound(condition);
    return condition.Holds(value);
  };
  EXPECT_TRUE(holds([](CountCondition& c) { c.gte = 10; }, 10));
  EXPECT_FALSE(holds([](CountCondition& c) { c.gte = 10; }, 9));
  EXPECT_FALSE(holds([](CountCondition& c) { c.gt = 10; }, 10));
  EXPECT_TRUE(holds([](CountCondition& c) { c.lt = 10; }, 9));
  EXPECT_FALSE(holds([](CountCondition& c) { c.lt = 10; }, 10));
  EXPECT_TRUE(holds([](CountCondition& c) { c.lte = 10; }, 10));
  EXPECT_TRUE(holds([](CountCondition& c) { c.eq = 3; }, 3));
  EXPECT_FALSE(holds([](CountCondition& c) { c.eq = 3; }, 4));
  EXPECT_TRUE(holds([](CountCondition& c) { c.neq = 3; }, 4));
  EXPECT_FALSE(holds([](CountCondition& c) { c.neq = 3; }, 3));
}

TEST(CountCondition, UpperBoundsAndText) {
  CountCondition lower;
  lower.gte = 10;
  EXPECT_FALSE(lower.HasUpperBound());
  EXPECT_EQ(lower.ToString(), "gte 10");
  for (auto bound :
       {&CountCondition::lt, &CountCondition::lte, &CountCondition::eq, &CountCondition::neq}) {
    CountCondition condition;
    condition.*bound = 1;
    EXPECT_TRUE(condition.HasUpperBound());
  }
  CountCondition fraction;
  fraction.gt = 0.25;
  fraction.neq = 1000000;
  EXPECT_EQ(fraction.ToString(), "gt 0.25 and neq 1000000");
}

TEST(CorrelationTypeName, AllTypes) {
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kEventCount), "event_count");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kValueCount), "value_count");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kTemporal), "temporal");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kTemporalOrdered), "temporal_ordered");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kValueSum), "value_sum");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kValueAvg), "value_avg");
}

// ---- the specification's examples ----

bool IsUuid(const std::string& text) {
  return text.size() == 36 && std::count(text.begin(), text.end(), '-') == 4;
}

// Detection rules for every reference no document of the file defines:
// ids for UUIDs, names otherwise.
std::vector<rules::Rule> SyntheticDetections(const rules::LoadResult& sigma) {
  std::vector<std::string> known;
  for (const rules::Rule& rule : sigma.rules) known.insert(known.end(), {rule.id, rule.name});
  std::vector<YAML::Node> docs;
  for (const rules::CorrelationDocument& document : sigma.correlations) {
    docs.push_back(*document.node);
    for (const char* key : {"id", "name"})
      if (docs.back()[key]) known.push_back(docs.back()[key].Scalar());
  }
  std::vector<rules::Rule> synthetic;
  for (const YAML::Node& doc : docs)
    for (const YAML::Node& ref : doc["correlation"]["rules"]) {
      const std::string text = ref.Scalar();
      if (std::find(known.begin(), known.end(), text) != known.end()) continue;
      known.push_back(text);
      synthetic.push_back(IsUuid(text) ? Detection(text, "")
                                       : Detection("synthetic-" + text, text));
    }
  return synthetic;
}

int64_t ExpectedTimespanNs(const std::string& text) {
  const int64_t count = std::stoll(text.substr(0, text.size() - 1));
  const char unit = text.back();
  const int64_t seconds = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
  return count * seconds * 1'000'000'000;
}

std::optional<double> YamlBound(const YAML::Node& condition, const char* key) {
  if (!condition || !condition[key]) return std::nullopt;
  return condition[key].as<double>();
}

// Everything the loaded rule holds agrees with its document.
void ExpectMatchesDocument(const CorrelationRule& rule, const YAML::Node& doc,
                           const std::vector<rules::Rule>& detections, const CorrelationSet& set) {
  const YAML::Node section = doc["correlation"];
  const std::string stand_in = rule.name.empty() ? rule.id : rule.name;
  EXPECT_EQ(rule.title, doc["title"] ? doc["title"].Scalar() : stand_in);
  EXPECT_EQ(CorrelationTypeName(rule.type), section["type"].Scalar());
  ASSERT_EQ(rule.refs.size(), section["rules"].size());
  for (size_t r = 0; r < rule.refs.size(); ++r) {
    const RuleRef& ref = rule.refs[r];
    const std::string written = section["rules"][r].Scalar();
    EXPECT_EQ(ref.written, written);
    const std::string& id = ref.kind == RuleRef::Kind::kDetection ? detections.at(ref.index).id
                                                                  : set.rules.at(ref.index).id;
    const std::string& name = ref.kind == RuleRef::Kind::kDetection ? detections.at(ref.index).name
                                                                    : set.rules.at(ref.index).name;
    EXPECT_TRUE(written == id || written == name) << written;
    EXPECT_EQ(ref.name, name);
  }
  std::vector<std::string> group_by;
  for (const YAML::Node& group : section["group-by"]) group_by.push_back(group.Scalar());
  EXPECT_EQ(rule.group_by, group_by);
  EXPECT_EQ(rule.group_fields.size(), group_by.size());
  EXPECT_EQ(rule.timespan_ns, ExpectedTimespanNs(section["timespan"].Scalar()));
  EXPECT_EQ(rule.suppress_ns, rule.timespan_ns);
  const YAML::Node condition = section["condition"];
  EXPECT_EQ(rule.condition.gt, YamlBound(condition, "gt"));
  EXPECT_EQ(rule.condition.gte, YamlBound(condition, "gte"));
  EXPECT_EQ(rule.condition.lt, YamlBound(condition, "lt"));
  EXPECT_EQ(rule.condition.lte, YamlBound(condition, "lte"));
  EXPECT_EQ(rule.field, condition && condition["field"] ? condition["field"].Scalar() : "");
  const std::string level = doc["level"] ? doc["level"].Scalar() : "medium";
  EXPECT_EQ(rules::LevelName(rule.level), level);
  EXPECT_FALSE(rule.fingerprint.empty());
}

std::vector<std::filesystem::path> CorrelationExamples() {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"spec_examples", "tests/schema/correlation"})
    for (const auto& entry : std::filesystem::directory_iterator(kSpecDir / dir))
      if (ReadFile(entry.path()).find("correlation:") != std::string::npos)
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Loads one example (value_percentile's too: type, field and bound as the
// specification writes them); a fragment without a title loads with its
// name or id as the title.
int percentile_examples = 0;

void CheckExample(const std::filesystem::path& path) {
  SCOPED_TRACE(path.string());
  std::string text = ReadFile(path);
  Loaded loaded = Load(text, {}, path.string());
  const std::vector<rules::Rule> synthetic = SyntheticDetections(loaded.sigma);
  loaded = Load(text, synthetic, path.string());
  const YAML::Node first = *loaded.sigma.correlations.at(0).node;
  ASSERT_TRUE(loaded.result.refused.empty()) << Describe(loaded.result);
  if (first["correlation"]["type"].Scalar() == "value_percentile") {
    ASSERT_EQ(loaded.set().rules.size(), 1u);
    const CorrelationRule& rule = loaded.set().rules[0];
    EXPECT_EQ(rule.type, CorrelationType::kValuePercentile);
    EXPECT_EQ(rule.field, first["correlation"]["condition"]["field"].Scalar());
    EXPECT_EQ(rule.condition.ToString(),
              "lte " + first["correlation"]["condition"]["lte"].Scalar());
    ++percentile_examples;
  }
  ASSERT_EQ(loaded.set().rules.size(), loaded.sigma.correlations.size());
  for (const CorrelationRule& rule : loaded.set().rules) EXPECT_FALSE(rule.title.empty());
  for (const rules::CorrelationDocument& document : loaded.sigma.correlations) {
    const YAML::Node& doc = *document.node;
    const std::string id = doc["id"] ? doc["id"].Scalar() : "";
    const CorrelationRule* rule = nullptr;
    for (const CorrelationRule& candidate : loaded.set().rules)
      if (candidate.location.line == document.location.line) rule = &candidate;
    ASSERT_NE(rule, nullptr);
    if (!id.empty()) {
      EXPECT_EQ(rule->id, id);
    }
    ExpectMatchesDocument(*rule, doc, loaded.detections, loaded.set());
  }
}

TEST(SpecExamples, EveryCorrelationExampleLoads) {
  const std::vector<std::filesystem::path> files = CorrelationExamples();
  ASSERT_GE(files.size(), 10u);
  percentile_examples = 0;
  for (const std::filesystem::path& file : files) CheckExample(file);
  EXPECT_GE(percentile_examples, 1);  // the value_percentile example is among them
}

TEST(SpecExamples, ChainedFailedLoginsFollowedBySuccess) {
  const std::string text = ReadFile(kSpecDir / "spec_examples/corr_spec_line0664.yml");
  const Loaded loaded = LoadAll(text, {});
  const CorrelationSet& set = loaded.set();
  ASSERT_EQ(set.rules.size(), 2u);
  ASSERT_EQ(loaded.detections.size(), 2u);
  const size_t multiple = IndexOf(set, "a8418a5a-5fc4-46b5-b23b-6c73beb19d41");
  const size_t top = IndexOf(set, "b180ead8-d58f-40b2-ae54-c8940995b9b6");
  EXPECT_LT(multiple, top);  // written after, ordered before
  const size_t failed = DetectionIndex(loaded.detections, "53ba33fd-3a50-4468-a5ef-c583635cfa92");
  const size_t success = DetectionIndex(loaded.detections, "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8");

  const CorrelationRule& ordered = set.rules[top];
  EXPECT_EQ(ordered.type, CorrelationType::kTemporalOrdered);
  EXPECT_EQ(ordered.level, rules::Level::kHigh);
  EXPECT_EQ(ordered.status, "experimental");
  EXPECT_EQ(ordered.location.line, 1);
  ASSERT_EQ(ordered.refs.size(), 2u);
  EXPECT_EQ(ordered.refs[0].kind, RuleRef::Kind::kCorrelation);
  EXPECT_EQ(ordered.refs[0].index, multiple);
  EXPECT_EQ(ordered.refs[0].name, "multiple_failed_login");
  EXPECT_EQ(ordered.refs[1].kind, RuleRef::Kind::kDetection);
  EXPECT_EQ(ordered.refs[1].index, success);
  EXPECT_EQ(ordered.timespan_ns, 600'000'000'000);
  EXPECT_TRUE(ordered.condition.empty());

  const CorrelationRule& count = set.rules[multiple];
  EXPECT_EQ(count.level, rules::Level::kMedium);
  EXPECT_EQ(count.location.line, LineOf(text, "title: Multiple failed logons"));
  EXPECT_EQ(count.condition.ToString(), "gte 10");
  EXPECT_EQ(count.refs[0].index, failed);

  EXPECT_TRUE(set.detection_silenced[failed]);
  EXPECT_TRUE(set.detection_silenced[success]);
  EXPECT_TRUE(set.correlation_silenced[multiple]);
  EXPECT_FALSE(set.correlation_silenced[top]);
  ASSERT_EQ(set.detection_routes.size(), 2u);
  ASSERT_EQ(set.correlation_routes.size(), 2u);
  ASSERT_EQ(set.detection_routes[failed].size(), 1u);
  EXPECT_EQ(set.detection_routes[failed][0].rule, multiple);
  EXPECT_EQ(set.detection_routes[failed][0].ref, 0u);
  ASSERT_EQ(set.detection_routes[success].size(), 1u);
  EXPECT_EQ(set.detection_routes[success][0].rule, top);
  EXPECT_EQ(set.detection_routes[success][0].ref, 1u);
  ASSERT_EQ(set.correlation_routes[multiple].size(), 1u);
  EXPECT_EQ(set.correlation_routes[multiple][0].rule, top);
  EXPECT_EQ(set.correlation_routes[multiple][0].ref, 0u);
  EXPECT_TRUE(set.correlation_routes[top].empty());
}

// Gives a detection example the title and logsource the detection loader needs.
std::string WithDetectionMeta(const std::string& text, const std::string& title) {
  return "title: " + title + "\nlogsource:\n  product: test\n" + text;
}

TEST(SpecExamples, AliasesAcrossTwoRules) {
  const std::string text =
      WithDetectionMeta(ReadFile(kSpecDir / "spec_examples/corr_spec_line0609.yml"), "error") +
      "---\n" +
      WithDetectionMeta(ReadFile(kSpecDir / "spec_examples/corr_spec_line0619.yml"), "conn") +
      "---\n" + ReadFile(kSpecDir / "spec_examples/corr_spec_line0631.yml");
  const Loaded loaded = LoadAll(text, {});
  ASSERT_EQ(loaded.detections.size(), 2u);
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  const CorrelationRule& rule = loaded.set().rules[0];
  EXPECT_THAT(rule.group_by, ElementsAre("internal_ip", "remote_ip"));
  ASSERT_EQ(rule.refs.size(), 2u);
  EXPECT_EQ(rule.refs[0].name, "internal_error");
  EXPECT_EQ(rule.refs[1].name, "new_network_connection");
  EXPECT_THAT(rule.group_fields, ElementsAre(ElementsAre("destination.ip", "source.ip"),
                                             ElementsAre("source.ip", "destination.ip")));
  EXPECT_EQ(rule.timespan_ns, 10'000'000'000);
}

TEST(Aliases, UnmappedRulesAndPlainFieldsKeepTheGroupName) {
  const std::string text = Correlation("c-alias",
                                       "  type: temporal\n"
                                       "  rules:\n"
                                       "    - d-failed\n"  // by id; alias keyed by name
                                       "    - successful_login\n"
                                       "  group-by:\n"
                                       "    - ip\n"
                                       "    - Host\n"
                                       "  timespan: 1m\n"
                                       "  aliases:\n"
                                       "    ip:\n"
                                       "      failed_login: src_ip\n");
  const Loaded loaded = LoadAll(text);
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  EXPECT_THAT(loaded.set().rules[0].group_fields,
              ElementsAre(ElementsAre("src_ip", "ip"), ElementsAre("Host", "Host")));
}

// ---- meta, defaults, extensions ----

TEST(Meta, DerivedIdAndDefaults) {
  const std::string text = "title: Plain\ncorrelation:\n" + kEventCountBody +
                           "---\ntitle: Tagged\nname: tagged\nlevel: critical\n"
                           "description: why\ntags:\n  - attack.t1110\n"
                           "author: someone\ndate: 2024-01-01\nreferences:\n  - x\n"
                           "falsepositives:\n  - none\ntaxonomy: sigma\nrelated:\n"
                           "  - id: x\n    type: derived\nlicense: MIT\ncustom_thing: 1\n"
                           "correlation:\n" +
                           kEventCountBody;
  const Loaded loaded = LoadAll(text);
  ASSERT_EQ(loaded.set().rules.size(), 2u);
  const CorrelationRule& plain = loaded.set().rules[0];
  EXPECT_EQ(plain.id, "test:1");
  EXPECT_EQ(plain.level, rules::Level::kMedium);
  EXPECT_TRUE(plain.group_fields == std::vector<std::vector<std::string>>{{"User"}});
  const CorrelationRule& tagged = loaded.set().rules[1];
  EXPECT_EQ(tagged.id, "test:" + std::to_string(LineOf(text, "title: Tagged")));
  EXPECT_EQ(tagged.name, "tagged");
  EXPECT_EQ(tagged.level, rules::Level::kCritical);
  EXPECT_EQ(tagged.description, "why");
  EXPECT_THAT(tagged.tags, ElementsAre("attack.t1110"));
}

TEST(Meta, MissingGroupByIsOneGlobalGroup) {
  const Loaded loaded = LoadAll(Correlation("c-global",
                                            "  type: temporal\n"
                                            "  rules: [failed_login, other]\n"
                                            "  timespan: 1h\n"
                                            "  condition:\n"
                                            "    gte: 2\n"));
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  EXPECT_TRUE(loaded.set().rules[0].group_by.empty());
  EXPECT_TRUE(loaded.set().rules[0].group_fields.empty());
  EXPECT_EQ(loaded.set().rules[0].condition.gte, 2.0);
}

TEST(Meta, FloatBoundsAndFieldAsOneElementList) {
  const Loaded loaded = LoadAll(Correlation("c-avg",
                                            "  type: value_avg\n"
                                            "  rules: [other]\n"
                                            "  group-by: [Host]\n"
                                            "  timespan: 2d\n"
                                            "  condition:\n"
                                            "    field: [bytes]\n"
                                            "    gt: 0.5\n"
                                            "    lt: 1e3\n"));
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  const CorrelationRule& rule = loaded.set().rules[0];
  EXPECT_EQ(rule.field, "bytes");
  EXPECT_EQ(rule.condition.ToString(), "gt 0.5 and lt 1000");
  EXPECT_EQ(rule.timespan_ns, 2 * 86'400'000'000'000);
}

// value_median (percentile 50 of the spec's value_percentile hint): a
// numeric field, like value_avg.
TEST(Meta, ValueMedianNeedsANumericFieldLikeValueAvg) {
  const Loaded loaded = LoadAll(Correlation("c-median",
                                            "  type: value_median\n"
                                            "  rules: [other]\n"
                                            "  group-by: [Host]\n"
                                            "  timespan: 1h\n"
                                            "  condition:\n"
                                            "    field: bytes\n"
                                            "    gt: 500\n"));
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  EXPECT_EQ(loaded.set().rules[0].type, CorrelationType::kValueMedian);
  EXPECT_EQ(loaded.set().rules[0].field, "bytes");
  EXPECT_STREQ(CorrelationTypeName(CorrelationType::kValueMedian), "value_median");
}

// Tags are copied into every alert: a hostile correlation's are capped like
// a detection rule's (engine/rules/rule_metadata.h).
TEST(Meta, TagsAndDescriptionAreBounded) {
  std::string tags = "tags:\n";
  for (int i = 0; i < 200; ++i) tags += "  - attack.t" + std::to_string(1000 + i) + "\n";
  const Loaded loaded = LoadAll(Correlation(
      "c-tags", kEventCountBody, tags + "description: " + std::string(9000, 'd') + "\n"));
  ASSERT_EQ(loaded.set().rules.size(), 1u) << Describe(loaded.result);
  const CorrelationRule& rule = loaded.set().rules[0];
  EXPECT_EQ(rule.tags.size(), 64u);
  EXPECT_EQ(rule.tags.front(), "attack.t1000");
  EXPECT_EQ(rule.description.size(), 4096u);
}

TEST(Generate, BothSpellingsUnsilence) {
  const std::vector<std::string> texts = {
      Correlation("c-gen", kEventCountBody + "  generate: true\n"),
      Correlation("c-gen", kEventCountBody, "generate: true\n"),
      Correlation("c-gen", kEventCountBody + "  generate: true\n", "generate: true\n")};
  for (const std::string& text : texts) {
    const Loaded loaded = LoadAll(text);
    ASSERT_EQ(loaded.set().rules.size(), 1u) << text;
    EXPECT_TRUE(loaded.set().rules[0].generate);
    EXPECT_FALSE(loaded.set().detection_silenced[DetectionIndex(loaded.detections, "d-failed")]);
  }
  const Loaded off = LoadAll(Correlation("c-gen", kEventCountBody + "  generate: false\n"));
  EXPECT_FALSE(off.set().rules[0].generate);
  EXPECT_TRUE(off.set().detection_silenced[DetectionIndex(off.detections, "d-failed")]);
}

TEST(Generate, OneGeneratingReferrerIsEnough) {
  const Loaded loaded = LoadAll(Correlation("c-a", kEventCountBody) + "---\n" +
                                Correlation("c-b", kOrderedBody + "  generate: true\n") + "---\n" +
                                Correlation("c-c", kOrderedBody));
  const CorrelationSet& set = loaded.set();
  ASSERT_EQ(set.detection_silenced.size(), loaded.detections.size());
  ASSERT_EQ(set.correlation_silenced.size(), set.rules.size());
  EXPECT_FALSE(set.detection_silenced[DetectionIndex(loaded.detections, "d-failed")]);
  EXPECT_FALSE(set.detection_silenced[DetectionIndex(loaded.detections, "d-success")]);
  EXPECT_FALSE(set.detection_silenced[DetectionIndex(loaded.detections, "d-other")]);
  for (bool silenced : set.correlation_silenced) EXPECT_FALSE(silenced);
}

TEST(Routes, EveryReferenceIsRouted) {
  const Loaded loaded = LoadAll(Correlation("c-a", kEventCountBody) + "---\n" +
                                Correlation("c-b", kOrderedBody) + "---\n" +
                                Correlation("c-top",
                                            "  type: temporal\n"
                                            "  rules: [c-a, c-b, other]\n"
                                            "  timespan: 1h\n"));
  const CorrelationSet& set = loaded.set();
  ASSERT_EQ(set.rules.size(), 3u);
  ASSERT_EQ(set.detection_routes.size(), loaded.detections.size());
  ASSERT_EQ(set.correlation_routes.size(), set.rules.size());
  size_t routes = 0;
  for (size_t d = 0; d < set.detection_routes.size(); ++d)
    for (const Route& route : set.detection_routes[d]) {
      const RuleRef& ref = set.rules.at(route.rule).refs.at(route.ref);
      EXPECT_EQ(ref.kind, RuleRef::Kind::kDetection);
      EXPECT_EQ(ref.index, d);
      ++routes;
    }
  for (size_t c = 0; c < set.correlation_routes.size(); ++c)
    for (const Route& route : set.correlation_routes[c]) {
      const RuleRef& ref = set.rules.at(route.rule).refs.at(route.ref);
      EXPECT_EQ(ref.kind, RuleRef::Kind::kCorrelation);
      EXPECT_EQ(ref.index, c);
      EXPECT_LT(c, route.rule);  // referenced correlations come first
      ++routes;
    }
  size_t refs = 0;
  for (const CorrelationRule& rule : set.rules) refs += rule.refs.size();
  EXPECT_EQ(routes, refs);
  EXPECT_EQ(set.detection_routes[DetectionIndex(loaded.detections, "d-failed")].size(), 2u);
  EXPECT_EQ(set.rules.back().id, "c-top");
}

TEST(Suppress, DefaultExplicitAndDisabled) {
  const Loaded loaded =
      LoadAll(Correlation("c-default", kEventCountBody) + "---\n" +
              Correlation("c-explicit", kEventCountBody + "  suppress: 30s\n") + "---\n" +
              Correlation("c-off", kEventCountBody + "  suppress: 0\n"));
  EXPECT_EQ(Find(loaded.set(), "c-default")->suppress_ns, 600'000'000'000);
  EXPECT_EQ(Find(loaded.set(), "c-explicit")->suppress_ns, 30'000'000'000);
  EXPECT_EQ(Find(loaded.set(), "c-off")->suppress_ns, 0);
}

TEST(Absent, NamesTheLastRuleByNameOrId) {
  for (const std::string absent : {"successful_login", "d-success"}) {
    const Loaded loaded =
        LoadAll(Correlation("c-absent", kOrderedBody + "  absent: " + absent + "\n"));
    ASSERT_EQ(loaded.set().rules.size(), 1u);
    EXPECT_TRUE(loaded.set().rules[0].absent_last);
  }
  const Loaded present = LoadAll(Correlation("c-present", kOrderedBody));
  EXPECT_FALSE(present.set().rules[0].absent_last);
}

// ---- fingerprints ----

std::string FingerprintOf(const std::string& text) {
  const Loaded loaded = LoadAll(text);
  const CorrelationRule* rule = Find(loaded.set(), "c-fp");
  return rule ? rule->fingerprint : "";
}

TEST(Fingerprint, StableAndSensitiveToStateShapingKeysOnly) {
  const std::string base_body =
      "  type: temporal_ordered\n"
      "  rules:\n"
      "    - failed_login\n"
      "    - successful_login\n"
      "  group-by:\n"
      "    - ip\n"
      "  timespan: 5m\n"
      "  condition:\n"
      "    gte: 2\n"
      "  aliases:\n"
      "    ip:\n"
      "      failed_login: src_ip\n";
  const std::string base = Correlation("c-fp", base_body, "level: low\n");
  const std::string fingerprint = FingerprintOf(base);
  ASSERT_FALSE(fingerprint.empty());
  EXPECT_EQ(FingerprintOf(base), fingerprint);

  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"temporal_ordered", "temporal"},
           {"    - successful_login\n", "    - other\n"},
           {"    - ip\n", "    - ip\n    - Host\n"},
           {"src_ip", "source.ip"},
           {"5m", "300m"},
           {"gte: 2", "gt: 2"},
           {"  timespan: 5m\n", "  timespan: 5m\n  absent: successful_login\n"}}) {
    EXPECT_NE(FingerprintOf(replaced(from, to)), fingerprint) << from << " -> " << to;
  }
  // 300s is 5m: the fingerprint holds the value, not the text.
  EXPECT_EQ(FingerprintOf(replaced("timespan: 5m", "timespan: 300s")), fingerprint);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"title: Correlation c-fp", "title: Renamed"},
           {"level: low", "level: high"},
           {"level: low\n", "level: low\ntags: [a.b]\ndescription: more\n"},
           {"  timespan: 5m\n", "  timespan: 5m\n  suppress: 1h\n  generate: true\n"}})
    EXPECT_EQ(FingerprintOf(replaced(from, to)), fingerprint) << from << " -> " << to;
}

TEST(Fingerprint, ValueCountFieldAndChildChanges) {
  const std::string value_count = Correlation("c-fp",
                                              "  type: value_count\n"
                                              "  rules: [failed_login]\n"
                                              "  group-by: [Host]\n"
                                              "  timespan: 1h\n"
                                              "  condition:\n"
                                              "    field: User\n"
                                              "    gte: 5\n");
  std::string other_field = value_count;
  other_field.replace(other_field.find("field: User"), 11, "field: Target");
  EXPECT_NE(FingerprintOf(value_count), FingerprintOf(other_field));

  const auto chained = [](const std::string& child_timespan) {
    return Correlation("c-child",
                       "  type: event_count\n  rules: [failed_login]\n"
                       "  timespan: " +
                           child_timespan + "\n  condition:\n    gte: 3\n") +
           "---\n" +
           Correlation("c-fp",
                       "  type: temporal\n  rules: [c-child, other]\n"
                       "  timespan: 1h\n");
  };
  EXPECT_EQ(FingerprintOf(chained("10m")), FingerprintOf(chained("10m")));
  EXPECT_NE(FingerprintOf(chained("10m")), FingerprintOf(chained("20m")));
}

// ---- refusals ----

struct RefusalCase {
  std::string name;
  std::string yaml;     // one valid correlation ("c-ok") is loaded before it
  std::string reason;   // substring of the reason
  std::string at_line;  // text on the line the refusal must point to
};

std::string Body(const std::string& type, const std::string& rest) {
  return "  type: " + type + "\n" + rest;
}

std::string ManyRules(size_t count) {
  std::string text = "  rules:\n";
  for (size_t i = 0; i < count; ++i) text += "    - r" + std::to_string(i) + "\n";
  return text;
}

std::string ManyGroups(size_t count) {
  std::string text = "  group-by:\n";
  for (size_t i = 0; i < count; ++i) text += "    - g" + std::to_string(i) + "\n";
  return text;
}

std::string ManyAliases(size_t count) {
  std::string text = "  aliases:\n";
  for (size_t i = 0; i < count; ++i) text += "    a" + std::to_string(i) + ":\n      x: y\n";
  return text;
}

const std::string kRules = "  rules:\n    - failed_login\n";
const std::string kTwoRules = "  rules:\n    - failed_login\n    - successful_login\n";
const std::string kGroup = "  group-by:\n    - User\n";
const std::string kSpan = "  timespan: 10m\n";
const std::string kGte = "  condition:\n    gte: 10\n";

std::vector<RefusalCase> RefusalCases() {
  const auto bad = [](const std::string& body, const std::string& top = "") {
    return Correlation("c-bad", body, top);
  };
  return {
      {"UnknownLevel", bad(kEventCountBody, "level: severe\n"), "unknown level 'severe'",
       "level: severe"},
      {"TagsNotStrings", bad(kEventCountBody, "tags:\n  - {a: b}\n"), "'tags' entries", "- {a: b}"},
      {"CorrelationNotMap", "title: x\nid: c-bad\ncorrelation: 5\n", "'correlation' must be a map",
       "correlation: 5"},
      {"UnknownCorrelationKey", bad(kEventCountBody + "  window: 5m\n"), "unknown key 'window'",
       "window: 5m"},
      {"MissingType", bad(kRules + kGroup + kSpan + kGte), "missing 'correlation.type'",
       "  rules:"},
      {"UnknownType", bad(Body("event_sum", kRules + kSpan + kGte)),
       "unknown correlation type 'event_sum'", "type: event_sum"},
      {"ValuePercentileWithoutField",
       bad(Body("value_percentile", kRules + kSpan + "  condition:\n    lte: 1\n")),
       "value_percentile needs 'condition.field'", "lte: 1"},
      {"MissingRules", bad(Body("event_count", kSpan + kGte)), "missing 'correlation.rules'",
       "type: event_count"},
      {"EmptyRules", bad(Body("event_count", "  rules: []\n" + kSpan + kGte)),
       "'rules' must be a non-empty list", "rules: []"},
      {"RulesNotList", bad(Body("event_count", "  rules: failed_login\n" + kSpan + kGte)),
       "'rules' must be a non-empty list", "rules: failed_login"},
      {"RuleNotString", bad(Body("event_count", "  rules:\n    - {a: b}\n" + kSpan + kGte)),
       "'rules' entries must be rule ids or names", "- {a: b}"},
      {"TooManyRules", bad(Body("temporal", ManyRules(65) + kSpan)), "at most 64", "    - r0"},
      {"DuplicateRule",
       bad(Body("temporal",
                "  rules:\n    - other\n    - failed_login\n    - other  # again\n" + kSpan)),
       "'rules' lists 'other' twice", "other  # again"},
      {"UnknownRule", bad(Body("temporal", "  rules:\n    - other\n    - nowhere\n" + kSpan)),
       "no detection or correlation rule has the id or name 'nowhere'", "- nowhere"},
      {"AmbiguousRule", bad(Body("temporal", "  rules:\n    - other\n    - twin\n" + kSpan)),
       "'twin' is ambiguous: 2 rules", "- twin"},
      {"SameRuleTwice",
       bad(Body("temporal", "  rules:\n    - d-failed\n    - failed_login\n" + kSpan)),
       "'d-failed' and 'failed_login' are the same rule", "- failed_login"},
      {"SelfReference", bad(Body("temporal", "  rules:\n    - other\n    - c-bad\n" + kSpan)),
       "is this correlation itself", "- c-bad"},
      {"GroupByNotList", bad(Body("event_count", kRules + "  group-by: User\n" + kSpan + kGte)),
       "'group-by' must be a list", "group-by: User"},
      {"TooManyGroups", bad(Body("event_count", kRules + ManyGroups(17) + kSpan + kGte)),
       "'group-by' has 17 entries; at most 16", "    - g0"},
      {"DuplicateGroup",
       bad(Body("event_count", kRules + "  group-by: [User, Host, User]\n" + kSpan + kGte)),
       "'group-by' lists 'User' twice", "group-by: [User"},
      {"MissingTimespan", bad(Body("event_count", kRules + kGte)), "missing 'correlation.timespan'",
       "type: event_count"},
      {"TimespanMs", bad(Body("event_count", kRules + "  timespan: 10ms\n" + kGte)),
       "'timespan' must be a whole number followed by s, m, h or d", "timespan: 10ms"},
      {"TimespanWeeks", bad(Body("event_count", kRules + "  timespan: 2w\n" + kGte)), "not '2w'",
       "timespan: 2w"},
      {"TimespanNoUnit", bad(Body("event_count", kRules + "  timespan: 10\n" + kGte)), "not '10'",
       "timespan: 10"},
      {"TimespanNegative", bad(Body("event_count", kRules + "  timespan: -5m\n" + kGte)),
       "not '-5m'", "timespan: -5m"},
      {"TimespanZero", bad(Body("event_count", kRules + "  timespan: 0s\n" + kGte)),
       "'timespan' must be greater than 0", "timespan: 0s"},
      {"TimespanOverflow", bad(Body("event_count", kRules + "  timespan: 99999999999d\n" + kGte)),
       "is too long", "timespan: 99999999999d"},
      {"MissingCondition", bad(Body("event_count", kRules + kSpan)),
       "event_count needs 'condition'", "type: event_count"},
      {"ValueSumNeedsCondition", bad(Body("value_sum", kRules + kSpan)),
       "value_sum needs 'condition'", "type: value_sum"},
      {"ConditionNotMap", bad(Body("event_count", kRules + kSpan + "  condition: 10\n")),
       "'condition' must be a map", "condition: 10"},
      {"ConditionNoBound",
       bad(Body("value_count", kRules + kSpan + "  condition:\n    field: User\n")),
       "'condition' has no bound", "field: User"},
      {"ConditionNotNumber",
       bad(Body("event_count", kRules + kSpan + "  condition:\n    gte: ten\n")),
       "condition 'gte' must be a number, not 'ten'", "gte: ten"},
      {"ConditionNan", bad(Body("event_count", kRules + kSpan + "  condition:\n    gte: .nan\n")),
       "condition 'gte' must be a number", "gte: .nan"},
      {"ConditionUnknownKey",
       bad(Body("event_count", kRules + kSpan + "  condition:\n    min: 3\n")),
       "unknown key 'min' in condition", "min: 3"},
      {"ValueCountNeedsField", bad(Body("value_count", kRules + kSpan + kGte)),
       "value_count needs 'condition.field'", "gte: 10"},
      {"ValueAvgNeedsField", bad(Body("value_avg", kRules + kSpan + kGte)),
       "value_avg needs 'condition.field'", "gte: 10"},
      {"ValueMedianNeedsField", bad(Body("value_median", kRules + kSpan + kGte)),
       "value_median needs 'condition.field'", "gte: 10"},
      {"FieldOnEventCount",
       bad(Body("event_count", kRules + kSpan + "  condition:\n    gte: 3\n    field: User\n")),
       "'condition.field' is only for value_count", "field: User"},
      {"FieldOnTemporal",
       bad(Body("temporal", kTwoRules + kSpan + "  condition:\n    gte: 2\n    field: User\n")),
       "'condition.field' is only for value_count", "field: User"},
      {"SeveralFields",
       bad(Body("value_count",
                kRules + kSpan + "  condition:\n    field: [User, Host]\n    gte: 3\n")),
       "lists several fields", "field: [User"},
      {"AliasesNotMap", bad(Body("temporal", kTwoRules + kGroup + kSpan + "  aliases: [a]\n")),
       "'aliases' must be a map", "aliases: [a]"},
      {"AliasNotInGroupBy",
       bad(Body("temporal",
                kTwoRules + kGroup + kSpan + "  aliases:\n    ip:\n      failed_login: x\n")),
       "alias 'ip' is not used in group-by", "    ip:"},
      {"AliasUnknownRule",
       bad(Body("temporal", kTwoRules + "  group-by: [ip]\n" + kSpan +
                                "  aliases:\n    ip:\n      other: x\n")),
       "alias 'ip': 'other' is not the name of one of the correlation's rules", "other: x"},
      {"AliasNotMapping",
       bad(Body("temporal",
                kTwoRules + "  group-by: [ip]\n" + kSpan + "  aliases:\n    ip: src_ip\n")),
       "alias 'ip' must map rule names to fields", "ip: src_ip"},
      {"TooManyAliases", bad(Body("temporal", kTwoRules + kGroup + kSpan + ManyAliases(17))),
       "'aliases' has 17 entries; at most 16", "    a0:"},
      {"GenerateNotBool", bad(kEventCountBody + "  generate: maybe\n"),
       "'generate' must be true or false", "generate: maybe"},
      {"GenerateConflict", bad(kEventCountBody + "  generate: true\n", "generate: false\n"),
       "different values", "generate: false"},
      {"SuppressBad", bad(kEventCountBody + "  suppress: soon\n"),
       "'suppress' must be a whole number", "suppress: soon"},
      {"AbsentNotOrdered", bad(kEventCountBody + "  absent: failed_login\n"),
       "'absent' is only for temporal_ordered", "absent: failed_login"},
      {"AbsentOneRule", bad(Body("temporal_ordered", kRules + kSpan + "  absent: failed_login\n")),
       "'absent' needs at least 2 rules", "absent: failed_login"},
      {"AbsentNotLast", bad(kOrderedBody + "  absent: failed_login\n"),
       "'absent' must name the last of 'rules' ('successful_login')", "absent: failed_login"},
      {"DuplicateCorrelationId", Correlation("c-ok", kEventCountBody),
       "duplicate id 'c-ok' (also test.yml:1)", "title: Correlation c-ok"},
      {"IdOfDetectionRule", Correlation("d-other", kEventCountBody),
       "duplicate id 'd-other' (also detections.yml:1)", "title: Correlation d-other"},
      {"RefersToRefused",
       bad(Body("temporal", "  rules:\n    - other\n    - c-broken\n" + kSpan)) + "---\n" +
           Correlation("c-broken", Body("event_count", kRules + kSpan)),
       "refers to refused correlation 'c-broken'", "- c-broken"},
  };
}

void PrintTo(const RefusalCase& test, std::ostream* out) { *out << test.name; }

class Refusals : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(Refusals, RefusedWithReasonAndLine) {
  const RefusalCase& test = GetParam();
  const std::string prefix = Correlation("c-ok", kEventCountBody) + "---\n";
  const std::string text = prefix + test.yaml;
  std::vector<rules::Rule> detections = BaseDetections();
  detections.push_back(Detection("d-twin-1", "twin"));
  detections.push_back(Detection("d-twin-2", "twin"));
  const Loaded loaded = Load(text, detections);
  ASSERT_TRUE(loaded.sigma.refused.empty());
  ASSERT_GE(loaded.result.refused.size(), 1u);
  const rules::RuleError& error = loaded.result.refused[0];
  EXPECT_THAT(error.message, HasSubstr(test.reason));
  EXPECT_EQ(error.location.file, "test.yml");
  const int prefix_lines = static_cast<int>(std::count(prefix.begin(), prefix.end(), '\n'));
  EXPECT_EQ(error.location.line, prefix_lines + LineOf(test.yaml, test.at_line))
      << error.ToString();
  const bool bad_id = test.yaml.find("id: c-bad") != std::string::npos;
  if (bad_id) {
    EXPECT_EQ(error.rule_id, "c-bad");
  }
  // The valid correlation before it still loads; nothing refused is in the set.
  EXPECT_NE(Find(loaded.set(), "c-ok"), nullptr);
  EXPECT_EQ(loaded.set().rules.size() + loaded.result.refused.size(),
            loaded.sigma.correlations.size());
  EXPECT_EQ(Find(loaded.set(), "c-bad"), nullptr);
  EXPECT_EQ(loaded.set().detection_routes.size(), loaded.detections.size());
  EXPECT_EQ(loaded.set().detection_silenced.size(), loaded.detections.size());
  EXPECT_EQ(loaded.set().correlation_silenced.size(), loaded.set().rules.size());
}

INSTANTIATE_TEST_SUITE_P(Correlation, Refusals, ::testing::ValuesIn(RefusalCases()),
                         [](const auto& info) { return info.param.name; });

TEST(RefusalChains, CycleRefusesEveryMemberAndDependents) {
  const std::string text =
      Correlation("c-a", Body("temporal", "  rules:\n    - other\n    - c-b\n" + kSpan)) + "---\n" +
      Correlation("c-b", Body("temporal", "  rules:\n    - c-a\n    - other\n" + kSpan)) + "---\n" +
      Correlation("c-top", Body("temporal", "  rules:\n    - c-b\n    - other\n" + kSpan)) +
      "---\n" + Correlation("c-fine", kEventCountBody);
  const Loaded loaded = Load(text);
  ASSERT_EQ(loaded.result.refused.size(), 3u) << Describe(loaded.result);
  EXPECT_EQ(loaded.result.refused[0].rule_id, "c-a");
  EXPECT_THAT(loaded.result.refused[0].message, HasSubstr("form a cycle: 'c-a' -> 'c-b' -> 'c-a'"));
  EXPECT_EQ(loaded.result.refused[0].location.line, LineOf(text, "- c-b"));
  EXPECT_EQ(loaded.result.refused[1].rule_id, "c-b");
  EXPECT_THAT(loaded.result.refused[1].message, HasSubstr("form a cycle: 'c-b' -> 'c-a' -> 'c-b'"));
  EXPECT_EQ(loaded.result.refused[1].location.line, LineOf(text, "- c-a"));
  EXPECT_EQ(loaded.result.refused[2].rule_id, "c-top");
  EXPECT_THAT(loaded.result.refused[2].message, HasSubstr("refers to refused correlation 'c-b'"));
  ASSERT_EQ(loaded.set().rules.size(), 1u);
  EXPECT_EQ(loaded.set().rules[0].id, "c-fine");
}

TEST(RefusalChains, RefusalPropagatesUpAChain) {
  const std::string text =
      Correlation("c-top", Body("temporal", "  rules:\n    - c-mid\n    - other\n" + kSpan)) +
      "---\n" +
      Correlation("c-mid", Body("temporal", "  rules:\n    - c-low\n    - other\n" + kSpan)) +
      "---\n" + Correlation("c-low", Body("event_count", kRules + "  timespan: 1y\n" + kGte));
  const Loaded loaded = Load(text);
  ASSERT_EQ(loaded.result.refused.size(), 3u) << Describe(loaded.result);
  EXPECT_THAT(loaded.result.refused[0].message, HasSubstr("refused correlation 'c-mid'"));
  EXPECT_THAT(loaded.result.refused[1].message, HasSubstr("refused correlation 'c-low'"));
  EXPECT_THAT(loaded.result.refused[2].message, HasSubstr("'timespan'"));
  EXPECT_EQ(loaded.result.refused[2].location.line, LineOf(text, "timespan: 1y"));
  EXPECT_TRUE(loaded.set().empty());
}

// Comments, blank lines and a block scalar before the bad key: the error
// still names its exact line and column in the file (the loader reads the
// parsed node, not re-emitted text, whose lines collapse those).
TEST(RefusalChains, LinesAndColumnsAreTheFilesDespiteCommentsAndBlockScalars) {
  const std::string text = Correlation("c-ok", kEventCountBody) + "---\n" +
                           "# a comment\n\n# another\ntitle: Bad\nid: c-bad\n"
                           "description: |\n  one\n  two\n\n  three\n"
                           "correlation:\n  type: event_count\n" +
                           kRules + kGroup + "  timespan: 10 minutes\n" + kGte;
  const Loaded loaded = Load(text);
  ASSERT_EQ(loaded.result.refused.size(), 1u) << Describe(loaded.result);
  const rules::RuleError& error = loaded.result.refused[0];
  EXPECT_EQ(error.location.line, LineOf(text, "timespan: 10 minutes")) << error.ToString();
  EXPECT_EQ(error.location.column, 13) << error.ToString();  // the value after "  timespan: "
  EXPECT_EQ(error.code, "correlation.rule");
  EXPECT_EQ(error.rule_id, "c-bad");
}

TEST(RefusalChains, MalformedDocumentNeverThrows) {
  std::vector<rules::CorrelationDocument> documents;
  documents.push_back({{"raw.yml", 7}, nullptr, "title: [unclosed"});
  documents.push_back({{"raw.yml", 9}, nullptr, "- a list"});
  documents.push_back({{"raw.yml", 11}, nullptr, ""});
  const std::vector<rules::Rule> detections = BaseDetections();
  const CorrelationLoadResult result = LoadCorrelations(documents, detections);
  ASSERT_EQ(result.refused.size(), 3u);
  for (const rules::RuleError& error : result.refused) {
    EXPECT_EQ(error.location.file, "raw.yml");
    EXPECT_GE(error.location.line, 7);
  }
  EXPECT_THAT(result.refused[0].message, HasSubstr("invalid correlation"));
  EXPECT_THAT(result.refused[1].message, HasSubstr("must be a map"));
  ASSERT_NE(result.set, nullptr);
  EXPECT_TRUE(result.set->empty());
  EXPECT_EQ(result.set->detection_routes.size(), detections.size());
}

TEST(RefusalChains, NoDocumentsGiveAnEmptySet) {
  const CorrelationLoadResult result = LoadCorrelations({}, BaseDetections());
  ASSERT_NE(result.set, nullptr);
  EXPECT_TRUE(result.set->empty());
  EXPECT_TRUE(result.refused.empty());
  EXPECT_EQ(result.set->detection_silenced, std::vector<bool>(3, false));
}

}  // namespace
}  // namespace gsoc::correlate
