// The primitives of gsoc's binary encodings (engine/util/wire_format.h):
// varints read from a view agree with WireReader's on every input, a bad
// one leaves the view as it was, and big-endian keys sort as their numbers.
#include "engine/util/wire_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace gsoc {
namespace {

TEST(WireFormat, VarintsRoundTripAndStopWhereTheyEnd) {
  for (uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383},
                         uint64_t{16384}, uint64_t{1} << 35, UINT64_MAX}) {
    std::string bytes;
    wire::PutVarint(bytes, value);
    bytes += "tail";
    std::string_view in = bytes;
    uint64_t read = 0;
    ASSERT_TRUE(wire::ReadVarint(in, &read)) << value;
    EXPECT_EQ(read, value);
    EXPECT_EQ(in, "tail");
  }
}

TEST(WireFormat, ABadVarintIsRefusedAndLeavesTheViewAsItWas) {
  for (std::string_view bad : {std::string_view("\x80", 1), std::string_view(""),
                               std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10),
                               std::string_view("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")}) {
    std::string_view in = bad;
    uint64_t ignored = 0;
    EXPECT_FALSE(wire::ReadVarint(in, &ignored));
    EXPECT_EQ(in.data(), bad.data());
    EXPECT_EQ(in.size(), bad.size());
  }
}

// The view reader and WireReader decode the same inputs to the same values
// and refuse the same ones: short random byte strings, continuation bits
// set most of the time so that long and over-long varints are common.
TEST(WireFormat, ReadVarintAgreesWithWireReader) {
  std::mt19937 random(7);
  for (int i = 0; i < 200'000; ++i) {
    std::string bytes(random() % 12, '\0');
    for (char& c : bytes) c = static_cast<char>(random() % 4 ? random() | 0x80 : random() & 0x7f);
    std::string_view in = bytes;
    uint64_t value = 0;
    const bool ok = wire::ReadVarint(in, &value);
    wire::WireReader reader(bytes);
    const uint64_t expected = reader.Varint();
    ASSERT_EQ(ok, reader.ok()) << i;
    if (ok) {
      EXPECT_EQ(value, expected);
      EXPECT_EQ(bytes.size() - in.size(), reader.offset());
    }
  }
}

TEST(WireFormat, BigEndianKeysRoundTripAndSortAsTheirNumbers) {
  const std::vector<uint64_t> values = {
      0, 1, 255, 256, 65535, uint64_t{1} << 40, UINT64_MAX - 1, UINT64_MAX};
  std::vector<std::string> keys;
  for (uint64_t value : values) {
    std::string key;
    wire::PutBigEndian64(key, value);
    ASSERT_EQ(key.size(), 8u);
    EXPECT_EQ(wire::GetBigEndian64(key), value);
    keys.push_back(key);
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));  // byte-wise, as RocksDB compares
}

}  // namespace
}  // namespace gsoc
