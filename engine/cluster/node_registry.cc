#include "engine/cluster/node_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "engine/metrics/metrics_server.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long Start waits for the bucket while the cluster has no leader (as
// the lease manager does).
constexpr milliseconds kOpenBucketWait{15000};
constexpr std::string_view kHeader = "gsoc-node 1";
constexpr size_t kMaxLines = 64;  // header, the seven fields, and room for newer ones

// Text up to its first line break, at most `bound` bytes.
std::string_view Field(std::string_view text, size_t bound) {
  text = text.substr(0, text.find_first_of("\r\n"));
  return text.substr(0, bound);
}

void AppendField(std::string& out, std::string_view name, std::string_view value, size_t bound) {
  value = Field(value, bound);
  if (value.empty()) return;
  out.append("\n").append(name).append(" ").append(value);
}

}  // namespace

std::string EncodeNodeRecord(const NodeRecord& record) {
  std::string out(kHeader);
  AppendField(out, "node", record.node, kMaxNodeNameBytes);
  std::string roles;
  size_t written = 0;
  for (const std::string& role : record.roles) {
    const std::string_view text = Field(role, kMaxNodeFieldBytes);
    if (text.empty() || text.find(',') != std::string_view::npos) continue;  // unreadable
    // Whole roles only: one cut at the bound would read as another role.
    if (written == kMaxNodeRoles || roles.size() + 1 + text.size() > kMaxNodeFieldBytes) break;
    ++written;
    if (!roles.empty()) roles += ",";
    roles += text;
  }
  AppendField(out, "roles", roles, kMaxNodeFieldBytes);
  AppendField(out, "version", record.version, kMaxNodeFieldBytes);
  AppendField(out, "started", std::to_string(std::max<int64_t>(0, record.started_unix_s)),
              kMaxNodeFieldBytes);
  AppendField(out, "incarnation", record.incarnation, kMaxNodeFieldBytes);
  AppendField(out, "api", record.api, kMaxNodeFieldBytes);
  AppendField(out, "metrics", record.metrics, kMaxNodeFieldBytes);
  return out;
}

bool ParseNodeRecord(std::string_view value, NodeRecord* out, const char** reason) {
  auto fail = [reason](const char* why) {
    *reason = why;
    return false;
  };
  if (value.size() > kMaxNodeRecordBytes) return fail("larger than 1024 bytes");
  *out = NodeRecord();
  size_t lines = 0;
  uint32_t seen = 0;  // bit per known field: each at most once
  bool header = false;
  while (!value.empty()) {
    const size_t end = value.find('\n');
    const std::string_view line = value.substr(0, end);
    value = end == std::string_view::npos ? std::string_view() : value.substr(end + 1);
    if (++lines > kMaxLines) return fail("more than 64 lines");
    if (!header) {
      if (line != kHeader) return fail("not a gsoc-node 1 record");
      header = true;
      continue;
    }
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) return fail("a line is not <field> <value>");
    const std::string_view name = line.substr(0, space);
    const std::string_view text = line.substr(space + 1);
    static constexpr std::string_view kFields[] = {"node",        "roles", "version", "started",
                                                   "incarnation", "api",   "metrics"};
    const auto* known = std::find(std::begin(kFields), std::end(kFields), name);
    if (known == std::end(kFields)) continue;  // a newer gsocd's field
    const uint32_t bit = 1u << (known - std::begin(kFields));
    if ((seen & bit) != 0) return fail("a field appears twice");
    seen |= bit;
    if (name == "node") {
      if (text.empty() || text.size() > kMaxNodeNameBytes) return fail("node name of 1-64 bytes");
      out->node = text;
      continue;
    }
    if (text.size() > kMaxNodeFieldBytes) return fail("a field longer than 128 bytes");
    if (name == "roles") {
      std::string_view rest = text;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view role = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (role.empty()) return fail("an empty role");
        if (out->roles.size() == kMaxNodeRoles) return fail("more than 8 roles");
        out->roles.emplace_back(role);
      }
    } else if (name == "version") {
      out->version = text;
    } else if (name == "started") {
      int64_t started = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), started);
      if (ec != std::errc() || ptr != text.data() + text.size() || started < 0) {
        return fail("started is not a count of seconds");
      }
      out->started_unix_s = started;
    } else if (name == "incarnation") {
      out->incarnation = text;
    } else if (name == "api") {
      out->api = text;
    } else {
      out->metrics = text;
    }
  }
  if (!header) return fail("empty");
  if (out->node.empty()) return fail("no node name");
  return true;
}

std::string NodeKey(std::string_view node) {
  return std::string(kNodeKeyPrefix) + std::string(node);
}

