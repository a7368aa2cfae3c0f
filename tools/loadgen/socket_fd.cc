#include "tools/loadgen/socket_fd.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace gsoc::loadgen {

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool ResolveEndpoint(const std::string& host, uint16_t port, Transport transport,
                     Endpoint& endpoint, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = transport == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&endpoint.address, found->ai_addr, found->ai_addrlen);
  endpoint.length = found->ai_addrlen;
  freeaddrinfo(found);
  return true;
}

SocketFd ConnectSocket(int type, const Endpoint& endpoint, std::string& error) {
  SocketFd fd(::socket(endpoint.address.ss_family, type | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    error = ErrnoText("socket");
    return fd;
  }
  const auto* address = reinterpret_cast<const sockaddr*>(&endpoint.address);
  int rc = ::connect(fd.get(), address, endpoint.length);
  // An interrupted connect() continues in the background; retry until it settles.
  while (rc != 0 && (errno == EINTR || errno == EALREADY)) {
    rc = ::connect(fd.get(), address, endpoint.length);
    if (rc != 0 && errno == EISCONN) rc = 0;
  }
  if (rc != 0) {
    error = ErrnoText("connect");
    fd.Reset(-1);
  }
  return fd;
}

}  // namespace gsoc::loadgen
