#include "tools/loadgen/channel.h"

namespace gsoc::loadgen {

std::unique_ptr<Channel> OpenChannel(Transport transport, const Endpoint& endpoint,
                                     std::string& error) {
  if (transport == Transport::kUdp) return OpenUdpChannel(endpoint, error);
  return OpenTcpChannel(endpoint, error);
}

}  // namespace gsoc::loadgen
