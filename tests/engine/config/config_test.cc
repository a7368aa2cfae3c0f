// The top level: defaults, listeners, agencies, ports, errors.
#include "engine/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/syslog_tls/tls_config.h"
#include "engine/config/config_registry.h"
#include "tests/engine/config/config_test_util.h"

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;
// The shipped default configuration.

TEST(ConfigTest, DefaultDeployConfigLoadsWithDocumentedDefaults) {
  const std::filesystem::path file = std::filesystem::path(GSOC_SOURCE_DIR) / "deploy/gsoc.yaml";
  ConfigResult result = LoadConfig(file);
  auto* errors = std::get_if<std::vector<ConfigError>>(&result);
  ASSERT_EQ(errors, nullptr) << Dump(*errors);
  const Config& config = std::get<Config>(result);

  EXPECT_EQ(config.file, file);
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.data_dir,
            (std::filesystem::path(GSOC_SOURCE_DIR) / "deploy" / "var").lexically_normal());
  EXPECT_TRUE(config.data_dir.is_absolute());
  EXPECT_EQ(config.utc_offset_seconds, 0);
  EXPECT_EQ(config.max_clock_skew, std::chrono::hours(24));
  EXPECT_FALSE(config.allow_unknown_agency);
  EXPECT_TRUE(config.events_file.empty());

  ASSERT_EQ(config.agencies.size(), 1u);
  EXPECT_EQ(config.agencies[0].name, "local");
  ASSERT_EQ(config.agencies[0].cidrs.size(), 2u);
  EXPECT_EQ(config.agencies[0].cidrs[0].prefix_length, 96 + 8);
  EXPECT_EQ(config.agencies[0].cidrs[1].prefix_length, 128);

  ASSERT_EQ(config.listeners.size(), 3u);
  const auto& tcp = config.listeners[0];
  EXPECT_EQ(tcp.name, "syslog_tcp");
  EXPECT_EQ(tcp.type, "syslog_tcp");
  EXPECT_EQ(tcp.address, "127.0.0.1");
  EXPECT_EQ(tcp.port, 5514);
  EXPECT_EQ(tcp.max_message_size, 64u * 1024);
  EXPECT_EQ(tcp.max_connections, 4096u);
  EXPECT_EQ(tcp.max_connections_per_peer, 512u);
  EXPECT_EQ(tcp.idle_timeout, std::chrono::minutes(10));
  const auto& udp = config.listeners[1];
  EXPECT_EQ(udp.name, "syslog_udp");
  EXPECT_EQ(udp.type, "syslog_udp");
  EXPECT_EQ(udp.port, 5514);  // same port as the TCP listener: fine
  EXPECT_EQ(udp.receive_buffer_bytes, 4u * 1024 * 1024);
  const auto& json = config.listeners[2];
  EXPECT_EQ(json.name, "json");
  EXPECT_EQ(json.type, "json_tcp");
  EXPECT_EQ(json.port, 5515);

  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.address, "127.0.0.1");
  EXPECT_EQ(config.metrics.port, 9102);
  EXPECT_EQ(config.pipeline.queue_events, 262144u);
  EXPECT_EQ(config.pipeline.workers, 0u);
  EXPECT_EQ(config.pipeline.io_threads, 1u);
  EXPECT_EQ(config.pipeline.batch_events, 1024u);

  // What the file says it shows are the defaults: a config with only its
  // listeners parses to the same values.
  Config minimal = Parse(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  EXPECT_EQ(minimal.log_level, config.log_level);
  EXPECT_EQ(minimal.max_clock_skew, config.max_clock_skew);
  EXPECT_EQ(minimal.metrics.port, config.metrics.port);
  EXPECT_EQ(minimal.metrics.address, config.metrics.address);
  EXPECT_EQ(minimal.pipeline.queue_events, config.pipeline.queue_events);
  EXPECT_EQ(minimal.pipeline.batch_events, config.pipeline.batch_events);
  EXPECT_EQ(minimal.listeners[0].max_message_size, tcp.max_message_size);
  EXPECT_EQ(minimal.listeners[0].max_connections, tcp.max_connections);
  EXPECT_EQ(minimal.listeners[0].max_connections_per_peer, tcp.max_connections_per_peer);
  EXPECT_EQ(minimal.listeners[0].idle_timeout, tcp.idle_timeout);
  EXPECT_EQ(minimal.listeners[0].address, "127.0.0.1");

  const CorrelationConfig& c = config.correlation;
  EXPECT_EQ(c.lateness, std::chrono::seconds(60));
  EXPECT_EQ(c.idle_advance, std::chrono::seconds(5));
  EXPECT_EQ(c.max_keys_per_rule, 1'000'000u);
  EXPECT_EQ(c.max_entries_per_key, 4096u);
  EXPECT_EQ(c.max_alert_events, 10u);
  EXPECT_EQ(c.shards, 16u);
  EXPECT_EQ(c.raw_cache_bytes, 64u << 20);
  EXPECT_EQ(c.checkpoint_interval, std::chrono::seconds(10));
  const CorrelationConfig& m = minimal.correlation;
  EXPECT_EQ(m.lateness, c.lateness);
  EXPECT_EQ(m.idle_advance, c.idle_advance);
  EXPECT_EQ(m.max_keys_per_rule, c.max_keys_per_rule);
  EXPECT_EQ(m.max_entries_per_key, c.max_entries_per_key);
  EXPECT_EQ(m.max_alert_events, c.max_alert_events);
  EXPECT_EQ(m.shards, c.shards);
  EXPECT_EQ(m.raw_cache_bytes, c.raw_cache_bytes);
  EXPECT_EQ(m.checkpoint_interval, c.checkpoint_interval);
}

