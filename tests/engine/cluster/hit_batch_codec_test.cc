// The GSOC_HITS message codec and the partition function: round trips,
// message bounds, every truncation and every corrupted header byte refused,
// hostile counts refused with a reason.
#include "engine/cluster/hit_batch_codec.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace gsoc {
namespace {

const std::vector<std::string_view> kGroup{"198.18.0.7", "root"};

HitView SampleHit(uint32_t i) {
  HitView hit;
  hit.correlation = "6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0b01";
  hit.ref = i % 2;
  hit.rule = "ssh_failure";
  hit.group = kGroup;
  hit.has_value = i % 3 == 0;
  hit.value = hit.has_value ? std::string_view("alice") : std::string_view();
  hit.agency = "mof";
  hit.host = "bastion";
  hit.event_time_ns = 1'700'000'000'000'000'000 + i;
  hit.event_id = 1000 + i;
  hit.stream_sequence = 77;
  hit.event_index = i;
  hit.raw = "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from 198.18.0.7";
  return hit;
}

std::string Encode(uint32_t n, size_t max_bytes = 1 << 20, size_t* encoded = nullptr) {
  HitBatchEncoder encoder;
  std::string out;
  encoder.Begin(out);
  for (uint32_t i = 0; i < n; ++i) {
    if (!encoder.Add(SampleHit(i), max_bytes, out)) break;
  }
  encoder.Finish(out);
  if (encoded != nullptr) *encoded = encoder.count();
  return out;
}

TEST(HitBatchCodecTest, RoundTripsEveryMember) {
  const std::string message = Encode(5);
  std::vector<ClusterHit> hits;
  CodecError error;
  ASSERT_TRUE(DecodeHitBatch(message, hits, &error)) << error.reason << " @" << error.offset;
  ASSERT_EQ(hits.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) {
    const HitView want = SampleHit(i);
    const ClusterHit& got = hits[i];
    EXPECT_EQ(got.correlation, want.correlation);
    EXPECT_EQ(got.ref, want.ref);
    EXPECT_EQ(got.rule, want.rule);
    EXPECT_EQ(got.group, (std::vector<std::string>{"198.18.0.7", "root"}));
    EXPECT_EQ(got.has_value, want.has_value);
    EXPECT_EQ(got.value, want.value);
    EXPECT_EQ(got.agency, want.agency);
    EXPECT_EQ(got.host, want.host);
    EXPECT_EQ(got.event_time_ns, want.event_time_ns);
    EXPECT_EQ(got.event_id, want.event_id);
    EXPECT_EQ(got.stream_sequence, want.stream_sequence);
    EXPECT_EQ(got.event_index, want.event_index);
    EXPECT_EQ(got.raw, want.raw);
  }
}

TEST(HitBatchCodecTest, AddStopsAtMaxBytes) {
  size_t all = 0, some = 0;
  const std::string full = Encode(10, 1 << 20, &all);
  ASSERT_EQ(all, 10u);
  const size_t bound = full.size() / 2;
  const std::string half = Encode(10, bound, &some);
  EXPECT_LT(some, 10u);
  EXPECT_GT(some, 0u);
  EXPECT_LE(half.size(), bound);
  std::vector<ClusterHit> hits;
  ASSERT_TRUE(DecodeHitBatch(half, hits, nullptr));
  EXPECT_EQ(hits.size(), some);
}

TEST(HitBatchCodecTest, PartitionIsStableInRangeAndSpreads) {
  EXPECT_EQ(HitPartition("c1", kGroup, 64), HitPartition("c1", kGroup, 64));
  const std::vector<std::string_view> joined{"198.18.0.7root"};
  // Values are length-prefixed: another split of the same bytes is another key.
  EXPECT_NE(HitPartition("c1", kGroup, 1u << 30), HitPartition("c1", joined, 1u << 30));
  EXPECT_EQ(HitPartition("c1", kGroup, 1), 0u);
  std::set<uint32_t> used;
  std::vector<std::string> values;
  for (int i = 0; i < 1000; ++i) values.push_back("10.0." + std::to_string(i));
  for (const std::string& value : values) {
    const std::vector<std::string_view> group{value};
    const uint32_t partition = HitPartition("c1", group, 64);
    ASSERT_LT(partition, 64u);
    used.insert(partition);
  }
  EXPECT_EQ(used.size(), 64u);  // 1000 keys reach every partition
}

// The partition function is part of the cluster's state (checkpoints and
// GSOC_HITS subjects name partitions): these values are FNV-1a 64 over the
// length-prefixed texts, computed independently; the two-step form gives
// the same.
TEST(HitBatchCodecTest, PartitionValuesArePinnedAndTheSeededFormAgrees) {
  EXPECT_EQ(HitPartition("c1", kGroup, 1u << 30), 1007591977u);
  EXPECT_EQ(HitPartition("c1", kGroup, 64), 41u);
  EXPECT_EQ(HitPartitionFrom(HitPartitionSeed("c1"), kGroup, 1u << 30), 1007591977u);
  const std::string key("mof\0user\0root", 13);
  EXPECT_EQ(AggregationPartition("rule-7", key, 1000003), 983631u);
  EXPECT_EQ(AggregationPartitionFrom(HitPartitionSeed("rule-7"), key, 1000003), 983631u);
}

TEST(HitBatchCodecTest, EveryTruncationAndCorruptedHeaderByteIsRefused) {
  const std::string message = Encode(3);
  std::vector<ClusterHit> hits;
  for (size_t size = 0; size < message.size(); ++size) {
    CodecError error;
    EXPECT_FALSE(DecodeHitBatch(std::string_view(message).substr(0, size), hits, &error)) << size;
    EXPECT_FALSE(error.reason.empty());
    EXPECT_LE(error.offset, size);
    EXPECT_TRUE(hits.empty());
  }
  for (size_t i = 0; i < message.size(); ++i) {
    for (const uint8_t flip : {0x01, 0x5a, 0x80, 0xff}) {
      std::string corrupt = message;
      corrupt[i] = static_cast<char>(corrupt[i] ^ flip);
      CodecError error;
      if (!DecodeHitBatch(corrupt, hits, &error)) {
        EXPECT_FALSE(error.reason.empty());
        EXPECT_TRUE(hits.empty());
        continue;
      }
      EXPECT_GE(i, 10u) << "a corrupted header byte was accepted";
      size_t bytes = 0;
      for (const ClusterHit& hit : hits) {
        EXPECT_FALSE(hit.correlation.empty());
        EXPECT_LE(hit.group.size(), 64u);
        bytes += hit.correlation.size() + hit.raw.size() + hit.host.size();
      }
      EXPECT_LE(bytes, corrupt.size());
    }
  }
}

TEST(HitBatchCodecTest, HostileMessagesAreRefusedWithAReason) {
  std::vector<ClusterHit> hits;
  const auto refusal = [&](const std::string& bytes) {
    CodecError error;
    EXPECT_FALSE(DecodeHitBatch(bytes, hits, &error));
    return std::string(error.reason);
  };
  const std::string message = Encode(1);
  std::string bad = message;
  bad[0] = 'X';
  EXPECT_EQ(refusal(bad), "not a hit batch (magic)");
  bad = message;
  bad[4] = 9;
  EXPECT_EQ(refusal(bad), "unknown hit batch version");
  bad = message;
  bad[6] = bad[7] = bad[8] = bad[9] = 0;
  EXPECT_EQ(refusal(bad), "empty hit batch");
  bad = message;
  bad[8] = 0x10;  // 1M hits
  EXPECT_EQ(refusal(bad), "too many hits in one message");
  bad = message;
  bad[6] = 100;
  EXPECT_EQ(refusal(bad), "count beyond the message");
  bad = message;
  bad[10] = 0x02;  // a reserved flag bit
  EXPECT_EQ(refusal(bad), "reserved hit flags set");
  EXPECT_EQ(refusal(message + "x"), "trailing bytes");
  // A hit claiming 2^20 group values.
  std::string header = message.substr(0, 10);
  std::string body = std::string(
                         "\x00\x02"
                         "c1"
                         "\x00\x00",
                         6) +
                     "\x80\x80\x40" + std::string(40, '\0');
  EXPECT_EQ(refusal(header + body), "too many group values");
}

// ---- aggregation hits (version 2) and flush markers (version 3) -------------

const std::vector<std::string> kTags{"attack.t1110", "attack.credential_access"};
const std::vector<std::pair<std::string_view, std::string_view>> kAggregateGroup{
    {"src_ip", "198.18.0.7"}, {"user", "root"}};
const std::vector<Field> kFields{{"src_ip", "198.18.0.7"}, {"user", "root"}, {"port", "22"}};

AggregationHitView SampleAggregationHit(uint32_t i) {
  AggregationHitView hit;
  hit.rule_id = "5a8b2c10-0000-4000-8000-000000000001";
  hit.rule_name = "ssh_failed_password";
  hit.rule_title = "SSH failed password";
  hit.level = 2;
  hit.revision = 0x1234567890abcdefULL;
  hit.tags = kTags;
  hit.agency = "mof";
  hit.group = kAggregateGroup;
  hit.host = i % 2 == 0 ? std::string_view("bastion") : std::string_view();
  hit.program = "sshd";
  hit.fields = kFields;
  hit.event_time_ns = -5 + static_cast<int64_t>(i);  // signed: zigzag
  hit.event_id = 900 + i;
  hit.stream_sequence = 42;
  hit.event_index = i;
  hit.raw = "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from 198.18.0.7";
  return hit;
}

std::string EncodeAggregation(uint32_t n, size_t max_bytes = 1 << 20, size_t* encoded = nullptr) {
  AggregationHitEncoder encoder;
  std::string out;
  encoder.Begin(out);
  for (uint32_t i = 0; i < n; ++i) {
    if (!encoder.Add(SampleAggregationHit(i), max_bytes, out)) break;
  }
  encoder.Finish(out);
  if (encoded != nullptr) *encoded = encoder.count();
  return out;
}

TEST(HitBatchCodecTest, AggregationHitsRoundTripEveryMember) {
  const std::string message = EncodeAggregation(4);
  EXPECT_EQ(HitBatchKindOf(message), HitBatchKind::kAggregation);
  EXPECT_EQ(HitBatchKindOf(Encode(1)), HitBatchKind::kCorrelation);
  std::vector<AggregationHit> hits;
  CodecError error;
  ASSERT_TRUE(DecodeAggregationHitBatch(message, hits, &error))
      << error.reason << " @" << error.offset;
  ASSERT_EQ(hits.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    const AggregationHitView want = SampleAggregationHit(i);
    const AggregationHit& got = hits[i];
    EXPECT_EQ(got.rule_id, want.rule_id);
    EXPECT_EQ(got.rule_name, want.rule_name);
    EXPECT_EQ(got.rule_title, want.rule_title);
    EXPECT_EQ(got.level, want.level);
    EXPECT_EQ(got.revision, want.revision);
    EXPECT_EQ(got.tags, kTags);
    EXPECT_EQ(got.agency, "mof");
    EXPECT_EQ(got.group, (std::vector<std::pair<std::string, std::string>>{{"src_ip", "198.18.0.7"},
                                                                           {"user", "root"}}));
    std::vector<std::pair<std::string, std::string>> fields;
    if (i % 2 == 0) fields.emplace_back("host", "bastion");
    fields.emplace_back("program", "sshd");
    for (const Field& field : kFields) fields.emplace_back(field.name, field.value);
    EXPECT_EQ(got.fields, fields);  // as MakeDetectionAlert orders them
    EXPECT_EQ(got.event_time_ns, want.event_time_ns);
    EXPECT_EQ(got.event_id, want.event_id);
    EXPECT_EQ(got.stream_sequence, 42u);
    EXPECT_EQ(got.event_index, i);
    EXPECT_EQ(got.raw, want.raw);
  }
  // Each decoder refuses the other kind.
  std::vector<ClusterHit> correlation_hits;
  EXPECT_FALSE(DecodeHitBatch(message, correlation_hits, &error));
  EXPECT_FALSE(DecodeAggregationHitBatch(Encode(1), hits, &error));
  size_t some = 0;
  const std::string half = EncodeAggregation(10, message.size() / 2, &some);
  EXPECT_GT(some, 0u);
  EXPECT_LT(some, 10u);
  EXPECT_LE(half.size(), message.size() / 2);
}

TEST(HitBatchCodecTest, AggregationPartitionIsTheKeysAndStable) {
  EXPECT_EQ(AggregationPartition("r1", std::string_view("r1\0mof\0", 8), 64),
            AggregationPartition("r1", std::string_view("r1\0mof\0", 8), 64));
  std::set<uint32_t> used;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "r1" + std::string(1, '\0') + "src_ip=10.0." + std::to_string(i);
    const uint32_t partition = AggregationPartition("r1", key, 64);
    ASSERT_LT(partition, 64u);
    used.insert(partition);
  }
  EXPECT_EQ(used.size(), 64u);
}

