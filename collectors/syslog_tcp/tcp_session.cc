#include "collectors/syslog_tcp/tcp_session.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>

#include "collectors/syslog_tcp/tcp_listener.h"

namespace gsoc {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// The io thread's JSON parser: simdjson keeps buffers sized to the largest
// line it parsed, which must not be paid once per connection.
JsonLineParser& ThreadJsonParser() {
  thread_local JsonLineParser parser;
  return parser;
}

// Ciphertext is read a TLS record at a time: what TLS keeps buffered per
// connection stays near one record.
constexpr size_t kTlsReadChunk = 17 * 1024;

// The io thread's ciphertext buffer (syslog_tls): handed to TLS at once.
char* ThreadCipherBuffer() {
  thread_local std::unique_ptr<char[]> buffer =
      std::make_unique_for_overwrite<char[]>(kTlsReadChunk);
  return buffer.get();
}

// Tails at most this large keep their storage when they shrink.
constexpr size_t kSmallTail = 4096;

}  // namespace

TcpSession::TcpSession(TcpListener& listener, asio::ip::tcp::socket socket, PeerAddress peer,
                       uint16_t agency)
    : listener_(listener),
      context_(listener.context()),
      socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()),
      peer_(peer),
      agency_(agency),
      limit_agency_(agency),
      framer_(listener.mode(), listener.context().config.max_message_size),
      audit_(ConnectionAuditLimits(), listener.context().max_clock_skew_ns) {
  parse_context_.default_utc_offset_seconds = context_.utc_offset_seconds;
  json_ = listener.mode() == FramingMode::kLinesOnly;
}

void TcpSession::Start() {
  error_code ignored;
  socket_.non_blocking(true, ignored);
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  accepted_ = last_activity_ = std::chrono::steady_clock::now();
  if (const TlsServerContext* tls = listener_.tls()) {
    tls_ = std::make_unique<TlsConnection>(tls->current());
  }
  CloseReason unused;
  ArmIdleTimer(TimeLeft(&unused).value_or(std::chrono::steady_clock::duration::zero()));
  WaitReadable();
}

void TcpSession::Stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stop_requested_ = true;
    if (self->closing_ || self->waiting_for_space_) return;  // OnSpace finishes the stop
    self->FinishAndClose(CloseReason::kShutdown);
  });
}

void TcpSession::WaitReadable() {
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](const error_code& error) { self->OnReadable(error); });
}

void TcpSession::OnReadable(const error_code& error) {
  if (closing_) return;
  if (error) {
    FinishAndClose(error == asio::error::operation_aborted ? CloseReason::kShutdown
                                                           : CloseReason::kReadError);
    return;
  }
  ReadAvailable();
}

void TcpSession::ReadAvailable() {
  size_t turn_bytes = 0;
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    if (!batch_) batch_ = context_.input->pool().Acquire();
    const Region region = ReadIntoBatch();
    const error_code& error = region.error;
    if (error == asio::error::would_block || error == asio::error::try_again) break;
    if (error == asio::error::eof) {
      FinishAndClose(CloseReason::kPeerClosed);
      return;
    }
    if (error) {
      FinishAndClose(CloseReason::kReadError);
      return;
    }
    const size_t n = region.read;
    if (n > 0) {  // 0: the tail's frames, received before, framed now
      last_activity_ = std::chrono::steady_clock::now();
      parse_context_.receive_time_ns = NowNanos();
    }
    if (!got_message_ && !pending_message_ && n > 0) {
      pending_message_ = true;  // the first-message deadline now applies
      CloseReason unused;
      ArmIdleTimer(TimeLeft(&unused).value_or(std::chrono::steady_clock::duration::zero()));
    }
    if (!tls_) pending_bytes_ += n;  // TLS counts ciphertext as it reads it
    turn_bytes += n;
    if (!ProcessBuffer(region)) return;
    if (batch_ && batch_->size() >= context_.batch_events && !HandOn()) return;
    if (reads + 1 == kReadsPerTurn || turn_bytes >= kTurnBytes) {
      // More may be waiting: let other connections run, then continue.
      if (!HandOn()) return;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (!self->closing_ && !self->waiting_for_space_) self->ReadAvailable();
      });
      return;
    }
  }
  if (!HandOn()) return;
  ScheduleAudit();
  WaitReadable();
}

