// gsocctl cluster status: the nodes of a gsoc cluster, their roles, the
// owner of every correlation partition, the streams and the consumers' lag,
// read from the cluster's JetStream (engine/cluster/cluster_status.h). The
// cluster's servers, credentials and TLS come from a gsocd config's
// cluster section (--config, read by the same parser as gsocd's) and/or
// --servers.
//
// Exit codes: 0 the status was read (it may show problems), 1 the cluster
// could not be reached, 2 invalid options or config.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/cluster_status.h"
#include "engine/cluster/jetstream.h"
#include "engine/config/config_reader.h"
#include "tools/gsocctl/cluster_view.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {
namespace {

namespace fs = std::filesystem;

struct StatusOptions {
  std::string config;
  std::vector<std::string> servers;
  uint32_t partitions = 0;  // 0: the config's, or kDefaultPartitions
  double timeout_seconds = 5;
  bool json = false;
};

bool PrintErrors(ConfigReader& reader) {
  for (const ConfigError& error : reader.errors()) {
    std::fprintf(stderr, "%s\n", TerminalSafe(error.ToString()).c_str());
  }
  return reader.errors().empty();
}

// The cluster section of a gsocd config (its servers, credentials, TLS,
// partitions), with the parser gsocd uses; false after a message.
bool ReadConfigFile(const std::string& file, ClusterConfig* out) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "gsocctl: --config %s: %s\n", file.c_str(),
                 TerminalSafe(e.what()).c_str());
    return false;
  }
  if (!root.IsMap() || !root["cluster"].IsDefined() || root["cluster"].IsNull()) {
    std::fprintf(stderr, "gsocctl: --config %s has no cluster section\n", file.c_str());
    return false;
  }
  ConfigReader reader(file, fs::absolute(file).parent_path());
  ReadClusterConfig(reader, root["cluster"], *out);
  return PrintErrors(reader);
}

// --servers checked as cluster.servers is; false after a message.
bool ReadServers(const std::vector<std::string>& urls, ClusterConfig* out) {
  YAML::Node node;
  node["node"] = "gsocctl";
  for (const std::string& url : urls) node["servers"].push_back(url);
  ConfigReader reader("--servers", fs::current_path());
  ClusterConfig parsed;
  ReadClusterConfig(reader, node, parsed);
  if (!PrintErrors(reader)) return false;
  out->servers = parsed.servers;
  return true;
}

int RunStatus(const StatusOptions& options) {
  ClusterConfig config;
  if (options.config.empty() && options.servers.empty()) {
    std::fprintf(stderr,
                 "gsocctl: cluster status needs --config (a gsocd config with a cluster "
                 "section) or --servers nats://host:port\n");
    return 2;
  }
  if (!options.config.empty() && !ReadConfigFile(options.config, &config)) return 2;
  if (!options.servers.empty() && !ReadServers(options.servers, &config)) return 2;
  config.enabled = true;
  ClusterStatusOptions status_options;
  status_options.partitions = options.partitions != 0 ? options.partitions : config.partitions;
  status_options.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(std::clamp(options.timeout_seconds, 0.1, 600.0) * 1000));
  std::string error;
  std::unique_ptr<JetStreamClient> client =
      JetStreamClient::Connect(config, status_options.timeout, &error);
  ClusterStatus status;
  if (!client || !CollectClusterStatus(*client, status_options, &status, &error)) {
    std::string servers;
    for (const std::string& url : config.servers) servers += (servers.empty() ? "" : ", ") + url;
    std::fprintf(stderr, "gsocctl: cannot reach the cluster (%s): %s\n",
                 TerminalSafe(servers).c_str(), TerminalSafe(error).c_str());
    return 1;
  }
  if (options.json) {
    std::printf("%s\n", ClusterStatusJson(status).c_str());
  } else {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::fputs(ClusterStatusText(status, now).c_str(), stdout);
  }
  return 0;
}

}  // namespace

void AddCluster(CLI::App& app, int* exit_code) {
  CLI::App* cluster = app.add_subcommand("cluster", "a gsoc cluster's state (NATS JetStream)");
  cluster->require_subcommand(1);
  auto options = std::make_shared<StatusOptions>();
  CLI::App* status = cluster->add_subcommand(
      "status", "nodes and roles, partition owners, streams and consumer lag");
  status->add_option("--config", options->config,
                     "a gsocd config: its cluster section (servers, credentials, TLS, partitions)");
  status
      ->add_option("--servers", options->servers,
                   "nats://host:port (repeatable; replaces the config's servers)")
      ->allow_extra_args(false);
  status
      ->add_option("--partitions", options->partitions,
                   "partitions P to check owners of (default: the config's, else 16)")
      ->check(CLI::Range(1, 4096));
  status->add_option("--timeout", options->timeout_seconds,
                     "seconds to wait for the cluster, per request (default 5)");
  status->add_flag("--json", options->json, "one JSON document instead of the text report");
  status->callback([options, exit_code] { *exit_code = RunStatus(*options); });
}

}  // namespace gsoc::ctl
