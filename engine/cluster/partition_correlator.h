// PartitionCorrelator: one correlation partition's Correlator, fed with the
// hits of GSOC_HITS (hit_batch_codec.h) instead of event batches, for the
// correlate role (engine/cluster/README.md "The correlate role").
//
// HitRouting derives, from a loaded CorrelationSet, the set the partition
// correlators run: one route per (correlation, ref) (a hit names both, so a
// detection rule feeding several correlations feeds only the one the hit is
// for), no chains (a chained correlation's input goes through GSOC_HITS to
// its own partition: the firing's group may hash elsewhere) and nothing
// silenced (the firings of a silenced correlation feed its chains; their
// alerts are dropped here).
//
// Feed runs each hit as a one-event batch: the group-by values and the
// correlation's `field` become the event's fields under the names the
// Correlator reads (the alias mapping), with the hit's agency, host and
// event time, so event time per source and lateness behave as on a single
// node. The event's id is the hit's input position (GSOC_EVENTS sequence <<
// 16 | index: unique in the cluster, the same on a replay); an alert's
// identity takes the position of its newest contributing event, so the same
// firing has the same identity whenever and wherever it is replayed.
//
// Not thread-safe: one thread (the correlate role's) per partition. No
// allocation per hit besides what the Correlator does for new keys and
// alerts (the one-event batch is reused).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/hit_batch_codec.h"
#include "engine/correlate/correlator.h"

namespace gsoc {

class HitRouting {
 public:
  explicit HitRouting(std::shared_ptr<const correlate::CorrelationSet> loaded);

  const correlate::CorrelationSet& loaded() const { return *loaded_; }
  const correlate::CorrelationSet& set() const { return set_; }
  // The index of correlation `id` in the set; false when it has none.
  bool Find(std::string_view id, uint32_t* index) const;
  // The route index (RuleHit::rule_index) of (correlation, ref).
  uint32_t Route(uint32_t correlation, uint32_t ref) const {
    return route_base_[correlation] + ref;
  }

 private:
  std::shared_ptr<const correlate::CorrelationSet> loaded_;
  correlate::CorrelationSet set_;
  std::unordered_map<std::string_view, uint32_t> by_id_;
  std::vector<uint32_t> route_base_;
};

// The input position a hit's event id stands for (see above).
uint64_t PositionEventId(uint64_t stream_sequence, uint32_t event_index);
InputPosition PositionOf(uint64_t event_id);

// A hit for a chained correlation, made from a firing: one hits message
// for `partition`, with its Nats-Msg-Id.
struct ChainedHit {
  uint32_t partition = 0;
  std::string msg_id;
  std::string bytes;
};

struct PartitionOutput {
  std::vector<ClusterAlert> alerts;  // to GSOC_ALERTS
  std::vector<ChainedHit> chained;   // to GSOC_HITS
  void Clear() {
    alerts.clear();
    chained.clear();
  }
};

struct PartitionCorrelatorCounters {
  uint64_t unknown = 0;        // hits of a correlation (or ref) the rule set does not have
  uint64_t chain_missing = 0;  // chained inputs without one of their group-by values
};

class PartitionCorrelator {
 public:
  // `options`: this partition's share (the role divides the node's bounds).
  PartitionCorrelator(uint32_t partitions, const correlate::CorrelatorOptions& options,
                      std::vector<std::string> agency_names);

  bool Restore(const HitRouting& routing, std::string_view blob, std::string* error);
  void Checkpoint(std::string& out) const { correlator_.Checkpoint(out); }

  // Applies `hits` in order; the alerts they fire and the chained inputs
  // those feed are appended to `out`.
  void Feed(const HitRouting& routing, std::span<const ClusterHit> hits, PartitionOutput& out);
  // Idle advance, window closes, expiry (Correlator::Tick).
  void Tick(const HitRouting& routing, int64_t wall_now_ns, PartitionOutput& out);

  correlate::CorrelatorStats stats() const { return correlator_.stats(); }
  const PartitionCorrelatorCounters& counters() const { return counters_; }

 private:
  uint16_t AgencyIndex(std::string_view name) const;
  // Identities, chained inputs, silenced correlations dropped: fired[from..].
  void Finish(const HitRouting& routing, PartitionOutput& out);
  void Chain(const HitRouting& routing, uint32_t source, const ClusterAlert& fired,
             PartitionOutput& out);

  const uint32_t partitions_;
  std::vector<std::string> agency_names_;  // the node's, then "multiple", then "" (none)
  std::unordered_map<std::string_view, uint16_t> agency_index_;
  correlate::Correlator correlator_;
  EventBatch batch_;  // the one-event batch, reused
  std::vector<Alert> fired_;
  PartitionCorrelatorCounters counters_;
};

}  // namespace gsoc
