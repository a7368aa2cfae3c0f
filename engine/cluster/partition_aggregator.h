// PartitionAggregator: alert aggregation (engine/aggregate) for one
// partition of the correlate role, fed with the aggregation hits of
// GSOC_HITS (hit_batch_codec.h, version 2) in stream order
// (engine/cluster/README.md "Aggregation").
//
// The same aggregates as a single node's Aggregator (rule, agency, group
// values; count, window, up to max_events contributing events, raw cut at
// max_event_bytes by the detect node), with one difference: every decision
// is a function of the stream, never of the wall clock, so that a new owner
// replaying the partition from its checkpoint makes the same versions with
// the same identities:
//
// - an aggregate's period runs in event time: it opens at its first hit's
//   event time and takes hits until `period` after it; a hit of its key
//   past that publishes its last version (if it grew) and opens the next;
// - version 0 is published with the first hit; a later version only at a
//   flush marker (Flush), which the role publishes into the partition's
//   subject every update_interval while aggregates grew: the marker's place
//   in the stream, not the moment it was asked for, decides the version;
// - at a marker, aggregates whose period ended by their owner's event
//   time publish and close. Event time is kept per source (agency, host),
//   as the correlator keeps it (engine/correlate/correlator.h): a source's
//   time is the newest event time of its hits. An aggregate's owner is the
//   source that opened it, or a slower one that joined it (its time behind
//   the owner's then): the slowest source that fed it, the correlator's
//   rule. So a sender stamping its lines far in the future moves its own
//   time only: it closes the aggregates it alone fed, never another
//   source's (another agency's or another host's). A source's time is kept
//   while it owns open aggregates (the host as a 64-bit hash, as the
//   correlator's).
//
// A version's identity is ComputeAlertIdentity of it (the aggregate key,
// version and opening are part of it) at the input position of its newest
// counted hit. `replaces` is left 0: store ids are the store's, and each
// store replica resolves it by the aggregate key (store_role.h).
//
// Bounds: max_open aggregates and max_bytes of their memory (the role
// gives each partition its share); a hit that would open one beyond them is
// published as an alert of its own (`overflow`). The checkpoint carries the
// open aggregates (their bytes are what max_bytes bounds) and the sources'
// event times: at most one per open aggregate (a source's time is dropped
// with the last aggregate it owns), each its agency (a part of that
// aggregate's key) and 16 bytes.
//
// Not thread-safe: the correlate role's thread. One alert per opened
// aggregate and version, nothing per hit that joins (its raw line only
// while the aggregate keeps fewer than max_events).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/aggregate/aggregate_key.h"  // the key, as one node builds it
#include "engine/cluster/alert_batch_codec.h"
#include "engine/cluster/hit_batch_codec.h"

namespace gsoc {

// A source's host as the aggregator keeps it: a 64-bit hash (of the hit's
// `host` field; empty when it has none).
uint64_t SourceHostHash(std::string_view host);

struct PartitionAggregatorOptions {
  int64_t period_ns = int64_t{600} * 1'000'000'000;  // alerts.aggregate.period, in event time
  size_t max_open = 100'000;
  uint64_t max_bytes = uint64_t{256} << 20;
  size_t max_events = 10;
};

struct PartitionAggregatorStats {
  uint64_t hits = 0;        // aggregation hits fed
  uint64_t aggregated = 0;  // joined an open aggregate
  uint64_t opened = 0;      // version 0 published
  uint64_t updated = 0;     // later versions published
  uint64_t closed = 0;
  uint64_t overflow = 0;  // published alone: bounds reached
  uint64_t flushes = 0;   // flush markers applied
  uint64_t open = 0;      // gauge
  uint64_t bytes = 0;     // gauge
  uint64_t sources = 0;   // gauge: sources (agency, host) whose event time is kept
};

class PartitionAggregator {
 public:
  explicit PartitionAggregator(PartitionAggregatorOptions options) : options_(options) {}

  // Applies `hits` in order; the versions to publish are appended to `out`.
  void Feed(std::span<const AggregationHit> hits, std::vector<ClusterAlert>& out);
  // A flush marker: the next version of every aggregate that grew; those
  // whose period ended by their owner's event time close.
  void Flush(std::vector<ClusterAlert>& out);
  // Some aggregate grew since its last version (a marker would publish).
  bool grown() const { return grown_ != 0; }
  // The event time of source (agency, host): it closes the aggregates the
  // source owns; INT64_MIN when it owns none.
  int64_t source_time_ns(std::string_view agency, std::string_view host) const;

  void Checkpoint(std::string& out) const;
  // Replaces the state with a checkpoint's; false (state empty) with `error`.
  bool Restore(std::string_view blob, std::string* error);

  PartitionAggregatorStats stats() const;

 private:
  struct SourceClock {
    int64_t time_ns = INT64_MIN;  // the newest event time of the source's hits
    size_t open = 0;              // open aggregates it owns (the clock goes at 0)
    mutable uint64_t index = 0;   // its place among the sources (Checkpoint's scratch)
  };
  // By source key: host hash (8 bytes, little-endian), then the agency.
  using Clocks = std::map<std::string, SourceClock, std::less<>>;
  struct Aggregate {
    Alert alert;  // the current state
    uint64_t published_count = 0;
    InputPosition newest;  // of the newest counted hit
    size_t bytes = 0;
    Clocks::iterator owner;  // its source whose time closes it (map iterators stay valid)
  };
  void Open(const AggregationHit& hit, const std::string& key, Clocks::iterator clock,
            std::vector<ClusterAlert>& out);
  void Join(Aggregate& aggregate, const AggregationHit& hit);
  // The hit's source owns the aggregate from now on when it is slower.
  void Adopt(Aggregate& aggregate, Clocks::iterator clock, int64_t time_ns);
  void Publish(Aggregate& aggregate, std::vector<ClusterAlert>& out);
  // Closes the aggregate; its owner's clock stays (even at 0 open).
  void Close(std::map<std::string, Aggregate>::iterator it);
  // Drops the clock when it owns nothing.
  void Release(Clocks::iterator clock);

  const PartitionAggregatorOptions options_;
  std::map<std::string, Aggregate> open_;  // by key bytes: a deterministic order
  Clocks clocks_;                          // by source: those owning open aggregates
  uint64_t bytes_ = 0;
  uint64_t grown_ = 0;  // aggregates with a count above their last version's
  std::string key_;     // scratch
  std::string source_;  // scratch
  PartitionAggregatorStats stats_;
};

}  // namespace gsoc
