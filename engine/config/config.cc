#include "engine/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/config/duration.h"

namespace gsoc {

std::string_view ListenerTypeName(ListenerType type) {
  switch (type) {
    case ListenerType::kSyslogTcp:
      return "syslog_tcp";
    case ListenerType::kSyslogUdp:
      return "syslog_udp";
    case ListenerType::kJsonTcp:
      return "json_tcp";
    case ListenerType::kSyslogTls:
      return "syslog_tls";
  }
  return "syslog_tcp";
}

std::string ConfigError::ToString() const {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ":" << line;
  out << ": " << (key.empty() ? "" : key + ": ") << reason;
  return out.str();
}

namespace {

// Collects every error of one file; each reader checks one value.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void Error(const YAML::Node& node, const std::string& key, const std::string& reason) {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    errors_.push_back({file_, line, key, reason});
  }

  // Reports keys of `map` not in `allowed` (typos must not pass silently).
  bool CheckMap(const YAML::Node& map, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
    if (!map.IsMap()) {
      Error(map, path, "expected a mapping");
      return false;
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      bool known = false;
      for (auto name : allowed) known = known || key == name;
      if (!known) Error(it->first, Join(path, key), "unknown key");
    }
    return true;
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  template <typename T>
  void Scalar(const YAML::Node& map, const char* key, const std::string& path, T& out) {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsScalar()) {
      Error(node, Join(path, key), "expected a scalar value");
      return;
    }
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      Error(node, Join(path, key), "invalid value '" + node.Scalar() + "'");
    }
  }

  void Port(const YAML::Node& map, const std::string& path, uint16_t& out) {
    const YAML::Node node = map["port"];
    if (!node.IsDefined()) {
      Error(map, Join(path, "port"), "missing (use 0 for an ephemeral port)");
      return;
    }
    int64_t value = -1;
    const size_t errors_before = errors_.size();
    Scalar(map, "port", path, value);
    if (errors_.size() != errors_before) return;  // already reported
    if (value < 0 || value > 65535) {
      Error(node, Join(path, "port"), "must be 0-65535");
      return;
    }
    out = static_cast<uint16_t>(value);
  }

  void Size(const YAML::Node& map, const char* key, const std::string& path, size_t& out,
            uint64_t min, uint64_t max) {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return;
    auto size = node.IsScalar() ? ParseSize(node.Scalar()) : std::nullopt;
    if (!size || *size < min || *size > max) {
      Error(node, Join(path, key),
            "expected a size from " + std::to_string(min) + " to " + std::to_string(max) +
                " (e.g. 65536 or 64KiB)");
      return;
    }
    out = static_cast<size_t>(*size);
  }

  void Millis(const YAML::Node& map, const char* key, const std::string& path,
              std::chrono::milliseconds& out, int64_t min_ms) {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return;
    auto duration = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
    if (!duration || duration->count() < min_ms) {
      Error(
          node, Join(path, key),
          "expected a duration of at least " + std::to_string(min_ms) + "ms (e.g. 500ms, 30s, 5m)");
      return;
    }
    out = *duration;
  }

  void Seconds(const YAML::Node& map, const char* key, const std::string& path,
               std::chrono::seconds& out) {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return;
    auto duration = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
    if (!duration || *duration < std::chrono::seconds(1)) {
      Error(node, Join(path, key), "expected a duration of at least 1s (e.g. 30s, 5m, 1h)");
      return;
    }
    out = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  }

  std::vector<ConfigError>& errors() { return errors_; }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// An agency's TLS client identities (subject CN or subjectAltName).
