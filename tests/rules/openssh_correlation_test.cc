// The shipped brute-force correlations on a real log (loghub OpenSSH_2k.log,
// 2000 lines of an internet-facing sshd). The expectation is computed here,
// independently of the engine: a plain regex over the lines and a sliding
// window over their timestamps.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "tests/rules/pack_engine.h"

namespace gsoc {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
const char* kBruteForce = "6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0b01";   // >= 10 / 5m per src_ip
const char* kSpraying = "6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0b02";     // >= 5 users / 10m per src_ip
const char* kDistributed = "6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0b04";  // >= 5 ips / 30m per user

struct Failure {
  int64_t second;  // seconds since Dec 10 00:00
  std::string user;
  std::string ip;
};

std::vector<std::string> ReadLines() {
  std::ifstream in(std::string(GSOC_CORPUS_DIR) + "/loghub/OpenSSH/OpenSSH_2k.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<Failure> Failures(const std::vector<std::string>& lines) {
  static const std::regex kLine(
      R"(^Dec (\d+) (\d\d):(\d\d):(\d\d) \S+ sshd\[\d+\]: Failed \S+ for (?:invalid user )?(.*) from (\d+\.\d+\.\d+\.\d+) port \d+)");
  std::vector<Failure> out;
  for (const std::string& line : lines) {
    std::smatch m;
    if (!std::regex_search(line, m, kLine)) continue;
    const int64_t second = (std::stoll(m[1]) - 10) * 86400 + std::stoll(m[2]) * 3600 +
                           std::stoll(m[3]) * 60 + std::stoll(m[4]);
    out.push_back({second, m[5], m[6]});
  }
  return out;
}

// Keys having at least `threshold` events (or distinct values) within `span`
// seconds: every window that begins at one of the key's events is checked.
std::set<std::string> KeysOverThreshold(const std::vector<Failure>& failures,
                                        std::string Failure::*key, std::string Failure::*value,
                                        size_t threshold, int64_t span) {
  std::map<std::string, std::vector<const Failure*>> by_key;
  for (const Failure& f : failures) by_key[f.*key].push_back(&f);
  std::set<std::string> out;
  for (auto& [name, list] : by_key) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Failure* a, const Failure* b) { return a->second < b->second; });
    for (size_t i = 0; i < list.size() && !out.count(name); ++i) {
      std::set<std::string> distinct;
      size_t events = 0;
      for (size_t j = i; j < list.size() && list[j]->second - list[i]->second <= span; ++j) {
        ++events;
        if (value) distinct.insert(list[j]->*value);
      }
      if ((value ? distinct.size() : events) >= threshold) out.insert(name);
    }
  }
  return out;
}

std::set<std::string> Fired(const std::vector<Alert>& alerts, const std::string& rule) {
  std::set<std::string> out;
  for (const Alert& alert : alerts) {
    if (alert.rule.id == rule && !alert.group.empty()) out.insert(alert.group[0].second);
  }
  return out;
}

TEST(OpenSshCorrelation, ShippedBruteForceRulesFireForExactlyTheRightKeys) {
  const std::vector<std::string> lines = ReadLines();
  ASSERT_EQ(lines.size(), 2000u);
  const std::vector<Failure> failures = Failures(lines);
  ASSERT_GT(failures.size(), 400u);

  const auto brute = KeysOverThreshold(failures, &Failure::ip, nullptr, 10, 300);
  const auto spraying = KeysOverThreshold(failures, &Failure::ip, &Failure::user, 5, 600);
  const auto distributed = KeysOverThreshold(failures, &Failure::user, &Failure::ip, 5, 1800);
  ASSERT_FALSE(brute.empty());  // the log has brute forces; the test must be able to fail

  RuleEngineBuild build = BuildRuleEngine(testing::PackSources());
  ASSERT_TRUE(build.engine);
  // Receive time in January 2017: the RFC 3164 "Dec 10" lines fall in 2016.
  const int64_t receive = 1'484'000'000LL * kSecond;
  std::vector<testing::TimedLine> timed;
  for (const std::string& line : lines) timed.push_back({receive, line});
  const std::vector<Alert> alerts = testing::RunStream(build.engine, timed, 128);

  EXPECT_EQ(Fired(alerts, kBruteForce), brute);
  // Spraying also counts "Invalid user" lines; the independent check covers
  // failed authentications only, so the engine may find more, never fewer.
  const auto sprayed = Fired(alerts, kSpraying);
  for (const auto& ip : spraying) EXPECT_TRUE(sprayed.count(ip)) << ip;
  EXPECT_EQ(Fired(alerts, kDistributed), distributed);
  std::printf(
      "brute force: %zu source(s), spraying: %zu (%zu from failures alone), "
      "distributed: %zu account(s)\n",
      brute.size(), sprayed.size(), spraying.size(), distributed.size());
}

}  // namespace
}  // namespace gsoc
