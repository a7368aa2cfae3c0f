// The `cluster:` section: defaults, values, every refusal with its line, and
// the refusal of roles this gsocd does not build.
#include "engine/cluster/cluster_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "engine/config/config.h"
#include "tests/engine/config/config_test_util.h"

namespace gsoc {
namespace {

using namespace config_test;  // NOLINT
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kListener[] = "listeners: [{name: a, type: syslog_tcp, port: 1}]\n";

// Reads `yaml`'s cluster section alone (as the registered section does,
// without refusing roles); files are taken from `dir`.
struct Read {
  ClusterConfig config;
  std::vector<ConfigError> errors;
};
Read ReadSection(const std::string& yaml, const std::filesystem::path& dir = "/") {
  ConfigReader reader(kFile.string(), dir);
  Read out;
  const YAML::Node root = YAML::Load(yaml);
  ReadClusterConfig(reader, root["cluster"], out.config);
  out.errors = reader.errors();
  return out;
}

TEST(ClusterConfigTest, AbsentSectionIsASingleNode) {
  Config config = Parse(kListener);
  EXPECT_FALSE(config.cluster.enabled);
  EXPECT_TRUE(config.cluster.servers.empty());
  EXPECT_EQ(config.cluster.replicas, 3);
  EXPECT_EQ(config.cluster.roles.size(), kClusterRoleCount);
}

TEST(ClusterConfigTest, DefaultsWithOnlyServers) {
  Read read = ReadSection("cluster: {servers: [nats://127.0.0.1:4222]}\n");
  ASSERT_TRUE(read.errors.empty()) << Dump(read.errors);
  EXPECT_TRUE(read.config.enabled);
  EXPECT_EQ(read.config.servers, std::vector<std::string>{"nats://127.0.0.1:4222"});
  EXPECT_EQ(read.config.replicas, 3);
  EXPECT_EQ(read.config.partitions, 16u);
  for (ClusterRole role :
       {ClusterRole::kIngest, ClusterRole::kDetect, ClusterRole::kCorrelate, ClusterRole::kStore}) {
    EXPECT_TRUE(read.config.HasRole(role)) << ClusterRoleName(role);
  }
  EXPECT_FALSE(read.config.tls.enabled());
  EXPECT_TRUE(read.config.credentials.empty());
}

TEST(ClusterConfigTest, ValuesAreRead) {
  const std::filesystem::path dir = testing::TempDir() + "/cluster_config_values";
  std::filesystem::create_directories(dir);
  for (const char* name : {"node.creds", "ca.pem", "client.pem", "client.key"}) {
    std::ofstream(dir / name) << "x";
  }
  Read read = ReadSection(R"(cluster:
  servers: ["nats://10.0.0.1:4222", "tls://[::1]:4223", "nats://nats-3.example:4222"]
  credentials: node.creds
  tls: {ca: ca.pem, certificate: client.pem, private_key: client.key}
  replicas: 5
  partitions: 128
  roles: [detect, correlate]
  max_batch_bytes: 256KiB
  max_inflight_batches: 8
  compression: none
)",
                          dir);
  ASSERT_TRUE(read.errors.empty()) << Dump(read.errors);
  EXPECT_EQ(read.config.servers.size(), 3u);
  EXPECT_EQ(read.config.servers[1], "tls://[::1]:4223");
  EXPECT_EQ(read.config.credentials, dir / "node.creds");
  EXPECT_EQ(read.config.tls.ca, dir / "ca.pem");
  EXPECT_EQ(read.config.tls.private_key, dir / "client.key");
  EXPECT_EQ(read.config.replicas, 5);
  EXPECT_EQ(read.config.partitions, 128u);
  EXPECT_EQ(read.config.roles,
            (std::vector<ClusterRole>{ClusterRole::kDetect, ClusterRole::kCorrelate}));
  EXPECT_EQ(read.config.max_batch_bytes, 256u * 1024);
  EXPECT_EQ(read.config.max_inflight_batches, 8u);
  EXPECT_FALSE(read.config.compress);
}

TEST(ClusterConfigTest, BadServersAreRefusedWithTheirLine) {
  Read read = ReadSection(R"(cluster:
  servers:
    - nats://127.0.0.1:4222
    - http://127.0.0.1:4222
    - nats://user:secret@host:4222
    - nats://host:0
    - nats://127.0.0.1:4222
    - nats://host
)");
  ExpectError(read.errors, "cluster.servers[1]", 4, "scheme must be nats or tls");
  ExpectError(read.errors, "cluster.servers[2]", 5, "credentials belong in credentials/nkey");
  ExpectError(read.errors, "cluster.servers[3]", 6, "port must be 1-65535");
  ExpectError(read.errors, "cluster.servers[4]", 7, "listed twice");
  ExpectError(read.errors, "cluster.servers[5]", 8, "expected host:port");
  EXPECT_EQ(read.errors.size(), 5u) << Dump(read.errors);
}

TEST(ClusterConfigTest, MissingServersAndUnknownKeysAreRefused) {
  Read read = ReadSection("cluster:\n  replica: 3\n");
  ExpectError(read.errors, "cluster.replica", 2, "unknown key");
  read = ReadSection("cluster:\n  partitions: 8\n");
  ExpectError(read.errors, "cluster.servers", 2, "at least one");
}

TEST(ClusterConfigTest, NumbersOutOfRangeAreRefused) {
  Read read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  replicas: 6
  partitions: 0
  max_batch_bytes: 2MiB
  max_inflight_batches: 0
  compression: gzip
)");
  ExpectError(read.errors, "cluster.replicas", 3, "from 1 to 5");
  ExpectError(read.errors, "cluster.partitions", 4, "from 1 to 4096");
  ExpectError(read.errors, "cluster.max_batch_bytes", 5, "to 1044480");
  ExpectError(read.errors, "cluster.max_inflight_batches", 6, "from 1");
  ExpectError(read.errors, "cluster.compression", 7, "expected lz4 or none");
  EXPECT_EQ(read.config.replicas, 3);
  EXPECT_TRUE(read.config.compress);  // the default, kept
}

