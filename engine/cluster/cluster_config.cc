#include "engine/cluster/cluster_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"
#include "engine/util/parallel_for.h"

namespace gsoc {
namespace {

constexpr size_t kMaxServers = 32;
constexpr size_t kMaxBatchBytes = (1 << 20) - 4096;  // room for headers under 1 MiB
constexpr std::chrono::seconds kMinLeaseTtl{2};
constexpr std::chrono::seconds kMaxLeaseTtl{300};
constexpr std::chrono::seconds kTakeoverMargin{2};
constexpr std::chrono::seconds kMaxTakeover{600};
constexpr std::string_view kRoleNames[kClusterRoleCount] = {"ingest", "detect", "correlate",
                                                            "store"};

// "nats://host:port" or "tls://host:port" (host may be [v6]); the reason on error.
std::string CheckServerUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "expected nats://host:port or tls://host:port";
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "nats" && scheme != "tls") return "scheme must be nats or tls";
  const std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("@/?# ") != std::string_view::npos) {
    return "only host:port after the scheme (credentials belong in credentials/nkey)";
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return "expected host:port";
  const std::string_view host = rest.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return "unterminated [IPv6 address]";
  const std::string_view port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return "port must be 1-65535";
  }
  return {};
}

void ReadServers(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  const YAML::Node list = node["servers"];
  if (!list.IsDefined() || list.IsNull()) {
    reader.Error(node, "cluster.servers", "missing: at least one nats://host:port");
    return;
  }
  if (!list.IsSequence() || list.size() == 0 || list.size() > kMaxServers) {
    reader.Error(list, "cluster.servers",
                 "expected a list of 1 to " + std::to_string(kMaxServers) + " server URLs");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string key = "cluster.servers[" + std::to_string(i) + "]";
    if (!list[i].IsScalar()) {
      reader.Error(list[i], key, "expected a URL");
      continue;
    }
    const std::string url = list[i].Scalar();
    if (std::string reason = CheckServerUrl(url); !reason.empty()) {
      reader.Error(list[i], key, "'" + url + "': " + reason);
      continue;
    }
    if (std::find(out.servers.begin(), out.servers.end(), url) != out.servers.end()) {
      reader.Error(list[i], key, "'" + url + "' is listed twice");
      continue;
    }
    out.servers.push_back(url);
  }
}

void ReadRoles(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  const YAML::Node list = node["roles"];
  if (!list.IsDefined() || list.IsNull()) return;  // default: all four
  if (!list.IsSequence() || list.size() == 0) {
    reader.Error(list, "cluster.roles", "expected a list of ingest, detect, correlate, store");
    return;
  }
  out.roles.clear();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string key = "cluster.roles[" + std::to_string(i) + "]";
    const std::string name = list[i].IsScalar() ? list[i].Scalar() : std::string();
    const auto* it = std::find(std::begin(kRoleNames), std::end(kRoleNames), name);
    if (it == std::end(kRoleNames)) {
      reader.Error(list[i], key, "unknown role '" + name + "' (ingest, detect, correlate, store)");
      continue;
    }
    const auto role = static_cast<ClusterRole>(it - std::begin(kRoleNames));
    if (out.HasRole(role)) {
      reader.Error(list[i], key, "role '" + name + "' is listed twice");
      continue;
    }
    out.roles.push_back(role);
  }
}

void ReadTls(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  const YAML::Node tls = node["tls"];
  if (!tls.IsDefined() || tls.IsNull()) return;
  if (!reader.CheckMap(tls, "cluster.tls", {"ca", "certificate", "private_key"})) return;
  if (tls["ca"].IsDefined()) reader.ExistingPath(tls["ca"], "cluster.tls.ca", out.tls.ca);
  if (tls["certificate"].IsDefined()) {
    reader.ExistingPath(tls["certificate"], "cluster.tls.certificate", out.tls.certificate);
  }
  if (tls["private_key"].IsDefined()) {
    reader.ExistingPath(tls["private_key"], "cluster.tls.private_key", out.tls.private_key);
  }
  if (out.tls.certificate.empty() != out.tls.private_key.empty()) {
    reader.Error(tls, "cluster.tls", "needs both certificate and private_key");
  }
}

void ReadAuth(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  if (node["credentials"].IsDefined()) {
    reader.ExistingPath(node["credentials"], "cluster.credentials", out.credentials);
  }
  reader.Scalar(node, "nkey", "cluster", out.nkey);
  if (node["nkey_seed"].IsDefined()) {
    reader.ExistingPath(node["nkey_seed"], "cluster.nkey_seed", out.nkey_seed);
  }
  if (out.nkey.empty() != out.nkey_seed.empty()) {
    reader.Error(node, "cluster.nkey", "nkey (the public key) and nkey_seed go together");
  }
  if (!out.credentials.empty() && !out.nkey.empty()) {
    reader.Error(node, "cluster.credentials", "use credentials or nkey, not both");
  }
}

