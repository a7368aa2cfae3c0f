// A connected socket that sends ranges of a MessageBuffer: TCP writes the
// framed bytes with large send() calls, UDP sends one datagram per message
// with sendmmsg(). Both ignore SIGPIPE (MSG_NOSIGNAL) and retry on EINTR.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>

#include "tools/loadgen/message_buffer.h"
#include "tools/loadgen/options.h"

namespace gsoc::loadgen {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

// Resolves host:port (numeric or name, IPv4 or IPv6). Returns false with `error`.
bool ResolveEndpoint(const std::string& host, uint16_t port, Transport transport,
                     Endpoint& endpoint, std::string& error);

class Channel {
 public:
  virtual ~Channel() = default;
  // How many of the next `available` messages from `first` to send at once.
  virtual size_t BatchSize(const MessageBuffer& buffer, size_t first, size_t available) const = 0;
  // Sends messages [first, last). False on a fatal error (see error()).
  virtual bool Send(const MessageBuffer& buffer, size_t first, size_t last) = 0;
  const std::string& error() const { return error_; }

 protected:
  std::string error_;
};

// Connect; return null with `error` set on failure.
std::unique_ptr<Channel> OpenTcpChannel(const Endpoint& endpoint, std::string& error);
std::unique_ptr<Channel> OpenUdpChannel(const Endpoint& endpoint, std::string& error);
std::unique_ptr<Channel> OpenChannel(Transport transport, const Endpoint& endpoint,
                                     std::string& error);

}  // namespace gsoc::loadgen
