#include "engine/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/config/config_registry.h"
#include "engine/config/duration.h"

namespace gsoc {

namespace {

// An agency's TLS client identities (subject CN or subjectAltName).
void ReadAgencyCertificates(ConfigReader& reader, const YAML::Node& item, const std::string& path,
                            AgencyDefinition& agency) {
  const YAML::Node list = item["certificates"];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    reader.Error(list, path + ".certificates", "expected a list of certificate names (CN or SAN)");
    return;
  }
  for (size_t j = 0; j < list.size(); ++j) {
    if (!list[j].IsScalar() || list[j].Scalar().empty()) {
      reader.Error(list[j], path + ".certificates[" + std::to_string(j) + "]",
                   "expected a certificate subject CN or subjectAltName");
      continue;
    }
    agency.certificates.push_back(list[j].Scalar());
  }
}

void ReadAgencies(ConfigReader& reader, const YAML::Node& root, Config& config) {
  const YAML::Node list = root["agencies"];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    reader.Error(list, "agencies", "expected a list of {name, cidrs}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "agencies[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (!reader.CheckMap(item, path, {"name", "cidrs", "certificates"})) continue;
    AgencyDefinition agency;
    reader.Scalar(item, "name", path, agency.name);
    if (agency.name.empty()) reader.Error(item, path + ".name", "missing");
    if (agency.name == "unknown") {
      reader.Error(item["name"], path + ".name",
                   "'unknown' is reserved (see allow_unknown_agency)");
    }
    if (!agency.name.empty() && !names.insert(agency.name).second) {
      reader.Error(item["name"], path + ".name", "duplicate agency '" + agency.name + "'");
    }
    ReadAgencyCertificates(reader, item, path, agency);
    const YAML::Node cidrs = item["cidrs"];
    if (!cidrs.IsDefined() && !agency.certificates.empty()) {
      // An agency known only by its TLS certificates.
    } else if (!cidrs.IsDefined() || !cidrs.IsSequence() || cidrs.size() == 0) {
      reader.Error(cidrs.IsDefined() ? cidrs : item, path + ".cidrs",
                   "expected a non-empty list of CIDRs");
    } else {
      for (size_t j = 0; j < cidrs.size(); ++j) {
        const std::string text = cidrs[j].IsScalar() ? cidrs[j].Scalar() : "";
        auto cidr = Cidr::Parse(text);
        if (!cidr) {
          reader.Error(cidrs[j], path + ".cidrs[" + std::to_string(j) + "]",
                       "invalid CIDR '" + text + "'");
          continue;
        }
        agency.cidrs.push_back(*cidr);
      }
    }
    config.agencies.push_back(std::move(agency));
  }
}

// The keys every listener has; the kind's own keys go to its ListenerKind.
constexpr std::string_view kCommonListenerKeys[] = {"name",
                                                    "type",
                                                    "address",
                                                    "port",
                                                    "max_message_size",
                                                    "max_connections",
                                                    "max_connections_per_peer",
                                                    "idle_timeout",
                                                    "receive_buffer",
                                                    "max_connections_per_agency",
                                                    "first_message_timeout"};

void ReadListenerLimits(ConfigReader& reader, const YAML::Node& item, const std::string& path,
                        ListenerConfig& listener) {
  reader.Size(item, "max_message_size", path, listener.max_message_size, 480, 64 << 20);
  reader.Size(item, "max_connections", path, listener.max_connections, 1, 1'000'000);
  reader.Size(item, "max_connections_per_peer", path, listener.max_connections_per_peer, 1,
              1'000'000);
  reader.Seconds(item, "idle_timeout", path, listener.idle_timeout);
  reader.Size(item, "max_connections_per_agency", path, listener.max_connections_per_agency, 1,
              1'000'000);
  reader.Seconds(item, "first_message_timeout", path, listener.first_message_timeout);
  reader.Size(item, "receive_buffer", path, listener.receive_buffer_bytes, 4096, 1 << 30);
}

void ReadListener(ConfigReader& reader, const YAML::Node& item, const std::string& path,
                  Config& config, std::vector<std::pair<YAML::Node, std::string>>& nodes) {
  if (!item.IsMap()) {
    reader.Error(item, path, "expected a mapping");
    return;
  }
  ListenerConfig listener;
  reader.Scalar(item, "type", path, listener.type);
  const ListenerKind* kind = FindListenerKind(listener.type);
  if (kind == nullptr) {
    reader.Error(item["type"].IsDefined() ? item["type"] : item, path + ".type",
                 "expected one of " + ListenerKindNames() + ", got '" + listener.type + "'");
  }
  std::vector<std::string_view> keys(std::begin(kCommonListenerKeys),
                                     std::end(kCommonListenerKeys));
  if (kind != nullptr) keys.insert(keys.end(), kind->keys.begin(), kind->keys.end());
  reader.CheckMap(item, path, keys);
  reader.Scalar(item, "name", path, listener.name);
  if (listener.name.empty()) reader.Error(item, path + ".name", "missing");
  reader.Address(item, path, listener.address);
  reader.Port(item, path, listener.port);
  ReadListenerLimits(reader, item, path, listener);
  if (kind != nullptr) {
    listener.udp = kind->udp;
    if (kind->read != nullptr) kind->read(reader, item, path, listener);
  }
  config.listeners.push_back(std::move(listener));
  nodes.emplace_back(item, path);
}

// `nodes` receives the YAML node of each listener kept, for global checks.
void ReadListeners(ConfigReader& reader, const YAML::Node& root, Config& config,
                   std::vector<std::pair<YAML::Node, std::string>>& nodes) {
  const YAML::Node list = root["listeners"];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    reader.Error(list, "listeners", "expected a list of listeners");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    ReadListener(reader, list[i], "listeners[" + std::to_string(i) + "]", config, nodes);
  }
}

bool IsWildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

// Two binds collide on the same port and protocol when the addresses are
// equal or either is a wildcard of the same family (:: covers both).
bool AddressesCollide(const std::string& a, const std::string& b) {
  if (a == b || a == "::" || b == "::") return true;
  const bool a_v6 = a.find(':') != std::string::npos;
  const bool b_v6 = b.find(':') != std::string::npos;
  return a_v6 == b_v6 && (IsWildcard(a) || IsWildcard(b));
}

struct Bind {
  std::string address;
  uint16_t port;
  bool udp;
};

// Global checks across components: duplicate names, one port bound twice.
void CheckListenersTogether(ConfigReader& reader, const YAML::Node& root, const Config& config,
                            const std::vector<std::pair<YAML::Node, std::string>>& nodes) {
  std::set<std::string> names;
  std::vector<Bind> bound;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    const auto& [node, path] = nodes[i];
    if (!listener.name.empty() && !names.insert(listener.name).second) {
      reader.Error(node, path + ".name", "duplicate listener name '" + listener.name + "'");
    }
    const bool udp = listener.udp;
    if (listener.port == 0) continue;
    for (const Bind& other : bound) {
      if (other.port == listener.port && other.udp == udp &&
          AddressesCollide(other.address, listener.address)) {
        reader.Error(node, path + ".port",
                     "address " + listener.address + ":" + std::to_string(listener.port) +
                         (udp ? "/udp" : "/tcp") + " is used by another listener (on " +
                         other.address + ")");
        break;
      }
    }
    bound.push_back({listener.address, listener.port, udp});
  }
  if (!config.metrics.enabled || config.metrics.port == 0) return;
  for (const Bind& other : bound) {
    if (!other.udp && other.port == config.metrics.port &&
        AddressesCollide(other.address, config.metrics.address)) {
      const YAML::Node metrics = root["metrics"];
      reader.Error(metrics.IsDefined() ? metrics : root, "metrics.port",
                   "port is used by a listener");
      break;
    }
  }
}

