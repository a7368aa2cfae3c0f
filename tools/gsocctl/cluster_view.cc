#include "tools/gsocctl/cluster_view.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "engine/util/json_writer.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {
namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart, each line indented.
void AppendTable(std::string& out, const std::vector<Row>& rows) {
  std::vector<size_t> width;
  for (const Row& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const Row& row : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
}

std::string Safe(std::string_view text) { return text.empty() ? "-" : TerminalSafe(text); }

std::string Seconds(int64_t ms) {
  char text[32];
  if (ms < 10'000) {
    std::snprintf(text, sizeof(text), "%.1fs", static_cast<double>(ms) / 1000.0);
    return text;
  }
  return FormatDuration(ms / 1000);
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const std::string& role : roles) out += (out.empty() ? "" : ",") + role;
  return out;
}

void AppendNodes(std::string& out, const ClusterStatus& status, int64_t now_unix_s) {
  out += "NODES (" + std::to_string(status.nodes.size()) + ")\n";
  if (status.nodes.empty()) {
    out += status.nodes_bucket ? "  none registered\n" : "  unknown (see problems)\n";
    return;
  }
  std::vector<Row> rows{{"NAME", "ROLES", "VERSION", "UP", "SEEN", "API", "METRICS"}};
  std::string invalid;  // after the table: a reason is no column
  for (const NodeStatus& node : status.nodes) {
    if (!node.valid) {
      invalid += "  !! " + Safe(node.key_name) + ": INVALID RECORD: " + Safe(node.problem) + "\n";
      continue;
    }
    const NodeRecord& r = node.record;
    rows.push_back({Safe(node.key_name), Safe(JoinRoles(r.roles)), Safe(r.version),
                    r.started_unix_s == 0 ? "-" : FormatDuration(now_unix_s - r.started_unix_s),
                    Seconds(node.age_ms) + " ago", Safe(r.api), Safe(r.metrics)});
  }
  if (rows.size() > 1) AppendTable(out, rows);
  out += invalid;
}

void AppendPartitions(std::string& out, const ClusterStatus& status) {
  const auto owners = status.PartitionsByOwner();
  const std::vector<uint32_t> unowned = status.Unowned();
  out += "PARTITIONS (" + std::to_string(status.partitions) +
         "): " + std::to_string(status.partitions - unowned.size()) + " owned by " +
         std::to_string(owners.size()) + " node(s); correlate members: ";
  std::string members;
  for (const MemberStatus& member : status.members) {
    members += (members.empty() ? "" : ", ") + Safe(member.node);
  }
  out += (members.empty() ? std::string("none") : members) + "\n";
  for (const auto& [owner, partitions] : owners) {
    out += "  " + Safe(owner) + ": " + FormatPartitionRanges(partitions) + " (" +
           std::to_string(partitions.size()) + ")\n";
  }
  if (!unowned.empty()) {
    out += "  !! UNOWNED PARTITIONS (" + std::to_string(unowned.size()) +
           "): " + FormatPartitionRanges(unowned) + "\n";
  }
  std::vector<uint32_t> orphaned;
  for (uint32_t p = 0; p < status.partition.size(); ++p) {
    if (status.partition[p].held && !status.partition[p].owner_member) orphaned.push_back(p);
  }
  if (!orphaned.empty()) {
    out += "  !! held by a node without a living correlate heartbeat (" +
           std::to_string(orphaned.size()) + "): " + FormatPartitionRanges(orphaned) + "\n";
  }
  if (!status.stray_partition_keys.empty()) {
    out += "  !! lease keys outside 0-" + std::to_string(status.partitions - 1) +
           " (cluster.partitions differs between nodes?):";
    for (const std::string& key : status.stray_partition_keys) out += " " + Safe(key);
    out += "\n";
  }
}

void AppendStreams(std::string& out, const ClusterStatus& status) {
  out += "STREAMS\n";
  std::vector<Row> rows{
      {"NAME", "MESSAGES", "BYTES", "FIRST", "LAST", "REPLICAS", "LEADER", "REPLICA STATE"}};
  for (const StreamStatus& stream : status.streams) {
    if (!stream.found) {
      rows.push_back({stream.name, "!! " + Safe(stream.problem)});
      continue;
    }
    std::string peers;
    for (const StreamPeerStatus& peer : stream.peers) {
      std::string state = peer.offline   ? "OFFLINE"
                          : peer.current ? "current"
                                         : "lag " + std::to_string(peer.lag);
      peers += (peers.empty() ? "" : ", ") + Safe(peer.name) + " " + state;
    }
    rows.push_back({stream.name, std::to_string(stream.messages), FormatBytes(stream.bytes),
                    std::to_string(stream.first_sequence), std::to_string(stream.last_sequence),
                    std::to_string(stream.replicas),
                    stream.leader.empty() ? "!! none" : Safe(stream.leader),
                    peers.empty() ? "-" : peers});
  }
  AppendTable(out, rows);
}