void ReadAgencyCertificates(Reader& reader, const YAML::Node& item, const std::string& path,
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

std::filesystem::path ConfigDir(const Config& config) {
  return config.file.has_parent_path() ? config.file.parent_path() : std::filesystem::path(".");
}

void ReadAgencies(Reader& reader, const YAML::Node& root, Config& config) {
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

std::optional<ListenerType> ParseListenerType(const std::string& text) {
  if (text == "syslog_tcp") return ListenerType::kSyslogTcp;
  if (text == "syslog_tls") return ListenerType::kSyslogTls;
  if (text == "syslog_udp") return ListenerType::kSyslogUdp;
  if (text == "json_tcp") return ListenerType::kJsonTcp;
  return std::nullopt;
}

bool IsValidAddress(const std::string& address) { return Cidr::Parse(address).has_value(); }

void ReadListener(Reader& reader, const YAML::Node& item, const std::string& path, Config& config,
                  std::vector<std::pair<YAML::Node, std::string>>& nodes) {
  if (!reader.CheckMap(item, path,
                       {"name", "type", "address", "port", "max_message_size", "max_connections",
                        "max_connections_per_peer", "idle_timeout", "receive_buffer",
                        "max_connections_per_agency", "first_message_timeout", "tls"})) {
    return;
  }
  ListenerConfig listener;
  reader.Scalar(item, "name", path, listener.name);
  if (listener.name.empty()) reader.Error(item, path + ".name", "missing");
  std::string type;
  reader.Scalar(item, "type", path, type);
  if (auto parsed = ParseListenerType(type)) {
    listener.type = *parsed;
  } else {
    reader.Error(item["type"].IsDefined() ? item["type"] : item, path + ".type",
                 "expected syslog_tcp, syslog_tls, syslog_udp or json_tcp, got '" + type + "'");
  }
  reader.Scalar(item, "address", path, listener.address);
  if (!IsValidAddress(listener.address)) {
    reader.Error(item["address"], path + ".address",
                 "not an IP address: '" + listener.address + "'");
  }
  reader.Port(item, path, listener.port);
  reader.Size(item, "max_message_size", path, listener.max_message_size, 480, 64 << 20);
  reader.Size(item, "max_connections", path, listener.max_connections, 1, 1'000'000);
  reader.Size(item, "max_connections_per_peer", path, listener.max_connections_per_peer, 1,
              1'000'000);
  reader.Seconds(item, "idle_timeout", path, listener.idle_timeout);
  reader.Size(item, "max_connections_per_agency", path, listener.max_connections_per_agency, 1,
              1'000'000);
  reader.Seconds(item, "first_message_timeout", path, listener.first_message_timeout);
  reader.Size(item, "receive_buffer", path, listener.receive_buffer_bytes, 4096, 1 << 30);
  if (listener.type == ListenerType::kSyslogTls) {
    ReadTlsConfig(item["tls"], path + ".tls", ConfigDir(config), listener.tls,
                  [&reader](const YAML::Node& node, const std::string& key,
                            const std::string& reason) { reader.Error(node, key, reason); });
  } else if (item["tls"].IsDefined()) {
    reader.Error(item["tls"], path + ".tls", "only a syslog_tls listener takes tls:");
  }
  config.listeners.push_back(std::move(listener));
  nodes.emplace_back(item, path);
}

// `nodes` receives the YAML node of each listener kept, for global checks.
void ReadListeners(Reader& reader, const YAML::Node& root, Config& config,
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
void CheckListenersTogether(Reader& reader, const YAML::Node& root, const Config& config,
                            const std::vector<std::pair<YAML::Node, std::string>>& nodes) {
  std::set<std::string> names;
  std::vector<Bind> bound;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    const auto& [node, path] = nodes[i];
    if (!listener.name.empty() && !names.insert(listener.name).second) {
      reader.Error(node, path + ".name", "duplicate listener name '" + listener.name + "'");
    }
    const bool udp = listener.type == ListenerType::kSyslogUdp;
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

void ReadMetrics(Reader& reader, const YAML::Node& root, Config& config) {
  const YAML::Node node = root["metrics"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "metrics",
                       {"enabled", "address", "port", "max_connections", "request_timeout"})) {
    return;
  }
  reader.Scalar(node, "enabled", "metrics", config.metrics.enabled);
  reader.Scalar(node, "address", "metrics", config.metrics.address);
  if (!IsValidAddress(config.metrics.address)) {
    reader.Error(node["address"], "metrics.address", "not an IP address");
  }
  if (node["port"].IsDefined()) reader.Port(node, "metrics", config.metrics.port);
  reader.Size(node, "max_connections", "metrics", config.metrics.max_connections, 2, 100000);
  reader.Millis(node, "request_timeout", "metrics", config.metrics.request_timeout, 100);
}

void ReadPipeline(Reader& reader, const YAML::Node& root, Config& config) {
  const YAML::Node node = root["pipeline"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "pipeline",
                       {"queue_events", "workers", "io_threads", "batch_events", "queue_bytes"}))
    return;
  PipelineConfig& p = config.pipeline;
  reader.Size(node, "queue_events", "pipeline", p.queue_events, 1024, 1ull << 30);
  reader.Size(node, "workers", "pipeline", p.workers, 0, 256);
  reader.Size(node, "io_threads", "pipeline", p.io_threads, 1, 256);
  reader.Size(node, "batch_events", "pipeline", p.batch_events, 1, 65536);
  reader.Size(node, "queue_bytes", "pipeline", p.queue_bytes, 1ull << 20, 1ull << 40);
  if (p.batch_events > p.queue_events / 2) {
    reader.Error(node, "pipeline.batch_events",
                 "must be at most half of queue_events, so a full queue can take a batch "
                 "once it is half drained");
  }
}

std::filesystem::path Resolve(const std::filesystem::path& base, const std::string& text) {
  return std::filesystem::absolute(base / text).lexically_normal();
}

// A path that must exist (rules, decoders, lists are read at start).
void ExistingPath(Reader& reader, const YAML::Node& node, const std::string& key,
                  const std::filesystem::path& base, std::filesystem::path& out) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    reader.Error(node, key, "expected a path");
    return;
  }
  out = Resolve(base, node.Scalar());
  std::error_code error;
  if (!std::filesystem::exists(out, error))
    reader.Error(node, key, "no such file or folder: " + out.string());
}