// The tail, then what one read gave, in the batch's arena with kPadding
// zero bytes after them: frames are parsed where they were read, not copied.
// When the tail holds frames still to frame (a batch filled up), no read,
// and only as much of the tail as the batch has room to frame: the rest
// stays where it is, not copied out and back once per batch.
TcpSession::Region TcpSession::ReadIntoBatch() {
  ByteArena& arena = batch_->arena();
  const size_t take = tail_has_frames_ && !whole_tail_next_ ? std::min(tail_, RoomBytes()) : tail_;
  // As much as the block has room for, when that is a fair read: a batch of
  // small reads stays in small blocks, a bulk sender's fills its blocks.
  size_t chunk = tail_has_frames_ ? 0 : NextReadSize();
  const size_t overhead = take + ByteArena::kPadding;
  if (chunk > 0 && arena.room() > overhead + chunk / 4) {
    chunk = std::min(chunk, arena.room() - overhead);
  } else if (chunk > 0 && overhead < ByteArena::kDefaultBlockSize) {
    // A new block: one of the arena's own size, which a reused arena keeps.
    chunk = std::min(chunk, ByteArena::kDefaultBlockSize - overhead);
  }
  const size_t capacity = overhead + chunk;
  char* data = arena.Allocate(capacity);
  if (take > 0) std::memcpy(data, TailData(), take);
  Region region{data, 0, take, 0, {}};
  const size_t n = chunk == 0 ? 0 : ReadSome(data + take, chunk, region.error);
  if (region.error) {
    arena.ShrinkLast(data, capacity, 0);
    return region;
  }
  // The next read: twice this one when it filled its room, down to
  // kMinRead when it took under a quarter (no change without a read).
  if (n == chunk && chunk == read_size_) {
    read_size_ = std::min(read_size_ * 2, kReadChunk);
  } else if (n < chunk / 4) {
    read_size_ = std::max(read_size_ / 2, kMinRead);
  }
  region.length = take + n;
  region.read = n;
  std::memset(data + region.length, 0, ByteArena::kPadding);
  arena.ShrinkLast(data, capacity, region.length + ByteArena::kPadding);
  return region;
}

size_t TcpSession::BatchRoom() const {
  // At least one: a full batch is handed on before the next read.
  return batch_->size() < context_.batch_events ? context_.batch_events - batch_->size() : 1;
}

size_t TcpSession::RoomBytes() const {
  // A little more than the room keeps the last frame whole.
  return std::max(BatchRoom() * frame_bytes_ + frame_bytes_, kMinRead);
}

// A read that holds more frames than the batch takes leaves them in the
// tail, to be copied into the next batches.
size_t TcpSession::NextReadSize() const {
  if (frame_bytes_ == 0) return read_size_;
  return std::min(RoomBytes(), read_size_);
}

// False if closed. Frames no more than the batch has room for
// (batch_events): a read of 64 KiB of 2-byte lines is ~32,000 events of
// 216 bytes, ~7 MB that the session would hold while it waits for the
// queue. The rest stays in the tail and is framed into the next batch.
bool TcpSession::ProcessBuffer(const Region& region) {
  char* const data = region.data;
  const size_t length = region.length;
  const size_t room = BatchRoom();
  size_t framed = 0;
  const char* frames_end = nullptr;
  const FeedResult result = framer_.Feed(
      std::string_view(data, length),
      [&](std::string_view frame) {
        OnFrame(frame, /*in_batch=*/true);
        frames_end = frame.data() + frame.size();
        ++framed;
      },
      [this] { ++pending_oversize_; }, room);
  if (framed > 0) frame_bytes_ = std::max<size_t>(1, result.consumed / framed);
  // The read's bytes after its last frame (the tail, kept apart) go back
  // to the arena, unless a frame's parse allocated after them.
  const size_t kept = frames_end ? frames_end - data + ByteArena::kPadding : 0;
  batch_->arena().ShrinkLast(data, length + ByteArena::kPadding, kept);
  if (result.error == FrameError::kNone) {
    const bool more_here = framed == room && result.consumed < length;
    if (region.read > 0) {
      tail_has_frames_ = more_here;
      whole_tail_next_ = false;
      KeepTail(data + result.consumed, length - result.consumed);
      return true;
    }
    // A prefix of the tail: what it did not frame is still in the storage.
    const bool unseen = region.from_tail < tail_;
    tail_begin_ += result.consumed;
    tail_ -= result.consumed;
    tail_has_frames_ = more_here || unseen;
    whole_tail_next_ = unseen && framed == 0;  // a frame longer than the prefix
    return true;
  }
  tail_has_frames_ = whole_tail_next_ = false;
  KeepTail(data, 0);  // the rest of the stream cannot be framed
  FinishAndClose(result.error == FrameError::kBadOctetCount ? CloseReason::kBadOctetCount
                                                            : CloseReason::kOctetCountTooLarge);
  return false;
}