KvBucketSpec NodesBucketSpec(milliseconds lease_ttl, int replicas) {
  KvBucketSpec spec;
  spec.name = std::string(kNodesBucket);
  spec.ttl = lease_ttl;
  spec.max_bytes = kNodesBucketBytes;
  spec.max_value_bytes = static_cast<int32_t>(kMaxNodeRecordBytes);
  spec.replicas = replicas;
  spec.request_timeout = KvRequestTimeout(lease_ttl);
  return spec;
}

NodeRegistryOptions NodeRegistryOptions::FromConfig(const ClusterConfig& config) {
  NodeRegistryOptions options;
  options.record.node = config.node;
  for (ClusterRole role : config.roles) {
    options.record.roles.emplace_back(ClusterRoleName(role));
  }
  options.record.version = GSOC_VERSION;
  options.record.started_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
  options.record.incarnation = KvIncarnation();
  options.lease_ttl = config.lease_ttl;
  options.replicas = config.replicas;
  return options;
}

// ---------------------------------------------------------------------------

NodeRegistry::NodeRegistry(NodeRegistryOptions options)
    : options_(std::move(options)),
      key_(NodeKey(options_.record.node)),
      value_(EncodeNodeRecord(options_.record)) {}

std::unique_ptr<NodeRegistry> NodeRegistry::Start(JetStreamClient& client,
                                                  NodeRegistryOptions options, std::string* error) {
  std::unique_ptr<NodeRegistry> registry(new NodeRegistry(std::move(options)));
  const NodeRegistryOptions& o = registry->options_;
  const milliseconds wait = std::max<milliseconds>(o.lease_ttl, kOpenBucketWait);
  const Clock::time_point deadline = Clock::now() + wait;
  registry->bucket_ = KvBucket::Open(client, NodesBucketSpec(o.lease_ttl, o.replicas), wait, error);
  if (!registry->bucket_) return nullptr;
  // Once before the thread: a node that starts is listed when Start returns.
  // A bucket just created has no leader for a moment ("no responders").
  while (registry->bucket_->Put(registry->key_, registry->value_, nullptr, error) !=
         KvStatus::kOk) {
    if (Clock::now() >= deadline) return nullptr;
    std::this_thread::sleep_for(milliseconds(200));
  }
  registry->puts_.fetch_add(1, std::memory_order_relaxed);
  NodeRegistry* self = registry.get();
  registry->thread_ = std::thread([self] { self->Run(); });
  return registry;
}

NodeRegistry::~NodeRegistry() { Stop(); }

void NodeRegistry::Stop() {
  {
    MutexLock lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeRegistry::AbandonForTest() {
  {
    MutexLock lock(mutex_);
    abandon_ = true;
  }
  Stop();
}

bool NodeRegistry::Put() {
  std::string error;
  if (bucket_->Put(key_, value_, nullptr, &error) == KvStatus::kOk) {
    puts_.fetch_add(1, std::memory_order_relaxed);
    last_error_.clear();
    return true;
  }
  put_failures_.fetch_add(1, std::memory_order_relaxed);
  if (error != last_error_) {
    spdlog::warn("cluster: node registry put of {} failed: {}", options_.record.node, error);
    last_error_ = error;
  }
  return false;
}

void NodeRegistry::Run() {
  const milliseconds every = options_.lease_ttl / 4;
  const milliseconds retry = std::min<milliseconds>(every, milliseconds(250));
  Clock::time_point due = Clock::now() + every;
  bool abandon = false;
  while (true) {
    {
      MutexLock lock(mutex_);
      wake_.wait_until(lock, due, [this]() GSOC_REQUIRES(mutex_) { return stop_; });
      if (stop_) {
        abandon = abandon_;
        break;
      }
    }
    const Clock::time_point sent = Clock::now();
    due = Put() ? sent + every : Clock::now() + retry;
  }
  if (abandon) return;
  std::string error;
  if (bucket_->Purge(key_, &error) != KvStatus::kOk) {
    spdlog::warn("cluster: {} could not remove itself from {}: {}", options_.record.node,
                 kNodesBucket, error);
  }
}

NodeRegistry::Counters NodeRegistry::counters() const {
  Counters out;
  out.puts = puts_.load(std::memory_order_relaxed);
  out.put_failures = put_failures_.load(std::memory_order_relaxed);
  return out;
}

std::shared_ptr<prometheus::Collectable> NodeRegistry::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    const Counters c = counters();
    return std::vector<prometheus::MetricFamily>{
        CounterSample("gsoc_cluster_node_registry_puts_total",
                      "Heartbeats of this node written to GSOC_NODES", c.puts),
        CounterSample("gsoc_cluster_node_registry_put_failures_total",
                      "Heartbeats to GSOC_NODES that got no acknowledgement (tried again)",
                      c.put_failures),
    };
  });
}

}  // namespace gsoc
