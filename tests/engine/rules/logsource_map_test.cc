// LogSourceMap: matching, most specific entry, event filters, bad files.
#include "engine/rules/logsource_map.h"

#include <gmock/gmock.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace gsoc::rules {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* kMap = R"(logsources:
  - logsource: {product: linux}
  - logsource: {product: linux, service: sshd}
    programs: [sshd, SSHD]
  - logsource: {product: zeek, service: '*'}
    formats: [json]
  - logsource: {product: zeek, service: dns}
    formats: [json]
    programs: [zeek-dns]
  - logsource: {product: linux, service: auth}
    programs: [sudo]
    facilities: [4, 10]
)";

std::string ParseError(const std::string& yaml) {
  try {
    LogSourceMap::Parse(yaml, "bad.yaml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(LogSourceMap, ResolvesExactAndMostSpecific) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  auto filter = map.Resolve({"linux", "", ""});
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->programs.empty());
  filter = map.Resolve({"Linux", "SSHD", ""});
  ASSERT_TRUE(filter);
  EXPECT_THAT(filter->programs, ElementsAre("sshd"));
  filter = map.Resolve({"zeek", "conn", ""});
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->programs.empty());
  filter = map.Resolve({"zeek", "dns", ""});
  ASSERT_TRUE(filter);
  EXPECT_THAT(filter->programs, ElementsAre("zeek-dns"));
  EXPECT_TRUE(map.Resolve({"zeek", "", ""}));  // '*' also accepts no service
}

TEST(LogSourceMap, UnmappedIsNullopt) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  EXPECT_FALSE(map.Resolve({"linux", "", "process_creation"}));
  EXPECT_FALSE(map.Resolve({"linux", "auditd", ""}));
  EXPECT_FALSE(map.Resolve({"windows", "security", ""}));
  EXPECT_FALSE(map.Resolve({"zeek", "dns", "x"}));
}

TEST(LogSourceMap, EventFilterMatches) {
  const LogSourceMap map = LogSourceMap::Parse(kMap, "m.yaml");
  const EventFilter auth = *map.Resolve({"linux", "auth", ""});
  Event event;
  event.program = "SUDO";
  event.facility = 10;
  EXPECT_TRUE(auth.Matches(event));
  event.facility = 3;
  EXPECT_FALSE(auth.Matches(event));
  event.facility = 4;
  event.program = "cron";
  EXPECT_FALSE(auth.Matches(event));
  const EventFilter zeek = *map.Resolve({"zeek", "http", ""});
  event.format = EventFormat::kJson;
  EXPECT_TRUE(zeek.Matches(event));
  event.format = EventFormat::kRfc3164;
  EXPECT_FALSE(zeek.Matches(event));
  EXPECT_TRUE(map.Resolve({"linux", "", ""})->Matches(event));
}

