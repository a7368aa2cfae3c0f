// The shipped pipelines (rules/logsources.yaml, rules/pipelines/) held
// against what SigmaHQ itself states about log sources (corpus
// sigmahq/tests):
//  - thor.yml: which channel and EventIDs each Windows category is (Sysmon
//    1-255, Security 4688, PowerShell 4103/4104, ...), which channels each
//    Windows service is, and the field mappings of Security 4688 and the
//    Defender detections. Every entry becomes a rule and events that must
//    and must not reach it, replayed in the three Windows JSON shapes.
//  - logsource.json: the fields each logsource's events carry. Each of its
//    logsources has a mapping, and the mapping's `carries` (what `rules
//    check` warns against) holds every field it lists.
// And SigmaHQ's compliance rules on NetFlow and Qualys records, whose
// logsources logsource.json names without fields: they read those records
// only. And the Sigma taxonomy appendix (sigma-specification): each
// logsource its tables name has a mapping, and its generic network
// category (v2.1) reads connections and DNS queries by their ECS names.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>

#include "engine/rules/logsource_map.h"
#include "tests/rules/sigmahq_test_util.h"

namespace gsoc::sigmahq {
namespace {

const fs::path kFacts = fs::path(GSOC_CORPUS_DIR) / "sigmahq/tests";
const fs::path kLogSources = fs::path(GSOC_SOURCE_DIR) / "rules/logsources.yaml";

// A channel no pipeline names.
constexpr const char* kOtherChannel = "Microsoft-Windows-Gsoc-Test/Operational";

// A fresh folder under the temporary directory, with a `rules` folder in
// it, removed with the object (also when an ASSERT returns early).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(fs::temp_directory_path() / (name + "." + std::to_string(getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_ / "rules");
  }
  ~ScratchDir() { fs::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path rules() const { return path_ / "rules"; }

 private:
  fs::path path_;
};

// A Windows logsource as thor.yml or the taxonomy appendix states it: a
// category by EventIDs (and an EventType) on its (rewritten service's)
// channels, or a service by its channels.
struct FactSource {
  std::string name;
  rules::LogSource logsource;
  std::vector<std::string> channels;
  std::vector<std::string> event_ids;                // category entries: any of
  std::string event_type;                            // category entries: required when set
  std::map<std::string, std::string> fieldmappings;  // Sigma field -> event field
};

std::vector<std::string> Scalars(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node.IsDefined()) return out;
  if (node.IsScalar()) out.push_back(node.as<std::string>());
  if (node.IsSequence())
    for (const YAML::Node& item : node) out.push_back(item.as<std::string>());
  return out;
}

// A field list of logsource.json; one of its entries holds two names
// ("cap_fe,cap_fi").
std::vector<std::string> FieldNames(const YAML::Node& node) {
  std::vector<std::string> out;
  for (const std::string& entry : Scalars(node)) {
    for (size_t begin = 0; begin <= entry.size();) {
      const size_t comma = std::min(entry.find(',', begin), entry.size());
      out.push_back(entry.substr(begin, comma - begin));
      begin = comma + 1;
    }
  }
  return out;
}

rules::LogSource LogSourceOf(const YAML::Node& entry) {
  return {entry["product"].as<std::string>(""), entry["service"].as<std::string>(""),
          entry["category"].as<std::string>("")};
}

std::vector<FactSource> ThorWindowsSources() {
  const YAML::Node sources = YAML::LoadFile((kFacts / "thor.yml").string())["logsources"];
  std::map<std::string, std::vector<std::string>> service_channels;
  for (const auto& item : sources) {
    const YAML::Node entry = item.second;
    if (entry["product"].as<std::string>("") != "windows" || !entry["sources"]) continue;
    for (const std::string& source : Scalars(entry["sources"])) {
      if (source.rfind("WinEventLog:", 0) == 0)
        service_channels[entry["service"].as<std::string>()].push_back(source.substr(12));
    }
  }
  std::vector<FactSource> out;
  for (const auto& item : sources) {
    const YAML::Node entry = item.second;
    FactSource source{item.first.as<std::string>(), LogSourceOf(entry), {}, {}, {}, {}};
    if (entry["conditions"]) {
      const YAML::Node rewrite = entry["rewrite"];
      if (rewrite["product"].as<std::string>("") != "windows") continue;
      source.channels = service_channels[rewrite["service"].as<std::string>()];
      source.event_ids = Scalars(entry["conditions"]["EventID"]);
      source.event_type = entry["conditions"]["EventType"].as<std::string>("");
      if (entry["fieldmappings"]) {
        for (const auto& mapping : entry["fieldmappings"])
          source.fieldmappings[mapping.first.as<std::string>()] = mapping.second.as<std::string>();
      }
    } else if (service_channels.count(source.logsource.service) &&
               source.logsource.product == "windows") {
      source.channels = service_channels[source.logsource.service];
    } else {
      continue;
    }
    out.push_back(std::move(source));
  }
  return out;
}