void PathList(Reader& reader, const YAML::Node& map, const char* key, const std::string& path,
              const std::filesystem::path& base, std::vector<std::filesystem::path>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string full = path + "." + key;
  if (node.IsScalar()) {
    ExistingPath(reader, node, full, base, out.emplace_back());
    return;
  }
  if (!node.IsSequence()) {
    reader.Error(node, full, "expected a path or a list of paths");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    ExistingPath(reader, node[i], full + "[" + std::to_string(i) + "]", base, out.emplace_back());
  }
}

bool IsIdentifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

void ReadLists(Reader& reader, const YAML::Node& node, const std::filesystem::path& base,
               RulesConfig& rules) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, "rules.lists", "expected a list of {name, file, column}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "rules.lists[" + std::to_string(i) + "]";
    const YAML::Node item = node[i];
    if (!reader.CheckMap(item, path, {"name", "file", "column"})) continue;
    IndicatorListConfig list;
    reader.Scalar(item, "name", path, list.name);
    if (!IsIdentifier(list.name)) {
      reader.Error(item, path + ".name", "expected a name of letters, digits, _ - .");
    } else if (!names.insert(list.name).second) {
      reader.Error(item, path + ".name", "duplicate list '" + list.name + "'");
    }
    ExistingPath(reader, item["file"], path + ".file", base, list.file);
    reader.Scalar(item, "column", path, list.column);
    rules.lists.push_back(std::move(list));
  }
}