// The API shares the TCP port space with the metrics endpoint and the TCP
// listeners.
void CheckApiPort(ConfigReader& reader, const YAML::Node& root, const Config& config) {
  if (!config.api.enabled || config.api.port == 0) return;
  const YAML::Node api = root["api"].IsDefined() ? root["api"] : root;
  if (config.metrics.enabled && config.metrics.port == config.api.port &&
      AddressesCollide(config.metrics.address, config.api.address)) {
    reader.Error(api, "api.port", "port is used by the metrics endpoint");
  }
  for (const ListenerConfig& listener : config.listeners) {
    if (!listener.udp && listener.port == config.api.port &&
        AddressesCollide(listener.address, config.api.address)) {
      reader.Error(api, "api.port", "port is used by listener '" + listener.name + "'");
      return;
    }
  }
}

// Keys of the top level itself; sections register theirs.
constexpr std::string_view kTopLevelKeys[] = {
    "log_level", "data_dir",  "timezone",   "max_clock_skew", "allow_unknown_agency",
    "agencies",  "listeners", "events_file"};

void ReadTopLevel(ConfigReader& reader, const YAML::Node& root, Config& config) {
  reader.Scalar(root, "log_level", "", config.log_level);
  static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                "error", "critical", "off"};
  if (!kLevels.count(config.log_level)) {
    reader.Error(root["log_level"], "log_level",
                 "expected trace, debug, info, warn, error, critical or off");
  }
  std::string data_dir = "var";
  reader.Scalar(root, "data_dir", "", data_dir);
  const auto base =
      config.file.has_parent_path() ? config.file.parent_path() : std::filesystem::path(".");
  config.data_dir = std::filesystem::absolute(base / data_dir).lexically_normal();
  std::string zone = "UTC";
  reader.Scalar(root, "timezone", "", zone);
  if (auto offset = ParseUtcOffset(zone)) {
    config.utc_offset_seconds = *offset;
  } else {
    reader.Error(root["timezone"], "timezone", "expected UTC or an offset like +07:00");
  }
  reader.Seconds(root, "max_clock_skew", "", config.max_clock_skew);
  reader.Scalar(root, "allow_unknown_agency", "", config.allow_unknown_agency);
  std::string events_file;
  reader.Scalar(root, "events_file", "", events_file);
  if (!events_file.empty()) {
    config.events_file = std::filesystem::absolute(base / events_file).lexically_normal();
  }
}

}  // namespace

