// gsocd configuration: loaded from YAML once at start (and on reload).
//
// Each component reads and documents its own section (config_registry.h);
// this file keeps the top level. LoadConfig validates everything and reports every error at once,
// each with file, line, key path and reason; nothing is half-applied. Exceptions are used only
// inside loading. The result is an immutable value shared read-only by all threads.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "collectors/agency/agency_table.h"
#include "engine/aggregate/aggregate_config.h"
#include "engine/api/api_config.h"
#include "engine/cluster/cluster_config.h"
#include "engine/config/config_reader.h"
#include "engine/correlate/correlation_config.h"
#include "engine/metrics/metrics_config.h"
#include "engine/output/alerts_config.h"
#include "engine/pipeline/pipeline_config.h"
#include "engine/rules/rules_config.h"
#include "engine/store/store_config.h"

namespace gsoc {

struct ListenerConfig {
  std::string name;
  std::string type;  // a registered ListenerKind (config_registry.h)
  bool udp = false;  // the kind binds a UDP port
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  size_t max_message_size = 64 * 1024;
  size_t max_connections = 4096;                   // TCP: open connections on this listener
  size_t max_connections_per_peer = 512;           // TCP: open connections from one address
  std::chrono::seconds idle_timeout{600};          // TCP: close after this long without data
  size_t max_connections_per_agency = 1024;        // TCP: open connections of one agency
  std::chrono::seconds first_message_timeout{10};  // TCP: bytes but no complete message by then
  size_t receive_buffer_bytes = 4 * 1024 * 1024;   // SO_RCVBUF request (UDP mostly)
  // The kind's own keys, as its ListenerKind::read stored them (e.g. a
  // TlsListenerConfig for syslog_tls); empty for kinds without any.
  std::any options;
};

// Cases (engine/triage/README.md): `cases.auto` rules file alerts of one
// agency with the same entity value (a group field) within `window` of the
// case's latest alert into one open case.
struct AutoCaseConfig {
  std::string name;
  std::string entity;  // src_ip, user, host or any group field
  std::chrono::milliseconds window{3'600'000};
  std::string min_level = "informational";
};
struct CasesConfig {
  std::vector<AutoCaseConfig> auto_rules;
};

struct Config {
  std::filesystem::path file;      // the file it was loaded from
  std::filesystem::path data_dir;  // absolute
  std::string log_level = "info";
  int32_t utc_offset_seconds = 0;                  // zone of RFC 3164 timestamps without one
  std::chrono::seconds max_clock_skew{24 * 3600};  // event time further ahead = receive time
  bool allow_unknown_agency = false;
  std::vector<AgencyDefinition> agencies;
  std::vector<ListenerConfig> listeners;
  MetricsConfig metrics;
  PipelineConfig pipeline;
  std::filesystem::path events_file;  // optional: every processed event as a JSON line
  RulesConfig rules;
  AlertsConfig alerts;
  CorrelationConfig correlation;
  StoreConfig store;
  ApiConfig api;
  CasesConfig cases;
  ClusterConfig cluster;  // absent section: a single node
};

using ConfigResult = std::variant<Config, std::vector<ConfigError>>;

ConfigResult LoadConfig(const std::filesystem::path& file);
ConfigResult ParseConfig(const std::string& yaml_text, const std::filesystem::path& file);

}  // namespace gsoc