void ReadRuleLimits(Reader& reader, const YAML::Node& node, RuleLimitsConfig& limits) {
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string path = "rules.limits";
  if (!reader.CheckMap(node, path,
                       {"regex_match_limit", "regex_depth_limit", "regex_heap_limit",
                        "max_values_per_rule", "max_patterns", "max_list_bytes", "max_list_entries",
                        "max_list_entry_bytes", "reload_timeout"})) {
    return;
  }
  auto u32 = [&](const char* key, uint32_t& out, uint64_t min, uint64_t max) {
    size_t value = out;
    reader.Size(node, key, path, value, min, max);
    out = static_cast<uint32_t>(value);
  };
  u32("regex_match_limit", limits.regex_match_limit, 1000, 100'000'000);
  u32("regex_depth_limit", limits.regex_depth_limit, 100, 100'000'000);
  size_t heap_bytes = size_t{limits.regex_heap_limit_kib} * 1024;
  reader.Size(node, "regex_heap_limit", path, heap_bytes, 64 * 1024, 1ull << 30);
  limits.regex_heap_limit_kib = static_cast<uint32_t>(heap_bytes / 1024);
  reader.Size(node, "max_values_per_rule", path, limits.max_values_per_rule, 1, 10'000'000);
  reader.Size(node, "max_patterns", path, limits.max_patterns, 1, 10'000'000);
  reader.Size(node, "max_list_bytes", path, limits.max_list_bytes, 1024, 1ull << 40);
  reader.Size(node, "max_list_entries", path, limits.max_list_entries, 1, 1'000'000'000);
  reader.Size(node, "max_list_entry_bytes", path, limits.max_list_entry_bytes, 64, 1ull << 20);
  reader.Millis(node, "reload_timeout", path, limits.reload_timeout, 1000);
}

// rules.status: [stable, test, ...]; rules.min_level: informational..critical.
void ReadRuleSelection(Reader& reader, const YAML::Node& node, RulesConfig& rules) {
  static const std::vector<std::string> kStatuses = {"stable", "test", "experimental", "deprecated",
                                                     "unsupported"};
  static const std::vector<std::string> kLevels = {"informational", "low", "medium", "high",
                                                   "critical"};
  const YAML::Node status = node["status"];
  if (status.IsDefined() && !status.IsNull()) {
    if (!status.IsSequence()) reader.Error(status, "rules.status", "expected a list of statuses");
    for (const YAML::Node& item : status) {
      const std::string value = item.IsScalar() ? item.Scalar() : "";
      if (std::find(kStatuses.begin(), kStatuses.end(), value) == kStatuses.end()) {
        reader.Error(
            item, "rules.status",
            "unknown status '" + value + "' (stable, test, experimental, deprecated, unsupported)");
      } else {
        rules.status.push_back(value);
      }
    }
  }
  reader.Scalar(node, "min_level", "rules", rules.min_level);
  if (!rules.min_level.empty() &&
      std::find(kLevels.begin(), kLevels.end(), rules.min_level) == kLevels.end()) {
    reader.Error(
        node["min_level"], "rules.min_level",
        "unknown level '" + rules.min_level + "' (informational, low, medium, high, critical)");
  }
}

void ReadRules(Reader& reader, const YAML::Node& root, Config& config,
               const std::filesystem::path& base) {
  const YAML::Node node = root["rules"];
  RulesConfig& rules = config.rules;
  rules.cache_dir = config.data_dir / "hs-cache";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "rules",
                       {"sigma", "decoders", "logsources", "lists", "cache_dir", "strict", "limits",
                        "status", "min_level"})) {
    return;
  }
  rules.enabled = true;
  PathList(reader, node, "sigma", "rules", base, rules.sigma);
  PathList(reader, node, "decoders", "rules", base, rules.decoders);
  if (node["logsources"].IsDefined()) {
    ExistingPath(reader, node["logsources"], "rules.logsources", base, rules.logsources);
  }
  ReadLists(reader, node["lists"], base, rules);
  std::string cache_dir;
  reader.Scalar(node, "cache_dir", "rules", cache_dir);
  if (!cache_dir.empty()) rules.cache_dir = Resolve(base, cache_dir);
  reader.Scalar(node, "strict", "rules", rules.strict);
  ReadRuleSelection(reader, node, rules);
  ReadRuleLimits(reader, node["limits"], rules.limits);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsLevelName(const std::string& level) {
  static constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high",
                                                 "critical"};
  return std::find(std::begin(kLevels), std::end(kLevels), level) != std::end(kLevels);
}

void ReadStringList(Reader& reader, const YAML::Node& map, const char* key, const std::string& path,
                    std::vector<std::string>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, path + "." + key, "expected a list of strings");
    return;
  }
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      reader.Error(item, path + "." + key, "expected a non-empty string");
      continue;
    }
    out.push_back(item.Scalar());
  }
}

