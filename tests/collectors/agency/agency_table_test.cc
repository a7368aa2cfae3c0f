#include "collectors/agency/agency_table.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace gsoc {
namespace {

// A peer from its text form ("10.1.2.3" or "2001:db8::1").
PeerAddress Peer(const std::string& text) {
  PeerAddress peer;
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return PeerAddress::FromV4(ntohl(v4.s_addr), 1234);
  }
  in6_addr v6{};
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6), 1) << text;
  std::memcpy(peer.bytes.data(), &v6, 16);
  return peer;
}

Cidr MustParse(std::string_view text) {
  auto cidr = Cidr::Parse(text);
  EXPECT_TRUE(cidr.has_value()) << text;
  return cidr.value_or(Cidr{});
}

bool Contains(std::string_view cidr, const std::string& address) {
  return MustParse(cidr).Contains(Peer(address).bytes);
}

TEST(CidrTest, ParsesIpv4AsMappedIpv6) {
  Cidr cidr = MustParse("10.1.0.0/16");
  EXPECT_EQ(cidr.prefix_length, 96 + 16);
  const std::array<uint8_t, 16> expected = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 0};
  EXPECT_EQ(cidr.bytes, expected);
  EXPECT_EQ(cidr.bytes, Peer("10.1.0.0").bytes);
}

TEST(CidrTest, ParsesIpv6) {
  Cidr cidr = MustParse("2001:db8::/32");
  EXPECT_EQ(cidr.prefix_length, 32);
  EXPECT_EQ(cidr.bytes, Peer("2001:db8::").bytes);
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
  EXPECT_TRUE(mapped.Contains(Peer("10.20.30.40").bytes));
  EXPECT_TRUE(v4.Contains(Peer("::ffff:10.20.30.40").bytes));
  EXPECT_FALSE(v4.Contains(Peer("::10.20.30.40").bytes));         // IPv4-compatible is not mapped
  EXPECT_FALSE(v4.Contains(Peer("64:ff9b::10.20.30.40").bytes));  // NAT64 is not mapped
  // A mapped IPv6 address with a v4 address is IPv4 for PeerAddress too.
  EXPECT_TRUE(Peer("::ffff:1.2.3.4").IsV4());
  EXPECT_EQ(Peer("::ffff:1.2.3.4").bytes, Peer("1.2.3.4").bytes);
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

TEST(AgencyTableTest, NamesStartWithUnknown) {
  AgencyTable table({{"mof", {MustParse("10.1.0.0/16")}}, {"moh", {MustParse("10.2.0.0/16")}}},
                    false);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table.name(AgencyTable::kUnknown), "unknown");
  EXPECT_EQ(table.name(1), "mof");
  EXPECT_EQ(table.name(2), "moh");
  EXPECT_EQ(table.names(), (std::vector<std::string>{"unknown", "mof", "moh"}));
}

TEST(AgencyTableTest, LooksUpIpv4AndIpv6) {
  AgencyTable table({{"mof", {MustParse("10.20.0.0/16"), MustParse("2001:db8:20::/48")}},
                     {"moh", {MustParse("10.30.0.0/16"), MustParse("2001:db8:30::/48")}}},
                    false);
  EXPECT_EQ(table.Lookup(Peer("10.20.1.1")), 1);
  EXPECT_EQ(table.Lookup(Peer("2001:db8:20::99")), 1);
  EXPECT_EQ(table.Lookup(Peer("10.30.255.255")), 2);
  EXPECT_EQ(table.Lookup(Peer("2001:db8:30:ffff::1")), 2);
  EXPECT_EQ(table.Lookup(Peer("::ffff:10.30.0.1")), 2);
  EXPECT_EQ(table.Lookup(Peer("10.40.0.1")), AgencyTable::kNone);
  EXPECT_EQ(table.Lookup(Peer("2001:db8:40::1")), AgencyTable::kNone);
}

