// A generated list of mixed indicators for the indicator scale test and
// benchmark (one generator, so both measure the same list): IPv4/IPv6
// addresses and CIDRs, domains, hashes and URLs, with what was written kept
// so that hits and misses are known by construction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace gsoc::indicators::testing {

namespace fs = std::filesystem;

inline std::string Hex(std::mt19937_64& rng, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = kDigits[rng() & 15];
  return s;
}

inline std::string Label(std::mt19937_64& rng, size_t n) {
  std::string s(n, 'a');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

inline std::string V4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

struct Generated {
  std::vector<std::string> ips, v6, cidr_hits, domains, hashes, urls;
};

// Layout (so misses are known by construction):
//  - exact IPv4 in 10.0.0.0/8 (misses: other 10.x addresses, checked against the set)
//  - IPv4 CIDRs /16-/30 inside 100.64.0.0/10 plus 172.16.0.0/13; misses in 11.0.0.0/8
//  - exact IPv6 in 2001:db8:1::/48; IPv6 CIDRs /48-/127 in 2001:db8:2::/48
//  - domains <label>.<label>.bad<N>.test; misses <label>.nomatch.test
//  - hashes md5/sha1/sha256; URLs http://<label>.urlhost.test/<hex>
inline Generated GenerateList(const fs::path& file, size_t total) {
  std::mt19937_64 rng(42);
  Generated g;
  std::ofstream out(file, std::ios::binary);
  out << "# generated indicator list\n";
  size_t written = 0;
  while (written < total) {
    const unsigned kind = static_cast<unsigned>(rng() % 100);
    std::string line;
    if (kind < 25) {  // exact IPv4
      line = V4((10u << 24) | static_cast<uint32_t>(rng() & 0xffffff));
      g.ips.push_back(line);
    } else if (kind < 30) {  // exact IPv6
      line = "2001:db8:1:" + Hex(rng, 4) + ":" + Hex(rng, 4) + "::" + Hex(rng, 3) + "1";
      g.v6.push_back(line);
    } else if (kind < 40) {  // IPv4 CIDR
      const unsigned len = 16 + static_cast<unsigned>(rng() % 15);
      const uint32_t base = (100u << 24) | (64u << 16) | static_cast<uint32_t>(rng() & 0x3fffff);
      const uint32_t mask = ~0u << (32 - len);
      line = V4(base) + "/" + std::to_string(len);  // host bits set on purpose
      g.cidr_hits.push_back(V4((base & mask) | (static_cast<uint32_t>(rng()) & ~mask)));
    } else if (kind < 43) {  // IPv6 CIDR
      const unsigned len = 48 + static_cast<unsigned>(rng() % 80);
      line = "2001:db8:2:" + Hex(rng, 4) + ":" + Hex(rng, 4) + ":" + Hex(rng, 4) + ":" +
             Hex(rng, 4) + ":" + Hex(rng, 4) + "/" + std::to_string(len);
      if (len <= 64) g.cidr_hits.push_back(line.substr(0, line.find('/')));
    } else if (kind < 75) {  // domain
      line = Label(rng, 4 + rng() % 8) + "." + Label(rng, 3 + rng() % 6) + ".bad" +
             std::to_string(rng() % 1000) + ".test";
      g.domains.push_back(line);
    } else if (kind < 95) {  // hash
      static const size_t kLens[] = {32, 40, 64};
      line = Hex(rng, kLens[rng() % 3]);
      g.hashes.push_back(line);
    } else {  // URL
      line = "http://" + Label(rng, 6 + rng() % 6) + ".urlhost.test/" + Hex(rng, 8);
      g.urls.push_back(line);
    }
    out << line << "\n";
    ++written;
  }
  out << "172.16.0.0/13\n";
  return g;
}

}  // namespace gsoc::indicators::testing
