#include "engine/cluster/partition_aggregator.h"

#include <algorithm>

#include "engine/alert/alert_codec.h"
#include "engine/util/hash.h"
#include "engine/util/saturating.h"
#include "engine/util/wire_format.h"

namespace gsoc {
namespace {

constexpr uint32_t kCheckpointMagic = 0x41505347;  // "GSPA" little-endian
// 2: an event time per source (1: the partition's one event time, which
// restores as the time of every aggregate's source).
constexpr uint8_t kCheckpointVersion = 2;
constexpr uint8_t kMaxLevel = static_cast<uint8_t>(rules::Level::kCritical);
constexpr uint64_t kHostSeed = 0x736f757263656b79ULL;  // the correlator's kSourceSeed
constexpr size_t kMinSourceBytes = 8 + 1 + 1;          // hash, agency, time

ClusterAlert Versioned(const Alert& alert, InputPosition newest) {
  return {ComputeAlertIdentity(alert, newest), alert};
}

std::string_view HostOf(const std::vector<std::pair<std::string, std::string>>& fields) {
  for (const auto& [name, value] : fields) {
    if (name == "host") return value;
  }
  return {};
}

void MakeSourceKey(std::string& out, uint64_t host_hash, std::string_view agency) {
  out.clear();
  wire::PutFixed(out, host_hash, 8);
  out += agency;
}

}  // namespace

uint64_t SourceHostHash(std::string_view host) { return HashBytes(host, kHostSeed); }

void PartitionAggregator::Feed(std::span<const AggregationHit> hits,
                               std::vector<ClusterAlert>& out) {
  for (const AggregationHit& hit : hits) {
    ++stats_.hits;
    key_.clear();
    AppendAggregateKey(key_, hit.rule_id, hit.agency);
    for (const auto& [name, value] : hit.group) AppendAggregateKeyValue(key_, name, value);
    MakeSourceKey(source_, SourceHostHash(HostOf(hit.fields)), hit.agency);
    // Its source's time moves, whatever the hit does.
    auto clock = clocks_.find(source_);
    if (clock != clocks_.end()) {
      clock->second.time_ns = std::max(clock->second.time_ns, hit.event_time_ns);
    }
    auto it = open_.find(key_);
    if (it != open_.end() && hit.event_time_ns < it->second.alert.aggregate_closes_ns) {
      Join(it->second, hit);
      Adopt(it->second, clock, hit.event_time_ns);
      ++stats_.aggregated;
      continue;
    }
    if (it != open_.end()) {
      // Past its period: its last version, then a new aggregate.
      Publish(it->second, out);
      const Clocks::iterator owner = it->second.owner;
      Close(it);
      if (owner != clock) Release(owner);  // the hit's own: Open keeps or drops it
    }
    Open(hit, key_, clock, out);
  }
}

void PartitionAggregator::Adopt(Aggregate& aggregate, Clocks::iterator clock, int64_t time_ns) {
  const Clocks::iterator owner = aggregate.owner;
  if (clock == owner) return;
  const int64_t time = clock == clocks_.end() ? time_ns : clock->second.time_ns;
  if (owner->second.time_ns <= time) return;  // the owner is the slower one
  if (clock == clocks_.end()) clock = clocks_.emplace(source_, SourceClock{time_ns, 0}).first;
  ++clock->second.open;
  aggregate.owner = clock;
  --owner->second.open;
  Release(owner);
}

void PartitionAggregator::Release(Clocks::iterator clock) {
  if (clock->second.open == 0) clocks_.erase(clock);
}

void PartitionAggregator::Open(const AggregationHit& hit, const std::string& key,
                               Clocks::iterator clock, std::vector<ClusterAlert>& out) {
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
    // The source's last aggregate may have closed just before (Feed).
    if (clock != clocks_.end()) Release(clock);
    return;
  }
  if (clock == clocks_.end()) {
    clock = clocks_.emplace(source_, SourceClock{hit.event_time_ns, 0}).first;
  }
  ++clock->second.open;
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
  aggregate.owner = clock;
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
  --it->second.owner->second.open;
  bytes_ -= it->second.bytes;
  open_.erase(it);
  ++stats_.closed;
}

void PartitionAggregator::Flush(std::vector<ClusterAlert>& out) {
  ++stats_.flushes;
  for (auto it = open_.begin(); it != open_.end();) {
    Publish(it->second, out);
    const Clocks::iterator owner = it->second.owner;
    if (owner->second.time_ns >= it->second.alert.aggregate_closes_ns) {
      Close(it++);
      Release(owner);
    } else {
      ++it;
    }
  }
}

int64_t PartitionAggregator::source_time_ns(std::string_view agency, std::string_view host) const {
  std::string key;
  MakeSourceKey(key, SourceHostHash(host), agency);
  const auto clock = clocks_.find(key);
  return clock == clocks_.end() ? INT64_MIN : clock->second.time_ns;
}

