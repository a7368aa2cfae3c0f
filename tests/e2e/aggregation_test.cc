// End to end: aggregation of detection alerts in a running gsocd, with the
// default config and the shipped pack.
//  - A realistic mix (gsoc-loadgen's sshd/cron/firewall/web catalog: five
//    attackers and random scanners, a pool of 4,096 distinct messages
//    repeated, as gsoc-loadgen sends it): the store holds at least 20 times
//    fewer alerts than there are hits, and the aggregate counts equal an
//    independent count of the hits (gsocctl replay of the same lines, one
//    alert per hit), key by key, so every distinct attacker, account and
//    host is still shown.
//  - kill -9 during an aggregated flood: every version a stream client was
//    served is still stored, or replaced by a newer version of its aggregate
//    with a higher count; after the restart the aggregates resume (their
//    next version continues the count) instead of opening anew.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

const char* const kGroupFields[] = {"src_ip", "dst_ip", "user", "target_user", "rhost", "host"};

std::string Rfc3164Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%b %e %H:%M:%S", &tm);
  return text;
}

// gsoc-loadgen's catalog (tools/loadgen/catalog.cc), rendered with a fixed seed.
class Mix {
 public:
  explicit Mix(uint32_t seed) : random_(seed), stamp_(Rfc3164Now()) {}

  std::string Line() {
    const unsigned roll = Range(0, 99);
    if (roll < 22)
      return Ssh("Failed password for " + Guessed(true) + " from " + Source(85) + " port " +
                 Port() + " ssh2");
    if (roll < 30)
      return Ssh("Invalid user " + Guessed(false) + " from " + Source(85) + " port " + Port());
    if (roll < 38) {
      return Header(10, 5, "sshd") +
             "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
             "rhost=" +
             Source(85) + "  user=" + (Range(0, 99) < 60 ? "root" : Guessed(false));
    }
    if (roll < 43)
      return Ssh("Accepted publickey for " + Legit() + " from " + Internal() + " port " + Port() +
                 " ssh2");
    if (roll < 48)
      return Ssh("Connection closed by authenticating user " + Guessed(false) + " " + Source(85) +
                 " port " + Port() + " [preauth]");
    if (roll < 52) {
      const std::string user = Legit();
      return Header(10, 5, "sudo", false) + "    " + user + " : TTY=pts/1 ; PWD=/home/" + user +
             " ; USER=root ; COMMAND=/usr/bin/apt-get update";
    }
    if (roll < 62) return Header(9, 6, "CRON") + "(root) CMD (/usr/lib/php/sessionclean)";
    if (roll < 80) {
      static const char* const kPorts[] = {"22", "23", "445", "3389", "5900", "8080", "3306"};
      return Header(0, 4, "kernel", false) +
             "[12345.678901] [UFW BLOCK] IN=eth0 OUT= "
             "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
             "SRC=" +
             Source(60) + " DST=" + Internal() +
             " LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=" + std::to_string(Range(1, 65535)) +
             " PROTO=TCP SPT=" + Port() + " DPT=" + kPorts[Range(0, 6)] +
             " WINDOW=1024 RES=0x00 SYN URGP=0";
    }
    static const char* const kProbes[] = {"/wp-login.php", "/.env", "/phpmyadmin/index.php",
                                          "/.git/config"};
    const bool probe = Range(0, 99) < 25;
    return Header(23, 6, "nginx", false) + (probe ? Source(90) : Public()) +
           " - - [25/Nov/2026:10:00:01 +0000] \"GET " + (probe ? kProbes[Range(0, 3)] : "/") +
           " HTTP/1.1\" " + (probe ? "404" : "200") + " 512 \"-\" \"" +
           (probe ? "python-requests/2.31.0" : "Mozilla/5.0") + "\"";
  }

 private:
  unsigned Range(unsigned lo, unsigned hi) {
    return std::uniform_int_distribution<unsigned>(lo, hi)(random_);
  }
  std::string Header(int facility, int severity, const char* program, bool pid = true) {
    static const char* const kHosts[] = {"bastion", "web1", "db1", "mail"};
    return "<" + std::to_string(facility * 8 + severity) + ">" + stamp_ + " " +
           kHosts[Range(0, 3)] + " " + program +
           (pid ? "[" + std::to_string(Range(300, 65000)) + "]" : std::string()) + ": ";
  }
  std::string Ssh(const std::string& text) { return Header(10, 6, "sshd") + text; }
  std::string Guessed(bool invalid_prefix) {
    static const char* const kUsers[] = {"root", "admin",    "test", "oracle", "ubuntu",
                                         "user", "postgres", "git",  "pi",     "guest"};
    const std::string user = kUsers[Range(0, 9)];
    return invalid_prefix && user != "root" ? "invalid user " + user : user;
  }
  std::string Legit() {
    static const char* const kUsers[] = {"alice", "bob", "carol", "deploy", "backup", "svc-ci"};
    return kUsers[Range(0, 5)];
  }
  std::string Source(unsigned attacker_percent) {
    static const char* const kAttackers[] = {"203.0.113.7", "198.51.100.23", "192.0.2.45",
                                             "45.155.205.233", "185.220.101.4"};
    return Range(0, 99) < attacker_percent ? kAttackers[Range(0, 4)] : Public();
  }
  std::string Public() {
    return std::to_string(Range(23, 212)) + "." + std::to_string(Range(0, 255)) + "." +
           std::to_string(Range(0, 255)) + "." + std::to_string(Range(1, 254));
  }
  std::string Internal() {
    return "10.20." + std::to_string(Range(0, 15)) + "." + std::to_string(Range(1, 254));
  }
  std::string Port() { return std::to_string(Range(32768, 60999)); }

