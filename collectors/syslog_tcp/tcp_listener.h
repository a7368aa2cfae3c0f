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
//
// syslog_tls is this listener with TLS in each session (RFC 5425 octet
// counting, LF framing as rsyslog and syslog-ng send it too). With client
// certificates required, the agency comes from the certificate (CN or SAN
// under an agency's `certificates`), not from the address; a handshake that
// fails or does not finish within tls.handshake_timeout closes the
// connection and counts gsoc_tls_handshakes_total{result}.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "collectors/framing/stream_framer.h"
#include "collectors/listener/connection_limits.h"
#include "collectors/listener/listener.h"
#include "collectors/syslog_tls/tls_context.h"

namespace gsoc {

class TcpSession;

class TcpListener : public Listener {
 public:
  TcpListener(boost::asio::io_context& io, ListenerContext context, FramingMode mode);
  ~TcpListener() override;

  void Start() override;
  void Stop() override;
  uint16_t port() const override { return port_; }
  std::string Reload() override;
  std::shared_ptr<prometheus::Collectable> MakeCollectable() override;

  // syslog_tls: the TLS context and what sessions report about handshakes.
  const TlsServerContext* tls() const { return tls_.get(); }
  void CountHandshake(TlsHandshakeResult result, const PeerAddress& peer);
  void TlsSessionOpened(std::string_view version, std::string_view cipher);
  void TlsSessionClosed(std::string_view version, std::string_view cipher);

  const ListenerContext& context() const { return context_; }
  FramingMode mode() const { return mode_; }
  // A session's connection slot moves to the agency its certificate named;
  // false (counted) when that agency has no room.
  bool MoveAgencySlot(uint16_t from, uint16_t to);
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

  // syslog_tls only. The stats are shared with the metrics collectable, so a
  // scrape never reaches a destroyed listener.
  struct TlsStats {
    std::array<std::atomic<uint64_t>, size_t(TlsHandshakeResult::kCount)> handshakes{};
    std::atomic<int64_t> last_refusal_log_ns{0};
    std::mutex mutex;  // guards sessions (taken per handshake and close)
    std::map<std::pair<std::string, std::string>, int64_t> sessions;  // (version, cipher)
  };
  std::unique_ptr<TlsServerContext> tls_;
  std::shared_ptr<TlsStats> tls_stats_ = std::make_shared<TlsStats>();
};

}  // namespace gsoc
