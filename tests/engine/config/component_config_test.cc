// The sections components read and register themselves: store, api,
// webhooks, TLS listeners, rules, cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/syslog_tls/tls_config.h"
#include "engine/config/config.h"
#include "engine/config/config_registry.h"
#include "tests/engine/config/config_test_util.h"

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;

TEST(ConfigTest, StoreApiAndWebhookDefaults) {
  Config config = Parse("listeners: [{name: a, type: syslog_tcp, port: 1}]\n");
  EXPECT_EQ(config.store.path, config.data_dir / "alerts.db");
  EXPECT_EQ(config.store.sync, "batch");
  EXPECT_EQ(config.store.retention_age, std::chrono::hours(90 * 24));
  EXPECT_EQ(config.store.retention_bytes, 0u);
  EXPECT_TRUE(config.api.enabled);
  EXPECT_EQ(config.api.address, "127.0.0.1");
  EXPECT_EQ(config.api.port, 8080);
  EXPECT_TRUE(config.api.tokens.empty());
  EXPECT_EQ(config.api.token_file, config.data_dir / "api-token");
  EXPECT_TRUE(config.api.tls_certificate.empty());
  EXPECT_EQ(config.api.max_streams, 64u);
  EXPECT_TRUE(config.alerts.file_enabled);
  EXPECT_TRUE(config.alerts.webhook.url.empty());
}

TEST(ConfigTest, StoreApiAndWebhookValuesAreRead) {
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
store:
  path: db
  sync: always
  retention_age: 7d
  retention_size: 10GiB
api:
  address: "::1"
  port: 0
  tokens: [0123456789abcdef0123]
  token_file: secret/token
  max_streams: 5
  max_request_size: 4KiB
alerts:
  file: false
  webhook:
    url: https://soar.example/hook
    headers: {Authorization: Bearer x}
    max_batch: 10
    retry_max: 30s
    tls_verify: false
)");
  EXPECT_EQ(config.store.path, std::filesystem::path("/etc/gsoc/db"));
  EXPECT_EQ(config.store.sync, "always");
  EXPECT_EQ(config.store.retention_age, std::chrono::hours(7 * 24));
  EXPECT_EQ(config.store.retention_bytes, 10ull << 30);
  EXPECT_EQ(config.api.address, "::1");
  EXPECT_EQ(config.api.port, 0);
  ASSERT_EQ(config.api.tokens.size(), 1u);
  EXPECT_EQ(config.api.token_file, std::filesystem::path("/etc/gsoc/secret/token"));
  EXPECT_EQ(config.api.max_streams, 5u);
  EXPECT_EQ(config.api.max_request_bytes, 4096u);
  EXPECT_FALSE(config.alerts.file_enabled);
  EXPECT_EQ(config.alerts.webhook.url, "https://soar.example/hook");
  ASSERT_EQ(config.alerts.webhook.headers.size(), 1u);
  EXPECT_EQ(config.alerts.webhook.headers[0].second, "Bearer x");
  EXPECT_EQ(config.alerts.webhook.max_batch, 10u);
  EXPECT_EQ(config.alerts.webhook.retry_max, std::chrono::seconds(30));
  EXPECT_FALSE(config.alerts.webhook.tls_verify);
}

TEST(ConfigTest, BadStoreApiAndWebhookValues) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 8080}]
store:
  sync: sometimes
api:
  tokens: [short]
  tls: {certificate: /nonexistent/cert.pem}
alerts:
  webhook: {url: ftp://x}
)");
  ExpectError(errors, "store.sync", 3, "always, batch or none");
  ExpectError(errors, "api.tokens", 5, "at least 16");
  ExpectError(errors, "api.tls.certificate", 6, "no such file");
  ExpectError(errors, "alerts.webhook.url", 8, "http");
  ExpectError(errors, "api.port", 5, "listener 'a'");
}