// The rules and events of facts' cases, and the alerts each rule must
// give: exactly one per event of its logsource that carries its marker.
class FactCases {
 public:
  FactCases(const fs::path& rule_dir, const std::vector<FactSource>& sources)
      : rule_dir_(rule_dir) {
    fs::create_directories(rule_dir_);
    for (const FactSource& source : sources) Add(source);
  }
  const std::vector<std::string>& events() const { return events_; }
  const std::map<std::string, int>& expected() const { return expected_; }
  // The case a rule id stands for, for failure messages.
  std::string Describe(const std::string& id) const {
    const auto it = names_.find(id);
    return it == names_.end() ? id : it->second;
  }

 private:
  // A rule on `logsource` whose selection is the marker (and `extra`).
  std::string AddRule(const rules::LogSource& logsource, const std::string& name,
                      const std::string& extra) {
    char id[40];
    std::snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zu", names_.size() + 1);
    std::ofstream rule(rule_dir_ / (std::string(id) + ".yml"));
    rule << "title: facts " << name << "\nid: " << id << "\nstatus: test\nlogsource:\n";
    if (!logsource.product.empty()) rule << "  product: " << logsource.product << "\n";
    if (!logsource.category.empty()) rule << "  category: " << logsource.category << "\n";
    if (!logsource.service.empty()) rule << "  service: " << logsource.service << "\n";
    rule << "detection:\n  selection:\n    Marker: '" << id << "'\n"
         << extra << "  condition: selection\nlevel: low\n";
    names_[id] = name;
    return id;
  }

  // One event in `channel` with EventData `data` (JSON members).
  void AddEvent(const std::string& channel, const std::string& event_id, const std::string& data,
                const std::string& rule_id, bool alerts) {
    const std::string provider = channel.substr(0, channel.find('/'));
    events_.push_back(EvtxEvent(provider, channel, event_id, R"("EventData":{)" + data + "}"));
    if (alerts) ++expected_[rule_id];
  }

  void Add(const FactSource& source) {
    const std::string id = AddRule(source.logsource, source.name, "");
    const std::vector<std::string> event_ids =
        source.event_ids.empty() ? std::vector<std::string>{"4711"} : source.event_ids;
    std::string data = R"("Marker":")" + id + R"(")";
    if (!source.event_type.empty()) data += R"(,"EventType":")" + source.event_type + R"(")";
    for (const std::string& channel : source.channels) {
      for (const std::string& event_id : event_ids) AddEvent(channel, event_id, data, id, true);
      // A category is its EventIDs only (9999 is none of thor.yml's).
      if (!source.event_ids.empty()) AddEvent(channel, "9999", data, id, false);
    }
    AddEvent(kOtherChannel, event_ids.front(), data, id, false);
    for (const auto& [sigma, event_field] : source.fieldmappings) {
      const std::string mapped =
          AddRule(source.logsource, source.name + " " + sigma + " <- " + event_field,
                  "    " + sigma + ": 'probe-" + sigma + "'\n");
      for (const std::string& channel : source.channels) {
        AddEvent(
            channel, event_ids.front(),
            R"("Marker":")" + mapped + R"(",")" + event_field + R"(":"probe-)" + sigma + R"(")",
            mapped, true);
      }
    }
  }

  fs::path rule_dir_;
  std::vector<std::string> events_;
  std::map<std::string, int> expected_;
  std::map<std::string, std::string> names_;
};