TEST(ConfigTest, CorrelationValuesAreRead) {
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
correlation:
  lateness: 0s
  idle_advance: 250ms
  max_keys_per_rule: 5000
  max_entries_per_key: 64
  max_alert_events: 3
  shards: 4
  raw_cache: 1MiB
  checkpoint_interval: 2m
)");
  const CorrelationConfig& c = config.correlation;
  EXPECT_EQ(c.lateness, std::chrono::milliseconds(0));
  EXPECT_EQ(c.idle_advance, std::chrono::milliseconds(250));
  EXPECT_EQ(c.max_keys_per_rule, 5000u);
  EXPECT_EQ(c.max_entries_per_key, 64u);
  EXPECT_EQ(c.max_alert_events, 3u);
  EXPECT_EQ(c.shards, 4u);
  EXPECT_EQ(c.raw_cache_bytes, 1u << 20);
  EXPECT_EQ(c.checkpoint_interval, std::chrono::minutes(2));
}

TEST(ConfigTest, BadCorrelationValues) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
correlation:
  lateness: soon
  idle_advance: 10ms
  shards: 0
  max_keys_per_rule: lots
  frobnicate: 1
)");
  ExpectError(errors, "correlation.frobnicate", 7, "unknown");
  ExpectError(errors, "correlation.lateness", 3, "duration");
  ExpectError(errors, "correlation.idle_advance", 4, "at least 100ms");
  ExpectError(errors, "correlation.shards", 5, "size");
  ExpectError(errors, "correlation.max_keys_per_rule", 6, "size");
}

TEST(ConfigTest, AlertPolicyAndAggregationValues) {
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
alerts:
  min_level: medium
  aggregate:
    enabled: false
    period: 5m
    update_interval: 10s
    group_by: [src_ip, user]
    max_open: 500
    max_size: 8MiB
    max_events: 3
    max_event_size: 1KiB
)");
  EXPECT_EQ(config.alerts.min_level, "medium");
  const AggregateConfig& a = config.alerts.aggregate;
  EXPECT_FALSE(a.enabled);
  EXPECT_EQ(a.period, std::chrono::minutes(5));
  EXPECT_EQ(a.update_interval, std::chrono::seconds(10));
  EXPECT_EQ(a.group_by, (std::vector<std::string>{"src_ip", "user"}));
  EXPECT_EQ(a.max_open, 500u);
  EXPECT_EQ(a.max_bytes, 8u << 20);
  EXPECT_EQ(a.max_events, 3u);
  EXPECT_EQ(a.max_event_bytes, 1024u);
  const Config defaults = Parse("listeners: [{name: a, type: syslog_tcp, port: 1}]\n");
  EXPECT_TRUE(defaults.alerts.aggregate.enabled);
  EXPECT_EQ(defaults.alerts.min_level, "informational");
}

