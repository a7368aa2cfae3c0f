#include "engine/cluster/cluster_status.h"

#include <nats/nats.h>

#include <algorithm>
#include <charconv>

#include "engine/cluster/jetstream_kv.h"
#include "engine/cluster/nats_status.h"
#include "engine/cluster/partition_leases.h"

namespace gsoc {
namespace {

using cluster_internal::NatsStatusText;

constexpr std::string_view kMemberPrefix = "member.";
constexpr std::string_view kPartitionPrefix = "partition.";
constexpr size_t kMaxIncarnationBytes = 64;
constexpr size_t kMaxNameBytes = 256;  // names the server hands us (streams' peers, consumers)

int64_t NowUnixNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t AgeMs(int64_t created_unix_ns) {
  return std::max<int64_t>(0, (NowUnixNs() - created_unix_ns) / 1'000'000);
}

std::string Bounded(const char* text) {
  if (text == nullptr) return {};
  return std::string(std::string_view(text).substr(0, kMaxNameBytes));
}

void Problem(ClusterStatus* out, std::string text) {
  if (out->problems.size() < kMaxStatusProblems) {
    out->problems.push_back(std::move(text));
  } else {
    out->truncated = true;
  }
}

// The current values of `keys`; a key deleted, or expired since it was
// listed, is skipped. False with `error` when the bucket does not answer.
bool ReadValues(KvBucket& bucket, const std::vector<std::string>& keys, std::vector<KvEntry>* out,
                std::string* error) {
  for (const std::string& key : keys) {
    KvEntry entry;
    const KvStatus status = bucket.Get(key, &entry, error);
    if (status == KvStatus::kNotFound) continue;
    if (status != KvStatus::kOk) return false;
    out->push_back(std::move(entry));
  }
  return true;
}

// The current values of the keys matching `filter`, at most `max`. The keys
// come from the stream's subject list, then each is read: nodes heartbeat
// while this runs, and a watch's initial values can then show a key twice
// or miss one whose old revision was replaced before it was delivered.
bool ReadEntries(KvBucket& bucket, std::string_view filter, size_t max, std::vector<KvEntry>* out,
                 bool* truncated, std::string* error) {
  std::vector<std::string> keys;
  if (bucket.Keys(filter, max, &keys, truncated, error) != KvStatus::kOk) return false;
  std::sort(keys.begin(), keys.end());
  return ReadValues(bucket, keys, out, error);
}

void ReadNodes(JetStreamClient& client, const ClusterStatusOptions& options, ClusterStatus* out) {
  KvStatus status = KvStatus::kOk;
  std::string error;
  std::unique_ptr<KvBucket> bucket =
      KvBucket::Bind(client, kNodesBucket, options.timeout, &status, &error);
  if (!bucket) {
    Problem(out, status == KvStatus::kNotFound ? std::string(kNodesBucket) +
                                                     " does not exist: no node of this version has "
                                                     "started"
                                               : error);
    return;
  }
  out->nodes_bucket = true;
  std::vector<KvEntry> entries;
  bool truncated = false;
  if (!ReadEntries(*bucket, std::string(kNodeKeyPrefix) + ">", kMaxStatusNodes, &entries,
                   &truncated, &error)) {
    Problem(out, error);
    return;
  }
  if (truncated) {
    out->truncated = true;
    Problem(out, "more than " + std::to_string(kMaxStatusNodes) + " nodes: the rest not shown");
  }
  for (KvEntry& entry : entries) {
    NodeStatus node;
    node.key_name = std::string(
        std::string_view(entry.key).substr(kNodeKeyPrefix.size()).substr(0, kMaxNameBytes));
    node.age_ms = AgeMs(entry.created_unix_ns);
    const char* reason = nullptr;
    node.valid = ParseNodeRecord(entry.value, &node.record, &reason);
    if (!node.valid) {
      node.problem = reason;
      node.record = NodeRecord();
    } else if (node.record.node != node.key_name) {
      node.valid = false;
      node.problem = "its record names another node";
    }
    out->nodes.push_back(std::move(node));
  }
  std::sort(out->nodes.begin(), out->nodes.end(),
            [](const NodeStatus& a, const NodeStatus& b) { return a.key_name < b.key_name; });
}

// `partition.<p>`'s p, or false.
bool PartitionOfKey(std::string_view key, uint32_t partitions, uint32_t* partition) {
  const std::string_view digits = key.substr(kPartitionPrefix.size());
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *partition);
  return ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty() &&
         *partition < partitions && (digits.size() == 1 || digits[0] != '0');
}

void ReadLeases(JetStreamClient& client, const ClusterStatusOptions& options, ClusterStatus* out) {
  KvStatus status = KvStatus::kOk;
  std::string error;
  std::unique_ptr<KvBucket> bucket =
      KvBucket::Bind(client, kLeaseBucket, options.timeout, &status, &error);
  if (!bucket) {
    Problem(out, status == KvStatus::kNotFound
                     ? std::string(kLeaseBucket) + " does not exist: no correlate node has started"
                     : error);
    return;
  }
  out->leases_bucket = true;
  std::vector<KvEntry> members;
  bool truncated = false;
  if (!ReadEntries(*bucket, std::string(kMemberPrefix) + ">", kMaxStatusNodes, &members, &truncated,
                   &error)) {
    Problem(out, error);
  }
  if (truncated) {
    out->truncated = true;
    Problem(out, "more than " + std::to_string(kMaxStatusNodes) + " correlate members");
  }
  for (KvEntry& entry : members) {
    MemberStatus member;
    member.node = std::string(
        std::string_view(entry.key).substr(kMemberPrefix.size()).substr(0, kMaxNameBytes));
    member.value = entry.value.substr(0, kMaxNameBytes);
    member.age_ms = AgeMs(entry.created_unix_ns);
    out->members.push_back(std::move(member));
  }
  std::sort(out->members.begin(), out->members.end(),
            [](const MemberStatus& a, const MemberStatus& b) { return a.node < b.node; });

  // Every lease key's name (history 1: each once), whatever P wrote it: a
  // node with a larger P writes keys we do not check. Only ours are read.
  std::vector<std::string> keys;
  truncated = false;
  if (bucket->Keys(std::string(kPartitionPrefix) + ">", kMaxStatusLeaseKeys, &keys, &truncated,
                   &error) != KvStatus::kOk) {
    Problem(out, error);
    return;
  }
  if (truncated) {
    out->truncated = true;
    Problem(out, "more than " + std::to_string(kMaxStatusLeaseKeys) +
                     " partition lease keys: the rest not read");
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> ours;
  for (std::string& key : keys) {
    uint32_t p = 0;
    if (PartitionOfKey(key, out->partitions, &p)) {
      ours.push_back(std::move(key));
    } else if (out->stray_partition_keys.size() < kMaxStatusProblems) {
      out->stray_partition_keys.push_back(key.substr(0, kMaxNameBytes));
    } else {
      out->truncated = true;
    }
  }
  std::vector<KvEntry> leases;
  if (!ReadValues(*bucket, ours, &leases, &error)) {
    Problem(out, error);
    return;
  }
  for (const KvEntry& entry : leases) {
    uint32_t p = 0;
    if (!PartitionOfKey(entry.key, out->partitions, &p)) continue;
    PartitionStatus& partition = out->partition[p];
    partition.age_ms = AgeMs(entry.created_unix_ns);
    if (!ParseLeaseValue(entry.value, &partition.owner, &partition.incarnation,
                         &partition.released)) {
      Problem(out, "partition." + std::to_string(p) + " holds no lease value");
      continue;
    }
    partition.held = !partition.released;
    if (!partition.held) continue;
    const auto member = std::lower_bound(
        out->members.begin(), out->members.end(), partition.owner,
        [](const MemberStatus& m, const std::string& name) { return m.node < name; });
    partition.owner_member = member != out->members.end() && member->node == partition.owner &&
                             member->value == entry.value;
  }
}

void ReadConsumers(jsCtx* js, StreamStatus& stream, ClusterStatus* out) {
  jsConsumerInfoList* list = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_Consumers(&list, js, stream.name.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND) return;  // no consumers
  if (s != NATS_OK) {
    Problem(out, NatsStatusText(s, "consumers of " + stream.name));
    return;
  }
  const size_t first = out->consumers.size();
  size_t durable = 0;
  for (int i = 0; i < list->Count; ++i) {
    const jsConsumerInfo* info = list->List[i];
    if (info == nullptr) continue;
    const bool is_durable =
        info->Config != nullptr && info->Config->Durable != nullptr && *info->Config->Durable;
    if (!is_durable) {
      ++stream.ephemeral_consumers;
      stream.ephemeral_pending += info->NumPending;
      continue;
    }
    if (durable++ == kMaxStatusConsumers) {
      out->truncated = true;
      Problem(out, "more than " + std::to_string(kMaxStatusConsumers) + " durable consumers on " +
                       stream.name);
    }
    if (durable > kMaxStatusConsumers) continue;
    ConsumerStatus consumer;
    consumer.stream = stream.name;
    consumer.name = Bounded(info->Name);
    consumer.pending = info->NumPending;
    consumer.ack_pending = static_cast<uint64_t>(std::max<int64_t>(0, info->NumAckPending));
    consumer.redelivered = static_cast<uint64_t>(std::max<int64_t>(0, info->NumRedelivered));
    consumer.waiting = static_cast<uint64_t>(std::max<int64_t>(0, info->NumWaiting));
    consumer.delivered_sequence = info->Delivered.Stream;
    consumer.ack_floor = info->AckFloor.Stream;
    out->consumers.push_back(std::move(consumer));
  }
  jsConsumerInfoList_Destroy(list);
  std::sort(out->consumers.begin() + static_cast<ptrdiff_t>(first), out->consumers.end(),
            [](const ConsumerStatus& a, const ConsumerStatus& b) { return a.name < b.name; });
}

// False when JetStream did not answer the first stream's request at all.
bool ReadStreams(jsCtx* js, ClusterStatus* out, std::string* error) {
  for (std::string_view name : {kEventsStream, kAlertsStream, kHitsStream}) {
    StreamStatus stream;
    stream.name = std::string(name);
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&info, js, stream.name.c_str(), nullptr, &code);
    if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
      stream.problem = "does not exist: no gsocd node has started";
    } else if (s != NATS_OK) {
      if (out->streams.empty() && (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS)) {
        *error = NatsStatusText(s, "JetStream does not answer (stream " + stream.name + ")");
        jsStreamInfo_Destroy(info);
        return false;
      }
      stream.problem = NatsStatusText(s, "stream info");
    } else {
      stream.found = true;
      stream.messages = info->State.Msgs;
      stream.bytes = info->State.Bytes;
      stream.first_sequence = info->State.FirstSeq;
      stream.last_sequence = info->State.LastSeq;
      stream.consumers = info->State.Consumers;
      if (info->Config != nullptr) {
        stream.replicas = static_cast<int>(info->Config->Replicas);
        stream.max_bytes = info->Config->MaxBytes;
      }
      if (info->Cluster != nullptr) {
        stream.leader = Bounded(info->Cluster->Leader);
        for (int i = 0; i < info->Cluster->ReplicasLen; ++i) {
          const jsPeerInfo* peer = info->Cluster->Replicas[i];
          if (peer == nullptr) continue;
          if (stream.peers.size() == kMaxStatusPeers) break;
          StreamPeerStatus status;
          status.name = Bounded(peer->Name);
          status.current = peer->Current;
          status.offline = peer->Offline;
          status.lag = peer->Lag;
          status.active_ms = peer->Active / 1'000'000;
          stream.peers.push_back(std::move(status));
        }
      }
    }
    jsStreamInfo_Destroy(info);
    if (stream.found) ReadConsumers(js, stream, out);
    out->streams.push_back(std::move(stream));
  }
  return true;
}

}  // namespace