// checkpoint := "GSPA" version:u8(=2) sources:varint source{sources}
//               count:varint aggregate{count} owner:varint{count}
// source     := host_hash:u64 agency:text time:zigzag   (ascending by host
//               hash bytes, then agency; each owns open aggregates)
// aggregate  := key:text published_count:varint newest_sequence:varint
//               newest_index:varint time:zigzag level:u8 rule_id:text
//               rule_name:text agency:text detail (engine/alert/alert_codec.h)
// owner      := the index of each aggregate's owner among the sources
// Version 1 (before sources had their own time) has one event_time:zigzag
// in place of the sources and no owners: each aggregate is owned by its
// agency and `host` field, at that time.
void PartitionAggregator::Checkpoint(std::string& out) const {
  out.clear();
  wire::PutFixed(out, kCheckpointMagic, 4);
  out += static_cast<char>(kCheckpointVersion);
  wire::PutVarint(out, clocks_.size());
  uint64_t index = 0;
  for (const auto& [source, clock] : clocks_) {
    clock.index = index++;
    out.append(source, 0, 8);
    wire::PutText(out, std::string_view(source).substr(8));
    wire::PutZigzag(out, clock.time_ns);
  }
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
  for (const auto& [key, aggregate] : open_) {
    wire::PutVarint(out, aggregate.owner->second.index);
  }
}

bool PartitionAggregator::Restore(std::string_view blob, std::string* error) {
  open_.clear();
  clocks_.clear();
  bytes_ = 0;
  grown_ = 0;
  wire::WireReader in(blob);
  if (in.Fixed(4) != kCheckpointMagic && in.ok()) in.Fail("not an aggregation checkpoint");
  const uint8_t version = in.U8();
  if (in.ok() && version != 1 && version != kCheckpointVersion) {
    in.Fail("unknown aggregation checkpoint version");
  }
  Clocks clocks;
  std::vector<Clocks::iterator> sources;  // in checkpoint order
  int64_t partition_time = INT64_MIN;     // version 1
  std::string source;
  if (version == 1) {
    partition_time = in.Zigzag();
  } else {
    const size_t count = in.Count(SIZE_MAX, kMinSourceBytes, "too many sources");
    sources.reserve(count);
    for (size_t i = 0; i < count && in.ok(); ++i) {
      const uint64_t host_hash = in.Fixed(8);
      const std::string_view agency = in.Text();
      const int64_t time = in.Zigzag();
      if (!in.ok()) break;
      MakeSourceKey(source, host_hash, agency);
      if (!clocks.empty() && source <= clocks.rbegin()->first) {
        in.Fail("sources out of order");
        break;
      }
      sources.push_back(clocks.emplace_hint(clocks.end(), source, SourceClock{time, 0}));
    }
  }
  const size_t count = in.Count(SIZE_MAX, kMinAlertDetailBytes, "too many aggregates");
  const AlertDetailLimits limits;
  std::map<std::string, Aggregate> open;
  std::vector<Aggregate*> order;  // in checkpoint order, for the owners
  order.reserve(count);
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
    if (version == 1) {
      MakeSourceKey(source, SourceHostHash(HostOf(alert.fields)), alert.agency);
      aggregate.owner = clocks.emplace(source, SourceClock{partition_time, 0}).first;
      ++aggregate.owner->second.open;
    }
    if (alert.count != aggregate.published_count) ++grown;
    aggregate.bytes = AggregateAlertBytes(alert) + key.size();
    bytes += aggregate.bytes;
    const auto [at, added] = open.emplace(std::move(key), std::move(aggregate));
    if (!added) {
      in.Fail("duplicate key");
      break;
    }
    order.push_back(&at->second);
  }
  for (size_t i = 0; version != 1 && i < order.size() && in.ok(); ++i) {
    const uint64_t owner = in.Varint();
    if (in.ok() && owner >= sources.size()) in.Fail("owner out of range");
    if (!in.ok()) break;
    order[i]->owner = sources[owner];
    ++sources[owner]->second.open;
  }
  if (in.ok() && !in.at_end()) in.Fail("trailing bytes");
  for (const auto& [key, clock] : clocks) {
    if (in.ok() && clock.open == 0) in.Fail("a source's event time without aggregates");
  }
  if (!in.ok()) {
    if (error != nullptr) {
      *error = std::string(in.error().reason) + " at byte " + std::to_string(in.error().offset);
    }
    return false;
  }
  // swap: the aggregates' owner iterators stay valid (they move with the nodes).
  open_.swap(open);
  clocks_.swap(clocks);
  bytes_ = bytes;
  grown_ = grown;
  return true;
}

PartitionAggregatorStats PartitionAggregator::stats() const {
  PartitionAggregatorStats stats = stats_;
  stats.open = open_.size();
  stats.bytes = bytes_;
  stats.sources = clocks_.size();
  return stats;
}

}  // namespace gsoc