TEST(AgencyTableTest, LongestPrefixWinsRegardlessOfConfigOrder) {
  // Broad agencies first in the config, narrow ones later, and the reverse.
  const std::vector<AgencyDefinition> broad_first = {
      {"all", {MustParse("10.0.0.0/8")}},
      {"region", {MustParse("10.1.0.0/16")}},
      {"site", {MustParse("10.1.2.0/23")}},
      {"host", {MustParse("10.1.2.3/32")}},
  };
  const std::vector<AgencyDefinition> narrow_first(broad_first.rbegin(), broad_first.rend());
  for (const auto* definitions : {&broad_first, &narrow_first}) {
    AgencyTable table(*definitions, false);
    auto name = [&](const std::string& address) {
      const uint16_t index = table.Lookup(Peer(address));
      return index == AgencyTable::kNone ? std::string("<none>") : table.name(index);
    };
    EXPECT_EQ(name("10.1.2.3"), "host");
    EXPECT_EQ(name("10.1.2.4"), "site");
    EXPECT_EQ(name("10.1.3.255"), "site");
    EXPECT_EQ(name("10.1.4.0"), "region");
    EXPECT_EQ(name("10.2.0.0"), "all");
    EXPECT_EQ(name("11.0.0.0"), "<none>");
  }
}

TEST(AgencyTableTest, LongestPrefixWinsAcrossV6AndV4Spellings) {
  AgencyTable table({{"everything", {MustParse("::/0")}},
                     {"v4", {MustParse("0.0.0.0/0")}},
                     {"lan", {MustParse("::ffff:192.168.0.0/112")}}},
                    false);
  EXPECT_EQ(table.name(table.Lookup(Peer("192.168.3.4"))), "lan");
  EXPECT_EQ(table.name(table.Lookup(Peer("8.8.8.8"))), "v4");
  EXPECT_EQ(table.name(table.Lookup(Peer("2001:db8::1"))), "everything");
}

TEST(AgencyTableTest, SamePrefixInTwoAgenciesGoesToTheFirst) {
  AgencyTable table({{"first", {MustParse("10.0.0.0/8")}}, {"second", {MustParse("10.0.0.0/8")}}},
                    false);
  EXPECT_EQ(table.Lookup(Peer("10.9.9.9")), 1);
}

TEST(AgencyTableTest, UnknownAllowedVersusRefused) {
  const std::vector<AgencyDefinition> agencies = {{"mof", {MustParse("10.1.0.0/16")}}};
  AgencyTable refusing(agencies, false);
  AgencyTable allowing(agencies, true);
  EXPECT_EQ(refusing.Lookup(Peer("192.0.2.1")), AgencyTable::kNone);
  EXPECT_EQ(allowing.Lookup(Peer("192.0.2.1")), AgencyTable::kUnknown);
  EXPECT_EQ(allowing.Lookup(Peer("2001:db8::1")), AgencyTable::kUnknown);
  EXPECT_EQ(refusing.Lookup(Peer("10.1.0.1")), 1);
  EXPECT_EQ(allowing.Lookup(Peer("10.1.0.1")), 1);
  EXPECT_NE(AgencyTable::kUnknown, AgencyTable::kNone);
  // No agencies at all.
  EXPECT_EQ(AgencyTable({}, false).Lookup(Peer("127.0.0.1")), AgencyTable::kNone);
  EXPECT_EQ(AgencyTable({}, true).Lookup(Peer("127.0.0.1")), AgencyTable::kUnknown);
  EXPECT_EQ(AgencyTable({}, true).size(), 1u);
}

TEST(AgencyTableTest, PortDoesNotMatter) {
  AgencyTable table({{"mof", {MustParse("10.1.0.0/16")}}}, false);
  PeerAddress a = PeerAddress::FromV4(0x0a010203, 1);
  PeerAddress b = PeerAddress::FromV4(0x0a010203, 65535);
  EXPECT_EQ(table.Lookup(a), 1);
  EXPECT_EQ(table.Lookup(b), 1);
}

}  // namespace
}  // namespace gsoc
