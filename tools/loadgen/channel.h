// A connected socket that sends ranges of a MessageBuffer: TCP writes the
// framed bytes with large send() calls, TLS with large SSL_write() calls
// (OpenSSL cuts them into 16 KiB records), UDP sends one datagram per
// message with sendmmsg(). All ignore SIGPIPE and retry on EINTR. TCP and
// TLS channels can close and reconnect (a new full handshake with TLS) for
// the connection-rate modes.
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
  // Closes the connection in order (TLS: close_notify) and opens a new one
  // to the same endpoint. False on failure (see error()).
  virtual bool Reconnect() {
    error_ = "this transport does not reconnect";
    return false;
  }
  const std::string& error() const { return error_; }

 protected:
  std::string error_;
};

// The TLS client settings shared by a run's connections (an SSL_CTX).
class TlsClientContext;
// Loads the CA, client certificate and key and applies version and ciphers.
// Null with `error` naming the file or the setting on failure.
std::shared_ptr<TlsClientContext> MakeTlsClientContext(const TlsClientOptions& options,
                                                       std::string& error);

// Connect; return null with `error` set on failure.
std::unique_ptr<Channel> OpenTcpChannel(const Endpoint& endpoint, std::string& error);
std::unique_ptr<Channel> OpenUdpChannel(const Endpoint& endpoint, std::string& error);
// Connects and runs the handshake, verifying the server unless insecure.
std::unique_ptr<Channel> OpenTlsChannel(const Endpoint& endpoint,
                                        std::shared_ptr<TlsClientContext> tls, std::string& error);

// Opens channels of one transport to one endpoint.
struct Connector {
  Transport transport = Transport::kTcp;
  Endpoint endpoint;
  std::shared_ptr<TlsClientContext> tls;  // set for Transport::kTls

  // Resolves the endpoint and, for TLS, builds the client context.
  bool Init(const Options& options, std::string& error);
  std::unique_ptr<Channel> Open(std::string& error) const;
};

}  // namespace gsoc::loadgen