TEST(HitBatchCodecTest, AggregationHitsRefuseTruncationCorruptionAndHostileCounts) {
  const std::string message = EncodeAggregation(2);
  std::vector<AggregationHit> hits;
  for (size_t size = 0; size < message.size(); ++size) {
    CodecError error;
    EXPECT_FALSE(DecodeAggregationHitBatch(std::string_view(message).substr(0, size), hits, &error))
        << size;
    EXPECT_FALSE(error.reason.empty());
    EXPECT_LE(error.offset, size);
    EXPECT_TRUE(hits.empty());
  }
  for (size_t i = 0; i < message.size(); ++i) {
    for (const uint8_t flip : {0x01, 0x5a, 0x80, 0xff}) {
      std::string corrupt = message;
      corrupt[i] = static_cast<char>(corrupt[i] ^ flip);
      CodecError error;
      if (!DecodeAggregationHitBatch(corrupt, hits, &error)) {
        EXPECT_FALSE(error.reason.empty());
        EXPECT_TRUE(hits.empty());
        continue;
      }
      EXPECT_GE(i, 10u) << "a corrupted header byte was accepted";
      size_t bytes = 0;
      for (const AggregationHit& hit : hits) {
        EXPECT_FALSE(hit.rule_id.empty());
        EXPECT_LE(hit.level, 4u);
        bytes += hit.rule_id.size() + hit.raw.size() + hit.fields.size() * 2 + hit.tags.size();
      }
      EXPECT_LE(bytes, corrupt.size());
    }
  }
  const auto refusal = [&](const std::string& bytes) {
    CodecError error;
    EXPECT_FALSE(DecodeAggregationHitBatch(bytes, hits, &error));
    return std::string(error.reason);
  };
  std::string bad = message;
  bad[10] = 0x01;
  EXPECT_EQ(refusal(bad), "reserved hit flags set");
  EXPECT_EQ(refusal(message + "x"), "trailing bytes");
  // A hit with level 9, and one claiming 2^20 tags.
  const std::string header = message.substr(0, 6) + std::string("\x01\0\0\0", 4);
  EXPECT_EQ(refusal(header + std::string("\0\x01r\0\0\x09", 6) + std::string(40, '\0')),
            "level out of range");
  EXPECT_EQ(refusal(header + std::string("\0\x01r\0\0\x01\0", 7) + "\x80\x80\x40" +
                    std::string(40, '\0')),
            "too many tags");
}

