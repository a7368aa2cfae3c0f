// Owning file descriptor and socket helpers shared by the senders.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

#include "tools/loadgen/channel.h"

namespace gsoc::loadgen {

class SocketFd {
 public:
  SocketFd() = default;
  explicit SocketFd(int fd) : fd_(fd) {}
  SocketFd(SocketFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  SocketFd& operator=(SocketFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  SocketFd(const SocketFd&) = delete;
  SocketFd& operator=(const SocketFd&) = delete;
  ~SocketFd() { Reset(-1); }

  int get() const { return fd_; }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// socket() + connect() (retrying EINTR). Invalid SocketFd and `error` on failure.
SocketFd ConnectSocket(int type, const Endpoint& endpoint, std::string& error);

// "what: strerror(errno)".
std::string ErrnoText(const char* what);

}  // namespace gsoc::loadgen