// Storage grows to what the tail needs (a partial message, at most
// max_message_size, or the rest of a read whose batch filled up, at most a
// read and the tail before it) and shrinks back once it is consumed.
void TcpSession::KeepTail(const char* data, size_t length) {
  const bool grow = length > tail_capacity_;
  const bool shrink = tail_capacity_ > kSmallTail && length < tail_capacity_ / 4;
  if (grow || shrink) {
    size_t capacity = length == 0 ? 0 : 256;
    while (capacity < length) capacity *= 2;
    tail_storage_ = capacity ? std::make_unique_for_overwrite<char[]>(capacity) : nullptr;
    tail_capacity_ = capacity;
  }
  if (length > 0) std::memcpy(tail_storage_.get(), data, length);
  tail_begin_ = 0;
  tail_ = length;
}

void TcpSession::OnFrame(std::string_view frame, bool in_batch) {
  if (!batch_) batch_ = context_.input->pool().Acquire();
  got_message_ = true;
  pending_message_ = false;
  Event& event = batch_->AddEvent();
  const std::string_view copy = in_batch ? frame : batch_->arena().CopyPadded(frame);
  event.receive_time_ns = parse_context_.receive_time_ns;
  event.listener = context_.index;
  event.agency = agency_;
  event.peer = peer_;
  if (!tls_identity_.empty()) batch_->AddField(event, "tls_client", TlsIdentityInBatch());
  if (json_ && context_.defer_json_parse) {
    event.raw = event.message = copy;
    event.parse_deferred = true;
  } else if (json_) {
    if (!ThreadJsonParser().ParseOrKeepRaw(copy, parse_context_, event, *batch_)) {
      ++pending_bad_input_.by_format[size_t(ParseFormat::kJson)];
    }
  } else {
    ParseSyslogFrame(copy, parse_context_, event, *batch_, pending_bad_input_);
  }
  if (ResolveEventTime(event, context_.max_clock_skew_ns)) ++pending_bad_input_.times_ahead;
  ++pending_events_;
  if (!json_) audit_.AfterParse(*batch_, parse_context_.receive_time_ns);
}

void TcpSession::FlushCounts(ThreadCounters& counters) {
  const uint16_t listener = context_.index;
  if (pending_events_) counters.EventsReceived(listener, agency_, pending_events_);
  if (pending_bytes_) counters.BytesReceived(listener, pending_bytes_);
  if (pending_oversize_) counters.Discarded(listener, DiscardReason::kOversize, pending_oversize_);
  pending_bad_input_.Flush(counters, listener);
  audit_.FlushCounts(counters, listener);
  pending_events_ = pending_bytes_ = pending_oversize_ = 0;
}

bool TcpSession::HandOn() {
  ThreadCounters& counters = context_.metrics->Local();
  FlushCounts(counters);
  if (batch_ && batch_->empty()) context_.input->pool().Release(std::move(batch_));
  if (!batch_ || batch_->empty()) return true;
  switch (context_.input->TryPush(batch_)) {
    case PushResult::kPushed:
      batch_ = nullptr;  // the next frame takes a batch from the pool
      return true;
    case PushResult::kFull:
      waiting_for_space_ = true;
      context_.input->WaitForSpace(batch_->size(), [self = shared_from_this()] {
        asio::post(self->socket_.get_executor(), [self] { self->OnSpace(); });
      });
      return false;
    case PushResult::kClosed:
      counters.Discarded(context_.index, DiscardReason::kQueueFull, batch_->size());
      batch_->Clear();
      return true;
  }
  return true;
}

void TcpSession::OnSpace() {
  waiting_for_space_ = false;
  if (!HandOn()) return;
  last_activity_ = std::chrono::steady_clock::now();
  if (closing_) {
    Close(close_reason_);
  } else if (stop_requested_) {
    FinishAndClose(CloseReason::kShutdown);
  } else {
    ReadAvailable();
  }
}

