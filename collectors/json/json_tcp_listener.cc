// The `json_tcp` listener kind: the TCP listener with LF framing only (one
// JSON event per line); its config side is json_tcp_config.cc.
#include "collectors/syslog_tcp/tcp_listener.h"

namespace gsoc {
namespace {

const ListenerRegistration kJsonTcp{
    "json_tcp",
    [](boost::asio::io_context& io, ListenerContext context) -> std::unique_ptr<Listener> {
      return std::make_unique<TcpListener>(io, std::move(context), FramingMode::kLinesOnly);
    }};

}  // namespace
}  // namespace gsoc
