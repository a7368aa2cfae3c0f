#include "engine/cluster/partition_aggregator.h"

#include <algorithm>

#include "engine/alert/alert_codec.h"
#include "engine/util/hash.h"
#include "engine/util/saturating.h"
#include "engine/util/wire_format.h"

namespace gsoc {
namespace {

constexpr uint32_t kCheckpointMagic = 0x41505347;  // "GSPA" little-endian
constexpr uint8_t kCheckpointVersion = 1;
constexpr uint8_t kMaxLevel = static_cast<uint8_t>(rules::Level::kCritical);

ClusterAlert Versioned(const Alert& alert, InputPosition newest) {
  return {ComputeAlertIdentity(alert, newest), alert};
}

}  // namespace

void PartitionAggregator::Feed(std::span<const AggregationHit> hits,
                               std::vector<ClusterAlert>& out) {
  for (const AggregationHit& hit : hits) {
    ++stats_.hits;
    event_time_ns_ = std::max(event_time_ns_, hit.event_time_ns);
    key_.clear();
    AppendAggregateKey(key_, hit.rule_id, hit.agency);
    for (const auto& [name, value] : hit.group) AppendAggregateKeyValue(key_, name, value);
    auto it = open_.find(key_);
    if (it != open_.end() && hit.event_time_ns >= it->second.alert.aggregate_closes_ns) {
      // Past its period: its last version, then a new aggregate.
      Publish(it->second, out);
      Close(it);
      it = open_.end();
    }
    if (it == open_.end()) {
      Open(hit, key_, out);
      continue;
    }
    Join(it->second, hit);
    ++stats_.aggregated;
  }
}

void PartitionAggregator::Open(const AggregationHit& hit, const std::string& key,
                               std::vector<ClusterAlert>& out) {
  Alert alert;
  alert.time_ns = hit.event_time_ns;
  alert.kind = AlertKind::kDetection;
  alert.rule = {hit.rule_id,    hit.rule_name,
                hit.rule_title, static_cast<rules::Level>(std::min<uint8_t>(hit.level, kMaxLevel)),
                hit.tags,       hit.revision};
  alert.agency = hit.agency;
  alert.group = hit.group;
  alert.window_start_ns = alert.window_end_ns = hit.event_time_ns;
  alert.count = 1;
  alert.fields = hit.fields;
  alert.events.push_back({hit.event_id, hit.event_time_ns, hit.raw});
  const InputPosition position{hit.stream_sequence, hit.event_index};
  const size_t bytes = AggregateAlertBytes(alert) + key.size();
  if (open_.size() >= options_.max_open || bytes_ + bytes > options_.max_bytes) {
    ++stats_.overflow;  // an alert of its own
    out.push_back(Versioned(alert, position));
    return;
  }
  alert.aggregate_key = AggregateKeyHash(key);
  alert.aggregate_version = 0;
  alert.aggregate_opened_ns = hit.event_time_ns;
  alert.aggregate_closes_ns = SaturatingAdd(hit.event_time_ns, options_.period_ns);
  out.push_back(Versioned(alert, position));
  Aggregate& aggregate = open_[key];
  aggregate.alert = std::move(alert);
  aggregate.published_count = 1;
  aggregate.newest = position;
  aggregate.bytes = bytes;
  bytes_ += bytes;
  ++stats_.opened;
}

void PartitionAggregator::Join(Aggregate& aggregate, const AggregationHit& hit) {
  Alert& alert = aggregate.alert;
  if (alert.count == aggregate.published_count) ++grown_;
  ++alert.count;
  alert.window_start_ns = std::min(alert.window_start_ns, hit.event_time_ns);
  alert.window_end_ns = std::max(alert.window_end_ns, hit.event_time_ns);
  aggregate.newest = {hit.stream_sequence, hit.event_index};
  if (alert.events.size() >= options_.max_events) return;
  const size_t bytes = sizeof(AlertEvent) + hit.raw.size();
  if (bytes_ + bytes > options_.max_bytes) return;
  alert.events.push_back({hit.event_id, hit.event_time_ns, hit.raw});
  aggregate.bytes += bytes;
  bytes_ += bytes;
}

void PartitionAggregator::Publish(Aggregate& aggregate, std::vector<ClusterAlert>& out) {
  if (aggregate.alert.count == aggregate.published_count) return;
  --grown_;
  ++aggregate.alert.aggregate_version;
  aggregate.published_count = aggregate.alert.count;
  out.push_back(Versioned(aggregate.alert, aggregate.newest));
  ++stats_.updated;
}

void PartitionAggregator::Close(std::map<std::string, Aggregate>::iterator it) {
  if (it->second.alert.count != it->second.published_count) --grown_;
  bytes_ -= it->second.bytes;
  open_.erase(it);
  ++stats_.closed;
}

void PartitionAggregator::Flush(std::vector<ClusterAlert>& out) {
  ++stats_.flushes;
  for (auto it = open_.begin(); it != open_.end();) {
    Publish(it->second, out);
    if (event_time_ns_ >= it->second.alert.aggregate_closes_ns) {
      Close(it++);
    } else {
      ++it;
    }
  }
}

// checkpoint := "GSPA" version:u8(=1) event_time:zigzag count:varint aggregate{count}
// aggregate  := key:text published_count:varint newest_sequence:varint
//               newest_index:varint time:zigzag level:u8 rule_id:text
//               rule_name:text agency:text detail (engine/alert/alert_codec.h)
void PartitionAggregator::Checkpoint(std::string& out) const {
  out.clear();
  wire::PutFixed(out, kCheckpointMagic, 4);
  out += static_cast<char>(kCheckpointVersion);
  wire::PutZigzag(out, event_time_ns_);
  wire::PutVarint(out, open_.size());
  for (const auto& [key, aggregate] : open_) {
    const Alert& alert = aggregate.alert;
    wire::PutText(out, key);
    wire::PutVarint(out, aggregate.published_count);
    wire::PutVarint(out, aggregate.newest.stream_sequence);
    wire::PutVarint(out, aggregate.newest.event_index);
    wire::PutZigzag(out, alert.time_ns);
    out += static_cast<char>(alert.rule.level);
    wire::PutText(out, alert.rule.id);
    wire::PutText(out, alert.rule.name);
    wire::PutText(out, alert.agency);
    AppendAlertDetail(out, alert);
  }
}

bool PartitionAggregator::Restore(std::string_view blob, std::string* error) {
  open_.clear();
  bytes_ = 0;
  grown_ = 0;
  event_time_ns_ = INT64_MIN;
  wire::WireReader in(blob);
  if (in.Fixed(4) != kCheckpointMagic && in.ok()) in.Fail("not an aggregation checkpoint");
  if (in.U8() != kCheckpointVersion && in.ok()) in.Fail("unknown aggregation checkpoint version");
  const int64_t event_time = in.Zigzag();
  const size_t count = in.Count(SIZE_MAX, kMinAlertDetailBytes, "too many aggregates");
  const AlertDetailLimits limits;
  std::map<std::string, Aggregate> open;
  uint64_t bytes = 0, grown = 0;
  for (size_t i = 0; i < count && in.ok(); ++i) {
    std::string key;
    in.Text(key);
    Aggregate aggregate;
    aggregate.published_count = in.Varint();
    aggregate.newest.stream_sequence = in.Varint();
    const uint64_t index = in.Varint();
    if (in.ok() && index > UINT32_MAX) in.Fail("event index out of range");
    aggregate.newest.event_index = static_cast<uint32_t>(index);
    Alert& alert = aggregate.alert;
    alert.time_ns = in.Zigzag();
    const uint8_t level = in.U8();
    if (in.ok() && level > kMaxLevel) in.Fail("unknown level");
    alert.rule.level = static_cast<rules::Level>(level);
    in.Text(alert.rule.id);
    in.Text(alert.rule.name);
    in.Text(alert.agency);
    if (!in.ok() || !ReadAlertDetail(in, alert, limits)) break;
    if (alert.aggregate_key == 0 || aggregate.published_count > alert.count) {
      in.Fail("not an open aggregate");
      break;
    }
    if (alert.count != aggregate.published_count) ++grown;
    aggregate.bytes = AggregateAlertBytes(alert) + key.size();
    bytes += aggregate.bytes;
    if (!open.emplace(std::move(key), std::move(aggregate)).second) in.Fail("duplicate key");
  }
  if (in.ok() && !in.at_end()) in.Fail("trailing bytes");
  if (!in.ok()) {
    if (error != nullptr) {
      *error = std::string(in.error().reason) + " at byte " + std::to_string(in.error().offset);
    }
    return false;
  }
  open_ = std::move(open);
  bytes_ = bytes;
  grown_ = grown;
  event_time_ns_ = event_time;
  return true;
}

PartitionAggregatorStats PartitionAggregator::stats() const {
  PartitionAggregatorStats stats = stats_;
  stats.open = open_.size();
  stats.bytes = bytes_;
  return stats;
}

}  // namespace gsoc