void TcpSession::FinishAndClose(CloseReason reason) {
  if (closing_) return;
  closing_ = true;
  close_reason_ = reason;
  error_code ignored;
  idle_timer_.cancel();
  socket_.cancel(ignored);
  if (tail_has_frames_) FrameWholeTail();
  if (tail_ > 0) {
    if (reason == CloseReason::kPeerClosed) {
      // Real senders omit the last trailer: the tail is a final frame.
      bool truncated = false;
      const std::string_view last = framer_.Finish({TailData(), tail_}, &truncated);
      if (!last.empty()) OnFrame(last, /*in_batch=*/false);
      if (truncated) context_.metrics->Local().Discarded(context_.index, DiscardReason::kTruncated);
    } else {
      context_.metrics->Local().Discarded(context_.index, DiscardReason::kTruncated);
    }
    KeepTail(nullptr, 0);
  }
  if (audit_.has_open()) {  // serials whose EOE has not come: handed on as they are
    if (!batch_) batch_ = context_.input->pool().Acquire();
    audit_.FlushAll(*batch_, NowNanos());
  }
  if (!HandOn()) return;  // OnSpace closes once the batch is handed on
  Close(reason);
}

// Closing while the tail still holds received frames (a batch filled up,
// then the queue was full): they are framed into the batch, not dropped.
void TcpSession::FrameWholeTail() {
  tail_has_frames_ = whole_tail_next_ = false;
  const FeedResult result = framer_.Feed(
      std::string_view(TailData(), tail_),
      [this](std::string_view frame) { OnFrame(frame, /*in_batch=*/false); },
      [this] { ++pending_oversize_; });
  if (result.error != FrameError::kNone) return KeepTail(nullptr, 0);
  tail_begin_ += result.consumed;
  tail_ -= result.consumed;
}

void TcpSession::Close(CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  if (tls_ && tls_checked_) listener_.TlsSessionClosed(tls_->version(), tls_->cipher());
  context_.metrics->Local().Closed(context_.index, reason);
  if (batch_) context_.input->pool().Release(std::move(batch_));
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  listener_.OnSessionClosed(shared_from_this(), peer_, limit_agency_);
}

void TcpSession::ArmIdleTimer(std::chrono::steady_clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait(
      [self = shared_from_this()](const error_code& error) { self->OnIdleTimer(error); });
}