  std::mt19937 random_;
  std::string stamp_;
};

// rule id + "|name=value" for each default group field present in `pairs`
// (the first of each name: the host header comes first).
std::string KeyOf(std::string_view rule, simdjson::dom::object pairs) {
  std::string key(rule);
  for (const char* field : kGroupFields) {
    for (auto [name, value] : pairs) {
      if (name != field) continue;
      key += "|" + std::string(name) + "=" + std::string(std::string_view(value));
      break;
    }
  }
  return key;
}

TEST(E2eAggregation, TheMixStoresTwentyTimesFewerAlertsAndCountsEveryHit) {
  TempDir dir;
  constexpr int kDistinct = 4096, kLines = 60'000;
  std::vector<std::string> pool;
  Mix mix(42);
  for (int i = 0; i < kDistinct; ++i) pool.push_back(mix.Line() + "\n");
  std::string text;
  for (int i = 0; i < kLines; ++i) text += pool[static_cast<size_t>(i) % pool.size()];
  const fs::path log = dir / "mix.log";
  WriteFile(log, text);

  // The independent count: one alert per hit.
  const RunResult replay =
      RunProgram({GSOCCTL_PATH, "replay", "--no-cache", log.string()}, Scaled(120s));
  ASSERT_EQ(replay.exit_code, 0) << replay.output.substr(0, 2000);
  std::map<std::string, uint64_t> expected;
  uint64_t hits = 0;
  simdjson::dom::parser parser;
  for (const std::string& line : SplitLines(replay.output)) {
    simdjson::dom::element alert;
    if (line.empty() || line[0] != '{' || parser.parse(line).get(alert) != simdjson::SUCCESS) {
      continue;
    }
    if (std::string_view(alert["kind"]) != "detection") continue;
    ++expected[KeyOf(std::string_view(alert["rule"]["id"]), alert["fields"])];
    ++hits;
  }
  ASSERT_GT(hits, static_cast<uint64_t>(kLines) / 3) << "the mix should be >30% hits";

  const std::string config = ShippedPackConfig(dir);  // default alerts: aggregation on
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    ASSERT_TRUE(SendAll(fd.get(), text));
    fd.Close();
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, kLines, Scaled(60s)));
    EXPECT_EQ(gsocd.Metric("gsoc_aggregate_hits_total"), static_cast<double>(hits));
    EXPECT_EQ(gsocd.Stop(), 0);  // publishes the final versions
  }
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({config}));
  const std::vector<std::string> stored = StoredAlertJsons(gsocd.port("api"), ApiToken(dir));
  std::map<std::string, uint64_t> counted;
  size_t correlations = 0;
  for (const std::string& json : stored) {
    simdjson::dom::element alert;
    ASSERT_EQ(parser.parse(json).get(alert), simdjson::SUCCESS);
    if (std::string_view(alert["kind"]) != "detection") {
      ++correlations;
      continue;
    }
    simdjson::dom::element aggregate;
    ASSERT_EQ(alert["aggregate"].get(aggregate), simdjson::SUCCESS) << json;
    counted[KeyOf(std::string_view(alert["rule"]["id"]), alert["group"])] +=
        uint64_t(alert["count"]);
  }
  EXPECT_EQ(counted.size(), expected.size());
  EXPECT_TRUE(counted == expected) << "aggregate counts differ from the hits replay counted";
  std::printf("[e2e] %d lines, %llu hits -> %zu stored alerts (%zu correlation), %.1fx fewer\n",
              kLines, static_cast<unsigned long long>(hits), stored.size(), correlations,
              static_cast<double>(hits) / static_cast<double>(stored.size()));
  EXPECT_LE(stored.size() * 20, hits);
  EXPECT_EQ(gsocd.Stop(), 0);
}

struct Served {
  uint64_t id;
  std::string key;
  uint64_t version, count;
};

