#include "tests/adversarial/adversarial.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

namespace gsoc::adversarial {

namespace {

void Record(const std::string& name, double value, const std::string& unit, const char* relation,
            double limit) {
  std::printf("[bound] %s = %.1f %s (%s %.1f)\n", name.c_str(), value, unit.c_str(), relation,
              limit);
  std::fflush(stdout);
  ::testing::Test::RecordProperty(name, std::to_string(value));
}

}  // namespace

void ExpectAtMost(const std::string& name, double value, double limit, const std::string& unit) {
  Record(name, value, unit, "limit", limit);
  EXPECT_LE(value, limit) << name << " in " << unit;
}

void ExpectAtLeast(const std::string& name, double value, double floor, const std::string& unit) {
  Record(name, value, unit, "at least", floor);
  EXPECT_GE(value, floor) << name << " in " << unit;
}

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Attackers::Attackers(int count, Attack attack) {
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, i, attack] { attack(i, stop_); });
  }
}

Attackers::~Attackers() { Stop(); }

void Attackers::Stop() {
  stop_.store(true);
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

bool SleepUnlessStopped(const std::atomic<bool>& stop, std::chrono::milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  while (Clock::now() < deadline) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(10ms, duration));
  }
  return !stop.load();
}

std::string RulesConfig(const TempDir& dir, const std::string& extra,
                        const std::string& listeners) {
  static const std::filesystem::path cache =
      std::filesystem::path(GSOC_BINARY_DIR) / "tests/adversarial/hs-cache";
  // One alert per hostile line, the worst case: aggregation would fold the
  // attacks' repeated hits into a few growing alerts (it has its own tests).
  std::string config =
      ShippedPackConfig(dir, extra.find("alerts:") == std::string::npos
                                 ? extra + "alerts: {aggregate: {enabled: false}}\n"
                                 : extra);
  const std::string own_cache = "cache_dir: " + (dir / "hs-cache").string();
  const size_t at = config.find(own_cache);
  if (at != std::string::npos) {
    config.replace(at, own_cache.size(), "cache_dir: " + cache.string());
  }
  const std::string default_listener = "  - {name: tcp, type: syslog_tcp, port: 0}\n";
  const size_t listener = config.find(default_listener);
  if (!listeners.empty() && listener != std::string::npos) {
    config.replace(listener, default_listener.size(), listeners);
  }
  return config;
}

std::vector<std::string> Bearer(const std::string& token) {
  return {"Authorization: Bearer " + token};
}

Timed TimedRequest(uint16_t port, const std::string& target,
                   const std::vector<std::string>& headers, std::chrono::milliseconds timeout) {
  Timed timed;
  const auto start = Clock::now();
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    timed.ms = MillisSince(start);
    return timed;
  }
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& header : headers) request += header + "\r\n";
  request += "Connection: close\r\n\r\n";
  if (!SendAll(fd.get(), request)) {
    timed.ms = MillisSince(start);
    return timed;
  }
  std::string response;
  char buffer[65536];
  while (MillisSince(start) < static_cast<double>(timeout.count())) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  timed.ms = MillisSince(start);
  if (response.rfind("HTTP/1.", 0) == 0 && response.size() > 12) {
    timed.status = std::atoi(response.c_str() + 9);
    const size_t head_end = response.find("\r\n\r\n");
    if (head_end != std::string::npos) timed.body = response.substr(head_end + 4);
  }
  return timed;
}

std::vector<HttpEndpoint> HttpEndpoints() {
  return {
      {"Metrics", "metrics", "/metrics", false},
      {"ApiHealthz", "api", "/healthz", false},
      {"ApiAlerts", "api", "/api/v1/alerts?limit=5", true},
      {"ApiRules", "api", "/api/v1/rules", true},
  };
}

}  // namespace gsoc::adversarial