TEST(ConfigTest, BadAlertPolicyValues) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
alerts:
  min_level: severe
  aggregate:
    period: 10ms
    group_by: src_ip
    max_events: 0
    colour: blue
)");
  ExpectError(errors, "alerts.min_level", 3, "informational");
  ExpectError(errors, "alerts.aggregate.period", 5, "at least 1000ms");
  ExpectError(errors, "alerts.aggregate.group_by", 6, "list");
  ExpectError(errors, "alerts.aggregate.max_events", 7, "size");
  ExpectError(errors, "alerts.aggregate.colour", 8, "unknown");
}

// Listener kinds and sections come from their components' registrations.
TEST(ConfigTest, ComponentsRegisterTheirListenerKindsAndSections) {
  EXPECT_EQ(ListenerKindNames(), "json_tcp, syslog_tcp, syslog_tls, syslog_udp");
  ASSERT_NE(FindListenerKind("syslog_udp"), nullptr);
  EXPECT_TRUE(FindListenerKind("syslog_udp")->udp);
  EXPECT_FALSE(FindListenerKind("syslog_tls")->udp);
  EXPECT_EQ(FindListenerKind("syslog_tls")->keys, std::vector<std::string_view>{"tls"});
  EXPECT_EQ(FindListenerKind("kafka"), nullptr);
  std::vector<std::string_view> sections;
  for (const ConfigSection* section : ConfigSections()) sections.push_back(section->name);
  EXPECT_EQ(sections,
            (std::vector<std::string_view>{"metrics", "pipeline", "rules", "alerts", "correlation",
                                           "store", "api", "cases", "cluster"}));
  EXPECT_THAT(Dump(Errors("listeners: [{name: k, type: kafka, port: 1}]\n")),
              HasSubstr("listeners[0].type: expected one of json_tcp, syslog_tcp, syslog_tls, "
                        "syslog_udp, got 'kafka'"));
}

TEST(ConfigTest, NonDefaultValuesAreRead) {
  Config config = Parse(R"(log_level: debug
data_dir: /srv/gsoc/../gsoc/data
timezone: "+07:00"
max_clock_skew: 2h
allow_unknown_agency: true
events_file: out/events.jsonl
agencies:
  - name: mof
    cidrs: [10.20.0.0/16, "2001:db8:20::/48"]
  - name: moh
    cidrs: [10.30.0.0/16]
listeners:
  - name: l1
    type: json_tcp
    address: "::"
    port: 6000
    max_message_size: 1MiB
    max_connections: 10
    max_connections_per_peer: 2
    idle_timeout: 30s
    receive_buffer: 65536
metrics:
  enabled: false
  address: "::1"
  port: 0
pipeline:
  queue_events: 4096
  workers: 3
  io_threads: 2
  batch_events: 64
)");
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.data_dir, std::filesystem::path("/srv/gsoc/data"));
  EXPECT_EQ(config.utc_offset_seconds, 7 * 3600);
  EXPECT_EQ(config.max_clock_skew, std::chrono::hours(2));
  EXPECT_TRUE(config.allow_unknown_agency);
  EXPECT_EQ(config.events_file, std::filesystem::path("/etc/gsoc/out/events.jsonl"));
  ASSERT_EQ(config.agencies.size(), 2u);
  EXPECT_EQ(config.agencies[1].name, "moh");
  EXPECT_EQ(config.agencies[0].cidrs.size(), 2u);
  ASSERT_EQ(config.listeners.size(), 1u);
  const auto& l = config.listeners[0];
  EXPECT_EQ(l.type, "json_tcp");
  EXPECT_EQ(l.address, "::");
  EXPECT_EQ(l.port, 6000);
  EXPECT_EQ(l.max_message_size, 1024u * 1024);
  EXPECT_EQ(l.max_connections, 10u);
  EXPECT_EQ(l.max_connections_per_peer, 2u);
  EXPECT_EQ(l.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(l.receive_buffer_bytes, 65536u);
  EXPECT_FALSE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.address, "::1");
  EXPECT_EQ(config.metrics.port, 0);
  EXPECT_EQ(config.pipeline.queue_events, 4096u);
  EXPECT_EQ(config.pipeline.workers, 3u);
  EXPECT_EQ(config.pipeline.io_threads, 2u);
  EXPECT_EQ(config.pipeline.batch_events, 64u);
}

TEST(ConfigTest, DataDirIsRelativeToTheFile) {
  ConfigResult result =
      ParseConfig("listeners: [{name: a, type: syslog_udp, port: 1}]\n", "/opt/x/conf/gsoc.yaml");
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  EXPECT_EQ(std::get<Config>(result).data_dir, std::filesystem::path("/opt/x/conf/var"));
}