TEST(ConfigTest, HardeningLimitsAreReadWithSafeDefaults) {
  Config defaults = Parse("listeners: [{name: a, type: syslog_tcp, port: 1}]\n");
  EXPECT_EQ(defaults.metrics.max_connections, 64u);
  EXPECT_EQ(defaults.metrics.request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(defaults.api.request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(defaults.api.max_response_bytes, 4u << 20);
  EXPECT_EQ(defaults.api.stream_write_timeout, std::chrono::seconds(10));
  EXPECT_EQ(defaults.api.live_ring_bytes, 64u << 20);
  EXPECT_EQ(defaults.alerts.webhook.max_queue_bytes, 64u << 20);
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
metrics: {port: 9, max_connections: 8, request_timeout: 2s}
api: {request_timeout: 1500ms, max_response_size: 1MiB, stream_write_timeout: 3s,
      live_ring_size: 8MiB}
alerts:
  webhook: {url: "http://hook.local/x", max_queue_size: 1MiB, headers: {X-Source: gsoc}}
)");
  EXPECT_EQ(config.metrics.max_connections, 8u);
  EXPECT_EQ(config.metrics.request_timeout, std::chrono::seconds(2));
  EXPECT_EQ(config.api.request_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(config.api.max_response_bytes, 1u << 20);
  EXPECT_EQ(config.api.stream_write_timeout, std::chrono::seconds(3));
  EXPECT_EQ(config.api.live_ring_bytes, 8u << 20);
  EXPECT_EQ(config.alerts.webhook.max_queue_bytes, 1u << 20);
}

TEST(ConfigTest, CredentialsOverPlainHttpWebhookAreRefused) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
alerts:
  webhook:
    url: http://soar.example/hook
    headers: {Authorization: Bearer x}
)");
  ExpectError(errors, "alerts.webhook.headers.Authorization", 5, "clear text");
  Config allowed = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
alerts:
  webhook:
    url: http://soar.example/hook
    headers: {Authorization: Bearer x}
    allow_insecure_headers: true
)");
  EXPECT_TRUE(allowed.alerts.webhook.allow_insecure_headers);
}

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;

// syslog_tls: the listener reads its own `tls:` section; agencies may be
// known by certificate names alone.
TEST(ConfigTlsTest, TlsListenerAndCertificateAgenciesAreRead) {
  const auto dir = std::filesystem::temp_directory_path() / "gsoc-config-tls-test";
  std::filesystem::create_directories(dir);
  for (const char* name : {"s.crt", "s.key", "ca.crt", "a.crl"}) {
    std::ofstream(dir / name) << "PEM\n";
  }
  const ConfigResult result = ParseConfig(R"(agencies:
  - {name: mof, certificates: [collector.mof.example, siem.mof.example]}
  - {name: local, cidrs: [127.0.0.0/8]}
listeners:
  - name: tls
    type: syslog_tls
    port: 6514
    tls: {certificate: s.crt, private_key: s.key, client_ca: ca.crt, crl: a.crl,
          handshake_timeout: 2s}
)",
                                          dir / "gsoc.yaml");
  ASSERT_TRUE(std::holds_alternative<Config>(result)) << Dump(std::get<1>(result));
  const Config& config = std::get<Config>(result);
  ASSERT_EQ(config.listeners.size(), 1u);
  const ListenerConfig& tls = config.listeners[0];
  EXPECT_EQ(tls.type, "syslog_tls");
  const TlsListenerConfig* options = TlsOptions(tls);
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->certificate, dir / "s.crt");
  EXPECT_EQ(options->client_ca, dir / "ca.crt");
  EXPECT_EQ(options->crl, dir / "a.crl");
  EXPECT_EQ(options->handshake_timeout, std::chrono::seconds(2));
  EXPECT_TRUE(options->requires_client_certificate());
  EXPECT_EQ(TlsOptions(ListenerConfig{}), nullptr);
  ASSERT_EQ(config.agencies.size(), 2u);
  EXPECT_TRUE(config.agencies[0].cidrs.empty());
  EXPECT_EQ(config.agencies[0].certificates,
            (std::vector<std::string>{"collector.mof.example", "siem.mof.example"}));
  std::filesystem::remove_all(dir);
}