// Replays `sources`' cases in the three Windows shapes: exactly the events
// each rule must alert on do.
void ExpectEachSourceSelectsExactlyItsEvents(const std::vector<FactSource>& sources) {
  const ScratchDir scratch("gsoc_facts");
  const fs::path dir = scratch.path();
  const FactCases cases(dir / "rules", sources);
  for (Shape shape : {Shape::kEvtx, Shape::kWinlogbeat, Shape::kNxlog}) {
    const auto alerts = ReplayAlertsByRule(dir / "rules", cases.events(), shape, dir);
    ASSERT_TRUE(alerts.has_value()) << ShapeName(shape);
    std::set<std::string> ids;
    for (const auto& [id, count] : *alerts) ids.insert(id);
    for (const auto& [id, count] : cases.expected()) ids.insert(id);
    for (const std::string& id : ids) {
      const auto got = alerts->find(id);
      const auto want = cases.expected().find(id);
      EXPECT_EQ(got == alerts->end() ? 0 : got->second,
                want == cases.expected().end() ? 0 : want->second)
          << cases.Describe(id) << " in the " << ShapeName(shape) << " shape";
    }
  }
}

TEST(SigmaHqLogSourceFacts, EveryThorWindowsSourceSelectsExactlyItsEventsInEveryShape) {
  const std::vector<FactSource> sources = ThorWindowsSources();
  // thor.yml has 42 Windows category entries and 44 Windows services.
  ASSERT_GE(sources.size(), 80u);
  ExpectEachSourceSelectsExactlyItsEvents(sources);
}

// logsource.json's logsources with no mapping, and why.
const std::set<std::pair<std::string, std::string>> kUnmapped = {
    // No macOS source writes these: Sysmon has no macOS build, and ECS has
    // no raw disk read or sensor status event.
    {"macos", "raw_access_read"},
    {"macos", "sysmon_status"},
    // ModSecurity reports in the web server's error log text; no field of
    // an event tells it apart, and SigmaHQ has no rule on it.
    {"linux", "modsecurity"},
    {"modsecurity", "application"},
};

// logsource.json names some logsources one key at a time that SigmaHQ's
// rules only name together: Palo Alto's service globalprotect with category
// appliance or file_event, Kubernetes' category application with service
// audit.
std::optional<rules::EventFilter> Resolve(const rules::LogSourceMap& map,
                                          const rules::LogSource& logsource) {
  if (auto filter = map.Resolve(logsource)) return filter;
  if (logsource.product == "paloalto") {
    return map.Resolve({"paloalto", "globalprotect",
                        logsource.category.empty() ? "appliance" : logsource.category});
  }
  if (logsource.product == "kubernetes") return map.Resolve({"kubernetes", "audit", "application"});
  return std::nullopt;
}

TEST(SigmaHqLogSourceFacts, EveryLogsourceJsonSourceIsMappedAndCarriesItsFields) {
  const rules::LogSourceMap map = rules::LogSourceMap::Load(kLogSources);
  const YAML::Node facts = YAML::LoadFile((kFacts / "logsource.json").string());
  size_t checked = 0, unmapped = 0;
  for (const char* part : {"legit", "addon"}) {
    for (const auto& product_item : facts[part]) {
      const std::string product = product_item.first.as<std::string>();
      const YAML::Node lists = product_item.second;
      const std::vector<std::string> common = FieldNames(lists["common"]);
      for (const char* kind : {"category", "service"}) {
        for (const auto& item : lists[kind]) {
          const std::string name = item.first.as<std::string>();
          rules::LogSource logsource;
          logsource.product = product == "empty" ? "" : product;
          (std::string(kind) == "category" ? logsource.category : logsource.service) = name;
          const std::string where = product + " " + kind + " " + name + " (" + part + ")";
          const auto filter = Resolve(map, logsource);
          if (!filter) {
            EXPECT_TRUE(kUnmapped.count({product, name})) << where << " has no mapping";
            ++unmapped;
            continue;
          }
          EXPECT_FALSE(kUnmapped.count({product, name})) << where << " is mapped now";
          std::vector<std::string> fields = FieldNames(item.second);
          if (fields.empty()) continue;
          // IIS's access log is a W3C text file, not an event log record: it
          // has none of the Windows common fields (EventID, Channel, ...).
          if (!(product == "windows" && name == "iis"))
            fields.insert(fields.end(), common.begin(), common.end());
          if (filter->carries.empty()) {
            ADD_FAILURE() << where << ": its mapping names no fields";
            continue;
          }
          for (const std::string& field : fields) {
            EXPECT_NE(std::find(filter->carries.begin(), filter->carries.end(), field),
                      filter->carries.end())
                << where << ": carries lacks " << field;
          }
          ++checked;
        }
      }
    }
  }
  std::printf("logsource.json: %zu logsources' fields checked, %zu unmapped on purpose\n", checked,
              unmapped);
  EXPECT_GE(checked, 60u);
}

