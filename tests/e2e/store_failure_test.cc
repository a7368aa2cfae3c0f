// End to end: the alert store on a disk that fills up.
//
// The store lives on a size-limited tmpfs the test mounts (we run as root;
// the test is skipped, saying why, when mounting is impossible). A flood of
// alert-producing lines fills it. Then gsocd must stop committing for good:
// the sender's TCP window closes (nothing more is read), /readyz answers 503,
// gsoc_store_failed is 1, and no alert is served that a restart would not
// find again. After SIGTERM (which must still work), the disk is given more
// space and gsocd restarts: every alert served before is there unchanged,
// it is ready again, and new lines produce alerts with higher ids.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "tests/e2e/api_client.h"
#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

namespace fs = std::filesystem;

// A tmpfs of `size` (e.g. "6m") on `path` for the life of the object.
class SmallDisk {
 public:
  SmallDisk(const fs::path& path, const std::string& size) : path_(path) {
    fs::create_directories(path_);
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      error_ = std::strerror(errno);
    } else {
      mounted_ = true;
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool Grow(const std::string& size) {
    const std::string options = "size=" + size + ",mode=0700";
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }

 private:
  fs::path path_;
  bool mounted_ = false;
  std::string error_;
};

std::string FailureLine(int n) {
  return "<38>Nov 25 10:00:01 bastion sshd[" + std::to_string(1000 + n % 5000) +
         "]: Failed password for root from 198.18." + std::to_string(n % 200) + "." +
         std::to_string(n % 250) + " port " + std::to_string(40000 + n % 20000) + " ssh2\n";
}

// Every stored alert, id -> JSON.
std::map<uint64_t, std::string> StoredAlerts(uint16_t port, const std::string& token) {
  std::map<uint64_t, std::string> alerts;
  simdjson::dom::parser parser;
  for (std::string& json : StoredAlertJsons(port, token)) {
    simdjson::dom::element alert;
    if (parser.parse(json).get(alert) != simdjson::SUCCESS) continue;
    alerts[std::stoull(std::string(std::string_view(alert["id"])))] = std::move(json);
  }
  return alerts;
}

// Sends lines as fast as the socket takes them, until stopped or refused.
class Flood {
 public:
  explicit Flood(uint16_t port) {
    thread_ = std::thread([this, port] {
      Fd fd(ConnectTcp(port));
      for (int n = 0; !stop_.load() && fd.get() >= 0; n += 100) {
        std::string text;
        for (int i = 0; i < 100; ++i) text += FailureLine(n + i);
        if (!SendAll(fd.get(), text)) break;
        sent_.fetch_add(100);
      }
    });
  }
  ~Flood() { Join(); }
  void Stop() { stop_.store(true); }
  void Join() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

TEST(E2eStoreFailure, AFullDiskStopsCommitsForGoodAndARestartWithSpaceResumes) {
  TempDir dir;
  SmallDisk disk(dir / "disk", "6m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a size-limited tmpfs (needs root with CAP_SYS_ADMIN): "
                 << disk.error();
  }
  std::string config =
      ShippedPackConfig(dir, "store: {path: " + (dir / "disk/alerts.db").string() +
                                 "}\n"
                                 // One alert per line: the flood must fill the disk.
                                 "alerts: {aggregate: {enabled: false}}\n");
  const std::string pipeline = "pipeline: {workers: 1}";
  config.replace(config.find(pipeline), pipeline.size(),
                 "pipeline: {workers: 1, queue_events: 8192, batch_events: 256}");

  std::map<uint64_t, std::string> served;
  uint64_t served_max = 0;
  {
    Gsocd gsocd;
    ASSERT_TRUE(gsocd.Start({config}));
    const uint16_t api = gsocd.port("api");
    const std::string token = ApiToken(dir);
    EXPECT_EQ(HttpRequest(api, "GET", "/readyz").status, 200);

    std::vector<uint64_t> streamed;
    std::atomic<bool> reading{true};
    std::thread reader([&] {
      // Until the stream closes or 10 s pass (no event comes once the store failed).
      ReadSse(api, "/api/v1/alerts/stream", {"Authorization: Bearer " + token}, Scaled(10s),
              [&](uint64_t id, const std::string&) {
                streamed.push_back(id);
                return reading.load();
              });
    });
    Flood flood(gsocd.port("tcp"));
    ASSERT_TRUE(gsocd.WaitMetric("gsoc_store_failed", {}, 1, Scaled(90s)))
        << "the store never failed; " << flood.sent() << " lines sent\n"
        << gsocd.Stderr();
    EXPECT_EQ(HttpRequest(api, "GET", "/readyz").status, 503);
    EXPECT_GE(gsocd.Metric("gsoc_store_write_errors_total"), 1);

    // Backpressure: nothing more is read from the sender, nothing committed.
    const double committed = gsocd.Metric("gsoc_store_alerts_committed_total");
    std::this_thread::sleep_for(1s);  // queues and socket buffers fill
    const int sent = flood.sent();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(flood.sent(), sent) << "gsocd kept reading from the sender";
    EXPECT_EQ(gsocd.Metric("gsoc_store_alerts_committed_total"), committed);
    EXPECT_EQ(HttpRequest(api, "GET", "/readyz").status, 503);

    served = StoredAlerts(api, token);
    EXPECT_EQ(static_cast<double>(served.size()), committed);
    reading.store(false);
    reader.join();
    for (uint64_t id : streamed) EXPECT_TRUE(served.count(id)) << "streamed " << id;
    EXPECT_FALSE(served.empty());
    served_max = served.empty() ? 0 : served.rbegin()->first;
    std::printf("[e2e] store failed after %zu alerts (%d lines sent, %zu streamed)\n",
                served.size(), sent, streamed.size());
    EXPECT_NE(gsocd.Stderr().find("No alert is committed from now on"), std::string::npos);

    // SIGTERM still stops it: the blocked workers are released, not lost in a wait.
    flood.Stop();  // the sender ends once its blocked send completes
    EXPECT_EQ(gsocd.Stop(Scaled(30s)), 0) << gsocd.Stderr();
    flood.Join();
  }

  ASSERT_TRUE(disk.Grow("256m")) << std::strerror(errno);
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({config}));
  const uint16_t api = gsocd.port("api");
  const std::string token = ApiToken(dir);
  EXPECT_EQ(HttpRequest(api, "GET", "/readyz").status, 200);
  EXPECT_EQ(gsocd.Metric("gsoc_store_failed"), 0);
  const std::map<uint64_t, std::string> after = StoredAlerts(api, token);
  size_t lost = 0, changed = 0;
  for (const auto& [id, json] : served) {
    auto it = after.find(id);
    if (it == after.end()) {
      ++lost;
    } else if (it->second != json) {
      ++changed;
    }
  }
  EXPECT_EQ(lost, 0u) << "served alerts gone after the restart";
  EXPECT_EQ(changed, 0u);

  // It resumes: new lines, new alerts above every id seen before.
  const uint64_t last_before = after.empty() ? 0 : after.rbegin()->first;
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    std::string text;
    for (int i = 0; i < 50; ++i) text += FailureLine(i);
    ASSERT_TRUE(SendAll(fd.get(), text));
  }
  const auto deadline = Clock::now() + Scaled(20s);
  while (gsocd.Metric("gsoc_store_alerts_committed_total") < 50 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const double committed = gsocd.Metric("gsoc_store_alerts_committed_total");
  ASSERT_GE(committed, 50);  // one detection alert per line at least
  const std::map<uint64_t, std::string> resumed = StoredAlerts(api, token);
  ASSERT_EQ(resumed.size(), after.size() + static_cast<size_t>(committed));
  EXPECT_GT(std::next(resumed.begin(), static_cast<long>(after.size()))->first,
            std::max(last_before, served_max));
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
