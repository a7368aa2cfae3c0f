#include "engine/daemon/systemd.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace gsoc {
namespace {

// Parses a decimal unsigned number that fills the whole text.
std::optional<unsigned long long> ParseUnsigned(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return value;
}

// syslog priority of an spdlog level: the journal keeps it per line.
int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    default:
      return 6;
  }
}

class PriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char text[4] = {'<', static_cast<char>('0' + SyslogPriority(msg.level)), '>', 0};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

}  // namespace

bool SdNotify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t length = std::strlen(path);
  if (length >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const socklen_t address_size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), address_size);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> WatchdogInterval() {
  const auto usec = ParseUnsigned(std::getenv("WATCHDOG_USEC"));
  if (!usec || *usec == 0) return std::nullopt;
  if (const char* pid_text = std::getenv("WATCHDOG_PID")) {
    const auto pid = ParseUnsigned(pid_text);
    if (!pid || *pid != static_cast<unsigned long long>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(*usec);
}

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

std::unique_ptr<spdlog::pattern_formatter> MakeLogFormatter(bool journal) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (journal) {
    // The journal stamps time itself; the priority prefix sets the level.
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%l %v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  return formatter;
}

Watchdog::Watchdog(std::chrono::microseconds interval, std::function<bool()> healthy)
    : interval_(interval), healthy_(std::move(healthy)), thread_([this] { Run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::Run() {
  bool was_healthy = true;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    const bool healthy = healthy_();
    if (healthy) SdNotify("WATCHDOG=1");
    if (healthy != was_healthy) {
      if (healthy) {
        spdlog::info("watchdog: pipeline healthy again, pinging systemd");
      } else {
        spdlog::error("watchdog: pipeline unhealthy, no longer pinging systemd");
      }
      was_healthy = healthy;
    }
    lock.lock();
    wake_.wait_for(lock, interval_ / 2, [this] { return stop_; });
  }
}

}  // namespace gsoc
