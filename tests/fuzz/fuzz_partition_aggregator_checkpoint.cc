// Fuzzes restoring a partition aggregator from its checkpoint (read back
// from the GSOC_CHECKPOINTS bucket, which any client of the NATS account can
// write: untrusted). Restore accepts it or says why and leaves nothing (no
// aggregate, no source's event time); what it accepts keeps an event time
// for each source owning open aggregates only, checkpoints again to bytes that
// restore to the same bytes (versions 1 and 2 alike), and goes on taking
// hits and flush markers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/partition_aggregator.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

gsoc::AggregationHit MakeHit(int64_t time_ns) {
  gsoc::AggregationHit hit;
  hit.rule_id = hit.rule_name = "ssh_failed";
  hit.agency = "mof";
  hit.group = {{"src_ip", "198.18.0.7"}};
  hit.event_time_ns = time_ns;
  hit.stream_sequence = 1;
  hit.raw = "Failed password for root from 198.18.0.7";
  return hit;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  gsoc::PartitionAggregatorOptions options;
  options.max_open = 64;
  options.max_bytes = 1 << 20;
  gsoc::PartitionAggregator aggregator(options);
  const std::string_view blob(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (!aggregator.Restore(blob, &error)) {
    const gsoc::PartitionAggregatorStats stats = aggregator.stats();
    Check(!error.empty() && stats.open == 0 && stats.sources == 0 && stats.bytes == 0);
    return 0;
  }
  const gsoc::PartitionAggregatorStats stats = aggregator.stats();
  Check(stats.sources <= stats.open);
  Check(stats.open == 0 || stats.sources >= 1);
  std::string again, third;
  aggregator.Checkpoint(again);
  gsoc::PartitionAggregator restored(options);
  Check(restored.Restore(again, &error));
  restored.Checkpoint(third);
  Check(third == again);
  // Goes on: a hit (joins an aggregate of its key, or opens one), a hit far
  // ahead, a marker; the state checkpoints and restores again.
  std::vector<gsoc::ClusterAlert> out;
  const int64_t time = restored.source_time_ns("mof", "");
  const int64_t start = time == INT64_MIN ? 0 : time;
  restored.Feed(std::vector<gsoc::AggregationHit>{MakeHit(start), MakeHit(INT64_MAX)}, out);
  restored.Flush(out);
  Check(restored.stats().sources <= restored.stats().open);
  restored.Checkpoint(third);
  gsoc::PartitionAggregator last(options);
  Check(last.Restore(third, &error));
  return 0;
}