void AppendConsumers(std::string& out, const ClusterStatus& status) {
  out += "CONSUMERS\n";
  std::vector<Row> rows{{"STREAM", "NAME", "PENDING", "ACK_PENDING", "REDELIVERED", "WAITING",
                         "DELIVERED", "ACK_FLOOR"}};
  for (const ConsumerStatus& c : status.consumers) {
    rows.push_back({c.stream, Safe(c.name), std::to_string(c.pending),
                    std::to_string(c.ack_pending), std::to_string(c.redelivered),
                    std::to_string(c.waiting), std::to_string(c.delivered_sequence),
                    std::to_string(c.ack_floor)});
  }
  for (const StreamStatus& stream : status.streams) {
    if (stream.ephemeral_consumers == 0) continue;
    rows.push_back({stream.name, "(" + std::to_string(stream.ephemeral_consumers) + " ephemeral)",
                    std::to_string(stream.ephemeral_pending)});
  }
  if (rows.size() == 1) {
    out += "  none\n";
    return;
  }
  AppendTable(out, rows);
}

// ---- JSON ----

void Key(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out += ':';
}

void StringMember(std::string& out, std::string_view key, std::string_view value) {
  Key(out, key);
  AppendJsonString(out, value);
  out += ',';
}

void NumberMember(std::string& out, std::string_view key, uint64_t value) {
  Key(out, key);
  out += std::to_string(value) + ',';
}

void SignedMember(std::string& out, std::string_view key, int64_t value) {
  Key(out, key);
  out += std::to_string(value) + ',';
}

void BoolMember(std::string& out, std::string_view key, bool value) {
  Key(out, key);
  out += value ? "true," : "false,";
}

// Replaces a trailing ',' by `close`.
void Close(std::string& out, char close) {
  if (!out.empty() && out.back() == ',') out.pop_back();
  out += close;
}

void PartitionArray(std::string& out, std::string_view key, const std::vector<uint32_t>& list) {
  Key(out, key);
  out += '[';
  for (uint32_t p : list) out += std::to_string(p) + ',';
  Close(out, ']');
  out += ',';
}

void JsonNodes(std::string& out, const ClusterStatus& status) {
  Key(out, "nodes");
  out += '[';
  for (const NodeStatus& node : status.nodes) {
    out += '{';
    StringMember(out, "name", node.key_name);
    BoolMember(out, "valid", node.valid);
    SignedMember(out, "age_ms", node.age_ms);
    if (!node.valid) {
      StringMember(out, "problem", node.problem);
    } else {
      Key(out, "roles");
      out += '[';
      for (const std::string& role : node.record.roles) {
        AppendJsonString(out, role);
        out += ',';
      }
      Close(out, ']');
      out += ',';
      StringMember(out, "version", node.record.version);
      SignedMember(out, "started_unix_s", node.record.started_unix_s);
      StringMember(out, "incarnation", node.record.incarnation);
      StringMember(out, "api", node.record.api);
      StringMember(out, "metrics", node.record.metrics);
    }
    Close(out, '}');
    out += ',';
  }
  Close(out, ']');
  out += ',';
  Key(out, "members");
  out += '[';
  for (const MemberStatus& member : status.members) {
    out += '{';
    StringMember(out, "node", member.node);
    SignedMember(out, "age_ms", member.age_ms);
    Close(out, '}');
    out += ',';
  }
  Close(out, ']');
  out += ',';
}