void ReadWebhookMatch(Reader& reader, const YAML::Node& node, const std::string& path,
                      WebhookMatchConfig& match) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, path, {"agencies", "min_level", "tags"})) return;
  ReadStringList(reader, node, "agencies", path, match.agencies);
  ReadStringList(reader, node, "tags", path, match.tags);
  reader.Scalar(node, "min_level", path, match.min_level);
  if (!match.min_level.empty() && !IsLevelName(match.min_level)) {
    reader.Error(node["min_level"], path + ".min_level",
                 "expected informational, low, medium, high or critical");
  }
}

void ReadWebhook(Reader& reader, const YAML::Node& node, WebhookConfig& webhook,
                 const std::string& path = "alerts.webhook") {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(
          node, path,
          {"url", "headers", "max_batch", "max_queue", "max_queue_size", "timeout", "retry_initial",
           "retry_max", "tls_verify", "allow_insecure_headers", "name", "match"})) {
    return;
  }
  reader.Scalar(node, "name", path, webhook.name);
  ReadWebhookMatch(reader, node["match"], path + ".match", webhook.match);
  reader.Scalar(node, "url", path, webhook.url);
  if (webhook.url.rfind("http://", 0) != 0 && webhook.url.rfind("https://", 0) != 0) {
    reader.Error(node["url"].IsDefined() ? node["url"] : node, path + ".url",
                 "expected an http:// or https:// URL");
  }
  const YAML::Node headers = node["headers"];
  if (headers.IsDefined() && !headers.IsNull()) {
    if (!headers.IsMap()) {
      reader.Error(headers, path + ".headers", "expected a map of header: value");
    } else {
      for (auto it = headers.begin(); it != headers.end(); ++it) {
        if (!it->second.IsScalar()) {
          reader.Error(it->second, path + ".headers." + it->first.Scalar(), "expected a string");
          continue;
        }
        webhook.headers.emplace_back(it->first.Scalar(), it->second.Scalar());
      }
    }
  }
  reader.Size(node, "max_batch", path, webhook.max_batch, 1, 100000);
  reader.Size(node, "max_queue", path, webhook.max_queue, 1, 100'000'000);
  reader.Millis(node, "timeout", path, webhook.timeout, 100);
  reader.Millis(node, "retry_initial", path, webhook.retry_initial, 10);
  reader.Millis(node, "retry_max", path, webhook.retry_max, 10);
  reader.Scalar(node, "tls_verify", path, webhook.tls_verify);
  size_t queue_bytes = webhook.max_queue_bytes;
  reader.Size(node, "max_queue_size", path, queue_bytes, 64 * 1024, 1ull << 40);
  webhook.max_queue_bytes = queue_bytes;
  reader.Scalar(node, "allow_insecure_headers", path, webhook.allow_insecure_headers);
  if (webhook.url.rfind("http://", 0) == 0 && !webhook.headers.empty() &&
      !webhook.allow_insecure_headers) {
    for (const auto& [name, value] : webhook.headers) {
      if (!EqualsNoCase(name, "authorization") && !EqualsNoCase(name, "proxy-authorization") &&
          !EqualsNoCase(name, "cookie")) {
        continue;
      }
      reader.Error(node["headers"], path + ".headers." + name,
                   "would be sent in clear text over http://; use https:// (or "
                   "allow_insecure_headers: true)");
    }
  }
}