TEST(LogSourceMap, BadFilesNameFileAndLine) {
  EXPECT_EQ(ParseError("logsources:\n  - logsource: {product: linux}\n    program: [x]\n"),
            "bad.yaml:3: unknown key 'program' (logsource, programs, facilities, formats, events, "
            "carries)");
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: linux}\n    facilities: [4, 99]\n"),
              HasSubstr("bad.yaml:3: facility '99'"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: linux}\n    formats: [xml]\n"),
              HasSubstr("bad.yaml:3: unknown format 'xml'"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {os: linux}\n"),
              HasSubstr("bad.yaml:2: unknown logsource key 'os'"));
  EXPECT_THAT(ParseError("logsources:\n  - programs: [x]\n"),
              HasSubstr("bad.yaml:2: entry has no logsource"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n  - logsource: {product: A}\n"),
              HasSubstr("bad.yaml:3: a second entry"));
  EXPECT_THAT(ParseError("rules: []\n"), HasSubstr("bad.yaml:1:"));
  EXPECT_THAT(ParseError("logsources: [\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(ParseError("logsources: {a: b}\n"), HasSubstr("must be a list"));
  try {
    LogSourceMap::Load("/nonexistent/logsources.yaml");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/logsources.yaml"));
  }
}

TEST(LogSourceMap, ShippedFile) {
  const LogSourceMap map =
      LogSourceMap::Load(std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml");
  EXPECT_THAT(map.Resolve({"linux", "sshd", ""})->programs, ElementsAre("sshd"));
  EXPECT_THAT(map.Resolve({"linux", "cron", ""})->programs, ElementsAre("cron", "crond"));
  // auth goes by program: replayed files carry no PRI, so no facility.
  EXPECT_TRUE(map.Resolve({"linux", "auth", ""})->facilities.empty());
  EXPECT_THAT(map.Resolve({"linux", "auth", ""})->programs, Contains("sshd"));
  EXPECT_TRUE(map.Resolve({"linux", "syslog", ""})->programs.empty());
  // The included pipelines: Windows, Zeek, cloud, endpoint events.
  EXPECT_EQ(map.Resolve({"windows", "", "process_creation"})->selectors.size(), 2u);
  EXPECT_EQ(map.Resolve({"zeek", "rdp", ""})->selectors.size(), 2u);
  EXPECT_FALSE(map.Resolve({"zeek", "no_such_log", ""}));
  EXPECT_TRUE(map.Resolve({"aws", "cloudtrail", ""}));
  EXPECT_TRUE(map.Resolve({"linux", "", "process_creation"}));
  EXPECT_GT(map.selector_count(), 100u);
}

// Events: `when` selects, `fields` maps, `Classify` records and adds.
class ClassifyTest : public ::testing::Test {
 protected:
  Event& Add(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    Event& event = batch_.AddEvent();
    for (const auto& [name, value] : fields) batch_.AddField(event, name, value);
    return event;
  }
  EventBatch batch_;
};

const char* kPipeline = R"(logsources:
  - logsource: {product: windows, category: process_creation}
    events:
      - when: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1}
      - when: {Channel: Security, EventID: [4688]}
        fields: {Image: NewProcessName}
  - logsource: {product: windows, service: security}
    events:
      - when: {Channel: security}
  - logsource: {product: zeek, service: rdp}
    events: [{when: {_path: rdp}}, {when: {'@stream': rdp}}]
  - logsource: {product: aws, service: cloudtrail}
    events: [{when: {eventSource: '*.amazonaws.com'}}]
  - logsource: {category: webserver}
    events:
      - when: {program: nginx}
        fields: {cs-method: method}
)";

TEST_F(ClassifyTest, SelectsOnlyTheEventsALogsourceDescribes) {
  const LogSourceMap map = LogSourceMap::Parse(kPipeline, "p.yaml");
  const EventFilter process = *map.Resolve({"windows", "", "process_creation"});
  const EventFilter security = *map.Resolve({"windows", "security", ""});
  const EventFilter rdp = *map.Resolve({"zeek", "rdp", ""});
  const EventFilter aws = *map.Resolve({"aws", "cloudtrail", ""});

  Event& sysmon = Add({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "1"}});
  map.Classify(batch_, sysmon);
  EXPECT_TRUE(process.Matches(sysmon));
  EXPECT_FALSE(security.Matches(sysmon));

  Event& audit =
      Add({{"Channel", "Security"}, {"EventID", "4688"}, {"NewProcessName", "C:\\a.exe"}});
  map.Classify(batch_, audit);
  EXPECT_TRUE(process.Matches(audit));
  EXPECT_TRUE(security.Matches(audit));  // values compare case-insensitively
  EXPECT_EQ(batch_.FieldValue(audit, "Image"), "C:\\a.exe");

  Event& other = Add({{"Channel", "Security"}, {"EventID", "4624"}});
  map.Classify(batch_, other);
  EXPECT_FALSE(process.Matches(other));
  EXPECT_EQ(batch_.FieldValue(other, "Image"), "");

  Event& zeek = Add({{"@stream", "rdp"}, {"id.orig_h", "10.0.0.1"}});
  map.Classify(batch_, zeek);
  EXPECT_TRUE(rdp.Matches(zeek));
  EXPECT_FALSE(aws.Matches(zeek));

  Event& plain = Add({{"a", "1"}});  // {"a":1} is nobody's event
  map.Classify(batch_, plain);
  for (const EventFilter* filter : {&process, &security, &rdp, &aws})
    EXPECT_FALSE(filter->Matches(plain));

  Event& trail = Add({{"eventSource", "iam.amazonaws.com"}});
  map.Classify(batch_, trail);
  EXPECT_TRUE(aws.Matches(trail));  // wildcard value

  Event unclassified;  // never classified: no selector holds
  EXPECT_FALSE(process.Matches(unclassified));
}

TEST_F(ClassifyTest, MappedFieldNeverOverridesTheEventsOwn) {
  const LogSourceMap map = LogSourceMap::Parse(kPipeline, "p.yaml");
  Event& event = Add(
      {{"Channel", "Security"}, {"EventID", "4688"}, {"NewProcessName", "new"}, {"Image", "own"}});
  map.Classify(batch_, event);
  EXPECT_EQ(batch_.FieldValue(event, "Image"), "own");
  EXPECT_EQ(event.fields_count, 4u);
}