TEST(ConfigTlsTest, TlsMistakesAreReportedWithTheirKeys) {
  const std::string all = Dump(Errors(R"(agencies:
  - {name: a, certificates: [[nested]]}
  - {name: b}
listeners:
  - {name: t1, type: syslog_tls, port: 1}
  - name: t2
    type: syslog_tls
    port: 2
    tls: {certificate: /nonexistent/s.crt, private_key: /nonexistent/s.key, crl: /nonexistent/c.crl,
          handshake_timeout: 1h, ciphers: weak}
  - {name: plain, type: syslog_tcp, port: 3, tls: {certificate: x}}
)"));
  EXPECT_THAT(all, HasSubstr("agencies[0].certificates[0]: expected a certificate subject CN"));
  EXPECT_THAT(all, HasSubstr("agencies[1].cidrs: expected a non-empty list of CIDRs"));
  EXPECT_THAT(all, HasSubstr("listeners[0].tls: missing: a syslog_tls listener needs tls:"));
  EXPECT_THAT(all, HasSubstr("listeners[1].tls.certificate: not a readable file"));
  EXPECT_THAT(all, HasSubstr("listeners[1].tls.private_key: not a readable file"));
  EXPECT_THAT(all, HasSubstr("listeners[1].tls.crl: a CRL needs client_ca"));
  EXPECT_THAT(all, HasSubstr("listeners[1].tls.handshake_timeout: expected a duration"));
  EXPECT_THAT(all, HasSubstr("listeners[1].tls.ciphers: unknown key"));
  EXPECT_THAT(all, HasSubstr("listeners[2].tls: unknown key"));
}

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;

TEST(ConfigTest, RuleSelectionByStatusAndLevel) {
  const Config config = Parse(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
rules:
  status: [stable, test]
  min_level: medium
)");
  EXPECT_EQ(config.rules.status, (std::vector<std::string>{"stable", "test"}));
  EXPECT_EQ(config.rules.min_level, "medium");
  auto errors = Errors(R"(listeners:
  - {name: a, type: syslog_tcp, port: 5514}
rules:
  status: [stable, beta]
  min_level: urgent
)");
  ExpectError(errors, "rules.status", 4,
              "unknown status 'beta' (stable, test, experimental, deprecated, unsupported)");
  ExpectError(errors, "rules.min_level", 5,
              "unknown level 'urgent' (informational, low, medium, high, critical)");
}

TEST(ConfigTest, CasesAutoRulesAreRead) {
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
cases:
  auto:
    - {name: by-src, entity: src_ip, window: 30m, min_level: high}
    - {name: by-user, entity: user}
)");
  ASSERT_EQ(config.cases.auto_rules.size(), 2u);
  const AutoCaseConfig& first = config.cases.auto_rules[0];
  EXPECT_EQ(first.name, "by-src");
  EXPECT_EQ(first.entity, "src_ip");
  EXPECT_EQ(first.window, std::chrono::minutes(30));
  EXPECT_EQ(first.min_level, "high");
  EXPECT_EQ(config.cases.auto_rules[1].window, std::chrono::hours(1));
  EXPECT_EQ(config.cases.auto_rules[1].min_level, "informational");
}

TEST(ConfigTest, BadCasesValues) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
cases:
  auto:
    - {name: x, window: forever, min_level: urgent}
    - {name: x, entity: host, colour: red}
)");
  ExpectError(errors, "cases.auto[0].entity", 4, "missing");
  ExpectError(errors, "cases.auto[0].window", 4, "duration");
  ExpectError(errors, "cases.auto[0].min_level", 4, "expected informational");
  ExpectError(errors, "cases.auto[1].colour", 5, "unknown");
}

}  // namespace
}  // namespace gsoc

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;

TEST(ConfigTest, RoutedWebhooksAndAuditBoundsAreRead) {
  Config config = Parse(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
api:
  audit_max_entries: 500
  audit_max_size: 1MiB
alerts:
  webhook:
    url: https://soc.example/all
  webhooks:
    - name: mof
      url: https://mof.example/hook
      match: {agencies: [mof], min_level: high, tags: [attack.t1110]}
    - url: https://moh.example/hook
      match: {agencies: [moh, moj]}
)");
  EXPECT_EQ(config.api.audit_max_entries, 500u);
  EXPECT_EQ(config.api.audit_max_bytes, 1u << 20);
  EXPECT_EQ(config.api.auth_db, config.data_dir / "auth.db");
  EXPECT_EQ(config.alerts.webhook.url, "https://soc.example/all");
  EXPECT_TRUE(config.alerts.webhook.match.agencies.empty());
  ASSERT_EQ(config.alerts.webhooks.size(), 2u);
  EXPECT_EQ(config.alerts.webhooks[0].name, "mof");
  EXPECT_EQ(config.alerts.webhooks[0].match.agencies, std::vector<std::string>{"mof"});
  EXPECT_EQ(config.alerts.webhooks[0].match.min_level, "high");
  EXPECT_EQ(config.alerts.webhooks[0].match.tags, std::vector<std::string>{"attack.t1110"});
  EXPECT_EQ(config.alerts.webhooks[1].name, "webhook-1");
  EXPECT_EQ(config.alerts.webhooks[1].match.agencies, (std::vector<std::string>{"moh", "moj"}));
}

TEST(ConfigTest, BadRoutedWebhooks) {
  auto errors = Errors(R"(listeners: [{name: a, type: syslog_tcp, port: 1}]
alerts:
  webhooks:
    - {name: x, url: https://a.example/, match: {min_level: severe}}
    - {name: x, url: https://b.example/, match: {agencies: mof}}
    - {url: https://c.example/, match: {tags: [t], colour: red}}
)");
  ExpectError(errors, "alerts.webhooks[0].match.min_level", 4, "expected informational");
  ExpectError(errors, "alerts.webhooks[1].name", 5, "another webhook is named x");
  ExpectError(errors, "alerts.webhooks[1].match.agencies", 5, "list of strings");
  ExpectError(errors, "alerts.webhooks[2].match.colour", 6, "unknown");
}

}  // namespace
}  // namespace gsoc