void ReadStore(Reader& reader, const YAML::Node& root, Config& config,
               const std::filesystem::path& base) {
  StoreConfig& store = config.store;
  store.path = config.data_dir / "alerts.db";
  const YAML::Node node = root["store"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "store",
                       {"path", "sync", "max_batch_alerts", "queue_alerts", "retention_age",
                        "retention_size", "retention_interval"})) {
    return;
  }
  std::string path;
  reader.Scalar(node, "path", "store", path);
  if (!path.empty()) store.path = Resolve(base, path);
  reader.Scalar(node, "sync", "store", store.sync);
  if (store.sync != "always" && store.sync != "batch" && store.sync != "none") {
    reader.Error(node["sync"], "store.sync", "expected always, batch or none");
  }
  reader.Size(node, "max_batch_alerts", "store", store.max_batch_alerts, 1, 1 << 20);
  reader.Size(node, "queue_alerts", "store", store.queue_alerts, 1, 1ull << 30);
  std::chrono::milliseconds age = store.retention_age;
  reader.Millis(node, "retention_age", "store", age, 0);
  store.retention_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  size_t bytes = store.retention_bytes;
  reader.Size(node, "retention_size", "store", bytes, 0, 1ull << 50);
  store.retention_bytes = bytes;
  reader.Millis(node, "retention_interval", "store", store.retention_interval, 100);
}

void ReadApiTls(Reader& reader, const YAML::Node& node, const std::filesystem::path& base,
                ApiConfig& api) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "api.tls", {"certificate", "private_key"})) return;
  if (node["certificate"].IsDefined()) {
    ExistingPath(reader, node["certificate"], "api.tls.certificate", base, api.tls_certificate);
  }
  if (node["private_key"].IsDefined()) {
    ExistingPath(reader, node["private_key"], "api.tls.private_key", base, api.tls_private_key);
  }
  if (api.tls_certificate.empty() != api.tls_private_key.empty()) {
    reader.Error(node, "api.tls", "needs both certificate and private_key");
  }
}

// alerts.webhooks: a list of webhooks, each with an optional match; names
// default to webhook-<index> and must differ.
void ReadWebhooks(Reader& reader, const YAML::Node& node, std::vector<WebhookConfig>& webhooks) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, "alerts.webhooks", "expected a list of webhooks");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "alerts.webhooks[" + std::to_string(i) + "]";
    WebhookConfig webhook;
    ReadWebhook(reader, node[i], webhook, path);
    if (webhook.name.empty()) webhook.name = "webhook-" + std::to_string(i);
    for (const WebhookConfig& other : webhooks) {
      if (other.name == webhook.name) {
        reader.Error(node[i], path + ".name", "another webhook is named " + webhook.name);
      }
    }
    webhooks.push_back(std::move(webhook));
  }
}

void ReadApi(Reader& reader, const YAML::Node& root, Config& config,
             const std::filesystem::path& base) {
  ApiConfig& api = config.api;
  api.token_file = config.data_dir / "api-token";
  api.auth_db = config.data_dir / "auth.db";
  const YAML::Node node = root["api"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "api",
                       {"enabled", "address", "port", "tokens", "token_file", "tls", "threads",
                        "max_streams", "max_connections", "max_request_size", "idle_timeout",
                        "request_timeout", "max_response_size", "stream_write_timeout",
                        "live_ring_size", "audit_max_entries", "audit_max_size"})) {
    return;
  }
  reader.Scalar(node, "enabled", "api", api.enabled);
  reader.Scalar(node, "address", "api", api.address);
  if (!IsValidAddress(api.address)) {
    reader.Error(node["address"], "api.address", "not an IP address");
  }
  if (node["port"].IsDefined()) reader.Port(node, "api", api.port);
  const YAML::Node tokens = node["tokens"];
  if (tokens.IsDefined() && !tokens.IsNull()) {
    if (!tokens.IsSequence()) {
      reader.Error(tokens, "api.tokens", "expected a list of tokens");
    } else {
      for (const YAML::Node& token : tokens) {
        if (!token.IsScalar() || token.Scalar().size() < 16) {
          reader.Error(token, "api.tokens", "a token must be a string of at least 16 characters");
          continue;
        }
        api.tokens.push_back(token.Scalar());
      }
    }
  }
  std::string token_file;
  reader.Scalar(node, "token_file", "api", token_file);
  if (!token_file.empty()) api.token_file = Resolve(base, token_file);
  ReadApiTls(reader, node["tls"], base, api);
  reader.Size(node, "threads", "api", api.threads, 1, 64);
  reader.Size(node, "max_streams", "api", api.max_streams, 1, 100000);
  reader.Size(node, "max_connections", "api", api.max_connections, 1, 1000000);
  reader.Size(node, "max_request_size", "api", api.max_request_bytes, 1024, 1 << 24);
  reader.Seconds(node, "idle_timeout", "api", api.idle_timeout);
  reader.Millis(node, "request_timeout", "api", api.request_timeout, 100);
  reader.Size(node, "max_response_size", "api", api.max_response_bytes, 64 * 1024, 1ull << 32);
  reader.Millis(node, "stream_write_timeout", "api", api.stream_write_timeout, 100);
  reader.Size(node, "live_ring_size", "api", api.live_ring_bytes, 0, 1ull << 36);
  reader.Size(node, "audit_max_entries", "api", api.audit_max_entries, 1, 100'000'000);
  reader.Size(node, "audit_max_size", "api", api.audit_max_bytes, 64 * 1024, 1ull << 36);
}