// ----------------------------------------------------------------------------
// Validation errors: key path and line.

TEST(ConfigTest, UnknownTopLevelKey) {
  auto errors = Errors(R"(log_level: info
listenres: []
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "listenres", 2, "unknown key");
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);
}

TEST(ConfigTest, UnknownKeyInAListener) {
  auto errors = Errors(R"(listeners:
  - name: a
    type: syslog_tcp
    port: 5514
  - name: b
    type: syslog_udp
    prot: 5515
    port: 5516
)");
  ExpectError(errors, "listeners[1].prot", 7, "unknown key");
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);
}

TEST(ConfigTest, UnknownKeyInMetricsAndPipeline) {
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
metrics:
  portt: 9000
pipeline:
  worker: 2
)");
  ExpectError(errors, "metrics.portt", 4, "unknown key");
  ExpectError(errors, "pipeline.worker", 6, "unknown key");
}

TEST(ConfigTest, BadTypes) {
  auto errors = Errors(R"(allow_unknown_agency: maybe
listeners:
  - name: a
    type: syslog_tcpp
    port: 5514
  - name: b
    type: syslog_udp
    port: [1, 2]
metrics:
  enabled: 3
)");
  ExpectError(errors, "allow_unknown_agency", 1, "maybe");
  ExpectError(errors, "listeners[0].type", 4, "syslog_tcpp");
  ExpectError(errors, "listeners[1].port", 8, "scalar");
  ExpectError(errors, "metrics.enabled", 10, "invalid value '3'");
}

TEST(ConfigTest, ListenersAndAgenciesMustBeLists) {
  auto errors = Errors(R"(agencies:
  name: x
listeners: 5514
)");
  ExpectError(errors, "agencies", 2, "list");
  ExpectError(errors, "listeners", 3, "list");
  auto not_a_map = Errors(R"(listeners:
  - just a string
)");
  ExpectError(not_a_map, "listeners[0]", 2, "mapping");
}

TEST(ConfigTest, TopLevelMustBeAMapping) {
  auto errors = Errors("- a\n- b\n");
  ASSERT_EQ(errors.size(), 1u) << Dump(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("mapping"));
  EXPECT_EQ(errors[0].location.line, 1);
}

TEST(ConfigTest, BadPorts) {
  auto errors = Errors(R"(listeners:
  - name: a
    type: syslog_tcp
    port: 70000
  - name: b
    type: syslog_tcp
    port: -1
  - name: c
    type: syslog_tcp
    port: abc
  - name: d
    type: syslog_tcp
metrics:
  port: 65536
)");
  ExpectError(errors, "listeners[0].port", 4, "0-65535");
  ExpectError(errors, "listeners[1].port", 7, "0-65535");
  ExpectError(errors, "listeners[2].port", 10, "abc");
  ExpectError(errors, "listeners[3].port", 11, "missing");
  ExpectError(errors, "metrics.port", 14, "0-65535");
}

TEST(ConfigTest, PortBoundariesAreValid) {
  Config config = Parse(R"(listeners:
  - {name: a, type: syslog_tcp, port: 0}
  - {name: b, type: syslog_tcp, port: 0}
  - {name: c, type: syslog_tcp, port: 65535}
)");
  ASSERT_EQ(config.listeners.size(), 3u);
  EXPECT_EQ(config.listeners[2].port, 65535);  // two ephemeral ports never clash
}

TEST(ConfigTest, BadAddress) {
  auto errors = Errors(R"(listeners:
  - name: a
    type: syslog_tcp
    address: localhost
    port: 1
metrics:
  address: 1.2.3
)");
  ExpectError(errors, "listeners[0].address", 4, "localhost");
  ExpectError(errors, "metrics.address", 7, "not an IP address");
}

TEST(ConfigTest, BadCidr) {
  auto errors = Errors(R"(agencies:
  - name: mof
    cidrs:
      - 10.0.0.0/8
      - 10.0.0.0/33
      - "2001:db8::/129"
  - name: moh
    cidrs: []
  - name: mot
    cidrs: [abc]
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "agencies[0].cidrs[1]", 5, "10.0.0.0/33");
  ExpectError(errors, "agencies[0].cidrs[2]", 6, "2001:db8::/129");
  ExpectError(errors, "agencies[1].cidrs", 8, "non-empty");
  ExpectError(errors, "agencies[2].cidrs[0]", 10, "abc");
  EXPECT_EQ(Find(errors, "agencies[0].cidrs[0]"), nullptr);
}

