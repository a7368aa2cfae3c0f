// The state a correlate node keeps per owned partition: its correlator
// (partition_correlator.h) and its aggregator (partition_aggregator.h),
// checkpointed together into one partition checkpoint.
//
// checkpoint := "GSPC" version:u8(=1) correlator_bytes:varint correlator
//               aggregator (the rest)
// A checkpoint without the magic is a correlator's alone (written before
// aggregation ran in a cluster): the aggregator then starts empty.
//
// Not thread-safe: the correlate role's thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/partition_aggregator.h"
#include "engine/cluster/partition_correlator.h"

namespace gsoc {

struct PartitionState {
  PartitionState(uint32_t partitions, const correlate::CorrelatorOptions& correlator_options,
                 std::vector<std::string> agency_names,
                 const PartitionAggregatorOptions& aggregator_options)
      : correlator(partitions, correlator_options, std::move(agency_names)),
        aggregator(aggregator_options) {}

  void Checkpoint(std::string& out) const;
  // False with `error` when either part is refused (the other may have
  // been restored: the caller discards the state or starts it empty).
  bool Restore(const HitRouting& routing, std::string_view blob, std::string* error);

  PartitionCorrelator correlator;
  PartitionAggregator aggregator;

 private:
  mutable std::string scratch_;
};

}  // namespace gsoc