// How `fields` add to an event: the first field of a name gives the value;
// a field the event has, or an earlier mapping added, is never replaced; a
// mapping reads fields earlier mappings added (not later ones); added fields
// follow the order of `fields`, and of the selectors.
TEST_F(ClassifyTest, MappedFieldsOrderAndPrecedence) {
  const LogSourceMap map = LogSourceMap::Parse(R"(logsources:
  - logsource: {product: p, service: a}
    events:
      - when: {kind: x}
        fields: {B: b, A: a, C: B, Z: Y, Y: a, Own: a, Dup: dup, Self: Self}
  - logsource: {product: p, service: b}
    events:
      - when: {kind: '*'}
        fields: {A: c, D: A, E: missing, Dup: c}
)",
                                               "p.yaml");
  Event* event = &Add({{"kind", "x"},
                       {"a", "1"},
                       {"b", "2"},
                       {"Own", "mine"},
                       {"dup", "first"},
                       {"dup", "second"},
                       {"c", "3"},
                       {"Self", "s"}});
  Add({{"kind", "y"}});  // a later event: the first one's fields move when it grows
  event = &batch_.events()[0];
  map.Classify(batch_, *event);
  std::string fields;
  for (const Field& field : batch_.FieldsOf(*event))
    fields += std::string(field.name) + "=" + std::string(field.value) + ";";
  EXPECT_EQ(fields,
            "kind=x;a=1;b=2;Own=mine;dup=first;dup=second;c=3;Self=s;"
            "B=2;A=1;C=2;Y=1;Dup=first;D=1;");
  EXPECT_EQ(event->selector_count, 2);
  Event& other = batch_.events()[1];
  map.Classify(batch_, other);
  EXPECT_EQ(other.fields_count, 1u);
  EXPECT_EQ(other.selector_count, 1);
}

TEST_F(ClassifyTest, HeaderProgramInConditions) {
  const LogSourceMap map = LogSourceMap::Parse(kPipeline, "p.yaml");
  Event& event = Add({{"method", "GET"}});
  event.program = "nginx";
  map.Classify(batch_, event);
  EXPECT_TRUE(map.Resolve({"", "", "webserver"})->Matches(event));
  EXPECT_EQ(batch_.FieldValue(event, "cs-method"), "GET");
}

// The index Classify uses gives what testing every selector gives
// (ClassifyLinear): the same selectors recorded and the same fields added,
// on events built from every `when` of the shipped pipelines, with values
// in random case, wildcards filled, conditions broken, keys dropped and two
// selectors' fields mixed into one event.
class ClassifyIndexTest : public ::testing::Test {
 protected:
  using Conditions = std::vector<std::pair<std::string, std::vector<std::string>>>;

  static std::vector<Conditions> ShippedWhens() {
    std::vector<Conditions> whens;
    const auto folder = std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "pipelines";
    for (const auto& file : std::filesystem::directory_iterator(folder)) {
      const YAML::Node root = YAML::LoadFile(file.path().string());
      for (const YAML::Node& entry : root["logsources"]) {
        if (!entry["events"]) continue;
        for (const YAML::Node& event : entry["events"]) {
          Conditions when;
          for (const auto& condition : event["when"]) {
            std::vector<std::string> values;
            if (condition.second.IsSequence()) {
              for (const YAML::Node& value : condition.second) values.push_back(value.Scalar());
            } else {
              values.push_back(condition.second.Scalar());
            }
            when.emplace_back(condition.first.Scalar(), values);
          }
          whens.push_back(when);
        }
      }
    }
    return whens;
  }

  // A value the condition accepts: '*' filled, letters in random case.
  std::string Accepted(const std::string& pattern) {
    std::string value;
    for (char c : pattern) {
      if (c == '*') {
        value += (rng_() % 2) ? "Xy" : "";
      } else {
        value += (rng_() % 2) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      }
    }
    return value;
  }

  void AddWhen(Event& event, const Conditions& when, bool spoil) {
    const size_t spoilt = spoil ? rng_() % when.size() : when.size();
    const bool drop = rng_() % 2;
    for (size_t i = 0; i < when.size(); ++i) {
      const auto& [name, values] = when[i];
      std::string value = Accepted(values[rng_() % values.size()]);
      if (i == spoilt) {
        if (drop) continue;
        value += "~";
      }
      if (name == "program") {
        event.program = batch_.arena().Copy(value);
      } else {
        batch_.AddField(event, batch_.arena().Copy(name), batch_.arena().Copy(value));
      }
    }
  }