TEST(ClusterConfigTest, LeaseTtlAndTakeoverHaveDefaultsAndAreRead) {
  Read read = ReadSection("cluster: {servers: [nats://a:1]}\n");
  ASSERT_TRUE(read.errors.empty()) << Dump(read.errors);
  EXPECT_EQ(read.config.lease_ttl, std::chrono::seconds(6));
  EXPECT_EQ(read.config.takeover, std::chrono::seconds(10));
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  lease_ttl_seconds: 3
  takeover_seconds: 1m
)");
  ASSERT_TRUE(read.errors.empty()) << Dump(read.errors);
  EXPECT_EQ(read.config.lease_ttl, std::chrono::seconds(3));
  EXPECT_EQ(read.config.takeover, std::chrono::seconds(60));
  // takeover exactly lease_ttl + 2 s is enough.
  read = ReadSection(
      "cluster: {servers: [nats://a:1], lease_ttl_seconds: 8s, takeover_seconds: 10}\n");
  EXPECT_TRUE(read.errors.empty()) << Dump(read.errors);
}

TEST(ClusterConfigTest, LeaseTimesOutOfRangeAreRefusedWithTheirLine) {
  Read read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  lease_ttl_seconds: 1
)");
  ExpectError(read.errors, "cluster.lease_ttl_seconds", 3, "expected 2s to 300s");
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  lease_ttl_seconds: 10m
)");
  ExpectError(read.errors, "cluster.lease_ttl_seconds", 3, "expected 2s to 300s");
  // The default takeover (10 s) does not leave room above a 9 s TTL: the
  // error points at the TTL.
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  lease_ttl_seconds: 9
)");
  ExpectError(read.errors, "cluster.takeover_seconds", 3, "lease_ttl_seconds + 2s (11s)");
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  takeover_seconds: 7
)");
  ExpectError(read.errors, "cluster.takeover_seconds", 3, "lease_ttl_seconds + 2s (8s) to 600s");
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  takeover_seconds: 11m
)");
  ExpectError(read.errors, "cluster.takeover_seconds", 3, "to 600s");
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  takeover_seconds: soon
)");
  ExpectError(read.errors, "cluster.takeover_seconds", 3, "expected a duration");
  EXPECT_EQ(read.errors.size(), 1u) << Dump(read.errors);
}

TEST(ClusterConfigTest, BadRolesAreRefused) {
  Read read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  roles: [ingest, ingest, archive]
)");
  ExpectError(read.errors, "cluster.roles[1]", 3, "listed twice");
  ExpectError(read.errors, "cluster.roles[2]", 3, "unknown role 'archive'");
  read = ReadSection("cluster:\n  servers: [nats://a:1]\n  roles: []\n");
  ExpectError(read.errors, "cluster.roles", 3, "expected a list");
}

