#include "collectors/syslog_udp/udp_listener.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gsoc {

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

namespace {

PeerAddress PeerFromSockaddr(const sockaddr_storage& storage) {
  PeerAddress peer;
  if (storage.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(storage);
    peer = PeerAddress::FromV4(ntohl(in.sin_addr.s_addr), ntohs(in.sin_port));
  } else if (storage.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
    std::memcpy(peer.bytes.data(), &in6.sin6_addr, 16);
    peer.port = ntohs(in6.sin6_port);
  }
  return peer;
}

bool SamePeerAddress(const PeerAddress& a, const PeerAddress& b) { return a.bytes == b.bytes; }

}  // namespace

UdpListener::UdpListener(asio::io_context& io, ListenerContext context)
    : context_(std::move(context)),
      socket_(asio::make_strand(io)),  // the socket's and the audit timer's handlers never overlap
      slot_size_(context_.config.max_message_size + 1),  // +1 detects oversize
      headers_(kSlots),
      iovecs_(kSlots),
      addresses_(kSlots),
      pending_by_agency_(context_.agencies->size(), 0),
      audit_(ListenerAuditLimits(), context_.max_clock_skew_ns),
      audit_timer_(socket_.get_executor()) {
  parse_context_.default_utc_offset_seconds = context_.utc_offset_seconds;
}

UdpListener::~UdpListener() = default;

void UdpListener::Start() {
  const auto& config = context_.config;
  error_code error;
  const udp::endpoint endpoint(asio::ip::make_address(config.address, error), config.port);
  if (!error) socket_.open(endpoint.protocol(), error);
  if (!error) socket_.set_option(udp::socket::reuse_address(true), error);
  if (!error) {
    error_code ignored;  // the kernel may cap it; not fatal
    socket_.set_option(
        asio::socket_base::receive_buffer_size(static_cast<int>(config.receive_buffer_bytes)),
        ignored);
    socket_.bind(endpoint, error);
  }
  if (error) {
    throw std::runtime_error("listener " + config.name + ": cannot bind " + config.address + ":" +
                             std::to_string(config.port) + "/udp: " + error.message());
  }
  socket_.non_blocking(true, error);
  port_ = socket_.local_endpoint().port();
  buffers_ = std::make_unique<char[]>(slot_size_ * kSlots);
  batch_ = context_.input->pool().Acquire();
  spdlog::info("listener {} (syslog_udp) on {}:{}/udp", config.name, config.address, port_);
  WaitReadable();
}

void UdpListener::Stop() {
  asio::post(socket_.get_executor(), [this] {
    audit_timer_.cancel();
    if (batch_ && audit_.has_open()) {  // serials whose EOE has not come
      audit_.FlushAll(*batch_, NowNanos());
      HandOn(context_.metrics->Local());
    }
    error_code ignored;
    socket_.close(ignored);
  });
}

void UdpListener::WaitReadable() {
  socket_.async_wait(udp::socket::wait_read, [this](const error_code& error) {
    if (error) return;  // closed
    ReceiveBurst();
  });
}

void UdpListener::ReceiveBurst() {
  ThreadCounters& counters = context_.metrics->Local();
  parse_context_.receive_time_ns = NowNanos();
  bool more = false;
  for (int call = 0; call < kCallsPerTurn; ++call) {
    const int received = ReceiveSome();
    if (received <= 0) break;
    for (int i = 0; i < received; ++i) OnDatagram(i, headers_[i].msg_len, counters);
    if (batch_->size() >= context_.batch_events) HandOn(counters);
    more = received == static_cast<int>(kSlots) && call + 1 == kCallsPerTurn;
  }
  HandOn(counters);
  ScheduleAudit();
  if (more) {
    asio::post(socket_.get_executor(), [this] {
      if (socket_.is_open()) ReceiveBurst();
    });
  } else {
    WaitReadable();
  }
}

