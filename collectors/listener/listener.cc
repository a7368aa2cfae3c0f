#include "collectors/listener/listener.h"

#include <chrono>

#include "collectors/syslog_tcp/tcp_listener.h"
#include "collectors/syslog_udp/udp_listener.h"

namespace gsoc {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

using Factory = std::unique_ptr<Listener> (*)(boost::asio::io_context&, ListenerContext);

struct Registration {
  ListenerType type;
  Factory make;
};

// One line per listener kind; a new kind is a folder and a line here.
const Registration kListenerKinds[] = {
    {ListenerType::kSyslogTcp,
     [](boost::asio::io_context& io, ListenerContext c) -> std::unique_ptr<Listener> {
       return std::make_unique<TcpListener>(io, std::move(c), FramingMode::kSyslog);
     }},
    {ListenerType::kJsonTcp,
     [](boost::asio::io_context& io, ListenerContext c) -> std::unique_ptr<Listener> {
       return std::make_unique<TcpListener>(io, std::move(c), FramingMode::kLinesOnly);
     }},
    {ListenerType::kSyslogTls,
     [](boost::asio::io_context& io, ListenerContext c) -> std::unique_ptr<Listener> {
       return std::make_unique<TcpListener>(io, std::move(c), FramingMode::kSyslog);
     }},
    {ListenerType::kSyslogUdp,
     [](boost::asio::io_context& io, ListenerContext c) -> std::unique_ptr<Listener> {
       return std::make_unique<UdpListener>(io, std::move(c));
     }},
};

}  // namespace

std::unique_ptr<Listener> MakeListener(boost::asio::io_context& io, ListenerContext context) {
  for (const Registration& kind : kListenerKinds) {
    if (kind.type == context.config.type) return kind.make(io, std::move(context));
  }
  return nullptr;
}

}  // namespace gsoc