  static std::string Describe(const EventBatch& batch, const Event& event) {
    std::string text;
    for (uint8_t i = 0; i < event.selector_count; ++i)
      text += std::to_string(event.selectors[i]) + ",";
    text += " |";
    for (const Field& field : batch.FieldsOf(event))
      text += std::string(field.name) + "=" + std::string(field.value) + ";";
    return text;
  }

  std::mt19937_64 rng_{20261204};
  EventBatch batch_;
};

TEST_F(ClassifyIndexTest, SameSelectorsAndFieldsAsTestingEverySelector) {
  const LogSourceMap map =
      LogSourceMap::Load(std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "logsources.yaml");
  const std::vector<Conditions> whens = ShippedWhens();
  ASSERT_GT(whens.size(), 100u);
  size_t classified = 0;
  for (int round = 0; round < 40; ++round) {
    for (size_t w = 0; w < whens.size(); ++w) {
      batch_.Clear();
      const bool spoil = round % 4 == 3;
      batch_.AddEvent();
      AddWhen(batch_.events()[0], whens[w], spoil);
      if (round % 3 == 1) AddWhen(batch_.events()[0], whens[rng_() % whens.size()], false);
      const std::vector<Field> fields(batch_.FieldsOf(batch_.events()[0]).begin(),
                                      batch_.FieldsOf(batch_.events()[0]).end());
      batch_.AddEvent();  // may move events: take references after
      Event& indexed = batch_.events()[0];
      Event& linear = batch_.events()[1];
      linear.program = indexed.program;
      for (const Field& field : fields) batch_.AddField(linear, field.name, field.value);
      map.Classify(batch_, indexed);
      map.ClassifyLinear(batch_, linear);
      ASSERT_EQ(Describe(batch_, indexed), Describe(batch_, linear)) << "when #" << w;
      if (indexed.selector_count > 0) ++classified;
    }
  }
  // Most unspoilt events are some logsource's (the test is not vacuous).
  EXPECT_GT(classified, whens.size() * 25);
}

TEST(LogSourceMap, BadPipelinesNameFileAndLine) {
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n    events: []\n"),
              HasSubstr("bad.yaml:3: 'events' must be a non-empty list"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n    events:\n"
                         "      - fields: {a: b}\n"),
              HasSubstr("bad.yaml:4: events entry has no 'when'"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n    events:\n"
                         "      - when: {a: {b: c}}\n"),
              HasSubstr("bad.yaml:4: 'a' must be a value or a list of values"));
  EXPECT_THAT(ParseError("logsources:\n  - logsource: {product: a}\n    events:\n"
                         "      - {when: {a: 1}, fields: {X: b}}\n"
                         "  - logsource: {product: b}\n    events:\n"
                         "      - {when: {a: 1}, fields: {X: c}}\n"),
              HasSubstr("bad.yaml:7: field X is mapped to both b and c"));
  EXPECT_THAT(ParseError("include: [x]\nlogsources: []\n"), HasSubstr("include needs a file"));
}

TEST(LogSourceMap, IncludesAndFolders) {
  const auto dir = std::filesystem::temp_directory_path() / "gsoc_logsource_include_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "more");
  auto write = [](const std::filesystem::path& file, const char* text) {
    std::ofstream(file) << text;
  };
  write(dir / "main.yaml",
        "include: [more/, main.yaml]\nlogsources:\n  - logsource: {product: a}\n");
  write(dir / "more" / "b.yaml",
        "logsources:\n  - logsource: {product: b}\n    events: [{when: {x: 1}}]\n");
  write(dir / "more" / "c.yml", "logsources:\n  - logsource: {product: c}\n");
  const LogSourceMap map = LogSourceMap::Load(dir / "main.yaml");
  EXPECT_TRUE(map.Resolve({"a", "", ""}));
  EXPECT_TRUE(map.Resolve({"b", "", ""}));
  EXPECT_TRUE(map.Resolve({"c", "", ""}));
  EXPECT_TRUE(LogSourceMap::Load(dir / "more").Resolve({"c", "", ""}));
  write(dir / "more" / "d.yaml", "logsources:\n  - logsource: {product: A}\n");
  try {
    LogSourceMap::Load(dir / "main.yaml");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("d.yaml:2: a second entry"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gsoc::rules