// Elastic's NetFlow input writes netflow.type (and event.dataset
// netflow.log) on every flow record; the Qualys rules read host.scan.*.
TEST(SigmaHqLogSourceFacts, NetflowAndQualysRulesReadTheirRecordsOnly) {
  const fs::path compliance = fs::path(GSOC_CORPUS_DIR) / "sigmahq/rules-compliance";
  const ScratchDir scratch("gsoc_compliance");
  const fs::path dir = scratch.path();
  fs::copy(compliance / "other/netflow_cleartext_protocols.yml", dir / "rules");
  fs::copy(compliance / "product/qualys", dir / "rules");
  const std::vector<std::string> events = {
      // A telnet flow (alerts), an HTTPS flow, and port 23 in a record that
      // is no flow.
      R"({"event":{"dataset":"netflow.log"},"netflow":{"type":"netflow_flow"},)"
      R"("source":{"ip":"10.1.1.5","port":51515},"destination":{"ip":"10.2.2.2","port":23}})",
      R"({"netflow":{"type":"netflow_flow"},"destination":{"ip":"10.2.2.2","port":443}})",
      R"({"destination":{"port":23},"source":{"ip":"10.1.1.5"}})",
      // A telnet flow known by its dataset alone (alerts).
      R"({"event":{"dataset":"netflow.log"},"destination":{"ip":"10.2.2.3","port":23}})",
      // A default-credentials QID, a missing firewall (both alert), and the
      // firewall text in a record without host.scan.
      R"({"host":{"ip":"10.3.3.3","scan":{"vuln":"12541","vuln_name":"Default credentials"}}})",
      R"({"host":{"scan":{"vuln":"105","vuln_name":"Firewall Product Not Detected"}},)"
      R"("event":{"category":"Security Policy"}})",
      R"({"event":{"category":"Security Policy"},"vuln_name":"Firewall Product Not Detected"})",
  };
  const auto alerts = ReplayAlertsByRule(dir / "rules", events, Shape::kEvtx, dir);
  ASSERT_TRUE(alerts.has_value());
  const std::map<std::string, int> expected = {
      {"7e4bfe58-4a47-4709-828d-d86c78b7cc1f", 2},  // Cleartext Protocol Usage Via Netflow
      {"1a395cbc-a84a-463a-9086-ed8a70e573c7", 1},  // Default Credentials Usage
      {"6b2066c8-3dc7-4db7-9db0-6cc1d7b0dde9", 1},  // Host Without Firewall
  };
  EXPECT_EQ(*alerts, expected);
}

