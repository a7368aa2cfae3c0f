// One TCP connection: read -> frame -> parse into the current batch -> hand
// on. Runs on its own strand; private to collectors/syslog_tcp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "collectors/framing/stream_framer.h"
#include "collectors/json/json_parser.h"
#include "collectors/listener/audit_join.h"
#include "collectors/listener/listener.h"
#include "collectors/syslog_tls/tls_context.h"

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
  // The most one read takes: one block of the batch's arena
  // (ByteArena::kDefaultBlockSize). Fewer, larger reads send fewer window
  // updates, and on loopback each runs the sender's next transmit on this
  // thread: 256 KiB instead of 64 KiB took the io thread's CPU an event from
  // ~550 to ~350 ns with the shipped pack (bench/README.md, session 29).
  static constexpr size_t kReadChunk = 256 * 1024;
  static constexpr size_t kMinRead = 2 * 1024;  // the least it offers
  // A turn ends after this many reads or bytes: then other connections run.
  static constexpr int kReadsPerTurn = 16;
  static constexpr size_t kTurnBytes = 1024 * 1024;

  void WaitReadable();
  void OnReadable(const boost::system::error_code& error);
  void ReadAvailable();
  struct Region {
    char* data;            // in batch_'s arena: (a prefix of) the tail, then the bytes read
    size_t length;         // followed by ByteArena::kPadding zero bytes
    size_t from_tail = 0;  // the tail's bytes at its front
    size_t read = 0;       // the socket's after them (0: the tail's frames, framed now)
    boost::system::error_code error;
  };
  Region ReadIntoBatch();
  // The events batch_ has room for (batch_events), at least 1.
  size_t BatchRoom() const;
  // The bytes that many more frames take, at the bytes a frame took so far
  // (at least kMinRead).
  size_t RoomBytes() const;
  // What the next read offers: read_size_, but no more than RoomBytes().
  size_t NextReadSize() const;
  // Frames the region in place; gives its end after the last frame back to
  // the arena and keeps the unconsumed tail apart.
  bool ProcessBuffer(const Region& region);
  void KeepTail(const char* data, size_t length);
  const char* TailData() const { return tail_storage_.get() + tail_begin_; }
  // `in_batch`: the frame is in batch_'s arena with kPadding bytes after it.
  void OnFrame(std::string_view frame, bool in_batch);
  void FlushCounts(ThreadCounters& counters);
  // Hands the batch to the pipeline; false when it must wait for room.
  bool HandOn();
  void OnSpace();
  void FinishAndClose(CloseReason reason);
  void FrameWholeTail();
  void Close(CloseReason reason);
  void ArmIdleTimer(std::chrono::steady_clock::duration after);
  // auditd serials (audit_): hands on those due without waiting for the
  // pipeline (a full queue keeps them in batch_ and retries), and keeps the
  // idle timer no later than the next one due.
  void HandOnDueAudit();
  std::chrono::steady_clock::duration AuditLeft() const;
  void ScheduleAudit();
  void OnIdleTimer(const boost::system::error_code& error);
  // Time left before the idle or first-message timeout, or nullopt when due
  // (with the reason).
  std::optional<std::chrono::steady_clock::duration> TimeLeft(CloseReason* reason) const;
  // Reads plaintext: from the socket, or through TLS on syslog_tls.
  size_t ReadSome(char* out, size_t capacity, boost::system::error_code& error);
  size_t ReadTls(char* out, size_t capacity, boost::system::error_code& error);
  bool OnTlsHandshake();
  void SendTlsOutput();
  // The certificate identity as a field value in the current batch's arena.
  std::string_view TlsIdentityInBatch();

  TcpListener& listener_;
  const ListenerContext& context_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  PeerAddress peer_;
  uint16_t agency_;
  uint16_t limit_agency_;  // whose connection slot this session holds
  StreamFramer framer_;
  bool json_ = false;  // json_tcp: parse frames with the io thread's JsonLineParser
  std::unique_ptr<char[]> tail_storage_;  // the unconsumed tail, sized to it
  size_t tail_capacity_ = 0;
  size_t tail_begin_ = 0;         // where the unconsumed bytes start in tail_storage_
  size_t tail_ = 0;               // and how many there are
  size_t read_size_ = kMinRead;   // what the next read offers (adapts)
  size_t frame_bytes_ = 0;        // bytes a frame took in the last read that framed any
  bool tail_has_frames_ = false;  // framing stopped at batch_events: frame before reading
  bool whole_tail_next_ = false;  // a prefix of the tail held no whole frame
  // Taken when a read starts; handed on, or back to the pool when the reads
  // of a turn framed nothing: an idle connection holds none.
  BatchPtr batch_;
  SyslogParseContext parse_context_;
  CollectorAuditJoin audit_;  // auditd records of one serial -> one event (syslog only)
  std::chrono::steady_clock::time_point accepted_;
  std::chrono::steady_clock::time_point last_activity_;
  bool got_message_ = false;      // a complete frame arrived
  bool pending_message_ = false;  // bytes arrived, but no complete frame yet (ever)

  // Counts since the last flush to this thread's ThreadCounters.
  uint64_t pending_events_ = 0;
  uint64_t pending_bytes_ = 0;
  uint64_t pending_oversize_ = 0;
  PendingBadInput pending_bad_input_;

  // syslog_tls: the connection's TLS state, bytes waiting to be written,
  // and the verified client identity. Ciphertext is read into the io
  // thread's buffer and handed to TLS at once.
  std::unique_ptr<TlsConnection> tls_;
  std::string tls_output_;
  bool tls_writing_ = false;
  bool tls_checked_ = false;  // handshake done and its identity accepted
  std::string tls_identity_;
  const EventBatch* identity_batch_ = nullptr;  // where identity_view_ points
  std::string_view identity_view_;

  bool waiting_for_space_ = false;
  bool stop_requested_ = false;
  bool closing_ = false;
  bool closed_ = false;
  CloseReason close_reason_ = CloseReason::kPeerClosed;
};

}  // namespace gsoc
