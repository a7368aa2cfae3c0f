// Fuzzes decoding a hits message from GSOC_HITS (untrusted: any client of
// the NATS account can publish). Decode accepts it or says why and leaves
// nothing; what it accepts re-encodes to a message that decodes the same.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/hit_batch_codec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  std::vector<gsoc::ClusterHit> hits;
  gsoc::CodecError error;
  if (!gsoc::DecodeHitBatch(message, hits, &error)) {
    Check(!error.reason.empty() && error.offset <= size && hits.empty());
    return 0;
  }
  Check(!hits.empty());
  gsoc::HitBatchEncoder encoder;
  std::string again;
  encoder.Begin(again);
  for (const gsoc::ClusterHit& hit : hits) {
    std::vector<std::string_view> group(hit.group.begin(), hit.group.end());
    gsoc::HitView view{hit.correlation,
                       hit.ref,
                       hit.rule,
                       group,
                       hit.has_value,
                       hit.value,
                       hit.agency,
                       hit.host,
                       hit.event_time_ns,
                       hit.event_id,
                       hit.stream_sequence,
                       hit.event_index,
                       hit.raw};
    Check(encoder.Add(view, size + 16, again));
  }
  encoder.Finish(again);
  std::vector<gsoc::ClusterHit> decoded;
  Check(gsoc::DecodeHitBatch(again, decoded, &error) && decoded.size() == hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    Check(decoded[i].correlation == hits[i].correlation && decoded[i].group == hits[i].group &&
          decoded[i].value == hits[i].value && decoded[i].raw == hits[i].raw &&
          decoded[i].event_time_ns == hits[i].event_time_ns &&
          decoded[i].stream_sequence == hits[i].stream_sequence);
  }
  return 0;
}
