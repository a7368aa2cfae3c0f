// gsocd configuration: loaded from YAML once at start (and on reload).
//
// LoadConfig validates everything and reports every error at once, each with
// file, line, key path and reason; nothing is half-applied. Exceptions are
// used only inside loading. The result is an immutable value shared
// read-only by all threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "collectors/agency/agency_table.h"

namespace gsoc {

enum class ListenerType : uint8_t { kSyslogTcp, kSyslogUdp, kJsonTcp };

std::string_view ListenerTypeName(ListenerType type);

struct ListenerConfig {
  std::string name;
  ListenerType type = ListenerType::kSyslogTcp;
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  size_t max_message_size = 64 * 1024;
  size_t max_connections = 4096;                  // TCP: open connections on this listener
  size_t max_connections_per_peer = 512;          // TCP: open connections from one address
  std::chrono::seconds idle_timeout{600};         // TCP: close after this long without data
  size_t receive_buffer_bytes = 4 * 1024 * 1024;  // SO_RCVBUF request (UDP mostly)
};

struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 9102;
};

struct PipelineConfig {
  size_t queue_events = 256 * 1024;  // bound of the collector -> engine queue, in events
  size_t workers = 0;                // engine threads; 0 = one per core
  size_t io_threads = 1;             // collector threads
  size_t batch_events = 1024;        // a collector hands on a batch at this size
};

struct IndicatorListConfig {
  std::string name;  // the %placeholder% rules use
  std::filesystem::path file;
  std::string column;  // CSV value column; empty = one value a line
};

struct RulesConfig {
  bool enabled = false;                         // a `rules:` section is present
  std::vector<std::filesystem::path> sigma;     // files or folders
  std::vector<std::filesystem::path> decoders;  // files or folders
  std::filesystem::path logsources;             // mapping file; empty = none
  std::vector<IndicatorListConfig> lists;
  std::filesystem::path cache_dir;  // compiled Hyperscan databases; default <data_dir>/hs-cache
  bool strict = false;              // any refused rule makes start/reload fail
};

struct AlertsConfig {
  std::filesystem::path file;  // JSON lines; default <data_dir>/alerts.jsonl
  uint64_t max_file_bytes = 100ull << 20;
  int keep_files = 5;
};

// Correlation state (README "Correlation"). Sizes of what one correlation
// keeps are bounded here; every bound hit is counted in a metric.
struct CorrelationConfig {
  std::chrono::milliseconds lateness{60'000};     // out-of-order tolerance in event time
  std::chrono::milliseconds idle_advance{5'000};  // quiet stream: wall clock moves time on
  size_t max_keys_per_rule = 1'000'000;           // live group keys per correlation rule
  size_t max_entries_per_key = 4096;              // values/samples one key keeps
  size_t max_alert_events = 10;                   // contributing events carried by an alert
  size_t shards = 16;                             // state shards (locks), by key hash
  size_t raw_cache_bytes = 64ull << 20;           // raw lines kept for contributing events
  std::filesystem::path checkpoint_file;          // default <data_dir>/correlation.ckpt
  std::chrono::milliseconds checkpoint_interval{10'000};
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
};

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when unknown
  std::string key;  // dotted path, e.g. listeners[1].port
  std::string reason;

  std::string ToString() const;  // "file:line: key: reason"
};

using ConfigResult = std::variant<Config, std::vector<ConfigError>>;

ConfigResult LoadConfig(const std::filesystem::path& file);
ConfigResult ParseConfig(const std::string& yaml_text, const std::filesystem::path& file);

}  // namespace gsoc