// The logsources of the taxonomy appendix's tables ("product: x<br>service:
// y" in a table cell).
std::vector<rules::LogSource> TaxonomyLogSources() {
  std::ifstream in(fs::path(GSOC_CORPUS_DIR) /
                   "sigma-specification/specification/sigma-appendix-taxonomy.md");
  std::vector<rules::LogSource> out;
  const std::regex pair("(product|category|service): *([A-Za-z0-9_.-]+)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("|", 0) != 0) continue;
    const size_t first = line.find('|', 1);
    const size_t second = line.find('|', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string cell = line.substr(first + 1, second - first - 1);
    rules::LogSource logsource;
    bool any = false;
    for (std::sregex_iterator it(cell.begin(), cell.end(), pair), end; it != end; ++it) {
      const std::string key = (*it)[1], value = (*it)[2];
      (key == "product"    ? logsource.product
       : key == "category" ? logsource.category
                           : logsource.service) = value;
      any = true;
    }
    if (any) out.push_back(logsource);
  }
  return out;
}

// The Windows rows of the taxonomy appendix that name channels (not those
// of an ETW provider): "EventID: 1<br>Channel: X", "EventIDs: <br> - 4<br>
// - 16<br>Channel: X", "Channel:<br> - A<br> - B".
std::vector<FactSource> TaxonomyWindowsSources() {
  std::ifstream in(fs::path(GSOC_CORPUS_DIR) /
                   "sigma-specification/specification/sigma-appendix-taxonomy.md");
  const std::regex pair("(product|category|service): *([A-Za-z0-9_.-]+)");
  const std::regex number("(\\d+)");
  std::vector<FactSource> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| windows", 0) != 0) continue;
    std::vector<std::string> cells;
    for (size_t at = 1, bar; (bar = line.find('|', at)) != std::string::npos; at = bar + 1)
      cells.push_back(line.substr(at, bar - at));
    const size_t channel_at = cells.size() < 3 ? std::string::npos : cells[2].find("Channel:");
    if (channel_at == std::string::npos) continue;
    FactSource source;
    for (std::sregex_iterator it(cells[1].begin(), cells[1].end(), pair), end; it != end; ++it) {
      const std::string key = (*it)[1], value = (*it)[2];
      (key == "product"    ? source.logsource.product
       : key == "category" ? source.logsource.category
                           : source.logsource.service) = value;
    }
    source.name = "taxonomy " + source.logsource.category + source.logsource.service;
    const std::string ids = cells[2].substr(0, channel_at);
    for (std::sregex_iterator it(ids.begin(), ids.end(), number), end; it != end; ++it)
      source.event_ids.push_back((*it)[1]);
    std::string channels = cells[2].substr(channel_at + 8);
    for (size_t at = 0; at <= channels.size();) {
      size_t next = channels.find("<br>", at);
      if (next == std::string::npos) next = channels.size();
      std::string item = channels.substr(at, next - at);
      item.erase(0, item.find_first_not_of(" -"));
      item.erase(item.find_last_not_of(' ') + 1);
      if (item.rfind("WinEventLog:", 0) == 0) item.erase(0, 12);
      if (!item.empty()) source.channels.push_back(item);
      at = next + 4;
    }
    out.push_back(std::move(source));
  }
  return out;
}

TEST(SigmaHqLogSourceFacts, EveryTaxonomyWindowsSourceSelectsExactlyItsEventsInEveryShape) {
  std::vector<FactSource> sources = TaxonomyWindowsSources();
  // The table gives registry_add and registry_delete as Sysmon 12 without
  // the EventType that tells them apart (and from registry_event); thor.yml
  // has it.
  const std::vector<FactSource> thor = ThorWindowsSources();
  for (FactSource& source : sources) {
    for (const FactSource& refined : thor) {
      if (refined.logsource == source.logsource && !refined.event_type.empty()) {
        source.event_type = refined.event_type;
        break;
      }
    }
  }
  ASSERT_GE(sources.size(), 75u);  // 79 name channels in v2.1.0
  ExpectEachSourceSelectsExactlyItsEvents(sources);
}

TEST(SigmaHqLogSourceFacts, EveryTaxonomyLogSourceIsMapped) {
  const rules::LogSourceMap map = rules::LogSourceMap::Load(kLogSources);
  const std::vector<rules::LogSource> logsources = TaxonomyLogSources();
  ASSERT_GE(logsources.size(), 130u);  // 140 in v2.1.0
  size_t unmapped = 0;
  for (const rules::LogSource& logsource : logsources) {
    const std::string name = logsource.product + "/" + logsource.category + "/" + logsource.service;
    // ModSecurity: as for logsource.json above.
    if (logsource.product == "modsecurity" && logsource.category.empty()) {
      EXPECT_FALSE(map.Resolve(logsource)) << name << " is mapped now";
      ++unmapped;
      continue;
    }
    EXPECT_TRUE(map.Resolve(logsource)) << name << " has no mapping";
  }
  EXPECT_EQ(unmapped, 1u);
}

