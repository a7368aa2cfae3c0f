#include "engine/util/ip_address.h"

#include <gtest/gtest.h>

#include <string>

namespace gsoc {
namespace {

IpBytes Address(std::string_view text) {
  IpBytes bytes{};
  EXPECT_TRUE(ParseIpAddress(text, bytes)) << text;
  return bytes;
}

Cidr MustParse(std::string_view text) {
  auto cidr = Cidr::Parse(text);
  EXPECT_TRUE(cidr.has_value()) << text;
  return cidr.value_or(Cidr{});
}

bool Contains(std::string_view cidr, const std::string& address) {
  return MustParse(cidr).Contains(Address(address));
}

TEST(ParseIpAddressTest, TellsTheFamilyAndMapsIpv4) {
  IpBytes bytes{};
  bool v4 = false;
  ASSERT_TRUE(ParseIpAddress("192.0.2.7", bytes, &v4));
  EXPECT_TRUE(v4);
  EXPECT_EQ(bytes[10], 0xff);
  EXPECT_EQ(bytes[11], 0xff);
  EXPECT_EQ(bytes[15], 7);
  ASSERT_TRUE(ParseIpAddress("2001:db8::7", bytes, &v4));
  EXPECT_FALSE(v4);
  EXPECT_EQ(bytes[0], 0x20);
  EXPECT_EQ(bytes[15], 7);
}

TEST(ParseIpAddressTest, RefusesWhatIsNotABareAddress) {
  IpBytes bytes{};
  for (std::string_view text : std::initializer_list<std::string_view>{
           "", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.256", "1.2.3.4/8", "fe80::1%eth0", "::g",
           "example.org", std::string_view("1.2.3.4\0", 8),
           "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:aaaa"}) {
    EXPECT_FALSE(ParseIpAddress(text, bytes)) << text;
  }
}

TEST(ParseIpAddressTest, ReadsOnlyItsViewNotTheBytesAfterIt) {
  const std::string text = "10.0.0.12345";
  IpBytes bytes{};
  ASSERT_TRUE(ParseIpAddress(std::string_view(text).substr(0, 9), bytes));  // "10.0.0.12"
  EXPECT_EQ(bytes[15], 12);
}

TEST(CidrTest, ParsesIpv4AsMappedIpv6) {
  Cidr cidr = MustParse("10.1.0.0/16");
  EXPECT_EQ(cidr.prefix_length, 96 + 16);
  const std::array<uint8_t, 16> expected = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 0};
  EXPECT_EQ(cidr.bytes, expected);
  EXPECT_EQ(cidr.bytes, Address("10.1.0.0"));
}

TEST(CidrTest, ParsesIpv6) {
  Cidr cidr = MustParse("2001:db8::/32");
  EXPECT_EQ(cidr.prefix_length, 32);
  EXPECT_EQ(cidr.bytes, Address("2001:db8::"));
  EXPECT_TRUE(Contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(Contains("2001:db8::/32", "2001:db9::1"));
}

TEST(CidrTest, BareAddressIsAFullLengthPrefix) {
  EXPECT_EQ(MustParse("1.2.3.4").prefix_length, 128);
  EXPECT_EQ(MustParse("::1").prefix_length, 128);
  EXPECT_TRUE(Contains("1.2.3.4", "1.2.3.4"));
  EXPECT_FALSE(Contains("1.2.3.4", "1.2.3.5"));
  EXPECT_TRUE(Contains("::1", "::1"));
  EXPECT_FALSE(Contains("::1", "::2"));
}

TEST(CidrTest, Ipv4Slash32AndIpv6Slash128) {
  EXPECT_EQ(MustParse("192.168.1.7/32").prefix_length, 128);
  EXPECT_TRUE(Contains("192.168.1.7/32", "192.168.1.7"));
  EXPECT_FALSE(Contains("192.168.1.7/32", "192.168.1.6"));
  EXPECT_FALSE(Contains("192.168.1.7/32", "192.168.1.8"));
  EXPECT_TRUE(Contains("2001:db8::7/128", "2001:db8::7"));
  EXPECT_FALSE(Contains("2001:db8::7/128", "2001:db8::6"));
}

TEST(CidrTest, SlashZero) {
  // IPv4 /0: every IPv4 address, no native IPv6 address.
  EXPECT_EQ(MustParse("0.0.0.0/0").prefix_length, 96);
  EXPECT_TRUE(Contains("0.0.0.0/0", "0.0.0.0"));
  EXPECT_TRUE(Contains("0.0.0.0/0", "255.255.255.255"));
  EXPECT_TRUE(Contains("0.0.0.0/0", "8.8.8.8"));
  EXPECT_FALSE(Contains("0.0.0.0/0", "::1"));
  EXPECT_FALSE(Contains("0.0.0.0/0", "2001:db8::1"));
  // IPv6 /0: everything, IPv4 (mapped) included.
  EXPECT_EQ(MustParse("::/0").prefix_length, 0);
  EXPECT_TRUE(Contains("::/0", "2001:db8::1"));
  EXPECT_TRUE(Contains("::/0", "ffff:ffff::"));
  EXPECT_TRUE(Contains("::/0", "10.0.0.1"));
  // Host bits of a /0 are all cleared.
  EXPECT_EQ(MustParse("1.2.3.4/0").bytes, MustParse("0.0.0.0/0").bytes);
  EXPECT_EQ(MustParse("2001:db8::1/0").bytes, (std::array<uint8_t, 16>{}));
}

TEST(CidrTest, OddPrefixLengths) {
  // /13: 10.8.0.0 - 10.15.255.255.
  EXPECT_EQ(MustParse("10.15.255.255/13").bytes, MustParse("10.8.0.0").bytes);
  EXPECT_TRUE(Contains("10.8.0.0/13", "10.8.0.0"));
  EXPECT_TRUE(Contains("10.8.0.0/13", "10.15.255.255"));
  EXPECT_TRUE(Contains("10.8.0.0/13", "10.12.34.56"));
  EXPECT_FALSE(Contains("10.8.0.0/13", "10.7.255.255"));
  EXPECT_FALSE(Contains("10.8.0.0/13", "10.16.0.0"));
  // /127: a pair of addresses.
  EXPECT_EQ(MustParse("2001:db8::3/127").bytes, MustParse("2001:db8::2").bytes);
  EXPECT_TRUE(Contains("2001:db8::2/127", "2001:db8::2"));
  EXPECT_TRUE(Contains("2001:db8::2/127", "2001:db8::3"));
  EXPECT_FALSE(Contains("2001:db8::2/127", "2001:db8::1"));
  EXPECT_FALSE(Contains("2001:db8::2/127", "2001:db8::4"));
  // /1, /31, /25, /65.
  EXPECT_TRUE(Contains("128.0.0.0/1", "200.1.1.1"));
  EXPECT_FALSE(Contains("128.0.0.0/1", "127.255.255.255"));
  EXPECT_TRUE(Contains("10.0.0.4/31", "10.0.0.5"));
  EXPECT_FALSE(Contains("10.0.0.4/31", "10.0.0.6"));
  EXPECT_TRUE(Contains("10.0.0.128/25", "10.0.0.255"));
  EXPECT_FALSE(Contains("10.0.0.128/25", "10.0.0.127"));
  EXPECT_TRUE(Contains("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff"));
  EXPECT_FALSE(Contains("2001:db8::/65", "2001:db8::8000:0:0:0"));
}

TEST(CidrTest, HostBitsAreCleared) {
  EXPECT_EQ(MustParse("10.1.2.3/8").bytes, MustParse("10.0.0.0/8").bytes);
  EXPECT_EQ(MustParse("10.1.2.3/24").bytes, MustParse("10.1.2.0").bytes);
  EXPECT_EQ(MustParse("2001:db8:ffff:ffff::1/48").bytes, MustParse("2001:db8:ffff::").bytes);
  EXPECT_TRUE(Contains("10.1.2.3/8", "10.200.0.1"));
  // Every prefix length: the network address has no bit set past the prefix.
  for (int length = 0; length <= 128; ++length) {
    Cidr cidr = MustParse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/" + std::to_string(length));
    ASSERT_EQ(cidr.prefix_length, length);
    for (int bit = 0; bit < 128; ++bit) {
      const bool set = cidr.bytes[bit / 8] & (0x80 >> (bit % 8));
      ASSERT_EQ(set, bit < length) << "/" << length << " bit " << bit;
    }
  }
}

TEST(CidrTest, Ipv4MappedIpv6Notation) {
  // The IPv6 spelling of an IPv4 range is the same range.
  Cidr mapped = MustParse("::ffff:10.0.0.0/104");
  Cidr v4 = MustParse("10.0.0.0/8");
  EXPECT_EQ(mapped.bytes, v4.bytes);
  EXPECT_EQ(mapped.prefix_length, v4.prefix_length);
  EXPECT_TRUE(mapped.Contains(Address("10.20.30.40")));
  EXPECT_TRUE(v4.Contains(Address("::ffff:10.20.30.40")));
  EXPECT_FALSE(v4.Contains(Address("::10.20.30.40")));         // IPv4-compatible is not mapped
  EXPECT_FALSE(v4.Contains(Address("64:ff9b::10.20.30.40")));  // NAT64 is not mapped
  EXPECT_EQ(Address("::ffff:1.2.3.4"), Address("1.2.3.4"));
}

TEST(CidrTest, InvalidTexts) {
  for (const char* text : {"1.2.3.4/33",
                           "::1/129",
                           "abc",
                           "1.2.3.4/",
                           "1.2.3.4/x",
                           "",
                           "/8",
                           "/",
                           "1.2.3/8",
                           "256.1.1.1/8",
                           "1.2.3.4/8/8",
                           "1.2.3.4 /8",
                           "1.2.3.4/ 8",
                           "1.2.3.4/8 ",
                           " 1.2.3.4/8",
                           "1.2.3.4/-1",
                           "1.2.3.4/+8",
                           "1.2.3.4/8x",
                           "::1/1000",
                           "1.2.3.4/99999999999",
                           "2001:db8:::/32",
                           "gggg::/16",
                           "10.0.0.0/8,10.1.0.0/16",
                           "localhost"}) {
    EXPECT_FALSE(Cidr::Parse(text).has_value()) << "'" << text << "'";
  }
}

TEST(CidrTest, NegativeZeroPrefixIsRejected) {
  // "-0" is not a prefix length; accepting it as /0 would make a typo claim
  // every IPv4 sender.
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/-0").has_value());
  EXPECT_FALSE(Cidr::Parse("2001:db8::/-0").has_value());
}

}  // namespace
}  // namespace gsoc
