#include "engine/cluster/hit_batch_codec.h"

#include <utility>

#include "engine/util/hash.h"

namespace gsoc {
namespace {

constexpr size_t kHeaderBytes = 10;  // magic, version, flags, u32 count
// The smallest hit: one byte for each of its 14 members (empty texts,
// values below 128), one more for the flag byte.
constexpr size_t kMinHitBytes = 14;
constexpr uint8_t kHasValue = 0x01;
constexpr uint8_t kReservedBits = 0xfe;

// An aggregation hit: flag byte, three rule texts, level, revision, tag
// count, agency, group count, time, id, sequence, index, raw, field count.
constexpr size_t kMinAggregationHitBytes = 15;
constexpr uint8_t kMaxLevel = 4;  // rules::Level::kCritical

using wire::PutText;
using wire::PutVarint;
using wire::PutZigzag;

void WriteHeader(std::string& out, uint8_t version, size_t count) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((kHitBatchMagic >> (8 * i)) & 0xff);
  out[4] = static_cast<char>(version);
  out[5] = 0;
  for (int i = 0; i < 4; ++i) out[6 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
}

void ReadPairs(wire::WireReader& in, size_t limit, std::string_view too_many,
               std::vector<std::pair<std::string, std::string>>& out) {
  out.resize(in.Count(limit, 2, too_many));
  for (auto& [name, value] : out) {
    in.Text(name);
    in.Text(value);
  }
}

bool ReadAggregationHit(wire::WireReader& in, AggregationHit& hit,
                        const AggregationHitLimits& limits) {
  if (in.U8() != 0 && in.ok()) return in.Fail("reserved hit flags set");
  in.Text(hit.rule_id);
  in.Text(hit.rule_name);
  in.Text(hit.rule_title);
  hit.level = in.U8();
  if (in.ok() && hit.level > kMaxLevel) return in.Fail("level out of range");
  hit.revision = in.Varint();
  hit.tags.resize(in.Count(limits.max_tags, 1, "too many tags"));
  for (std::string& tag : hit.tags) in.Text(tag);
  in.Text(hit.agency);
  ReadPairs(in, limits.max_group, "too many group values", hit.group);
  hit.event_time_ns = in.Zigzag();
  hit.event_id = in.Varint();
  hit.stream_sequence = in.Varint();
  const uint64_t index = in.Varint();
  if (in.ok() && index > UINT32_MAX) return in.Fail("event index out of range");
  hit.event_index = static_cast<uint32_t>(index);
  in.Text(hit.raw);
  ReadPairs(in, limits.max_fields, "too many fields", hit.fields);
  if (in.ok() && hit.rule_id.empty()) return in.Fail("hit without a rule id");
  return in.ok();
}

bool ReadHit(wire::WireReader& in, ClusterHit& hit, const HitBatchLimits& limits) {
  const uint8_t flags = in.U8();
  if (in.ok() && (flags & kReservedBits) != 0) return in.Fail("reserved hit flags set");
  hit.has_value = (flags & kHasValue) != 0;
  in.Text(hit.correlation);
  const uint64_t ref = in.Varint();
  if (in.ok() && ref >= limits.max_ref) return in.Fail("ref out of range");
  hit.ref = static_cast<uint32_t>(ref);
  in.Text(hit.rule);
  const uint64_t groups = in.Varint();
  if (in.ok() && groups > limits.max_group) return in.Fail("too many group values");
  if (in.ok() && groups > in.remaining()) return in.Fail("count beyond the message");
  hit.group.resize(in.ok() ? static_cast<size_t>(groups) : 0);
  for (std::string& value : hit.group) in.Text(value);
  in.Text(hit.value);
  if (in.ok() && !hit.has_value && !hit.value.empty()) return in.Fail("value without its flag");
  in.Text(hit.agency);
  in.Text(hit.host);
  const uint64_t time = in.Varint();
  hit.event_time_ns = static_cast<int64_t>((time >> 1) ^ (~(time & 1) + 1));
  hit.event_id = in.Varint();
  hit.stream_sequence = in.Varint();
  const uint64_t index = in.Varint();
  if (in.ok() && index > UINT32_MAX) return in.Fail("event index out of range");
  hit.event_index = static_cast<uint32_t>(index);
  in.Text(hit.raw);
  if (in.ok() && hit.correlation.empty()) return in.Fail("hit without a correlation id");
  return in.ok();
}

}  // namespace

namespace {

// FNV-1a 64 over `text` after its length as 8 little-endian bytes.
uint64_t MixLengthPrefixed(uint64_t hash, std::string_view text) {
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  return Fnv1a(text, Fnv1a(std::string_view(length, 8), hash));
}

}  // namespace

uint64_t HitPartitionSeed(std::string_view id) { return MixLengthPrefixed(kFnv1aOffset, id); }

uint32_t HitPartitionFrom(uint64_t seed, std::span<const std::string_view> group,
                          uint32_t partitions) {
  uint64_t hash = seed;
  for (const std::string_view value : group) hash = MixLengthPrefixed(hash, value);
  return static_cast<uint32_t>(hash % (partitions == 0 ? 1 : partitions));
}

uint32_t HitPartition(std::string_view correlation, std::span<const std::string_view> group,
                      uint32_t partitions) {
  return HitPartitionFrom(HitPartitionSeed(correlation), group, partitions);
}

void HitBatchEncoder::Begin(std::string& out) {
  out.assign(kHeaderBytes, '\0');
  count_ = 0;
}

bool HitBatchEncoder::Add(const HitView& hit, size_t max_bytes, std::string& out) {
  const size_t before = out.size();
  out += static_cast<char>(hit.has_value ? kHasValue : 0);
  PutText(out, hit.correlation);
  PutVarint(out, hit.ref);
  PutText(out, hit.rule);
  PutVarint(out, hit.group.size());
  for (const std::string_view value : hit.group) PutText(out, value);
  PutText(out, hit.has_value ? hit.value : std::string_view());
  PutText(out, hit.agency);
  PutText(out, hit.host);
  PutVarint(out, (static_cast<uint64_t>(hit.event_time_ns) << 1) ^
                     static_cast<uint64_t>(hit.event_time_ns >> 63));
  PutVarint(out, hit.event_id);
  PutVarint(out, hit.stream_sequence);
  PutVarint(out, hit.event_index);
  PutText(out, hit.raw);
  if (out.size() > max_bytes) {
    out.resize(before);
    return false;
  }
  ++count_;
  return true;
}

void HitBatchEncoder::Finish(std::string& out) const { WriteHeader(out, kHitBatchVersion, count_); }

bool DecodeHitBatch(std::string_view message, std::vector<ClusterHit>& out, CodecError* error,
                    const HitBatchLimits& limits) {
  const wire::BatchFormat format{kHitBatchMagic,
                                 kHitBatchVersion,
                                 limits.max_hits,
                                 kMinHitBytes,
                                 "not a hit batch (magic)",
                                 "unknown hit batch version",
                                 "empty hit batch",
                                 "too many hits in one message"};
  return wire::DecodeBatch(
      message, format, out, error,
      [&](wire::WireReader& in, ClusterHit& hit) { return ReadHit(in, hit, limits); },
      wire::ItemReuse::kReused);
}

HitBatchKind HitBatchKindOf(std::string_view message) {
  wire::WireReader in(message);
  if (in.Fixed(4) != kHitBatchMagic || !in.ok()) return HitBatchKind::kUnknown;
  switch (in.U8()) {
    case kHitBatchVersion:
      return HitBatchKind::kCorrelation;
    case kAggregationHitBatchVersion:
      return HitBatchKind::kAggregation;
    case kFlushMarkerVersion:
      return HitBatchKind::kFlush;
    default:
      return HitBatchKind::kUnknown;
  }
}

// ---- aggregation hits ----------------------------------------------------------

uint32_t AggregationPartition(std::string_view rule_id, std::string_view key_bytes,
                              uint32_t partitions) {
  return AggregationPartitionFrom(HitPartitionSeed(rule_id), key_bytes, partitions);
}

uint32_t AggregationPartitionFrom(uint64_t seed, std::string_view key_bytes, uint32_t partitions) {
  const std::string_view key[] = {key_bytes};
  return HitPartitionFrom(seed, key, partitions);
}

void AggregationHitEncoder::Begin(std::string& out) {
  out.assign(kHeaderBytes, '\0');
  count_ = 0;
}

bool AggregationHitEncoder::Add(const AggregationHitView& hit, size_t max_bytes, std::string& out) {
  const size_t before = out.size();
  out += '\0';  // flags
  PutText(out, hit.rule_id);
  PutText(out, hit.rule_name);
  PutText(out, hit.rule_title);
  out += static_cast<char>(hit.level);
  PutVarint(out, hit.revision);
  PutVarint(out, hit.tags.size());
  for (const std::string& tag : hit.tags) PutText(out, tag);
  PutText(out, hit.agency);
  PutVarint(out, hit.group.size());
  for (const auto& [name, value] : hit.group) {
    PutText(out, name);
    PutText(out, value);
  }
  PutZigzag(out, hit.event_time_ns);
  PutVarint(out, hit.event_id);
  PutVarint(out, hit.stream_sequence);
  PutVarint(out, hit.event_index);
  PutText(out, hit.raw);
  PutVarint(out, (hit.host.empty() ? 0 : 1) + (hit.program.empty() ? 0 : 1) + hit.fields.size());
  if (!hit.host.empty()) {
    PutText(out, "host");
    PutText(out, hit.host);
  }
  if (!hit.program.empty()) {
    PutText(out, "program");
    PutText(out, hit.program);
  }
  for (const Field& field : hit.fields) {
    PutText(out, field.name);
    PutText(out, field.value);
  }
  if (out.size() > max_bytes) {
    out.resize(before);
    return false;
  }
  ++count_;
  return true;
}

void AggregationHitEncoder::Finish(std::string& out) const {
  WriteHeader(out, kAggregationHitBatchVersion, count_);
}

bool DecodeAggregationHitBatch(std::string_view message, std::vector<AggregationHit>& out,
                               CodecError* error, const AggregationHitLimits& limits) {
  const wire::BatchFormat format{kHitBatchMagic,
                                 kAggregationHitBatchVersion,
                                 limits.max_hits,
                                 kMinAggregationHitBytes,
                                 "not a hit batch (magic)",
                                 "not an aggregation hit batch (version)",
                                 "empty hit batch",
                                 "too many hits in one message"};
  return wire::DecodeBatch(
      message, format, out, error,
      [&](wire::WireReader& in, AggregationHit& hit) {
        return ReadAggregationHit(in, hit, limits);
      },
      wire::ItemReuse::kReused);
}

namespace {

size_t TextBytes(const std::string& text) {
  static const size_t kInline = std::string().capacity();
  return text.capacity() > kInline ? text.capacity() + 1 : 0;
}

size_t TextBytes(const std::vector<std::string>& texts) {
  size_t bytes = texts.capacity() * sizeof(std::string);
  for (const std::string& text : texts) bytes += TextBytes(text);
  return bytes;
}

size_t TextBytes(const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t bytes = pairs.capacity() * sizeof(pairs[0]);
  for (const auto& [name, value] : pairs) bytes += TextBytes(name) + TextBytes(value);
  return bytes;
}

}  // namespace

size_t HeapBytes(const std::vector<ClusterHit>& hits) {
  size_t bytes = hits.capacity() * sizeof(ClusterHit);
  for (const ClusterHit& hit : hits) {
    bytes += TextBytes(hit.correlation) + TextBytes(hit.rule) + TextBytes(hit.group) +
             TextBytes(hit.value) + TextBytes(hit.agency) + TextBytes(hit.host) +
             TextBytes(hit.raw);
  }
  return bytes;
}

size_t HeapBytes(const std::vector<AggregationHit>& hits) {
  size_t bytes = hits.capacity() * sizeof(AggregationHit);
  for (const AggregationHit& hit : hits) {
    bytes += TextBytes(hit.rule_id) + TextBytes(hit.rule_name) + TextBytes(hit.rule_title) +
             TextBytes(hit.tags) + TextBytes(hit.agency) + TextBytes(hit.group) +
             TextBytes(hit.fields) + TextBytes(hit.raw);
  }
  return bytes;
}

std::string EncodeFlushMarker() {
  std::string out(kHeaderBytes, '\0');
  WriteHeader(out, kFlushMarkerVersion, 0);
  return out;
}

bool DecodeFlushMarker(std::string_view message, CodecError* error) {
  wire::WireReader in(message);
  if (in.Fixed(4) != kHitBatchMagic && in.ok()) in.Fail("not a hit batch (magic)");
  if (in.U8() != kFlushMarkerVersion && in.ok()) in.Fail("not a flush marker (version)");
  if (in.U8() != 0 && in.ok()) in.Fail("reserved flags set");
  if (in.Fixed(4) != 0 && in.ok()) in.Fail("a flush marker carries no hits");
  if (in.ok() && !in.at_end()) in.Fail("trailing bytes");
  if (in.ok()) return true;
  if (error != nullptr) *error = in.error();
  return false;
}

}  // namespace gsoc