// `category: network`: a rule on ECS names reads Zeek's conn and dns logs,
// NetFlow, ECS records and Sysmon's connections and DNS queries, and
// nothing else.
TEST(SigmaHqLogSourceFacts, TheGenericNetworkCategoryReadsConnectionsAndQueries) {
  const ScratchDir scratch("gsoc_network");
  const fs::path dir = scratch.path();
  std::ofstream(dir / "rules/connection.yml")
      << "title: Port 4444\nid: 00000000-0000-4000-8000-00000000c001\n"
         "logsource: {category: network, service: connection}\n"
         "detection:\n  sel:\n    destination.port: 4444\n  condition: sel\nlevel: high\n";
  std::ofstream(dir / "rules/dns.yml")
      << "title: Evil domain\nid: 00000000-0000-4000-8000-00000000d001\n"
         "logsource: {category: network, service: dns}\n"
         "detection:\n  sel:\n    dns.question.name|endswith: '.evil.example'\n"
         "  condition: sel\nlevel: high\n";
  const std::string sysmon = "Microsoft-Windows-Sysmon";
  const std::vector<std::string> events = {
      // Connections to 4444: Zeek conn (both ways of naming the log),
      // NetFlow, an ECS record, Sysmon 3.
      R"({"_path":"conn","ts":1.0,"id.orig_h":"10.0.0.5","id.orig_p":50000,)"
      R"("id.resp_h":"203.0.113.9","id.resp_p":4444,"proto":"tcp"})",
      R"({"@stream":"conn","id.orig_h":"10.0.0.5","id.resp_h":"203.0.113.9","id.resp_p":4444})",
      R"({"netflow":{"type":"netflow_flow"},"destination":{"ip":"203.0.113.9","port":4444}})",
      R"({"event":{"category":["network"]},"source":{"ip":"10.0.0.5"},)"
      R"("destination":{"ip":"203.0.113.9","port":4444}})",
      EvtxEvent(sysmon, sysmon + "/Operational", "3",
                R"("EventData":{"Image":"C:\\x.exe","SourceIp":"10.0.0.5","SourcePort":"50000",)"
                R"("DestinationIp":"203.0.113.9","DestinationPort":"4444","Protocol":"tcp"})"),
      // Not connections: port 4444 in a Zeek dns record, a Sysmon process
      // event, JSON of no known source.
      R"({"_path":"dns","id.resp_p":4444,"query":"a.example"})",
      EvtxEvent(sysmon, sysmon + "/Operational", "1", R"("EventData":{"DestinationPort":"4444"})"),
      R"({"destination":{"port":4444}})",
      // Queries for x.evil.example: Zeek dns (twice), ECS, Sysmon 22.
      R"({"_path":"dns","ts":1.0,"id.orig_h":"10.0.0.5","query":"x.evil.example","qtype_name":"A"})",
      R"({"@stream":"dns","query":"X.EVIL.EXAMPLE"})",
      R"({"dns":{"question":{"name":"x.evil.example","type":"A"}},"source":{"ip":"10.0.0.5"}})",
      EvtxEvent(sysmon, sysmon + "/Operational", "22",
                R"("EventData":{"QueryName":"x.evil.example","QueryResults":"::1;"})"),
      // Not queries: the name in a Zeek http record and in a Sysmon 3.
      R"({"_path":"http","host":"x.evil.example","query":"x.evil.example"})",
      EvtxEvent(
          sysmon, sysmon + "/Operational", "3",
          R"("EventData":{"DestinationHostname":"x.evil.example","QueryName":"x.evil.example"})"),
  };
  const auto alerts = ReplayAlertsByRule(dir / "rules", events, Shape::kEvtx, dir);
  ASSERT_TRUE(alerts.has_value());
  const std::map<std::string, int> expected = {{"00000000-0000-4000-8000-00000000c001", 5},
                                               {"00000000-0000-4000-8000-00000000d001", 4}};
  EXPECT_EQ(*alerts, expected);
}

// The taxonomy's antivirus fields (Filename, Signature, Action; its field
// list says `product: antivirus`, its tables `category: antivirus`) on
// Defender's detections, whose "Threat Name" and "Action Name" event data
// lose their spaces in every shape.
TEST(SigmaHqLogSourceFacts, TheTaxonomysAntivirusFieldsReadDefenderDetections) {
  const ScratchDir scratch("gsoc_av");
  const fs::path dir = scratch.path();
  for (const char* key : {"product", "category"}) {
    std::ofstream(dir / "rules" / (std::string(key) + ".yml"))
        << "title: Quarantined Mimikatz\nid: 00000000-0000-4000-8000-0000000a" << key[0]
        << "001\nlogsource: {" << key
        << ": antivirus}\ndetection:\n  sel:\n    Signature|contains: Mimikatz\n"
           "    Filename|endswith: '\\m.exe'\n    Action: Quarantine\n  condition: sel\n"
           "level: high\n";
  }
  const std::string defender = "Microsoft-Windows-Windows Defender";
  auto detection = [&](const std::string& event_id, const std::string& action) {
    return EvtxEvent(defender, defender + "/Operational", event_id,
                     R"("EventData":{"Threat Name":"HackTool:Win32/Mimikatz.D",)"
                     R"("Path":"file:_C:\\t\\m.exe","Action Name":")" +
                         action + R"("})");
  };
  const std::vector<std::string> events = {detection("1116", "Quarantine"),
                                           detection("1116", "Allow"),
                                           detection("1117", "Quarantine")};  // not a detection
  for (Shape shape : {Shape::kEvtx, Shape::kWinlogbeat, Shape::kNxlog}) {
    const auto alerts = ReplayAlertsByRule(dir / "rules", events, shape, dir);
    ASSERT_TRUE(alerts.has_value());
    const std::map<std::string, int> expected = {{"00000000-0000-4000-8000-0000000ap001", 1},
                                                 {"00000000-0000-4000-8000-0000000ac001", 1}};
    EXPECT_EQ(*alerts, expected) << ShapeName(shape);
  }
}