TEST(ConfigTest, DuplicateAgency) {
  auto errors = Errors(R"(agencies:
  - name: mof
    cidrs: [10.1.0.0/16]
  - name: moh
    cidrs: [10.2.0.0/16]
  - name: mof
    cidrs: [10.3.0.0/16]
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "agencies[2].name", 6, "duplicate agency 'mof'");
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);
}

TEST(ConfigTest, ReservedUnknownAgencyName) {
  auto errors = Errors(R"(agencies:
  - name: mof
    cidrs: [10.1.0.0/16]
  - name: unknown
    cidrs: [10.2.0.0/16]
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "agencies[1].name", 4, "reserved");
}

TEST(ConfigTest, AgencyWithoutName) {
  auto errors = Errors(R"(agencies:
  - cidrs: [10.1.0.0/16]
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "agencies[0].name", 2, "missing");
}

TEST(ConfigTest, DuplicateListenerName) {
  auto errors = Errors(R"(listeners:
  - name: syslog
    type: syslog_tcp
    port: 5514
  - name: syslog
    type: syslog_udp
    port: 5514
)");
  ExpectError(errors, "listeners[1].name", 5, "duplicate listener name 'syslog'");
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);
}

TEST(ConfigTest, SameAddressAndPortTwiceOverTcp) {
  auto errors = Errors(R"(listeners:
  - name: a
    type: syslog_tcp
    port: 5514
  - name: b
    type: syslog_udp
    port: 5514
  - name: c
    type: json_tcp
    port: 5514
)");
  ExpectError(errors, "listeners[2].port", 8, "127.0.0.1:5514/tcp");
  EXPECT_EQ(errors.size(), 1u) << Dump(errors);  // a (tcp) and b (udp) do not clash
}

TEST(ConfigTest, SameAddressAndPortTwiceOverUdp) {
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_udp, port: 514}
  - {name: b, type: syslog_udp, port: 514}
)");
  ExpectError(errors, "listeners[1].port", 3, "/udp");
}

TEST(ConfigTest, TcpAndUdpOnTheSamePortOrSamePortOnOtherAddressesAreFine) {
  Config config = Parse(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
  - {name: b, type: syslog_udp, port: 5514}
  - {name: c, type: syslog_tcp, address: 127.0.0.2, port: 5514}
  - {name: d, type: syslog_tcp, address: "::1", port: 5514}
)");
  EXPECT_EQ(config.listeners.size(), 4u);
}

TEST(ConfigTest, WildcardAddressClashesWithSpecificAddressOnThePort) {
  // Binding 0.0.0.0:5514 and 127.0.0.1:5514 (both TCP) fails at start with
  // EADDRINUSE; the config check should catch it with a line number.
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, address: 0.0.0.0, port: 5514}
  - {name: b, type: json_tcp, address: 127.0.0.1, port: 5514}
)");
  ExpectError(errors, "listeners[1].port", 3, "used by another listener");
}

TEST(ConfigTest, MetricsPortClashingWithAListener) {
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
  - {name: b, type: json_tcp, port: 9102}
metrics:
  port: 9102
)");
  const ConfigError* error = Find(errors, "metrics.port");
  ASSERT_NE(error, nullptr) << Dump(errors);
  EXPECT_THAT(error->message, HasSubstr("used by a listener"));
  // Reported on the metrics section (line 5 is `port: 9102`, the first key).
  EXPECT_EQ(error->location.line, 5);
}

TEST(ConfigTest, MetricsDefaultPortClashesToo) {
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, port: 9102}
)");
  EXPECT_NE(Find(errors, "metrics.port"), nullptr) << Dump(errors);
}

TEST(ConfigTest, MetricsPortSharedWithUdpOrDisabledIsFine) {
  Parse(R"(listeners:
  - {name: a, type: syslog_udp, port: 9102}
)");
  Parse(R"(listeners:
  - {name: a, type: syslog_tcp, port: 9102}
metrics:
  enabled: false
)");
}

