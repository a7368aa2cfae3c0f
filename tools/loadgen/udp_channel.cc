// UDP: one datagram per message, up to kBatch datagrams per sendmmsg().
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <thread>

#include "tools/loadgen/channel.h"
#include "tools/loadgen/socket_fd.h"

namespace gsoc::loadgen {
namespace {

constexpr size_t kBatch = 256;

class UdpChannel final : public Channel {
 public:
  explicit UdpChannel(SocketFd fd) : fd_(std::move(fd)) {}

  size_t BatchSize(const MessageBuffer&, size_t, size_t available) const override {
    return std::min(available, kBatch);
  }

  bool Send(const MessageBuffer& buffer, size_t first, size_t last) override {
    while (first < last) {
      const size_t n = Prepare(buffer, first, std::min(last - first, kBatch));
      const int sent = ::sendmmsg(fd_.get(), headers_.data(), static_cast<unsigned>(n), 0);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS || errno == EAGAIN) {
          std::this_thread::yield();
          continue;
        }
        error_ = ErrnoText("sendmmsg");
        return false;
      }
      first += static_cast<size_t>(sent);
    }
    return true;
  }

 private:
  size_t Prepare(const MessageBuffer& buffer, size_t first, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const std::string_view payload = buffer.Payload(first + i);
      iovecs_[i] = iovec{const_cast<char*>(payload.data()), payload.size()};
      headers_[i] = mmsghdr{};
      headers_[i].msg_hdr.msg_iov = &iovecs_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
    return n;
  }

  SocketFd fd_;
  std::array<iovec, kBatch> iovecs_{};
  std::array<mmsghdr, kBatch> headers_{};
};

}  // namespace

std::unique_ptr<Channel> OpenUdpChannel(const Endpoint& endpoint, std::string& error) {
  SocketFd fd = ConnectSocket(SOCK_DGRAM, endpoint, error);
  if (fd.get() < 0) return nullptr;
  return std::make_unique<UdpChannel>(std::move(fd));
}

}  // namespace gsoc::loadgen