std::optional<std::chrono::steady_clock::duration> TcpSession::TimeLeft(CloseReason* reason) const {
  const auto now = std::chrono::steady_clock::now();
  auto left = last_activity_ + context_.config.idle_timeout - now;
  *reason = CloseReason::kIdleTimeout;
  if (pending_message_) {
    const auto first = accepted_ + context_.config.first_message_timeout - now;
    if (first < left) {
      left = first;
      *reason = CloseReason::kFirstMessageTimeout;
    }
  }
  if (tls_ && !tls_checked_) {
    const auto handshake = accepted_ + listener_.tls()->config().handshake_timeout - now;
    if (handshake < left) {
      left = handshake;
      *reason = CloseReason::kIdleTimeout;  // OnIdleTimer counts it as a TLS timeout
    }
  }
  if (left <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
  return left;
}

void TcpSession::OnIdleTimer(const error_code& error) {
  if (error || closing_) return;
  if (waiting_for_space_) {
    // Blocked on the pipeline is neither idle nor slow: check again later.
    ArmIdleTimer(context_.config.first_message_timeout);
    return;
  }
  HandOnDueAudit();
  CloseReason reason;
  if (const auto left = TimeLeft(&reason)) {
    ArmIdleTimer(std::min(*left, AuditLeft()));
    return;
  }
  if (tls_ && !tls_checked_) listener_.CountHandshake(TlsHandshakeResult::kTimeout, peer_);
  FinishAndClose(reason);
}

void TcpSession::HandOnDueAudit() {
  if (audit_.has_open()) {
    if (!batch_) batch_ = context_.input->pool().Acquire();
    audit_.Expire(*batch_, NowNanos());
  }
  if (!batch_ || batch_->empty()) return;
  ThreadCounters& counters = context_.metrics->Local();
  FlushCounts(counters);
  switch (context_.input->TryPush(batch_)) {
    case PushResult::kPushed:
      batch_ = nullptr;
      return;
    case PushResult::kFull:
      return;  // kept; AuditLeft retries soon, and the next read hands it on
    case PushResult::kClosed:
      counters.Discarded(context_.index, DiscardReason::kQueueFull, batch_->size());
      batch_->Clear();
      return;
  }
}

std::chrono::steady_clock::duration TcpSession::AuditLeft() const {
  using std::chrono::steady_clock;
  if (batch_ && !batch_->empty()) return std::chrono::milliseconds(100);
  if (!audit_.has_open()) return steady_clock::duration::max();
  const int64_t left = audit_.next_due_ns() - NowNanos();
  return std::chrono::nanoseconds(std::max<int64_t>(left, 0));
}

void TcpSession::ScheduleAudit() {
  if (!audit_.has_open()) return;
  const auto left = AuditLeft();
  if (idle_timer_.expiry() > std::chrono::steady_clock::now() + left) ArmIdleTimer(left);
}

size_t TcpSession::ReadSome(char* out, size_t capacity, error_code& error) {
  if (tls_) return ReadTls(out, capacity, error);
  return socket_.read_some(asio::buffer(out, capacity), error);
}

// Decrypts what TLS holds; reads more ciphertext when it needs it. Returns
// plaintext bytes (> 0), or 0 with `error` set: would_block when the socket
// is drained, eof on close_notify or end of stream, another error when the
// handshake or a record failed (already counted).
size_t TcpSession::ReadTls(char* out, size_t capacity, error_code& error) {
  char* cipher = ThreadCipherBuffer();
  for (;;) {
    size_t produced = 0;
    const TlsConnection::Status status = tls_->Read(out, capacity, &produced);
    SendTlsOutput();
    // First, as the client's Finished may come in one read with its
    // close_notify or a bad record: that handshake is counted and checked too.
    if (tls_->handshake_done() && !tls_checked_ && !OnTlsHandshake()) {
      error = asio::error::connection_refused;
      return 0;
    }
    if (status == TlsConnection::Status::kFailed) {
      if (!tls_->handshake_done()) listener_.CountHandshake(tls_->failure(), peer_);
      error = asio::error::connection_aborted;
      return 0;
    }
    if (status == TlsConnection::Status::kClosed) {
      error = asio::error::eof;
      return 0;
    }
    if (produced > 0) return produced;
    const size_t n = socket_.read_some(asio::buffer(cipher, kTlsReadChunk), error);
    if (error) return 0;
    pending_bytes_ += n;
    tls_->Feed({cipher, n});
  }
}

// The handshake finished: with client certificates, the certificate must
// name an agency. False refuses the connection (counted).
bool TcpSession::OnTlsHandshake() {
  if (listener_.tls()->config().requires_client_certificate()) {
    const uint16_t agency = context_.agencies->LookupIdentity(tls_->PeerNames(), &tls_identity_);
    if (agency == AgencyTable::kNone) {
      listener_.CountHandshake(TlsHandshakeResult::kUnknownIdentity, peer_);
      return false;
    }
    if (!listener_.MoveAgencySlot(limit_agency_, agency)) return false;
    limit_agency_ = agency;
    agency_ = agency;
    audit_.SetTlsClient(tls_identity_);
  }
  tls_checked_ = true;
  listener_.CountHandshake(TlsHandshakeResult::kOk, peer_);
  listener_.TlsSessionOpened(tls_->version(), tls_->cipher());
  CloseReason unused;  // the handshake deadline is met: idle and first-message remain
  ArmIdleTimer(TimeLeft(&unused).value_or(std::chrono::steady_clock::duration::zero()));
  return true;
}

// Writes what TLS produced (handshake records, alerts); the rest waits for
// the socket to be writable.
void TcpSession::SendTlsOutput() {
  std::string produced = tls_->TakeOutput();
  if (!produced.empty()) tls_output_ += produced;
  if (tls_writing_ || tls_output_.empty() || closed_) return;
  error_code error;
  const size_t n = socket_.write_some(asio::buffer(tls_output_), error);
  if (!error) tls_output_.erase(0, n);
  if (error && error != asio::error::would_block && error != asio::error::try_again) {
    tls_output_.clear();  // the read side sees the broken connection
    return;
  }
  if (tls_output_.empty()) return;
  // Bounded without a check: the server sends only its handshake flight and
  // alerts (a few KiB), never application data, and no renegotiation.
  tls_writing_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](const error_code& wait_error) {
                       self->tls_writing_ = false;
                       if (!wait_error) self->SendTlsOutput();
                     });
}

std::string_view TcpSession::TlsIdentityInBatch() {
  if (identity_batch_ != batch_.get() || batch_->size() <= 1) {
    identity_batch_ = batch_.get();
    identity_view_ = batch_->arena().Copy(tls_identity_);
  }
  return identity_view_;
}

}  // namespace gsoc
