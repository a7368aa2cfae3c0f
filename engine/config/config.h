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
#include "collectors/syslog_tls/tls_config.h"

namespace gsoc {

enum class ListenerType : uint8_t { kSyslogTcp, kSyslogUdp, kJsonTcp, kSyslogTls };

std::string_view ListenerTypeName(ListenerType type);

struct ListenerConfig {
  std::string name;
  ListenerType type = ListenerType::kSyslogTcp;
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  size_t max_message_size = 64 * 1024;
  size_t max_connections = 4096;                   // TCP: open connections on this listener
  size_t max_connections_per_peer = 512;           // TCP: open connections from one address
  std::chrono::seconds idle_timeout{600};          // TCP: close after this long without data
  size_t max_connections_per_agency = 1024;        // TCP: open connections of one agency
  std::chrono::seconds first_message_timeout{10};  // TCP: bytes but no complete message by then
  size_t receive_buffer_bytes = 4 * 1024 * 1024;   // SO_RCVBUF request (UDP mostly)
  TlsListenerConfig tls;                           // syslog_tls only
};

struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 9102;
  size_t max_connections = 64;                      // beyond: the oldest waiting one is closed
  std::chrono::milliseconds request_timeout{5000};  // a request head must arrive within this
};

struct PipelineConfig {
  size_t queue_events = 256 * 1024;   // bound of the collector -> engine queue, in events
  size_t queue_bytes = 128ull << 20;  // the same queue's bound in message bytes
  size_t workers = 0;                 // engine threads; 0 = one per core
  size_t io_threads = 1;              // collector threads
  size_t batch_events = 1024;         // a collector hands on a batch at this size
};

struct IndicatorListConfig {
  std::string name;  // the %placeholder% rules use
  std::filesystem::path file;
  std::string column;  // CSV value column; empty = one value a line
};

// rules.limits: bounds on what third-party rules and lists may cost.
struct RuleLimitsConfig {
  uint32_t regex_match_limit = 20'000;  // PCRE2 on event data (rules and decoders)
  uint32_t regex_depth_limit = 10'000;
  uint32_t regex_heap_limit_kib = 4096;
  size_t max_values_per_rule = 5'000;
  size_t max_patterns = 50'000;  // Hyperscan patterns in the rule set
  size_t max_list_bytes = 128ull << 20;
  size_t max_list_entries = 2'000'000;
  size_t max_list_entry_bytes = 8192;
  std::chrono::milliseconds reload_timeout{120'000};  // a build (start or reload) past it fails
};

struct RulesConfig {
  bool enabled = false;                         // a `rules:` section is present
  std::vector<std::filesystem::path> sigma;     // files or folders
  std::vector<std::filesystem::path> decoders;  // files or folders
  std::filesystem::path logsources;             // mapping file; empty = none
  std::vector<IndicatorListConfig> lists;
  std::filesystem::path cache_dir;  // compiled Hyperscan databases; default <data_dir>/hs-cache
  bool strict = false;              // any refused rule makes start/reload fail
  RuleLimitsConfig limits;
  // Rule selection: load only rules whose `status` is listed (empty: all)
  // and whose `level` is at least min_level (empty: all).
  std::vector<std::string> status;
  std::string min_level;
};

// Outputs fed after the store commit: a JSON-lines file and a webhook.
// Which alerts one webhook receives (every given condition holds).
struct WebhookMatchConfig {
  std::vector<std::string> agencies;  // the alert's agency is one of these
  std::string min_level;              // empty: any level
  std::vector<std::string> tags;      // the rule has one of these tags
};

struct WebhookConfig {
  std::string name;  // alerts.webhooks: a label for logs and metrics
  WebhookMatchConfig match;
  std::string url;  // empty: no webhook
  std::vector<std::pair<std::string, std::string>> headers;
  size_t max_batch = 100;
  size_t max_queue = 100000;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{60000};
  bool tls_verify = true;
  uint64_t max_queue_bytes = 64ull << 20;  // alert JSON waiting, in bytes (besides max_queue)
  bool allow_insecure_headers = false;     // http:// with an Authorization header
};

// Aggregation of detection alerts (engine/aggregate/README.md).
struct AggregateConfig {
  bool enabled = true;
  std::chrono::milliseconds period{600'000};          // an aggregate takes hits this long
  std::chrono::milliseconds update_interval{30'000};  // a grown aggregate is republished this often
  std::vector<std::string> group_by{"src_ip", "dst_ip", "user", "target_user", "rhost", "host"};
  size_t max_open = 100'000;             // open aggregates at most
  size_t max_bytes = size_t{256} << 20;  // their memory at most
  size_t max_events = 10;                // contributing events kept per aggregate
  size_t max_event_bytes = 2048;         // raw bytes kept per contributing event
};

struct AlertsConfig {
  std::string min_level = "informational";  // hits of rules below only feed correlations
  AggregateConfig aggregate;
  bool file_enabled = true;
  std::filesystem::path file;  // JSON lines; default <data_dir>/alerts.jsonl
  uint64_t max_file_bytes = 100ull << 20;
  int keep_files = 5;
  WebhookConfig webhook;
  std::vector<WebhookConfig> webhooks;  // routed outputs (each with a match)
};

// The RocksDB alert store.
struct StoreConfig {
  std::filesystem::path path;  // default <data_dir>/alerts.db
  std::string sync = "batch";  // always | batch | none
  size_t max_batch_alerts = 4096;
  size_t queue_alerts = 65536;
  std::chrono::seconds retention_age{90LL * 24 * 3600};  // 0 = keep forever
  uint64_t retention_bytes = 0;                          // 0 = no size limit
  std::chrono::milliseconds retention_interval{60'000};
};

// The HTTP API.
struct ApiConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::vector<std::string> tokens;   // empty: the token file (generated on first start)
  std::filesystem::path token_file;  // default <data_dir>/api-token
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
  size_t threads = 2;
  size_t max_streams = 64;
  size_t max_connections = 256;
  size_t max_request_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::milliseconds request_timeout{5000};        // a started request must be whole by then
  size_t max_response_bytes = 4 << 20;                    // a page of alerts ends early beyond this
  std::chrono::milliseconds stream_write_timeout{10000};  // an SSE client must take data
  size_t live_ring_bytes = 64 << 20;  // recent alerts kept for live streams, in bytes
  // Tokens made by `gsocctl token create` and the audit log (engine/auth).
  std::filesystem::path auth_db;       // default <data_dir>/auth.db
  size_t audit_max_entries = 100'000;  // the oldest audit entries go beyond these
  size_t audit_max_bytes = 32 << 20;
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
  size_t max_sources = 65536;                     // (agency, host) event clocks tracked
  size_t max_value_bytes = 256;                   // group-by value kept (longer: truncated, hashed)
  size_t max_bytes_per_rule = 256ull << 20;       // key state of one correlation rule
  size_t max_raw_line_bytes = 4096;               // raw line kept for an alert (longer: truncated)
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
  StoreConfig store;
  ApiConfig api;
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