// The event selections added for logsource.json's logsources, each over
// events it must and must not read: Sysmon's file blocks, IIS's W3C
// records, ECS process ends (Linux, macOS) and macOS file deletions. All
// rules see all events, so each count is exact over every case's events
// (the Linux rule's 1 says it missed the macOS process end, and so on).
TEST(SigmaHqLogSourceFacts, TheAddedLogSourcesReadTheirEventsOnly) {
  const ScratchDir scratch("gsoc_added");
  struct Case {
    const char* logsource;
    const char* selection;
    std::vector<std::string> alerting, quiet;
  };
  const std::string sysmon = "Microsoft-Windows-Sysmon";
  auto sysmon_event = [&](const char* id) {
    return EvtxEvent(sysmon, sysmon + "/Operational", id,
                     R"("EventData":{"TargetFilename":"C:\\t\\evil.exe"})");
  };
  auto ecs = [](const char* category, const char* type, const char* os) {
    return std::string(R"({"event":{"category":[")") + category + R"("],"type":[")" + type +
           R"("]},"host":{"os":{"type":")" + os +
           R"("}},"process":{"executable":"/tmp/x/evil"},"file":{"path":"/tmp/x/evil"}})";
  };
  const std::vector<Case> cases = {
      {"product: windows, category: file_block",
       "TargetFilename|endswith: evil.exe",
       {sysmon_event("27"), sysmon_event("28")},
       {sysmon_event("29"), sysmon_event("11")}},
      {"product: windows, service: iis",
       "cs-uri-stem|startswith: /aspnet_client/",
       {R"({"date":"2026-12-07","time":"10:00:00","cs-uri-stem":"/aspnet_client/x.aspx",)"
        R"("sc-status":"200","sc-win32-status":"0"})",
        R"({"s-sitename":"W3SVC1","cs-uri-stem":"/aspnet_client/y.aspx"})"},
       {R"({"cs-uri-stem":"/aspnet_client/x.aspx","cs-host":"a","cs-method":"GET"})"}},
      {"product: linux, category: process_termination",
       "Image|endswith: /evil",
       {ecs("process", "end", "linux")},
       {ecs("process", "start", "linux")}},
      {"product: macos, category: process_termination",
       "Image|endswith: /evil",
       {ecs("process", "end", "macos")},
       {ecs("process", "start", "macos")}},
      {"product: macos, category: file_delete",
       "TargetFilename|endswith: /evil",
       {ecs("file", "deletion", "macos")},
       {ecs("file", "creation", "macos"), ecs("file", "deletion", "linux")}},
  };
  std::vector<std::string> events;
  std::map<std::string, int> expected;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string id = "00000000-0000-4000-8000-0000000ad00" + std::to_string(i);
    std::ofstream(scratch.rules() / (id + ".yml"))
        << "title: added logsource " << i << "\nid: " << id << "\nlogsource: {"
        << cases[i].logsource << "}\ndetection:\n  sel:\n    " << cases[i].selection
        << "\n  condition: sel\nlevel: low\n";
    events.insert(events.end(), cases[i].alerting.begin(), cases[i].alerting.end());
    events.insert(events.end(), cases[i].quiet.begin(), cases[i].quiet.end());
    expected[id] = static_cast<int>(cases[i].alerting.size());
  }
  const auto alerts = ReplayAlertsByRule(scratch.rules(), events, Shape::kEvtx, scratch.path());
  ASSERT_TRUE(alerts.has_value());
  EXPECT_EQ(*alerts, expected);
}

}  // namespace
}  // namespace gsoc::sigmahq
