// gsocd under Type=notify: it sends READY=1 once listening, pings the
// watchdog while its pipeline is healthy, and says STOPPING=1 on SIGTERM.
// The test plays systemd: a datagram socket named by $NOTIFY_SOCKET.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

// Receives sd_notify datagrams on a socket in a temporary folder.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    bound_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    const timeval timeout{0, 100'000};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  bool bound() const { return bound_; }

  // Collects messages until one contains `state` or the timeout passes.
  bool WaitFor(const std::string& state, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      char buffer[512];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      received_.emplace_back(buffer, static_cast<size_t>(n));
      if (received_.back().find(state) != std::string::npos) return true;
    }
    return false;
  }
  size_t Count(const std::string& state) const {
    size_t count = 0;
    for (const auto& message : received_) count += message.find(state) != std::string::npos;
    return count;
  }

 private:
  std::filesystem::path path_;
  Fd fd_;
  bool bound_ = false;
  std::vector<std::string> received_;
};

TEST(DeploySystemd, NotifiesReadyPingsTheWatchdogAndSaysStopping) {
  TempDir dir;
  NotifySocket notify(dir / "notify.sock");
  ASSERT_TRUE(notify.bound());
  // gsocd inherits the environment systemd would give it.
  ::setenv("NOTIFY_SOCKET", (dir / "notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  Gsocd gsocd;
  const bool started = gsocd.Start({"listeners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"});
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(started);
  ASSERT_TRUE(notify.WaitFor("READY=1", Scaled(10s)));
  // An idle, healthy pipeline pings every 200 ms: several in 2 s.
  notify.WaitFor("never sent", 2s);
  const size_t pings = notify.Count("WATCHDOG=1");
  std::printf("[deploy] watchdog pings in 2 s at WATCHDOG_USEC=400000: %zu\n", pings);
  EXPECT_GE(pings, 4u);
  EXPECT_EQ(gsocd.Stop(), 0);  // SIGTERM; the datagram waits in the socket
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 1s));
}

}  // namespace
}  // namespace gsoc::e2e