TEST(ConfigTest, BadDurations) {
  auto errors = Errors(R"(max_clock_skew: -1h
listeners:
  - name: a
    type: syslog_tcp
    port: 5514
    idle_timeout: 10x
  - name: b
    type: syslog_tcp
    port: 5515
    idle_timeout: 500ms
  - name: c
    type: syslog_tcp
    port: 5516
    idle_timeout: 99999999999999999999d
)");
  ExpectError(errors, "max_clock_skew", 1, "duration");
  ExpectError(errors, "listeners[0].idle_timeout", 6, "duration");
  ExpectError(errors, "listeners[1].idle_timeout", 10, "at least 1s");
  ExpectError(errors, "listeners[2].idle_timeout", 14, "duration");
}

TEST(ConfigTest, BadSizes) {
  auto errors = Errors(R"(listeners:
  - name: a
    type: syslog_tcp
    port: 5514
    max_message_size: 100
    max_connections: 0
    max_connections_per_peer: lots
  - name: b
    type: syslog_udp
    port: 5514
    max_message_size: 1ZB
    receive_buffer: 2GiB
pipeline:
  queue_events: 10
  batch_events: 100000
  io_threads: 0
  workers: 257
)");
  ExpectError(errors, "listeners[0].max_message_size", 5, "480");
  ExpectError(errors, "listeners[0].max_connections", 6, "size");
  ExpectError(errors, "listeners[0].max_connections_per_peer", 7, "size");
  ExpectError(errors, "listeners[1].max_message_size", 11, "size");
  ExpectError(errors, "listeners[1].receive_buffer", 12, "size");
  ExpectError(errors, "pipeline.queue_events", 14, "1024");
  ExpectError(errors, "pipeline.batch_events", 15, "65536");
  ExpectError(errors, "pipeline.io_threads", 16, "size");
  ExpectError(errors, "pipeline.workers", 17, "256");
  EXPECT_EQ(errors.size(), 9u) << Dump(errors);
}

TEST(ConfigTest, SizeLimitsAreInclusive) {
  Config config = Parse(R"(listeners:
  - name: a
    type: syslog_tcp
    port: 5514
    max_message_size: 480
  - name: b
    type: syslog_tcp
    port: 5515
    max_message_size: 64MiB
pipeline:
  queue_events: 131072
  batch_events: 65536
)");
  EXPECT_EQ(config.pipeline.batch_events, 65536u);
  EXPECT_EQ(config.listeners[0].max_message_size, 480u);
  EXPECT_EQ(config.listeners[1].max_message_size, 64u << 20);
}

TEST(ConfigTest, BatchLargerThanHalfTheQueueIsRefused) {
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
pipeline:
  queue_events: 4096
  batch_events: 2049
)");
  ExpectError(errors, "pipeline.batch_events", 4, "at most half of queue_events");
}

TEST(ConfigTest, BadTimezoneAndLogLevel) {
  auto errors = Errors(R"(log_level: verbose
timezone: Europe/Paris
listeners:
  - {name: a, type: syslog_tcp, port: 5514}
)");
  ExpectError(errors, "log_level", 1, "expected trace");
  ExpectError(errors, "timezone", 2, "UTC or an offset");
}

TEST(ConfigTest, NoListeners) {
  for (const char* yaml : {"", "log_level: info\n", "listeners: []\n", "listeners:\n"}) {
    auto errors = Errors(yaml);
    ASSERT_EQ(errors.size(), 1u) << "'" << yaml << "'\n" << Dump(errors);
    EXPECT_EQ(errors[0].key, "listeners");
    EXPECT_THAT(errors[0].message, HasSubstr("no listener"));
  }
}

