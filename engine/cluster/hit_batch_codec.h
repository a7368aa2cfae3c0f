// The binary encoding of a hits message on GSOC_HITS: the hits of one
// GSOC_EVENTS message that fall in one correlation partition (subject
// gsoc.hits.<partition>, partition = HitPartition(correlation, group key)).
// Layout in engine/cluster/README.md.
//
// A hit is what the correlate role needs to run one correlation input as a
// single node's Correlator would: the correlation (id) and which of its
// referenced rules fired (ref, rule id), the group-by values read from the
// event (the alias mapping applied), the value of the correlation's
// `field` when it has one, the event-time source (agency, host), the
// event's time, id and raw line (contributing events), and its input
// position (GSOC_EVENTS sequence and index: the alert identity's input).
//
// Three kinds of message share the magic, told apart by the version byte
// (HitBatchKindOf): 1, correlation hits (above); 2, aggregation hits: a hit
// of a detection rule whose alerts are aggregated (engine/aggregate), with
// what the alert needs (rule, agency, group values, the event's time, id,
// fields and raw line, its input position), for the partition of hash(rule,
// aggregate key); 3, a flush marker (no hits): the correlate role publishes
// one to a partition to have the grown aggregates published as new versions
// at that point of the stream, so a replay makes the same versions.
//
// Encoder: from views (no allocation per hit besides the output buffer).
// Decoder: into the caller's vector, whose hits are overwritten in place
// (wire::ItemReuse::kReused): decoding every message into one vector
// allocates only when a message has more or longer texts than the ones
// before. The input is untrusted; every count and length is checked
// against the input's own bounds and HitBatchLimits, truncated, trailing or
// hostile input is refused with a static reason and the byte offset, and
// `out` is left empty. Not thread-safe: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/event_batch_codec.h"

namespace gsoc {

inline constexpr uint32_t kHitBatchMagic = 0x42485347;     // "GSHB" little-endian
inline constexpr uint8_t kHitBatchVersion = 1;             // correlation hits
inline constexpr uint8_t kAggregationHitBatchVersion = 2;  // aggregation hits
inline constexpr uint8_t kFlushMarkerVersion = 3;          // a flush marker, no hits

enum class HitBatchKind { kCorrelation, kAggregation, kFlush, kUnknown };
// The kind of a GSOC_HITS message by its magic and version (kUnknown: not a
// hits message, or one of a version this build does not know).
HitBatchKind HitBatchKindOf(std::string_view message);

// One hit as the detect role encodes it: views into the batch and the rule set.
struct HitView {
  std::string_view correlation;             // correlation rule id
  uint32_t ref = 0;                         // index into its `rules:`
  std::string_view rule;                    // the detection rule id that fired
  std::span<const std::string_view> group;  // group_by values, in group_by order
  bool has_value = false;                   // the correlation's `field` was present
  std::string_view value;
  std::string_view agency;
  std::string_view host;
  int64_t event_time_ns = 0;
  uint64_t event_id = 0;
  uint64_t stream_sequence = 0;  // of the GSOC_EVENTS message
  uint32_t event_index = 0;
  std::string_view raw;
};

// A decoded hit (owns its bytes).
struct ClusterHit {
  std::string correlation;
  uint32_t ref = 0;
  std::string rule;
  std::vector<std::string> group;
  bool has_value = false;
  std::string value;
  std::string agency;
  std::string host;
  int64_t event_time_ns = 0;
  uint64_t event_id = 0;
  uint64_t stream_sequence = 0;
  uint32_t event_index = 0;
  std::string raw;
  bool operator==(const ClusterHit&) const = default;
};

struct HitBatchLimits {
  size_t max_hits = 65536;  // in one message
  size_t max_group = 64;    // group-by values of one hit
  uint32_t max_ref = 1024;  // a correlation's referenced rules
};

// The partition of (correlation, group key): FNV-1a 64 over the id and the
// length-prefixed values, mod `partitions` (> 0). The same on every node.
uint32_t HitPartition(std::string_view correlation, std::span<const std::string_view> group,
                      uint32_t partitions);
// The same in two steps, for a caller that places many group keys of one
// correlation (or rule): the hash after the id, then a key's partition
// from it. HitPartitionFrom(HitPartitionSeed(id), group, n) ==
// HitPartition(id, group, n).
uint64_t HitPartitionSeed(std::string_view id);
uint32_t HitPartitionFrom(uint64_t seed, std::span<const std::string_view> group,
                          uint32_t partitions);

class HitBatchEncoder {
 public:
  // Starts a message in `out` (cleared).
  void Begin(std::string& out);
  // Appends `hit` unless `out` would exceed `max_bytes`; false (out as it
  // was) when it does not fit.
  bool Add(const HitView& hit, size_t max_bytes, std::string& out);
  size_t count() const { return count_; }
  // Writes the count; the message is complete.
  void Finish(std::string& out) const;