TEST(ClusterConfigTest, AuthAndTlsMustBeWhole) {
  Read read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  nkey: UABC
  tls: {ca: /nonexistent/ca.pem}
)");
  ExpectError(read.errors, "cluster.nkey", 2, "go together");
  ExpectError(read.errors, "cluster.tls.ca", 4, "");
  const std::filesystem::path dir = testing::TempDir() + "/cluster_config_auth";
  std::filesystem::create_directories(dir);
  for (const char* name : {"a.creds", "seed", "cert.pem"}) std::ofstream(dir / name) << "x";
  read = ReadSection(R"(cluster:
  servers: [nats://a:1]
  credentials: a.creds
  nkey: UABC
  nkey_seed: seed
  tls: {certificate: cert.pem}
)",
                     dir);
  ExpectError(read.errors, "cluster.credentials", 2, "not both");
  ExpectError(read.errors, "cluster.tls", 6, "needs both certificate and private_key");
}

// No stubs: a role this gsocd cannot run is refused at load, by name; each
// built role loads with what it needs (rules for detect; no aggregation on
// detect and store nodes; listeners only on ingest nodes).
TEST(ClusterConfigTest, RolesNotBuiltAreRefusedAtLoad) {
  const std::vector<ClusterRole> built = BuiltClusterRoles();
  EXPECT_EQ(built, (std::vector<ClusterRole>{ClusterRole::kIngest, ClusterRole::kDetect,
                                             ClusterRole::kCorrelate, ClusterRole::kStore}));
  for (size_t i = 0; i < kClusterRoleCount; ++i) {
    const auto role = static_cast<ClusterRole>(i);
    const std::string name(ClusterRoleName(role));
    const std::string yaml = std::string(kListener) +
                             "cluster:\n  servers: [nats://127.0.0.1:4222]\n  roles: [" + name +
                             "]\n";
    const bool is_built = std::find(built.begin(), built.end(), role) != built.end();
    if (is_built) {
      std::string valid = "cluster:\n  servers: [nats://127.0.0.1:4222]\n  roles: [" + name + "]\n";
      if (role == ClusterRole::kIngest) valid = std::string(kListener) + valid;
      if (role == ClusterRole::kDetect || role == ClusterRole::kCorrelate) {
        valid = "rules: {sigma: []}\n" + valid;
      }
      ConfigResult result = ParseConfig(valid, kFile);
      EXPECT_TRUE(std::holds_alternative<Config>(result)) << name << "\n" << Dump(Errors(valid));
      continue;
    }
    std::vector<ConfigError> errors = Errors(yaml);
    EXPECT_NE(Dump(errors).find(":4:10: cluster.roles: role '" + name + "' is not built yet"),
              std::string::npos)
        << Dump(errors);
  }
}

TEST(ClusterConfigTest, ADetectNodeNeedsRulesAndAggregatesThroughTheCluster) {
  std::vector<ConfigError> errors = Errors(R"(cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [detect]
)");
  EXPECT_THAT(Dump(errors),
              HasSubstr(":3:10: cluster.roles: the detect role needs a rules section"));
  // Aggregation (on by default) runs in a cluster: no refusal on any role.
  EXPECT_THAT(Dump(errors), Not(HasSubstr("alerts.aggregate")));
  for (const char* roles : {"[store]", "[detect, correlate, store]", "[correlate]"}) {
    const std::string rules = std::string(roles) == "[store]" ? "" : "rules: {sigma: []}\n";
    const std::string yaml = rules + "alerts: {aggregate: {period: 5m}}\n" +
                             "cluster:\n  servers: [nats://127.0.0.1:4222]\n  roles: " + roles +
                             "\n";
    const Config aggregating = Parse(yaml);
    EXPECT_TRUE(aggregating.alerts.aggregate.enabled) << roles;
  }
  Config config = Parse(R"(rules: {sigma: []}
alerts: {aggregate: {enabled: false}}
cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [detect, store]
  detect_consumers: 3
  listeners: [tcp, udp]
)");
  EXPECT_EQ(config.cluster.detect_consumers, 3u);
  EXPECT_EQ(DetectConsumerThreads(config.cluster), 3u);
  // Unset: one per core, at least two (one waits for acknowledgements).
  config.cluster.detect_consumers = 0;
  EXPECT_EQ(DetectConsumerThreads(config.cluster),
            std::max<size_t>(2, std::min<size_t>(std::thread::hardware_concurrency(), 64)));
  EXPECT_GE(DetectConsumerThreads(config.cluster), 2u);
  EXPECT_EQ(config.cluster.listeners, (std::vector<std::string>{"tcp", "udp"}));
}