ConfigResult ParseConfig(const std::string& yaml_text, const std::filesystem::path& file) {
  ConfigReader reader(file.string(),
                      file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
  Config config;
  config.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return std::vector<ConfigError>{{Severity::kError,
                                     "config.yaml",
                                     {file.string(), e.mark.line + 1, e.mark.column + 1},
                                     "",
                                     "",
                                     e.msg}};
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  const std::vector<const ConfigSection*> sections = ConfigSections();
  std::vector<std::string_view> keys(std::begin(kTopLevelKeys), std::end(kTopLevelKeys));
  for (const ConfigSection* section : sections) keys.push_back(section->name);
  if (!reader.CheckMap(root, "", keys)) return std::move(reader.errors());
  ReadTopLevel(reader, root, config);
  ReadAgencies(reader, root, config);
  std::vector<std::pair<YAML::Node, std::string>> listener_nodes;
  ReadListeners(reader, root, config, listener_nodes);
  for (const ConfigSection* section : sections) {
    const YAML::Node node = root[std::string(section->name)];
    section->read(reader, node, config);
  }
  CheckListenersTogether(reader, root, config, listener_nodes);
  CheckApiPort(reader, root, config);
  // A cluster node without the ingest role receives through JetStream.
  const bool receives_from_cluster =
      config.cluster.enabled && !config.cluster.HasRole(ClusterRole::kIngest);
  if (config.listeners.empty() && !receives_from_cluster && reader.errors().empty()) {
    reader.Error(root, "listeners", "no listener configured: gsocd would receive nothing");
  }
  if (config.agencies.size() > 4000) {
    reader.Error(root["agencies"], "agencies", "at most 4000 agencies");
  }
  if (!reader.errors().empty()) return std::move(reader.errors());
  return config;
}

ConfigResult LoadConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    // Member by member: g++ 12 warns (-Wmaybe-uninitialized) at the
    // aggregate initialiser of the nested SourceLocation.
    ConfigError error;
    error.code = "config.file";
    error.location.file = file.string();
    error.message = "cannot open the file";
    return std::vector<ConfigError>{std::move(error)};
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), file);
}

}  // namespace gsoc
