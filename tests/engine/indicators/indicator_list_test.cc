#include "engine/indicators/indicator_list.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace gsoc::indicators {
namespace {

namespace fs = std::filesystem;

class IndicatorListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("gsoc_indicators_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::unique_ptr<IndicatorList> LoadText(const std::string& content,
                                          const std::string& column = "") {
    return IndicatorList::Load({"test", Write("list.txt", content), column});
  }
  // The runtime_error message of loading `content`, or "" if it loaded.
  std::string LoadError(const std::string& content, const std::string& column = "") {
    try {
      LoadText(content, column);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(IndicatorListTest, PlainFileCommentsBlankLinesAndCrlf) {
  auto list = LoadText(
      "# header comment\r\n"
      "\r\n"
      "  evil.example  \r\n"
      "198.51.100.7 # trailing comment\r\n"
      "\t# indented comment\n"
      "\n"
      "http://bad.example/path#fragment\n"
      "last.example.invalid");  // no final newline
  EXPECT_EQ(list->name(), "test");
  EXPECT_EQ(list->size(), 4u);
  EXPECT_TRUE(list->Matches("evil.example"));
  EXPECT_TRUE(list->Matches("198.51.100.7"));
  EXPECT_TRUE(list->Matches("http://bad.example/path#fragment"));  // '#' without space: value
  EXPECT_TRUE(list->Matches("last.example.invalid"));
  EXPECT_FALSE(list->Matches("# header comment"));
  EXPECT_FALSE(list->Matches("header comment"));
  EXPECT_FALSE(list->Matches("198.51.100.7 # trailing comment"));
  EXPECT_FALSE(list->Matches("evil.example\r"));
  EXPECT_FALSE(list->Matches(""));
}

TEST_F(IndicatorListTest, DuplicatesAreFine) {
  auto list = LoadText("a.example\nA.EXAMPLE\na.example\n10.0.0.1\n10.0.0.1\n");
  EXPECT_EQ(list->size(), 5u);
  EXPECT_TRUE(list->Matches("a.example"));
  EXPECT_TRUE(list->Matches("10.0.0.1"));
}

TEST_F(IndicatorListTest, CsvWithQuotedFields) {
  auto list = LoadText(
      "# abuse feed export\n"
      "id,\"first seen\",indicator,comment\r\n"
      "1,2024-01-01,evil.example,\"plain\"\r\n"
      "2,2024-01-02,\"quoted,with,commas.example\",\"says \"\"hi\"\", ok\"\r\n"
      "3,2024-01-03,\"he said \"\"x\"\"\",c\n"
      "\n"
      "4,2024-01-04,\"multi\nline\",c\n"
      "5,2024-01-05,  203.0.113.9  ,c\n"
      "6,2024-01-06,,empty value skipped\n",
      "indicator");
  EXPECT_EQ(list->size(), 5u);
  EXPECT_TRUE(list->Matches("evil.example"));
  EXPECT_TRUE(list->Matches("quoted,with,commas.example"));
  EXPECT_TRUE(list->Matches("he said \"x\""));
  EXPECT_TRUE(list->Matches("multi\nline"));
  EXPECT_TRUE(list->Matches("203.0.113.9"));
  EXPECT_FALSE(list->Matches("plain"));       // other column
  EXPECT_FALSE(list->Matches("2024-01-01"));  // other column
  EXPECT_FALSE(list->Matches("indicator"));   // header
  EXPECT_FALSE(list->Matches("\"quoted"));
}

TEST_F(IndicatorListTest, CsvColumnCaseInsensitiveFallback) {
  auto list = LoadText("Value,Type\nx.example,domain\n", "value");
  EXPECT_TRUE(list->Matches("x.example"));
  EXPECT_FALSE(list->Matches("domain"));
}

TEST_F(IndicatorListTest, ErrorsNameFileLineAndReason) {
  std::string e = LoadError("10.0.0.0/8\n# c\n\n10.0.0.0/33\n");
  EXPECT_NE(e.find("list.txt:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid CIDR"), std::string::npos) << e;

  e = LoadError("2001:db8::/129\n");
  EXPECT_NE(e.find(":1: invalid CIDR"), std::string::npos) << e;
  e = LoadError("ok.example\n10.0.0.0/\n");
  EXPECT_NE(e.find(":2: invalid CIDR"), std::string::npos) << e;
  e = LoadError("10.0.0.0/8x\n");
  EXPECT_NE(e.find(":1: invalid CIDR"), std::string::npos) << e;
  e = LoadError("300.1.2.0/24\n");
  EXPECT_NE(e.find(":1: invalid CIDR"), std::string::npos) << e;
  e = LoadError("a.example\n\n999.1.2.3\n");
  EXPECT_NE(e.find(":3: invalid IPv4"), std::string::npos) << e;

  e = LoadError("a,b\n1,2\n", "indicator");
  EXPECT_NE(e.find("list.txt:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("no column 'indicator'"), std::string::npos) << e;
  e = LoadError("# only comments\n", "indicator");
  EXPECT_NE(e.find("no header"), std::string::npos) << e;
  e = LoadError("a,indicator\n1,x.example\n\n3\n", "indicator");
  EXPECT_NE(e.find("list.txt:4:"), std::string::npos) << e;
  e = LoadError("a,indicator\n1,\"x.example\n2,y\n", "indicator");
  EXPECT_NE(e.find("list.txt:2: unterminated"), std::string::npos) << e;
  e = LoadError("a,indicator\n1,\"x\"y\n", "indicator");
  EXPECT_NE(e.find("list.txt:2:"), std::string::npos) << e;
  // A CIDR error after a multi-line quoted field reports the record's first line.
  e = LoadError("a,indicator\n\"x\ny\",1.2.3.4\n1,10.0.0.0/40\n", "indicator");
  EXPECT_NE(e.find("list.txt:4: invalid CIDR"), std::string::npos) << e;

  try {
    IndicatorList::Load({"missing", dir_ / "does_not_exist.txt", ""});
    FAIL() << "no exception";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find("does_not_exist.txt"), std::string::npos);
    EXPECT_NE(std::string(ex.what()).find("cannot open"), std::string::npos);
  }
  try {
    IndicatorList::Load({"dir", dir_, ""});
    FAIL() << "no exception";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(dir_.string()), std::string::npos);
  }
}

TEST_F(IndicatorListTest, UrlLikeValuesWithSlashAreNotCidrs) {
  auto list = LoadText("cafe.de/12\nhttp://10.0.0.1/x\nevil.example/a/b\n");
  EXPECT_TRUE(list->Matches("cafe.de/12"));
  EXPECT_TRUE(list->Matches("HTTP://10.0.0.1/X"));
  EXPECT_FALSE(list->Matches("10.0.0.1"));
  EXPECT_TRUE(list->Matches("evil.example/a/b"));
}

TEST_F(IndicatorListTest, Ipv4ExactAndCidr) {
  auto list = LoadText(
      "198.51.100.7\n"
      "203.0.113.0/24\n"
      "10.0.0.0/8\n"
      "172.16.0.0/13\n"
      "192.0.2.77/32\n"
      "100.64.1.130/25\n");  // host bits cleared -> 100.64.1.128/25
  EXPECT_TRUE(list->Matches("198.51.100.7"));
  EXPECT_FALSE(list->Matches("198.51.100.8"));
  EXPECT_FALSE(list->Matches("198.51.100.70"));
  EXPECT_TRUE(list->Matches("203.0.113.0"));
  EXPECT_TRUE(list->Matches("203.0.113.255"));
  EXPECT_FALSE(list->Matches("203.0.112.255"));
  EXPECT_FALSE(list->Matches("203.0.114.0"));
  EXPECT_TRUE(list->Matches("10.255.255.255"));
  EXPECT_FALSE(list->Matches("11.0.0.0"));
  EXPECT_TRUE(list->Matches("172.16.0.1"));
  EXPECT_TRUE(list->Matches("172.23.255.255"));  // /13 = 172.16.0.0 - 172.23.255.255
  EXPECT_FALSE(list->Matches("172.24.0.0"));
  EXPECT_FALSE(list->Matches("172.15.255.255"));
  EXPECT_TRUE(list->Matches("192.0.2.77"));
  EXPECT_FALSE(list->Matches("192.0.2.76"));
  EXPECT_TRUE(list->Matches("100.64.1.128"));
  EXPECT_TRUE(list->Matches("100.64.1.255"));
  EXPECT_FALSE(list->Matches("100.64.1.127"));
  // IPv4-mapped IPv6 text matches the IPv4 entries.
  EXPECT_TRUE(list->Matches("::ffff:198.51.100.7"));
  EXPECT_TRUE(list->Matches("::FFFF:203.0.113.9"));
  EXPECT_TRUE(list->Matches("::ffff:c633:6407"));  // 198.51.100.7 in hex
  EXPECT_FALSE(list->Matches("::ffff:198.51.100.8"));
  EXPECT_FALSE(list->Matches("::198.51.100.7"));  // IPv4-compatible: a different address
  // A CIDR value matches when inside a listed prefix.
  EXPECT_TRUE(list->Matches("10.1.0.0/16"));
  EXPECT_FALSE(list->Matches("10.0.0.0/7"));
  // Not IPs.
  EXPECT_FALSE(list->Matches("198.51.100.7 "));
  EXPECT_FALSE(list->Matches("198.51.100"));
  EXPECT_FALSE(list->Matches("10.0.0.1.example"));
  EXPECT_FALSE(list->Matches("2001:db8::1"));
}

TEST_F(IndicatorListTest, Ipv4SlashZeroMatchesAllIpv4ButNoIpv6) {
  auto list = LoadText("0.0.0.0/0\n");
  EXPECT_TRUE(list->Matches("0.0.0.0"));
  EXPECT_TRUE(list->Matches("255.255.255.255"));
  EXPECT_TRUE(list->Matches("8.8.8.8"));
  EXPECT_FALSE(list->Matches("2001:db8::1"));
  EXPECT_FALSE(list->Matches("::"));
  EXPECT_FALSE(list->Matches("example.com"));
}

TEST_F(IndicatorListTest, Ipv6ExactAndCidr) {
  auto list = LoadText(
      "2001:db8::1\n"
      "2001:db8:aaaa::/64\n"
      "2001:db8:bbbb::/127\n"
      "2001:db8:cccc::5/128\n"
      "2001:DB8:DDDD::/48\n"
      "fe80::/10\n");
  EXPECT_TRUE(list->Matches("2001:db8::1"));
  EXPECT_TRUE(list->Matches("2001:0db8:0000:0000:0000:0000:0000:0001"));
  EXPECT_TRUE(list->Matches("2001:DB8::1"));
  EXPECT_FALSE(list->Matches("2001:db8::2"));
  EXPECT_TRUE(list->Matches("2001:db8:aaaa::ffff"));
  EXPECT_TRUE(list->Matches("2001:db8:aaaa:0:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(list->Matches("2001:db8:aaaa:1::"));
  EXPECT_TRUE(list->Matches("2001:db8:bbbb::"));
  EXPECT_TRUE(list->Matches("2001:db8:bbbb::1"));
  EXPECT_FALSE(list->Matches("2001:db8:bbbb::2"));
  EXPECT_TRUE(list->Matches("2001:db8:cccc::5"));
  EXPECT_FALSE(list->Matches("2001:db8:cccc::4"));
  EXPECT_TRUE(list->Matches("2001:db8:dddd:ffff::1"));
  EXPECT_FALSE(list->Matches("2001:db8:ddde::1"));
  EXPECT_TRUE(list->Matches("fe80::1"));
  EXPECT_TRUE(list->Matches("febf:ffff::1"));
  EXPECT_FALSE(list->Matches("fec0::1"));
  EXPECT_FALSE(list->Matches("10.0.0.1"));
  EXPECT_FALSE(list->Matches("2001:db8::1%eth0"));
}

TEST_F(IndicatorListTest, Ipv6SlashZeroMatchesEverything) {
  auto list = LoadText("::/0\n");
  EXPECT_TRUE(list->Matches("2001:db8::1"));
  EXPECT_TRUE(list->Matches("::"));
  EXPECT_TRUE(list->Matches("10.0.0.1"));  // as ::ffff:10.0.0.1
  EXPECT_FALSE(list->Matches("example.com"));
}

TEST_F(IndicatorListTest, MappedEntryMatchesIpv4Text) {
  auto list = LoadText("::ffff:192.0.2.1\n::ffff:198.51.100.0/120\n");
  EXPECT_TRUE(list->Matches("192.0.2.1"));
  EXPECT_TRUE(list->Matches("198.51.100.200"));
  EXPECT_FALSE(list->Matches("198.51.101.0"));
}

TEST_F(IndicatorListTest, DomainsAndStringsCaseInsensitiveExact) {
  auto list = LoadText("Evil.Example\nbad-domain.invalid.\nMozilla/5.0 (EvilBot)\n");
  EXPECT_TRUE(list->Matches("evil.example"));
  EXPECT_TRUE(list->Matches("EVIL.EXAMPLE"));
  EXPECT_TRUE(list->Matches("eVil.ExAmPlE"));
  EXPECT_FALSE(list->Matches("a.evil.example"));  // exact, not suffix
  EXPECT_FALSE(list->Matches("evil.example.com"));
  EXPECT_FALSE(list->Matches("evil.exampl"));
  EXPECT_TRUE(list->Matches("bad-domain.invalid"));  // FQDN dot stripped at load
  EXPECT_TRUE(list->Matches("mozilla/5.0 (evilbot)"));
}

TEST_F(IndicatorListTest, LongValuesCompareWithoutTruncation) {
  const std::string base(5000, 'a');
  auto list = LoadText(base + ".example\n");
  std::string upper(5000, 'A');
  EXPECT_TRUE(list->Matches(upper + ".EXAMPLE"));
  EXPECT_FALSE(list->Matches(upper + "B.EXAMPLE"));
  upper[4095] = 'B';
  EXPECT_FALSE(list->Matches(upper + ".EXAMPLE"));
  // Every length around the 8- and 16-byte chunk edges.
  std::string content;
  // (Strings built with Cat: GCC 12 -Wrestrict false positive on "lit" + std::string.)
  auto cat = [](std::string_view a, std::string_view b, std::string_view c) {
    std::string s(a);
    s.append(b).append(c);
    return s;
  };
  for (int n = 1; n <= 40; ++n) content += cat("k", std::string(n, 'x'), ".ex\n");
  auto chunks = LoadText(content);
  for (int n = 1; n <= 40; ++n) {
    EXPECT_TRUE(chunks->Matches(cat("K", std::string(n, 'X'), ".EX"))) << n;
    EXPECT_FALSE(chunks->Matches(cat("k", std::string(n, 'x'), ".ey"))) << n;
    EXPECT_FALSE(chunks->Matches(cat("k", std::string(n, 'x'), "y.ex"))) << n;
  }
}

TEST_F(IndicatorListTest, NonAsciiBytesAreNotCaseFolded) {
  auto list = LoadText(
      "b\xC3\xBC"
      "cher.example\n");  // bücher
  EXPECT_TRUE(
      list->Matches("B\xC3\xBC"
                    "CHER.example"));
  EXPECT_FALSE(
      list->Matches("b\xC3\x9C"
                    "cher.example"));  // Ü is not folded
}

TEST_F(IndicatorListTest, Hashes) {
  const std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  const std::string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  const std::string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string sha512 = std::string(128, 'c');
  auto list = LoadText(md5 + "\n" + sha1 + "\n" + sha256 + "\n" + sha512 + "\n");
  EXPECT_TRUE(list->Matches(md5));
  EXPECT_TRUE(list->Matches("D41D8CD98F00B204E9800998ECF8427E"));
  EXPECT_TRUE(list->Matches(sha1));
  EXPECT_TRUE(list->Matches(sha256));
  EXPECT_TRUE(list->Matches(std::string(128, 'C')));
  EXPECT_FALSE(list->Matches("d41d8cd98f00b204e9800998ecf8427f"));
  EXPECT_FALSE(list->Matches(md5.substr(0, 31)));
  EXPECT_FALSE(list->Matches(std::string(127, 'c')));
  // Hashes are exact-match only: not in the substring database.
  auto scratch = list->MakeScratch();
  EXPECT_FALSE(list->ContainsSubstring("file hash " + md5 + " seen", *scratch));
}

TEST_F(IndicatorListTest, ContainsSubstringDomainBoundaries) {
  auto list = LoadText("evil.com\nBad-Host.example\n");
  auto s = list->MakeScratch();
  EXPECT_TRUE(list->ContainsSubstring("evil.com", *s));
  EXPECT_TRUE(list->ContainsSubstring("http://a.evil.com/x", *s));
  EXPECT_TRUE(list->ContainsSubstring("HTTP://A.EVIL.COM/X", *s));
  EXPECT_TRUE(list->ContainsSubstring("query for evil.com from 10.0.0.1", *s));
  EXPECT_TRUE(list->ContainsSubstring("user@evil.com", *s));
  EXPECT_TRUE(list->ContainsSubstring("https://evil.com:8443/", *s));
  EXPECT_TRUE(list->ContainsSubstring("\"evil.com\"", *s));
  EXPECT_TRUE(list->ContainsSubstring("resolved evil.com.", *s));     // FQDN / sentence end
  EXPECT_TRUE(list->ContainsSubstring("name=evil.com. type=A", *s));  // FQDN
  EXPECT_TRUE(list->ContainsSubstring("x notevil.community, then evil.com", *s));  // 2nd occurrence
  EXPECT_FALSE(list->ContainsSubstring("notevil.community", *s));
  EXPECT_FALSE(list->ContainsSubstring("notevil.com", *s));
  EXPECT_FALSE(list->ContainsSubstring("not-evil.com", *s));
  EXPECT_FALSE(list->ContainsSubstring("evil.community", *s));
  EXPECT_FALSE(list->ContainsSubstring("evil.com-cdn.net", *s));
  EXPECT_FALSE(list->ContainsSubstring("evil.com.attacker.net", *s));
  EXPECT_FALSE(list->ContainsSubstring("evil_com", *s));
  EXPECT_FALSE(list->ContainsSubstring("", *s));
  EXPECT_TRUE(list->ContainsSubstring("GET http://cdn.bad-host.example/a.js", *s));
  EXPECT_FALSE(list->ContainsSubstring("very-bad-host.example", *s));
  // Exact Matches is unaffected by the substring database.
  EXPECT_FALSE(list->Matches("a.evil.com"));
  EXPECT_TRUE(list->Matches("EVIL.com"));
}

TEST_F(IndicatorListTest, ContainsSubstringUrlsAndStrings) {
  auto list = LoadText("http://bad.example/payload.exe\nMimikatz\n198.51.100.7\n");
  auto s = list->MakeScratch();
  EXPECT_TRUE(list->ContainsSubstring("GET HTTP://BAD.EXAMPLE/PAYLOAD.EXE?x=1 HTTP/1.1", *s));
  EXPECT_TRUE(list->ContainsSubstring("see http://bad.example/payload.exe", *s));
  EXPECT_FALSE(list->ContainsSubstring("http://bad.example/payload.ex", *s));
  EXPECT_FALSE(list->ContainsSubstring("https://bad.example/payload.exe", *s));
  EXPECT_TRUE(list->ContainsSubstring("process=mimikatz.exe", *s));  // plain string: any substring
  EXPECT_FALSE(list->ContainsSubstring("mimi katz", *s));
  EXPECT_FALSE(list->ContainsSubstring("connect 198.51.100.7", *s));  // IPs: Matches only
}

TEST_F(IndicatorListTest, NoSubstringEntriesNoDatabase) {
  auto list = LoadText("10.0.0.0/8\n" + std::string(64, 'a') + "\n");
  auto s = list->MakeScratch();
  EXPECT_FALSE(list->ContainsSubstring("10.1.2.3 " + std::string(64, 'a'), *s));
  auto empty = LoadText("# nothing\n");
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_FALSE(empty->Matches("x"));
  EXPECT_FALSE(empty->ContainsSubstring("x", *empty->MakeScratch()));
  EXPECT_GT(empty->memory_bytes(), 0u);
}

TEST_F(IndicatorListTest, ScratchFromAnotherListIsGrown) {
  auto small = IndicatorList::Load({"small", Write("small.txt", "a.example\n"), ""});
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "host" + std::to_string(i) + ".bad.example\n";
  many += "http://x.example/" + std::string(300, 'p') + "\n";
  auto big = IndicatorList::Load({"big", Write("big.txt", many), ""});
  auto s = small->MakeScratch();
  EXPECT_TRUE(big->ContainsSubstring("visit host1999.bad.example now", *s));
  EXPECT_TRUE(small->ContainsSubstring("visit a.example now", *s));
  EXPECT_FALSE(big->ContainsSubstring("visit a.example now", *s));
}

TEST_F(IndicatorListTest, ConcurrentLookups) {
  std::string content;
  for (int i = 0; i < 5000; ++i) {
    content.append("d").append(std::to_string(i)).append(".bad.example\n10.");
    content.append(std::to_string(i % 256)).append(".").append(std::to_string(i / 256));
    content.append(".0/24\n");
  }
  auto list = LoadText(content);
  std::vector<std::thread> threads;
  std::vector<int> errors(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto s = list->MakeScratch();
      for (int i = 0; i < 5000; ++i) {
        std::string d = "d";
        d.append(std::to_string(i)).append(".bad.example");
        if (!list->Matches(d)) ++errors[t];
        if (!list->ContainsSubstring("GET http://" + d + "/x", *s)) ++errors[t];
        if (list->ContainsSubstring("GET http://x" + d + "/x", *s)) ++errors[t];
        const std::string ip =
            "10." + std::to_string(i % 256) + "." + std::to_string(i / 256) + ".77";
        if (!list->Matches(ip)) ++errors[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(errors[t], 0) << t;
}

TEST_F(IndicatorListTest, ShippedExampleListsLoad) {
  const fs::path lists = fs::path(GSOC_SOURCE_DIR) / "rules" / "lists";
  auto ips = IndicatorList::Load({"bad_ips", lists / "bad_ips.txt", ""});
  EXPECT_GT(ips->size(), 0u);
  EXPECT_TRUE(ips->Matches("203.0.113.50"));
  EXPECT_TRUE(ips->Matches("198.51.100.7"));
  EXPECT_FALSE(ips->Matches("8.8.8.8"));
  auto domains = IndicatorList::Load({"bad_domains", lists / "bad_domains.txt", ""});
  EXPECT_GT(domains->size(), 0u);
  auto s = domains->MakeScratch();
  EXPECT_TRUE(domains->ContainsSubstring("GET http://cdn.evil.example.invalid/x", *s));
  EXPECT_FALSE(domains->ContainsSubstring("GET http://example.org/x", *s));
}

}  // namespace
}  // namespace gsoc::indicators