TEST(HitBatchCodecTest, FlushMarkersAreTheHeaderAlone) {
  const std::string marker = EncodeFlushMarker();
  EXPECT_EQ(marker.size(), 10u);
  EXPECT_EQ(HitBatchKindOf(marker), HitBatchKind::kFlush);
  CodecError error;
  EXPECT_TRUE(DecodeFlushMarker(marker, &error));
  EXPECT_FALSE(DecodeFlushMarker(marker + "x", &error));
  EXPECT_EQ(std::string(error.reason), "trailing bytes");
  std::string counted = marker;
  counted[6] = 1;
  EXPECT_FALSE(DecodeFlushMarker(counted, &error));
  EXPECT_EQ(std::string(error.reason), "a flush marker carries no hits");
  for (size_t size = 0; size < marker.size(); ++size) {
    EXPECT_FALSE(DecodeFlushMarker(std::string_view(marker).substr(0, size), &error)) << size;
  }
  std::string unknown = marker;
  unknown[4] = 7;
  EXPECT_EQ(HitBatchKindOf(unknown), HitBatchKind::kUnknown);
  EXPECT_EQ(HitBatchKindOf("GSH"), HitBatchKind::kUnknown);
  // Other kinds are not markers.
  EXPECT_FALSE(DecodeFlushMarker(Encode(1), &error));
}