// The API shares the TCP port space with the metrics endpoint and the TCP
// listeners.
void CheckApiPort(Reader& reader, const YAML::Node& root, const Config& config) {
  if (!config.api.enabled || config.api.port == 0) return;
  const YAML::Node api = root["api"].IsDefined() ? root["api"] : root;
  if (config.metrics.enabled && config.metrics.port == config.api.port &&
      AddressesCollide(config.metrics.address, config.api.address)) {
    reader.Error(api, "api.port", "port is used by the metrics endpoint");
  }
  for (const ListenerConfig& listener : config.listeners) {
    if (listener.type != ListenerType::kSyslogUdp && listener.port == config.api.port &&
        AddressesCollide(listener.address, config.api.address)) {
      reader.Error(api, "api.port", "port is used by listener '" + listener.name + "'");
      return;
    }
  }
}

void ReadAggregate(Reader& reader, const YAML::Node& node, AggregateConfig& a) {
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string path = "alerts.aggregate";
  if (!reader.CheckMap(node, path,
                       {"enabled", "period", "update_interval", "group_by", "max_open", "max_size",
                        "max_events", "max_event_size"})) {
    return;
  }
  reader.Scalar(node, "enabled", path, a.enabled);
  reader.Millis(node, "period", path, a.period, 1000);
  reader.Millis(node, "update_interval", path, a.update_interval, 100);
  const YAML::Node group_by = node["group_by"];
  if (group_by.IsDefined() && !group_by.IsNull()) {
    if (!group_by.IsSequence()) {
      reader.Error(group_by, path + ".group_by", "expected a list of field names");
    } else {
      a.group_by.clear();
      for (const YAML::Node& field : group_by) {
        if (!field.IsScalar() || field.Scalar().empty()) {
          reader.Error(field, path + ".group_by", "expected a list of field names");
          continue;
        }
        a.group_by.push_back(field.Scalar());
      }
    }
  }
  reader.Size(node, "max_open", path, a.max_open, 1, 100'000'000);
  reader.Size(node, "max_size", path, a.max_bytes, 1 << 20, 1ull << 40);
  reader.Size(node, "max_events", path, a.max_events, 1, 1000);
  reader.Size(node, "max_event_size", path, a.max_event_bytes, 64, 1 << 20);
}

void ReadAlerts(Reader& reader, const YAML::Node& root, Config& config,
                const std::filesystem::path& base) {
  AlertsConfig& alerts = config.alerts;
  alerts.file = config.data_dir / "alerts.jsonl";
  const YAML::Node node = root["alerts"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "alerts",
                       {"file", "max_file_size", "keep_files", "webhook", "webhooks", "min_level",
                        "aggregate"})) {
    return;
  }
  reader.Scalar(node, "min_level", "alerts", alerts.min_level);
  static constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high",
                                                 "critical"};
  if (std::find(std::begin(kLevels), std::end(kLevels), alerts.min_level) == std::end(kLevels)) {
    reader.Error(node["min_level"], "alerts.min_level",
                 "expected informational, low, medium, high or critical");
  }
  ReadAggregate(reader, node["aggregate"], alerts.aggregate);
  const YAML::Node file_node = node["file"];
  if (file_node.IsDefined() && file_node.IsScalar() &&
      (file_node.Scalar() == "false" || file_node.Scalar() == "off")) {
    alerts.file_enabled = false;
  } else {
    std::string file;
    reader.Scalar(node, "file", "alerts", file);
    if (!file.empty()) alerts.file = Resolve(base, file);
  }
  ReadWebhook(reader, node["webhook"], alerts.webhook);
  ReadWebhooks(reader, node["webhooks"], alerts.webhooks);
  size_t max_bytes = alerts.max_file_bytes;
  reader.Size(node, "max_file_size", "alerts", max_bytes, 4096, 1ull << 40);
  alerts.max_file_bytes = max_bytes;
  size_t keep = static_cast<size_t>(alerts.keep_files);
  reader.Size(node, "keep_files", "alerts", keep, 0, 1000);
  alerts.keep_files = static_cast<int>(keep);
}