TEST(ClusterConfigTest, ACorrelateNodeNeedsRules) {
  std::vector<ConfigError> errors = Errors(R"(cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [correlate]
)");
  EXPECT_THAT(Dump(errors),
              HasSubstr(":3:10: cluster.roles: the correlate role needs a rules section"));
  EXPECT_THAT(Dump(errors), Not(HasSubstr("alerts.aggregate")));
  Config config = Parse(R"(rules: {sigma: []}
alerts: {aggregate: {enabled: false}}
cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [correlate]
  checkpoint_interval: 2s
)");
  EXPECT_EQ(config.cluster.checkpoint_interval, std::chrono::seconds(2));
  EXPECT_EQ(Parse(R"(rules: {sigma: []}
alerts: {aggregate: {enabled: false}}
cluster: {servers: [nats://127.0.0.1:4222], roles: [correlate]}
)")
                .cluster.checkpoint_interval,
            std::chrono::seconds(10));
  errors = Errors(R"(rules: {sigma: []}
alerts: {aggregate: {enabled: false}}
cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [correlate]
  checkpoint_interval: 2h
)");
  EXPECT_THAT(Dump(errors), HasSubstr(":6:24: cluster.checkpoint_interval: expected 100ms to 1h"));
}

TEST(ClusterConfigTest, ListenerNamesMustMatchAnIngestNodesListeners) {
  std::vector<ConfigError> errors = Errors(std::string(kListener) + R"(cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [ingest]
  listeners: [b]
)");
  ExpectError(errors, "cluster.listeners", 5, "differs from this node's listeners");
  Read read = ReadSection("cluster: {servers: [nats://a:1], detect_consumers: 65}\n");
  ExpectError(read.errors, "cluster.detect_consumers", 1, "");
}

TEST(ClusterConfigTest, AnIngestNodeLoads) {
  Config config = Parse(std::string(kListener) + R"(cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [ingest]
  node: ingest-1
  stream_max_bytes: 1GiB
)");
  EXPECT_TRUE(config.cluster.enabled);
  EXPECT_EQ(config.cluster.node, "ingest-1");
  EXPECT_EQ(config.cluster.stream_max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(config.cluster.roles, std::vector<ClusterRole>{ClusterRole::kIngest});
}

TEST(ClusterConfigTest, NodeNameDefaultsToTheHostnameAndIsChecked) {
  Read read = ReadSection("cluster: {servers: [nats://a:1]}\n");
  EXPECT_FALSE(read.config.node.empty());
  read = ReadSection("cluster:\n  servers: [nats://a:1]\n  node: \"a b/c\"\n");
  ExpectError(read.errors, "cluster.node", 3, "1-64 letters, digits");
}

// Nothing configured is silently ignored: rules need a detect node,
// listeners an ingest node.
TEST(ClusterConfigTest, SectionsWithoutTheirRoleAreRefused) {
  std::vector<ConfigError> errors = Errors(std::string(kListener) + R"(rules: {sigma: []}
cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [ingest]
)");
  ExpectError(errors, "cluster.roles", 5,
              "rules are configured but this node has neither the detect nor the correlate role");
  errors = Errors(std::string(kListener) + R"(cluster:
  servers: [nats://127.0.0.1:4222]
  roles: [store]
)");
  EXPECT_NE(Dump(errors).find("listeners are configured but this node has no ingest role"),
            std::string::npos)
      << Dump(errors);
}

TEST(ClusterConfigTest, ErrorsNameTheFile) {
  std::vector<ConfigError> errors = Errors(std::string(kListener) + "cluster: {servers: [x]}\n");
  const ConfigError* error = Find(errors, "cluster.servers[0]");
  ASSERT_NE(error, nullptr) << Dump(errors);
  EXPECT_THAT(error->ToString(), HasSubstr("/etc/gsoc/gsoc.yaml:2:21: cluster.servers[0]"));
}

}  // namespace
}  // namespace gsoc