 private:
  size_t count_ = 0;
};

bool DecodeHitBatch(std::string_view message, std::vector<ClusterHit>& out, CodecError* error,
                    const HitBatchLimits& limits = {});

// ---- aggregation hits (version 2) ----------------------------------------

// One aggregation hit as the detect role encodes it: views into the batch
// and the rule set. `fields` are the alert's fields (MakeDetectionAlert's:
// host, program, then the event's fields): given as host, program and the
// event's Field span, so the encoder reads them in place.
struct AggregationHitView {
  std::string_view rule_id, rule_name, rule_title;
  uint8_t level = 0;  // rules::Level
  uint64_t revision = 0;
  std::span<const std::string> tags;
  std::string_view agency;
  std::span<const std::pair<std::string_view, std::string_view>> group;  // aggregate key values
  std::string_view host, program;                                        // empty: absent
  std::span<const Field> fields;
  int64_t event_time_ns = 0;
  uint64_t event_id = 0;
  uint64_t stream_sequence = 0;  // of the GSOC_EVENTS message
  uint32_t event_index = 0;
  std::string_view raw;  // cut to alerts.aggregate.max_event_size by the caller
};

// A decoded aggregation hit (owns its bytes).
struct AggregationHit {
  std::string rule_id, rule_name, rule_title;
  uint8_t level = 0;
  uint64_t revision = 0;
  std::vector<std::string> tags;
  std::string agency;
  std::vector<std::pair<std::string, std::string>> group;
  std::vector<std::pair<std::string, std::string>> fields;
  int64_t event_time_ns = 0;
  uint64_t event_id = 0;
  uint64_t stream_sequence = 0;
  uint32_t event_index = 0;
  std::string raw;
  bool operator==(const AggregationHit&) const = default;
};

struct AggregationHitLimits {
  size_t max_hits = 65536;   // in one message
  size_t max_tags = 256;     // of the rule
  size_t max_group = 64;     // group values
  size_t max_fields = 1026;  // the event's (EventBatchLimits) plus host and program
};

// The partition of an aggregate: HitPartition over the rule id and the
// aggregate key's bytes (agency, then name and value of each group field).
uint32_t AggregationPartition(std::string_view rule_id, std::string_view key_bytes,
                              uint32_t partitions);
// The same from HitPartitionSeed(rule_id).
uint32_t AggregationPartitionFrom(uint64_t seed, std::string_view key_bytes, uint32_t partitions);

// The heap bytes a decoded hit vector holds: its own, and its hits'
// strings' and vectors' capacities (texts short enough to be kept inline
// count nothing). A vector decoded into with ItemReuse::kReused keeps the
// largest texts each of its places ever held, so its caller bounds it by
// this (ReleaseIfOver).
size_t HeapBytes(const std::vector<ClusterHit>& hits);
size_t HeapBytes(const std::vector<AggregationHit>& hits);

// Frees `hits` (the next decode starts afresh) when HeapBytes is over
// `max_bytes`; true when it did.
template <typename Hit>
bool ReleaseIfOver(std::vector<Hit>& hits, size_t max_bytes) {
  if (HeapBytes(hits) <= max_bytes) return false;
  std::vector<Hit>().swap(hits);
  return true;
}

class AggregationHitEncoder {
 public:
  void Begin(std::string& out);
  // Appends `hit` unless `out` would exceed `max_bytes` (out as it was).
  bool Add(const AggregationHitView& hit, size_t max_bytes, std::string& out);
  size_t count() const { return count_; }
  void Finish(std::string& out) const;

 private:
  size_t count_ = 0;
};

bool DecodeAggregationHitBatch(std::string_view message, std::vector<AggregationHit>& out,
                               CodecError* error, const AggregationHitLimits& limits = {});

// A flush marker: the header alone, count 0 (exactly 10 bytes).
std::string EncodeFlushMarker();
bool DecodeFlushMarker(std::string_view message, CodecError* error);

}  // namespace gsoc