// Reads the aggregate members of a served alert; false when it has none.
bool ParseServed(simdjson::dom::parser& parser, uint64_t id, const std::string& data,
                 Served* served) {
  simdjson::dom::element alert, aggregate;
  if (parser.parse(data).get(alert) != simdjson::SUCCESS ||
      alert["aggregate"].get(aggregate) != simdjson::SUCCESS) {
    return false;
  }
  *served = {id, std::string(std::string_view(aggregate["key"])), uint64_t(aggregate["version"]),
             uint64_t(alert["count"])};
  return true;
}

// The newest stored version per aggregate key: key -> (id, version, count).
std::map<std::string, Served> NewestStored(uint16_t port, const std::string& token) {
  std::map<std::string, Served> newest;
  simdjson::dom::parser parser;
  for (const std::string& json : StoredAlertJsons(port, token)) {
    simdjson::dom::element alert;
    if (parser.parse(json).get(alert) != simdjson::SUCCESS) continue;
    Served served;
    const uint64_t id = std::stoull(std::string(std::string_view(alert["id"])));
    if (!ParseServed(parser, id, json, &served)) continue;
    EXPECT_FALSE(newest.count(served.key)) << "two stored versions of " << served.key;
    newest[served.key] = served;
  }
  return newest;
}

TEST(E2eAggregation, KillNineDuringAnAggregatedFloodLosesNoServedVersionAndResumes) {
  TempDir dir;
  const std::string config =
      ShippedPackConfig(dir, "alerts: {aggregate: {update_interval: 200ms}}\n");
  std::vector<Served> served;
  std::map<std::string, Served> before_kill;
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    const uint16_t api = gsocd.port("api");
    const std::string token = ApiToken(dir);
    std::thread reader([&] {
      simdjson::dom::parser parser;
      ReadSse(api, "/api/v1/alerts/stream", {"Authorization: Bearer " + token}, Scaled(30s),
              [&](uint64_t id, const std::string& data) {
                Served one;
                if (ParseServed(parser, id, data, &one)) served.push_back(one);
                return true;
              });
    });
    std::atomic<bool> stop{false};
    std::thread flood([&] {
      Fd fd(ConnectTcp(gsocd.port("tcp")));
      Mix mix(7);
      std::vector<std::string> pool;
      for (int i = 0; i < 64; ++i) pool.push_back(mix.Line() + "\n");
      for (size_t n = 0; !stop.load(); ++n) {
        std::string text;
        for (int i = 0; i < 200; ++i) text += pool[(n * 200 + i) % pool.size()];
        if (!SendAll(fd.get(), text)) break;
        std::this_thread::sleep_for(5ms);
      }
    });
    std::this_thread::sleep_for(3s);
    gsocd.Kill();
    stop.store(true);
    flood.join();
    reader.join();
  }
  ASSERT_FALSE(served.empty());
  for (const Served& s : served) {
    Served& newest = before_kill[s.key];
    if (s.version >= newest.version) newest = s;
  }
  size_t updated = 0;
  for (const auto& [key, s] : before_kill) updated += s.version > 0 ? 1 : 0;
  EXPECT_GT(updated, 0u) << "no aggregate was updated during the flood";

  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({config}));
  const uint16_t api = gsocd.port("api");
  const std::string token = ApiToken(dir);
  const std::map<std::string, Served> after = NewestStored(api, token);
  size_t lost = 0;
  for (const Served& s : served) {
    auto it = after.find(s.key);
    if (it == after.end() || it->second.version < s.version || it->second.count < s.count ||
        (it->second.version == s.version && it->second.id != s.id)) {
      ++lost;
    }
  }
  EXPECT_EQ(lost, 0u) << "served versions lost by kill -9";

  // The same lines again: the open aggregates continue (next version, higher count).
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    Mix mix(7);
    std::string text;
    for (int i = 0; i < 64; ++i) text += mix.Line() + "\n";
    ASSERT_TRUE(SendAll(fd.get(), text));
  }
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 64, Scaled(20s)));
  EXPECT_EQ(gsocd.Metric("gsoc_aggregate_opened_total"), 0) << "aggregates opened anew";
  EXPECT_EQ(gsocd.Stop(), 0);
  Gsocd last;
  ASSERT_TRUE(last.Start({config}));
  const std::map<std::string, Served> resumed = NewestStored(last.port("api"), ApiToken(dir));
  for (const auto& [key, s] : after) {
    auto it = resumed.find(key);
    ASSERT_NE(it, resumed.end());
    EXPECT_GE(it->second.count, s.count);
    EXPECT_GE(it->second.version, s.version);
  }
  std::printf("[e2e] %zu versions served before kill -9, %zu aggregates, %zu updated\n",
              served.size(), before_kill.size(), updated);
  EXPECT_EQ(last.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
