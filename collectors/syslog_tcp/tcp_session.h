// One TCP connection: read -> frame -> parse into the current batch -> hand
// on. Runs on its own strand; private to collectors/syslog_tcp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "collectors/framing/stream_framer.h"
#include "collectors/json/json_parser.h"
#include "collectors/listener/listener.h"

namespace gsoc {

class TcpListener;

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(TcpListener& listener, boost::asio::ip::tcp::socket socket, PeerAddress peer,
             uint16_t agency);

  void Start();
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }
  // Asks the session to hand on what it has read and close (any thread).
  void Stop();

 private:
  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr int kReadsPerTurn = 16;  // then yield to other connections

  void WaitReadable();
  void OnReadable(const boost::system::error_code& error);
  void ReadAvailable();
  bool ProcessBuffer(size_t length);
  void OnFrame(std::string_view frame);
  void FlushCounts(ThreadCounters& counters);
  // Hands the batch to the pipeline; false when it must wait for room.
  bool HandOn();
  void OnSpace();
  void FinishAndClose(CloseReason reason);
  void Close(CloseReason reason);
  void ArmIdleTimer(std::chrono::steady_clock::duration after);
  void OnIdleTimer(const boost::system::error_code& error);

  TcpListener& listener_;
  const ListenerContext& context_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  PeerAddress peer_;
  uint16_t agency_;
  StreamFramer framer_;
  std::unique_ptr<JsonLineParser> json_;  // json_tcp only
  std::unique_ptr<char[]> buffer_;
  size_t buffer_size_ = 0;
  size_t tail_ = 0;  // unconsumed bytes at the front of buffer_
  BatchPtr batch_;
  SyslogParseContext parse_context_;
  std::chrono::steady_clock::time_point last_activity_;

  // Counts since the last flush to this thread's ThreadCounters.
  uint64_t pending_events_ = 0;
  uint64_t pending_bytes_ = 0;
  uint64_t pending_oversize_ = 0;
  PendingParseErrors pending_parse_errors_;

  bool waiting_for_space_ = false;
  bool stop_requested_ = false;
  bool closing_ = false;
  bool closed_ = false;
  CloseReason close_reason_ = CloseReason::kPeerClosed;
};

}  // namespace gsoc