TEST(ConfigTest, YamlSyntaxErrorWithItsLine) {
  auto errors = Errors(R"(log_level: info
listeners:
  - name: a
    type: syslog_tcp
    port: [5514
metrics:
  port: 9102
)");
  ASSERT_EQ(errors.size(), 1u) << Dump(errors);
  EXPECT_GE(errors[0].location.line, 5) << errors[0].ToString();
  EXPECT_LE(errors[0].location.line, 6) << errors[0].ToString();
  EXPECT_FALSE(errors[0].message.empty());

  auto tab = Errors("listeners:\n  - name: a\n\t port: 1\n");
  ASSERT_EQ(tab.size(), 1u) << Dump(tab);
  EXPECT_EQ(tab[0].location.line, 3) << tab[0].ToString();

  auto quote = Errors("log_level: info\ntimezone: \"UTC\nlisteners: []\n");
  ASSERT_EQ(quote.size(), 1u) << Dump(quote);
  EXPECT_GE(quote[0].location.line, 2) << quote[0].ToString();
}

TEST(ConfigTest, AllErrorsAreReportedAtOnce) {
  auto errors = Errors(R"(log_level: loud
timezone: Mars
agencies:
  - name: unknown
    cidrs: [300.0.0.0/8]
listeners:
  - name: a
    type: syslog_tcp
    port: 99999
    colour: blue
  - name: a
    type: syslog_tcp
    port: 5515
    idle_timeout: forever
pipeline:
  queue_events: 1
)");
  EXPECT_NE(Find(errors, "log_level"), nullptr);
  EXPECT_NE(Find(errors, "timezone"), nullptr);
  EXPECT_NE(Find(errors, "agencies[0].name"), nullptr);
  EXPECT_NE(Find(errors, "agencies[0].cidrs[0]"), nullptr);
  EXPECT_NE(Find(errors, "listeners[0].port"), nullptr);
  EXPECT_NE(Find(errors, "listeners[0].colour"), nullptr);
  EXPECT_NE(Find(errors, "listeners[1].name"), nullptr);
  EXPECT_NE(Find(errors, "listeners[1].idle_timeout"), nullptr);
  EXPECT_NE(Find(errors, "pipeline.queue_events"), nullptr);
  EXPECT_GE(errors.size(), 9u) << Dump(errors);
  // Each error's line is where its key is.
  EXPECT_EQ(Find(errors, "listeners[0].colour")->location.line, 10);
  EXPECT_EQ(Find(errors, "listeners[1].idle_timeout")->location.line, 14);
  EXPECT_EQ(Find(errors, "pipeline.queue_events")->location.line, 16);
}

TEST(ConfigTest, ListenerChecksUseTheRightIndexAfterAnInvalidListener) {
  // listeners[0] is not a mapping; the duplicate is listeners[2], and the
  // error must name it (and its line), not listeners[1].
  auto errors = Errors(R"(listeners:
  - oops
  - name: a
    type: syslog_tcp
    port: 5514
  - name: a
    type: syslog_tcp
    port: 5515
)");
  ExpectError(errors, "listeners[0]", 2, "mapping");
  ExpectError(errors, "listeners[2].name", 6, "duplicate listener name");
  EXPECT_EQ(Find(errors, "listeners[1].name"), nullptr) << Dump(errors);
}

// Config errors are the one Diagnostic type: file:line:column, key, message.
TEST(ConfigTest, ErrorToString) {
  ConfigError error{Severity::kError,    "config.key",     {"/etc/gsoc.yaml", 12, 9}, "",
                    "listeners[0].port", "must be 0-65535"};
  EXPECT_EQ(error.ToString(), "/etc/gsoc.yaml:12:9: listeners[0].port: must be 0-65535");
  ConfigError no_line{Severity::kError,      "config.file", {"/etc/gsoc.yaml"}, "", "",
                      "cannot open the file"};
  EXPECT_EQ(no_line.ToString(), "/etc/gsoc.yaml: cannot open the file");
  ConfigError warning{Severity::kWarning,       "sigma.pcre2_fallback", {"r.yml", 3, 5}, "r-1", "",
                      "regex 'x' runs in PCRE2"};
  EXPECT_EQ(warning.ToString(), "r.yml:3:5: warning: rule r-1: regex 'x' runs in PCRE2");
}

// The column of a config error points at the offending value.
TEST(ConfigTest, ErrorsCarryTheColumn) {
  const auto errors = Errors("listeners:\n  - {name: a, type: syslog_tcp, port: 99999}\n");
  const ConfigError* error = Find(errors, "listeners[0].port");
  ASSERT_NE(error, nullptr) << Dump(errors);
  EXPECT_EQ(error->location.line, 2);
  EXPECT_EQ(error->location.column, 39);  // the 1-based column of 99999
  EXPECT_EQ(error->code, "config.key");
}

TEST(ConfigTest, LoadConfigOnAMissingFile) {
  const std::filesystem::path missing = "/nonexistent/dir/gsoc.yaml";
  ConfigResult result = LoadConfig(missing);
  auto* errors = std::get_if<std::vector<ConfigError>>(&result);
  ASSERT_NE(errors, nullptr);
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].location.file, missing.string());
  EXPECT_EQ((*errors)[0].location.line, 0);
  EXPECT_THAT((*errors)[0].message, HasSubstr("cannot open"));
}

}  // namespace
}  // namespace gsoc