void ReadCorrelation(Reader& reader, const YAML::Node& root, Config& config) {
  CorrelationConfig& c = config.correlation;
  const YAML::Node node = root["correlation"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(
          node, "correlation",
          {"lateness", "idle_advance", "max_keys_per_rule", "max_entries_per_key",
           "max_alert_events", "shards", "raw_cache", "checkpoint_interval", "max_sources",
           "max_value_bytes", "max_bytes_per_rule", "max_raw_line_bytes"})) {
    return;
  }
  reader.Millis(node, "lateness", "correlation", c.lateness, 0);
  reader.Millis(node, "idle_advance", "correlation", c.idle_advance, 100);
  reader.Millis(node, "checkpoint_interval", "correlation", c.checkpoint_interval, 100);
  reader.Size(node, "max_keys_per_rule", "correlation", c.max_keys_per_rule, 1, 1ull << 32);
  reader.Size(node, "max_entries_per_key", "correlation", c.max_entries_per_key, 2, 1 << 20);
  reader.Size(node, "max_alert_events", "correlation", c.max_alert_events, 0, 10000);
  reader.Size(node, "shards", "correlation", c.shards, 1, 4096);
  reader.Size(node, "raw_cache", "correlation", c.raw_cache_bytes, 0, 1ull << 40);
  reader.Size(node, "max_sources", "correlation", c.max_sources, 1, 1 << 24);
  reader.Size(node, "max_value_bytes", "correlation", c.max_value_bytes, 32, 1 << 20);
  reader.Size(node, "max_bytes_per_rule", "correlation", c.max_bytes_per_rule, 1 << 16, 1ull << 40);
  reader.Size(node, "max_raw_line_bytes", "correlation", c.max_raw_line_bytes, 64, 1 << 20);
}

void ReadTopLevel(Reader& reader, const YAML::Node& root, Config& config) {
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
  Reader reader(file.string());
  Config config;
  config.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return std::vector<ConfigError>{{file.string(), e.mark.line + 1, "", e.msg}};
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!reader.CheckMap(root, "",
                       {"log_level", "data_dir", "timezone", "max_clock_skew",
                        "allow_unknown_agency", "agencies", "listeners", "metrics", "pipeline",
                        "events_file", "rules", "alerts", "correlation", "store", "api"})) {
    return std::move(reader.errors());
  }
  ReadTopLevel(reader, root, config);
  ReadAgencies(reader, root, config);
  std::vector<std::pair<YAML::Node, std::string>> listener_nodes;
  ReadListeners(reader, root, config, listener_nodes);
  ReadMetrics(reader, root, config);
  ReadPipeline(reader, root, config);
  CheckListenersTogether(reader, root, config, listener_nodes);
  const auto base = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  ReadRules(reader, root, config, base);
  ReadAlerts(reader, root, config, base);
  ReadCorrelation(reader, root, config);
  ReadStore(reader, root, config, base);
  ReadApi(reader, root, config, base);
  CheckApiPort(reader, root, config);
  if (config.listeners.empty() && reader.errors().empty()) {
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
    return std::vector<ConfigError>{{file.string(), 0, "", "cannot open the file"}};
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), file);
}

}  // namespace gsoc