void JsonPartitions(std::string& out, const ClusterStatus& status) {
  NumberMember(out, "partitions", status.partitions);
  Key(out, "owners");
  out += '[';
  for (const auto& [owner, partitions] : status.PartitionsByOwner()) {
    out += '{';
    StringMember(out, "node", owner);
    NumberMember(out, "count", partitions.size());
    StringMember(out, "ranges", FormatPartitionRanges(partitions));
    PartitionArray(out, "partitions", partitions);
    Close(out, '}');
    out += ',';
  }
  Close(out, ']');
  out += ',';
  PartitionArray(out, "unowned", status.Unowned());
  std::vector<uint32_t> orphaned;
  for (uint32_t p = 0; p < status.partition.size(); ++p) {
    if (status.partition[p].held && !status.partition[p].owner_member) orphaned.push_back(p);
  }
  PartitionArray(out, "owner_without_member", orphaned);
  Key(out, "stray_partition_keys");
  out += '[';
  for (const std::string& key : status.stray_partition_keys) {
    AppendJsonString(out, key);
    out += ',';
  }
  Close(out, ']');
  out += ',';
}

void JsonStreams(std::string& out, const ClusterStatus& status) {
  Key(out, "streams");
  out += '[';
  for (const StreamStatus& stream : status.streams) {
    out += '{';
    StringMember(out, "name", stream.name);
    BoolMember(out, "found", stream.found);
    if (!stream.found) {
      StringMember(out, "problem", stream.problem);
    } else {
      NumberMember(out, "messages", stream.messages);
      NumberMember(out, "bytes", stream.bytes);
      NumberMember(out, "first_sequence", stream.first_sequence);
      NumberMember(out, "last_sequence", stream.last_sequence);
      SignedMember(out, "max_bytes", stream.max_bytes);
      SignedMember(out, "replicas", stream.replicas);
      SignedMember(out, "consumers", stream.consumers);
      StringMember(out, "leader", stream.leader);
      Key(out, "peers");
      out += '[';
      for (const StreamPeerStatus& peer : stream.peers) {
        out += '{';
        StringMember(out, "name", peer.name);
        BoolMember(out, "current", peer.current);
        BoolMember(out, "offline", peer.offline);
        NumberMember(out, "lag", peer.lag);
        SignedMember(out, "active_ms", peer.active_ms);
        Close(out, '}');
        out += ',';
      }
      Close(out, ']');
      out += ',';
      NumberMember(out, "ephemeral_consumers", stream.ephemeral_consumers);
      NumberMember(out, "ephemeral_pending", stream.ephemeral_pending);
    }
    Close(out, '}');
    out += ',';
  }
  Close(out, ']');
  out += ',';
  Key(out, "consumers");
  out += '[';
  for (const ConsumerStatus& c : status.consumers) {
    out += '{';
    StringMember(out, "stream", c.stream);
    StringMember(out, "name", c.name);
    NumberMember(out, "pending", c.pending);
    NumberMember(out, "ack_pending", c.ack_pending);
    NumberMember(out, "redelivered", c.redelivered);
    NumberMember(out, "waiting", c.waiting);
    NumberMember(out, "delivered_sequence", c.delivered_sequence);
    NumberMember(out, "ack_floor", c.ack_floor);
    Close(out, '}');
    out += ',';
  }
  Close(out, ']');
  out += ',';
}

}  // namespace

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) return "-";
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof(text), "%llds", static_cast<long long>(seconds));
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof(text), "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  } else if (seconds < 86400) {
    std::snprintf(text, sizeof(text), "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  } else {
    std::snprintf(text, sizeof(text), "%lldd%02lldh", static_cast<long long>(seconds / 86400),
                  static_cast<long long>(seconds % 86400 / 3600));
  }
  return text;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string ClusterStatusText(const ClusterStatus& status, int64_t now_unix_s) {
  std::string out = "cluster status from " + Safe(status.server) + "\n\n";
  AppendNodes(out, status, now_unix_s);
  out += "\n";
  AppendPartitions(out, status);
  out += "\n";
  AppendStreams(out, status);
  out += "\n";
  AppendConsumers(out, status);
  if (!status.problems.empty() || status.truncated) {
    out += "\nPROBLEMS\n";
    for (const std::string& problem : status.problems) out += "  !! " + Safe(problem) + "\n";
    if (status.truncated) out += "  !! some lists were cut at their bound\n";
  }
  return out;
}

std::string ClusterStatusJson(const ClusterStatus& status) {
  std::string out = "{";
  StringMember(out, "server", status.server);
  JsonNodes(out, status);
  JsonPartitions(out, status);
  JsonStreams(out, status);
  Key(out, "problems");
  out += '[';
  for (const std::string& problem : status.problems) {
    AppendJsonString(out, problem);
    out += ',';
  }
  Close(out, ']');
  out += ',';
  BoolMember(out, "truncated", status.truncated);
  Close(out, '}');
  return TerminalSafeJson(out);
}

}  // namespace gsoc::ctl
