// TCP listener for syslog (RFC 6587 framing, auto-detected per frame) and,
// with line framing and the JSON parser, for JSON lines (json_tcp).
// Contract: see collectors/listener/listener.h.
//
// Per connection: the agency is looked up once at accept; a peer in no agency
// (and unknown not allowed) is refused and counted, as are connections over
// max_connections / max_connections_per_agency / max_connections_per_peer.
// Reads go to the io thread's buffer; a connection keeps only the unconsumed
// tail of its stream (a partial message), in storage sized to it, and holds
// an event batch only while it has events to hand on: an idle connection
// costs a socket, a timer and its partial message. A connection that has sent
// bytes but not completed its first message within first_message_timeout of
// its accept is closed (gsoc_connections_closed_total{reason=
// "first_message_timeout"}); a silent one is left to idle_timeout.
// A fatal framing error (bad octet count) hands on the frames before it, then
// closes the connection and counts gsoc_connections_closed_total{reason}.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <mutex>
#include <set>

#include "collectors/framing/stream_framer.h"
#include "collectors/listener/connection_limits.h"
#include "collectors/listener/listener.h"

namespace gsoc {

class TcpSession;

class TcpListener : public Listener {
 public:
  TcpListener(boost::asio::io_context& io, ListenerContext context, FramingMode mode);
  ~TcpListener() override;

  void Start() override;
  void Stop() override;
  uint16_t port() const override { return port_; }

  const ListenerContext& context() const { return context_; }
  FramingMode mode() const { return mode_; }
  void OnSessionClosed(const std::shared_ptr<TcpSession>& session, const PeerAddress& peer,
                       uint16_t agency);

 private:
  void Accept();
  void OnAccept(const boost::system::error_code& error, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  ListenerContext context_;
  FramingMode mode_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  ConnectionLimits limits_;
  uint16_t port_ = 0;
  std::mutex sessions_mutex_;
  std::set<std::shared_ptr<TcpSession>> sessions_;
  bool stopping_ = false;
};

}  // namespace gsoc