bool ParseLeaseValue(std::string_view value, std::string* node, std::string* incarnation,
                     bool* released) {
  node->clear();
  incarnation->clear();
  *released = value == "-";
  if (*released) return true;
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == value.size()) return false;
  const std::string_view name = value.substr(0, space);
  const std::string_view rest = value.substr(space + 1);
  if (name.size() > kMaxNodeNameBytes || rest.size() > kMaxIncarnationBytes ||
      rest.find(' ') != std::string_view::npos) {
    return false;
  }
  node->assign(name);
  incarnation->assign(rest);
  return true;
}

std::string FormatPartitionRanges(std::span<const uint32_t> partitions) {
  std::string out;
  for (size_t i = 0; i < partitions.size();) {
    size_t j = i;
    while (j + 1 < partitions.size() && partitions[j + 1] == partitions[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(partitions[i]);
    if (j > i) out += "-" + std::to_string(partitions[j]);
    i = j + 1;
  }
  return out;
}

std::map<std::string, std::vector<uint32_t>> ClusterStatus::PartitionsByOwner() const {
  std::map<std::string, std::vector<uint32_t>> owners;
  for (uint32_t p = 0; p < partition.size(); ++p) {
    if (partition[p].held) owners[partition[p].owner].push_back(p);
  }
  return owners;
}

std::vector<uint32_t> ClusterStatus::Unowned() const {
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < partition.size(); ++p) {
    if (!partition[p].held) out.push_back(p);
  }
  return out;
}

bool CollectClusterStatus(JetStreamClient& client, const ClusterStatusOptions& options,
                          ClusterStatus* out, std::string* error) {
  *out = ClusterStatus();
  out->server = client.ConnectedUrl();
  out->partitions = std::clamp<uint32_t>(options.partitions, 1, kMaxStatusPartitions);
  out->partition.resize(out->partitions);
  jsCtx* js = nullptr;
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.timeout.count();
  const natsStatus s = natsConnection_JetStream(&js, client.connection(), &js_options);
  if (s != NATS_OK) {
    *error = NatsStatusText(s, "JetStream context");
    return false;
  }
  const bool answered = ReadStreams(js, out, error);
  jsCtx_Destroy(js);
  if (!answered) return false;
  ReadNodes(client, options, out);
  ReadLeases(client, options, out);
  return true;
}

}  // namespace gsoc
