// UDP syslog listener: one message per datagram, received in bursts with
// recvmmsg. Contract: see collectors/listener/listener.h.
//
// The agency is looked up per datagram (cached for a run of datagrams from
// the same peer); a datagram from a peer in no agency is discarded and
// counted (reason unknown_agency). A datagram longer than max_message_size is
// discarded (oversize). When the pipeline is full the batch is dropped and
// counted (queue_full): UDP senders cannot be slowed down.
// auditd records of one serial become one event (collectors/listener/
// audit_join.h), one joiner for the listener; a timer hands on serials whose
// EOE does not come, and Stop hands on what is open.
// Threading: the socket and the timer share a strand, and there is one
// outstanding wait on the socket, so handlers never overlap.
#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "collectors/listener/audit_join.h"
#include "collectors/listener/listener.h"

namespace gsoc {

class UdpListener : public Listener {
 public:
  UdpListener(boost::asio::io_context& io, ListenerContext context);
  ~UdpListener() override;

  void Start() override;
  void Stop() override;
  uint16_t port() const override { return port_; }

 private:
  static constexpr size_t kSlots = 64;     // datagrams per recvmmsg
  static constexpr int kCallsPerTurn = 8;  // then yield

  void WaitReadable();
  void ReceiveBurst();
  // Receives up to kSlots datagrams; returns how many, 0 when none waiting.
  int ReceiveSome();
  void OnDatagram(size_t slot, size_t length, ThreadCounters& counters);
  void HandOn(ThreadCounters& counters);
  // Keeps audit_timer_ at the next auditd serial due (none open: idle).
  void ScheduleAudit();
  void OnAuditTimer();

  ListenerContext context_;
  boost::asio::ip::udp::socket socket_;
  uint16_t port_ = 0;
  size_t slot_size_;
  std::unique_ptr<char[]> buffers_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_storage> addresses_;
  BatchPtr batch_;
  SyslogParseContext parse_context_;
  PeerAddress last_peer_{};
  uint16_t last_agency_ = AgencyTable::kNone;
  bool have_last_peer_ = false;
  std::vector<uint64_t> pending_by_agency_;
  PendingBadInput pending_bad_input_;
  CollectorAuditJoin audit_;
  boost::asio::steady_timer audit_timer_;
  int64_t audit_timer_due_ns_ = INT64_MAX;  // when the armed timer fires (wall clock)
};

}  // namespace gsoc