// Decoding reuses the hits of the vector it is given (their strings keep
// their capacity): a message decoded over an earlier one, whose hits differ
// in every member, gives what it gives into an empty vector.
TEST(HitBatchCodecTest, DecodingOverEarlierHitsLeavesNothingOfThem) {
  HitBatchEncoder encoder;
  std::string earlier, later;
  encoder.Begin(earlier);
  for (uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(encoder.Add(SampleHit(i * 3), 1 << 20, earlier));
  encoder.Finish(earlier);
  const std::vector<std::string_view> one_value{"203.0.113.9"};
  encoder.Begin(later);
  for (uint32_t i = 0; i < 4; ++i) {
    HitView hit = SampleHit(i * 3 + 1);  // has_value false where the earlier had it
    hit.correlation = "c2";
    hit.rule = "r2";
    hit.group = one_value;
    hit.agency = "moj";
    hit.host = "";
    hit.raw = "short";
    ASSERT_TRUE(encoder.Add(hit, 1 << 20, later));
  }
  encoder.Finish(later);
  std::vector<ClusterHit> reused, fresh;
  CodecError error;
  ASSERT_TRUE(DecodeHitBatch(earlier, reused, &error)) << error.reason;
  ASSERT_TRUE(DecodeHitBatch(later, reused, &error)) << error.reason;
  ASSERT_TRUE(DecodeHitBatch(later, fresh, &error)) << error.reason;
  ASSERT_EQ(reused.size(), 4u);
  EXPECT_EQ(reused, fresh);

  const std::vector<std::string> no_tags;
  const std::vector<std::pair<std::string_view, std::string_view>> no_group;
  const Field one_field[] = {{"user", "bob"}};
  AggregationHitEncoder aggregation;
  aggregation.Begin(earlier);
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(aggregation.Add(SampleAggregationHit(i * 2), 1 << 20, earlier));
  }
  aggregation.Finish(earlier);
  aggregation.Begin(later);
  for (uint32_t i = 0; i < 3; ++i) {
    AggregationHitView hit = SampleAggregationHit(i * 2 + 1);
    hit.rule_id = "r2";
    hit.rule_name = "";
    hit.rule_title = "t";
    hit.level = 4;
    hit.revision = 7;
    hit.tags = no_tags;
    hit.agency = "moj";
    hit.group = no_group;
    hit.program = "";
    hit.fields = one_field;
    hit.stream_sequence = 43;
    hit.raw = "";
    ASSERT_TRUE(aggregation.Add(hit, 1 << 20, later));
  }
  aggregation.Finish(later);
  std::vector<AggregationHit> reused_aggregation, fresh_aggregation;
  ASSERT_TRUE(DecodeAggregationHitBatch(earlier, reused_aggregation, &error)) << error.reason;
  ASSERT_TRUE(DecodeAggregationHitBatch(later, reused_aggregation, &error)) << error.reason;
  ASSERT_TRUE(DecodeAggregationHitBatch(later, fresh_aggregation, &error)) << error.reason;
  ASSERT_EQ(reused_aggregation.size(), 3u);
  EXPECT_EQ(reused_aggregation, fresh_aggregation);
  // A refused message still leaves the vector empty.
  EXPECT_FALSE(
      DecodeAggregationHitBatch(later.substr(0, later.size() - 1), reused_aggregation, &error));
  EXPECT_TRUE(reused_aggregation.empty());
}

