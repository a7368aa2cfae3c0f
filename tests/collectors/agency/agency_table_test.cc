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

TEST(AgencyTableTest, MappedIpv6PeerIsIpv4) {
  EXPECT_TRUE(Peer("::ffff:1.2.3.4").IsV4());
  EXPECT_EQ(Peer("::ffff:1.2.3.4").bytes, Peer("1.2.3.4").bytes);
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