int UdpListener::ReceiveSome() {
  for (size_t i = 0; i < kSlots; ++i) {
    iovecs_[i] = {buffers_.get() + i * slot_size_, slot_size_};
    std::memset(&headers_[i], 0, sizeof(mmsghdr));
    headers_[i].msg_hdr.msg_iov = &iovecs_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
    headers_[i].msg_hdr.msg_name = &addresses_[i];
    headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int received;
  do {
    received = recvmmsg(socket_.native_handle(), headers_.data(), kSlots, MSG_DONTWAIT, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    spdlog::warn("listener {}: recvmmsg: {}", context_.config.name, std::strerror(errno));
  }
  return received;
}

void UdpListener::OnDatagram(size_t slot, size_t length, ThreadCounters& counters) {
  const uint16_t listener = context_.index;
  counters.BytesReceived(listener, length);
  const PeerAddress peer = PeerFromSockaddr(addresses_[slot]);
  if (!have_last_peer_ || !SamePeerAddress(peer, last_peer_)) {
    last_peer_ = peer;
    last_agency_ = context_.agencies->Lookup(peer);
    have_last_peer_ = true;
  }
  if (last_agency_ == AgencyTable::kNone) {
    counters.Discarded(listener, DiscardReason::kUnknownAgency);
    return;
  }
  if ((headers_[slot].msg_hdr.msg_flags & MSG_TRUNC) || length > context_.config.max_message_size) {
    counters.Discarded(listener, DiscardReason::kOversize);
    return;
  }
  std::string_view data(buffers_.get() + slot * slot_size_, length);
  while (!data.empty() && (data.back() == '\n' || data.back() == '\0' || data.back() == '\r')) {
    data.remove_suffix(1);
  }
  if (data.empty()) return;
  Event& event = batch_->AddEvent();
  const std::string_view copy = batch_->arena().CopyPadded(data);
  event.receive_time_ns = parse_context_.receive_time_ns;
  event.listener = listener;
  event.agency = last_agency_;
  event.peer = peer;
  ParseSyslogFrame(copy, parse_context_, event, *batch_, pending_bad_input_);
  if (ResolveEventTime(event, context_.max_clock_skew_ns)) ++pending_bad_input_.times_ahead;
  ++pending_by_agency_[last_agency_];
  audit_.AfterParse(*batch_, parse_context_.receive_time_ns);
}

void UdpListener::HandOn(ThreadCounters& counters) {
  const uint16_t listener = context_.index;
  for (uint16_t a = 0; a < pending_by_agency_.size(); ++a) {
    if (pending_by_agency_[a]) counters.EventsReceived(listener, a, pending_by_agency_[a]);
    pending_by_agency_[a] = 0;
  }
  pending_bad_input_.Flush(counters, listener);
  audit_.FlushCounts(counters, listener);
  if (batch_->empty()) return;
  if (context_.input->TryPush(batch_) == PushResult::kPushed) {
    batch_ = context_.input->pool().Acquire();
    return;
  }
  counters.Discarded(listener, DiscardReason::kQueueFull, batch_->size());
  batch_->Clear();
}

void UdpListener::ScheduleAudit() {
  const int64_t due = audit_.next_due_ns();
  if (due == INT64_MAX || due >= audit_timer_due_ns_) return;
  audit_timer_due_ns_ = due;
  audit_timer_.expires_after(std::chrono::nanoseconds(std::max<int64_t>(due - NowNanos(), 0)));
  audit_timer_.async_wait([this](const error_code& error) {
    if (error) return;  // re-armed or stopped
    OnAuditTimer();
  });
}

void UdpListener::OnAuditTimer() {
  audit_timer_due_ns_ = INT64_MAX;
  if (!socket_.is_open()) return;
  audit_.Expire(*batch_, NowNanos());
  HandOn(context_.metrics->Local());
  ScheduleAudit();
}

namespace {

const ListenerRegistration kSyslogUdp{
    "syslog_udp", [](asio::io_context& io, ListenerContext context) -> std::unique_ptr<Listener> {
      return std::make_unique<UdpListener>(io, std::move(context));
    }};

}  // namespace

}  // namespace gsoc
