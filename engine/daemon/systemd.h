// What gsocd says to systemd: readiness and watchdog pings over
// $NOTIFY_SOCKET (sd_notify's datagram protocol, no libsystemd needed), and
// log lines with syslog priorities when stderr is the journal.
//
// Threading: SdNotify may be called from any thread. A Watchdog owns one
// thread that pings while the health check passes; it never pings from a
// timer alone, so a stuck pipeline lets systemd restart gsocd.
#pragma once

#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace gsoc {

// Sends one sd_notify state ("READY=1", "STOPPING=1", "WATCHDOG=1",
// "STATUS=..."). False when not started by systemd or the send failed.
bool SdNotify(std::string_view state);

// The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), or
// nullopt when there is none.
std::optional<std::chrono::microseconds> WatchdogInterval();

// True when stderr is connected to the systemd journal ($JOURNAL_STREAM
// names stderr's device and inode).
bool StderrIsJournal();

// A formatter for spdlog: `%*` prints the syslog priority prefix "<N>" that
// the journal reads from a stream line.
std::unique_ptr<spdlog::pattern_formatter> MakeLogFormatter(bool journal);

// Pings WATCHDOG=1 every interval/2 while `healthy()` returns true; logs
// once when it stops pinging because the check failed.
class Watchdog {
 public:
  Watchdog(std::chrono::microseconds interval, std::function<bool()> healthy);
  ~Watchdog();  // stops the thread
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void Run();

  std::chrono::microseconds interval_;
  std::function<bool()> healthy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace gsoc
