#include "tools/loadgen/channel.h"

namespace gsoc::loadgen {

bool Connector::Init(const Options& options, std::string& error) {
  transport = options.transport;
  if (!ResolveEndpoint(options.host, options.port, transport, endpoint, error)) return false;
  if (transport != Transport::kTls) return true;
  tls = MakeTlsClientContext(options.tls, error);
  return tls != nullptr;
}

std::unique_ptr<Channel> Connector::Open(std::string& error) const {
  switch (transport) {
    case Transport::kUdp:
      return OpenUdpChannel(endpoint, error);
    case Transport::kTls:
      return OpenTlsChannel(endpoint, tls, error);
    case Transport::kTcp:
      break;
  }
  return OpenTcpChannel(endpoint, error);
}

}  // namespace gsoc::loadgen