// lease_ttl_seconds and takeover_seconds: a dead node's leases lapse
// lease_ttl after its last renewal and the living take them on their next
// poll, so takeover must leave room above lease_ttl.
void ReadLeaseTimes(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  const size_t errors_before = reader.errors().size();
  reader.Seconds(node, "lease_ttl_seconds", "cluster", out.lease_ttl);
  reader.Seconds(node, "takeover_seconds", "cluster", out.takeover);
  if (reader.errors().size() != errors_before) return;
  if (out.lease_ttl < kMinLeaseTtl || out.lease_ttl > kMaxLeaseTtl) {
    reader.Error(node["lease_ttl_seconds"], "cluster.lease_ttl_seconds",
                 "expected " + std::to_string(kMinLeaseTtl.count()) + "s to " +
                     std::to_string(kMaxLeaseTtl.count()) +
                     "s (heartbeats and renewals go every lease_ttl / 4)");
    return;
  }
  if (out.takeover < out.lease_ttl + kTakeoverMargin || out.takeover > kMaxTakeover) {
    // At the value that made it too short: takeover_seconds, or lease_ttl_seconds.
    const YAML::Node at = node["takeover_seconds"].IsDefined()    ? node["takeover_seconds"]
                          : node["lease_ttl_seconds"].IsDefined() ? node["lease_ttl_seconds"]
                                                                  : node;
    reader.Error(at, "cluster.takeover_seconds",
                 "expected lease_ttl_seconds + " + std::to_string(kTakeoverMargin.count()) + "s (" +
                     std::to_string((out.lease_ttl + kTakeoverMargin).count()) + "s) to " +
                     std::to_string(kMaxTakeover.count()) +
                     "s: a dead node's leases lapse lease_ttl_seconds after its last renewal, "
                     "then the living nodes take its partitions");
  }
}

void ReadNumbers(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  size_t replicas = static_cast<size_t>(out.replicas);
  const size_t errors_before = reader.errors().size();
  reader.Size(node, "replicas", "cluster", replicas, 1, 5);
  if (reader.errors().size() == errors_before) out.replicas = static_cast<int>(replicas);
  size_t partitions = out.partitions;
  reader.Size(node, "partitions", "cluster", partitions, 1, 4096);
  out.partitions = static_cast<uint32_t>(partitions);
  // NATS refuses a message over max_payload (1 MiB by default), headers included.
  reader.Size(node, "max_batch_bytes", "cluster", out.max_batch_bytes, 4096, kMaxBatchBytes);
  reader.Size(node, "max_inflight_batches", "cluster", out.max_inflight_batches, 1, 4096);
  if (const YAML::Node compression = node["compression"]; compression.IsDefined()) {
    if (compression.IsScalar() &&
        (compression.Scalar() == "lz4" || compression.Scalar() == "none")) {
      out.compress = compression.Scalar() == "lz4";
    } else {
      reader.Error(compression, "cluster.compression", "expected lz4 or none");
    }
  }
  size_t stream_bytes = out.stream_max_bytes;
  reader.Size(node, "stream_max_bytes", "cluster", stream_bytes, 1 << 20, 1ull << 50);
  out.stream_max_bytes = stream_bytes;
  ReadLeaseTimes(reader, node, out);
  reader.Size(node, "detect_consumers", "cluster", out.detect_consumers, 0, 64);
  reader.Millis(node, "checkpoint_interval", "cluster", out.checkpoint_interval, 100);
  if (out.checkpoint_interval > std::chrono::hours(1)) {
    reader.Error(node["checkpoint_interval"], "cluster.checkpoint_interval",
                 "expected 100ms to 1h (a new owner replays the hits since the last checkpoint)");
  }
}

void ReadListenerNames(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  const YAML::Node list = node["listeners"];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence() || list.size() > 65535) {
    reader.Error(list, "cluster.listeners", "expected a list of listener names");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsScalar() || list[i].Scalar().empty()) {
      reader.Error(list[i], "cluster.listeners[" + std::to_string(i) + "]",
                   "expected a listener name");
      continue;
    }
    out.listeners.push_back(list[i].Scalar());
  }
}

