// Fuzzes decoding a hits message from GSOC_HITS (untrusted: any client of
// the NATS account can publish): correlation hits, aggregation hits and
// flush markers, as the correlate role tells them apart (HitBatchKindOf).
// Decode accepts it or says why and leaves nothing; what it accepts
// re-encodes to a message that decodes the same.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/hit_batch_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void AggregationHits(std::string_view message) {
  using gsoc::fuzz::Check;
  std::vector<gsoc::AggregationHit> hits;
  gsoc::CodecError error;
  if (!gsoc::DecodeAggregationHitBatch(message, hits, &error)) {
    Check(!error.reason.empty() && error.offset <= message.size() && hits.empty());
    return;
  }
  Check(!hits.empty());
  gsoc::AggregationHitEncoder encoder;
  std::string again;
  encoder.Begin(again);
  for (const gsoc::AggregationHit& hit : hits) {
    std::vector<std::pair<std::string_view, std::string_view>> group(hit.group.begin(),
                                                                     hit.group.end());
    std::vector<gsoc::Field> fields;
    for (const auto& [name, value] : hit.fields) fields.push_back({name, value});
    gsoc::AggregationHitView view;
    view.rule_id = hit.rule_id;
    view.rule_name = hit.rule_name;
    view.rule_title = hit.rule_title;
    view.level = hit.level;
    view.revision = hit.revision;
    view.tags = hit.tags;
    view.agency = hit.agency;
    view.group = group;
    view.fields = fields;  // host and program travel as fields
    view.event_time_ns = hit.event_time_ns;
    view.event_id = hit.event_id;
    view.stream_sequence = hit.stream_sequence;
    view.event_index = hit.event_index;
    view.raw = hit.raw;
    Check(encoder.Add(view, message.size() + 16, again));
  }
  encoder.Finish(again);
  std::vector<gsoc::AggregationHit> decoded;
  Check(gsoc::DecodeAggregationHitBatch(again, decoded, &error) && decoded.size() == hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    Check(decoded[i].rule_id == hits[i].rule_id && decoded[i].group == hits[i].group &&
          decoded[i].fields == hits[i].fields && decoded[i].tags == hits[i].tags &&
          decoded[i].raw == hits[i].raw && decoded[i].event_time_ns == hits[i].event_time_ns &&
          decoded[i].level == hits[i].level && decoded[i].revision == hits[i].revision);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  switch (gsoc::HitBatchKindOf(message)) {
    case gsoc::HitBatchKind::kAggregation:
      AggregationHits(message);
      return 0;
    case gsoc::HitBatchKind::kFlush: {
      gsoc::CodecError error;
      Check(gsoc::DecodeFlushMarker(message, &error) == (message == gsoc::EncodeFlushMarker()));
      return 0;
    }
    default:
      break;  // correlation hits, or refused as such
  }
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