// A buffer decoded into in place keeps the largest text each of its places
// held: messages whose big texts sit at ever other places grow it message
// by message, far beyond any one message. HeapBytes sees that growth and
// ReleaseIfOver frees the buffer once it is over the bound (the correlate
// role does so before each decode, counted in
// gsoc_cluster_correlate_decode_buffer_releases_total).
TEST(HitBatchCodecTest, AReusedBufferKeepsEarlierTextsUntilReleased) {
  const std::string big(256 << 10, 'x');
  std::vector<ClusterHit> reused;
  CodecError error;
  size_t released = 0, most = 0;
  for (uint32_t message = 0; message < 16; ++message) {
    HitBatchEncoder encoder;
    std::string out;
    encoder.Begin(out);
    for (uint32_t i = 0; i < 16; ++i) {
      HitView hit = SampleHit(i);
      hit.raw = i == message ? std::string_view(big) : std::string_view("small");
      ASSERT_TRUE(encoder.Add(hit, 1 << 20, out));
    }
    encoder.Finish(out);
    ASSERT_TRUE(DecodeHitBatch(out, reused, &error)) << error.reason;
    most = std::max(most, HeapBytes(reused));
    released += ReleaseIfOver(reused, size_t{1} << 20) ? 1 : 0;
    EXPECT_LE(HeapBytes(reused), (size_t{1} << 20) + big.size() + 4096);
  }
  EXPECT_GT(most, 4 * big.size());  // it did grow past one message's bytes
  EXPECT_GE(released, 3u);
  EXPECT_EQ(HeapBytes(std::vector<ClusterHit>{}), 0u);

  // Aggregation hits count their vectors of fields and tags too.
  std::vector<AggregationHit> aggregation(1);
  const size_t one = HeapBytes(aggregation);
  aggregation[0].fields.assign(100, {std::string(100, 'n'), std::string(100, 'v')});
  EXPECT_GE(HeapBytes(aggregation), one + 100 * (sizeof(aggregation[0].fields[0]) + 2 * 100));
  EXPECT_TRUE(ReleaseIfOver(aggregation, one));
  EXPECT_EQ(aggregation.capacity(), 0u);
}

}  // namespace
}  // namespace gsoc
