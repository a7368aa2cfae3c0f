// The `syslog_tls` listener kind: the TCP listener (RFC 5425 framing, with
// LF framing accepted) behind TLS; its config side is tls_config.cc, and
// TcpListener sets up TLS when the config carries a TlsListenerConfig.
#include "collectors/syslog_tcp/tcp_listener.h"

namespace gsoc {
namespace {

const ListenerRegistration kSyslogTls{
    "syslog_tls",
    [](boost::asio::io_context& io, ListenerContext context) -> std::unique_ptr<Listener> {
      return std::make_unique<TcpListener>(io, std::move(context), FramingMode::kSyslog);
    }};

}  // namespace
}  // namespace gsoc