// A name for subjects and message ids: letters, digits, '-', '_', '.'.
bool ValidNodeName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void ReadNode(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  reader.Scalar(node, "node", "cluster", out.node);
  if (!node["node"].IsDefined()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) out.node = host;
  }
  if (!ValidNodeName(out.node)) {
    reader.Error(node["node"].IsDefined() ? node["node"] : node, "cluster.node",
                 "'" + out.node + "': 1-64 letters, digits, '-', '_' or '.' (unique per node)");
  }
}

// Cross-checks with the other sections: nothing configured may be ignored.
void CheckWithRoles(ConfigReader& reader, const YAML::Node& node, const Config& config) {
  const ClusterConfig& cluster = config.cluster;
  const YAML::Node at = node["roles"].IsDefined() ? node["roles"] : node;
  if (config.rules.enabled && !cluster.HasRole(ClusterRole::kDetect) &&
      !cluster.HasRole(ClusterRole::kCorrelate)) {
    reader.Error(
        at, "cluster.roles",
        "rules are configured but this node has neither the detect nor the correlate role");
  }
  if (!config.listeners.empty() && !cluster.HasRole(ClusterRole::kIngest)) {
    reader.Error(at, "cluster.roles", "listeners are configured but this node has no ingest role");
  }
  if (cluster.HasRole(ClusterRole::kDetect) && !config.rules.enabled) {
    reader.Error(at, "cluster.roles", "the detect role needs a rules section");
  }
  if (cluster.HasRole(ClusterRole::kCorrelate) && !config.rules.enabled) {
    reader.Error(at, "cluster.roles",
                 "the correlate role needs a rules section (the same as the detect nodes')");
  }
  // alerts.aggregate runs in a cluster too (README "Aggregation"): detect
  // nodes publish the hits, correlate partitions aggregate, store nodes
  // resolve `replaces`.
  if (!cluster.listeners.empty() && !config.listeners.empty()) {
    bool same = cluster.listeners.size() == config.listeners.size();
    for (size_t i = 0; same && i < config.listeners.size(); ++i) {
      same = cluster.listeners[i] == config.listeners[i].name;
    }
    if (!same) {
      reader.Error(node["listeners"], "cluster.listeners",
                   "differs from this node's listeners (their names, in order)");
    }
  }
}

void ReadCluster(ConfigReader& reader, const YAML::Node& node, Config& config) {
  ReadClusterConfig(reader, node, config.cluster);
  if (!config.cluster.enabled) return;
  CheckWithRoles(reader, node, config);
  const std::vector<ClusterRole> built = BuiltClusterRoles();
  for (ClusterRole role : config.cluster.roles) {
    if (std::find(built.begin(), built.end(), role) != built.end()) continue;
    const YAML::Node roles = node["roles"];
    reader.Error(roles.IsDefined() ? roles : node, "cluster.roles",
                 "role '" + std::string(ClusterRoleName(role)) +
                     "' is not built yet in this gsocd (engine/cluster/README.md says what is); "
                     "remove the cluster section to run as a single node");
  }
}

const ConfigRegistration kSection{ConfigSection{"cluster", 90, ReadCluster}};

}  // namespace

std::string_view ClusterRoleName(ClusterRole role) { return kRoleNames[static_cast<size_t>(role)]; }

bool ClusterConfig::HasRole(ClusterRole role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<ClusterRole> BuiltClusterRoles() {
  return {ClusterRole::kIngest, ClusterRole::kDetect, ClusterRole::kCorrelate, ClusterRole::kStore};
}

void ReadClusterConfig(ConfigReader& reader, const YAML::Node& node, ClusterConfig& out) {
  out.enabled = node.IsDefined() && !node.IsNull();
  if (!out.enabled) return;
  if (!reader.CheckMap(node, "cluster",
                       {"servers", "credentials", "nkey", "nkey_seed", "tls", "replicas",
                        "partitions", "roles", "max_batch_bytes", "max_inflight_batches", "node",
                        "stream_max_bytes", "lease_ttl_seconds", "takeover_seconds",
                        "detect_consumers", "listeners", "checkpoint_interval", "compression"})) {
    return;
  }
  ReadNode(reader, node, out);
  ReadServers(reader, node, out);
  ReadAuth(reader, node, out);
  ReadTls(reader, node, out);
  ReadNumbers(reader, node, out);
  ReadRoles(reader, node, out);
  ReadListenerNames(reader, node, out);
}

size_t DetectConsumerThreads(const ClusterConfig& config) {
  if (config.detect_consumers != 0) return config.detect_consumers;
  return std::max<size_t>(2, ThreadsPerCore(0, 64));
}

}  // namespace gsoc
