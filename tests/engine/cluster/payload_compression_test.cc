// Batch payload compression (engine/cluster/payload_compression.h): what is
// compressed comes back byte for byte; what does not pay is sent as it is;
// hostile payloads (corrupt blocks, decompression bombs, unknown encodings)
// are refused with a reason and never make the decoder exceed its bound.
#include "engine/cluster/payload_compression.h"

#include <gtest/gtest.h>
#include <lz4.h>

#include <random>
#include <string>

namespace gsoc {
namespace {

std::string SyslogBatch(size_t lines) {
  std::string out;
  for (size_t i = 0; i < lines; ++i) {
    out += "<86>Dec  4 17:49:56 vm sshd[" + std::to_string(4000 + i % 97) +
           "]: Failed password for invalid user oracle from 185.220.101." +
           std::to_string(i % 251) + " port " + std::to_string(50000 + i) + " ssh2\n";
  }
  return out;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

TEST(PayloadCompressionTest, ASyslogBatchShrinksAndComesBackByteForByte) {
  const std::string batch = SyslogBatch(2000);
  std::string compressed;
  ASSERT_TRUE(CompressPayload(batch, compressed));
  EXPECT_LT(compressed.size(), batch.size() / 3) << compressed.size() << " of " << batch.size();
  std::string buffer, error;
  std::string_view payload;
  ASSERT_TRUE(DecodePayload(kLz4Encoding, compressed, buffer, &payload, &error)) << error;
  EXPECT_EQ(payload, batch);
}

TEST(PayloadCompressionTest, WhatDoesNotPayIsSentAsItIs) {
  std::string out;
  EXPECT_FALSE(CompressPayload(RandomBytes(64 * 1024, 1), out));  // incompressible
  EXPECT_FALSE(CompressPayload(std::string(200, 'a'), out));      // too small to bother
  EXPECT_FALSE(CompressPayload(std::string(kMaxPayloadBytes + 1, 'a'), out));  // over the bound
  EXPECT_TRUE(CompressPayload(std::string(kMaxPayloadBytes, 'a'), out));
  // Without the header the data is the payload, untouched.
  std::string buffer, error;
  std::string_view payload;
  const std::string plain = "GSEB plain";
  ASSERT_TRUE(DecodePayload("", plain, buffer, &payload, &error));
  EXPECT_EQ(payload.data(), plain.data());
}

TEST(PayloadCompressionTest, HostilePayloadsAreRefusedWithinTheBound) {
  std::string buffer, error;
  std::string_view payload;
  EXPECT_FALSE(DecodePayload("zstd", "abc", buffer, &payload, &error));
  EXPECT_NE(error.find("unknown Gsoc-Encoding"), std::string::npos) << error;
  // A bomb: 64 MiB of zeros compress to ~256 KiB, far more than the bound.
  const std::string zeros(size_t{64} << 20, '\0');
  std::string bomb(static_cast<size_t>(LZ4_compressBound(static_cast<int>(zeros.size()))), '\0');
  bomb.resize(static_cast<size_t>(LZ4_compress_default(
      zeros.data(), bomb.data(), static_cast<int>(zeros.size()), static_cast<int>(bomb.size()))));
  ASSERT_LT(bomb.size(), kMaxPayloadBytes);
  error.clear();
  EXPECT_FALSE(DecodePayload(kLz4Encoding, bomb, buffer, &payload, &error));
  EXPECT_NE(error.find("larger than"), std::string::npos) << error;
  EXPECT_LE(buffer.capacity(), kMaxPayloadBytes + 64);
  // Every truncation and many corruptions of a real block: refused, or
  // decoded within the bound; never a crash (ASan build).
  std::string good;
  ASSERT_TRUE(CompressPayload(SyslogBatch(300), good));
  for (size_t n = 0; n < good.size(); n += 7) {
    DecodePayload(kLz4Encoding, std::string_view(good).substr(0, n), buffer, &payload, &error);
    EXPECT_LE(payload.size(), kMaxPayloadBytes);
  }
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    bad[random() % bad.size()] = static_cast<char>(random());
    if (DecodePayload(kLz4Encoding, bad, buffer, &payload, &error)) {
      EXPECT_LE(payload.size(), kMaxPayloadBytes);
    }
  }
  EXPECT_FALSE(DecodePayload(kLz4Encoding, std::string(kMaxPayloadBytes + 1, 'x'), buffer, &payload,
                             &error));
}

}  // namespace
}  // namespace gsoc
