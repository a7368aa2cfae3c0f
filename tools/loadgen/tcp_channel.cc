// TCP: framed bytes written with send() in chunks of up to kMaxWriteBytes.
#include <sys/socket.h>

#include <cerrno>

#include "tools/loadgen/channel.h"
#include "tools/loadgen/socket_fd.h"

namespace gsoc::loadgen {
namespace {

constexpr size_t kMaxWriteBytes = 256 * 1024;

class TcpChannel final : public Channel {
 public:
  TcpChannel(SocketFd fd, const Endpoint& endpoint) : fd_(std::move(fd)), endpoint_(endpoint) {}

  size_t BatchSize(const MessageBuffer& buffer, size_t first, size_t available) const override {
    return buffer.MessagesWithin(first, available, kMaxWriteBytes);
  }

  bool Send(const MessageBuffer& buffer, size_t first, size_t last) override {
    return WriteAll(buffer.Frames(first, last));
  }

  bool Reconnect() override {
    fd_.Reset(-1);
    fd_ = ConnectSocket(SOCK_STREAM, endpoint_, error_);
    return fd_.get() >= 0;
  }

 private:
  bool WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = ErrnoText("send");
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  SocketFd fd_;
  Endpoint endpoint_;
};

}  // namespace

std::unique_ptr<Channel> OpenTcpChannel(const Endpoint& endpoint, std::string& error) {
  SocketFd fd = ConnectSocket(SOCK_STREAM, endpoint, error);
  if (fd.get() < 0) return nullptr;
  return std::make_unique<TcpChannel>(std::move(fd), endpoint);
}

}  // namespace gsoc::loadgen
