#include "collectors/listener/audit_join.h"

#include <vector>

#include "collectors/listener/listener.h"

namespace gsoc {

namespace {

// The joined events of one call (thread-local: no allocation per call).
std::vector<decode::AuditEvent>& Completed() {
  thread_local std::vector<decode::AuditEvent> completed;
  completed.clear();
  return completed;
}

}  // namespace

decode::AuditLimits ConnectionAuditLimits() {
  decode::AuditLimits limits;
  limits.max_open = 64;
  limits.max_open_bytes = 64 * 1024;
  limits.max_event_bytes = 32 * 1024;
  return limits;
}

decode::AuditLimits ListenerAuditLimits() {
  decode::AuditLimits limits;
  limits.max_open = 4096;
  limits.max_open_bytes = 16u << 20;
  return limits;
}

void CollectorAuditJoin::AfterParse(EventBatch& batch, int64_t now_ns) {
  if (!joiner_) {
    decode::AuditRecord record;
    if (batch.empty() || !decode::ParseAuditRecord(batch.events().back().message, &record)) return;
    joiner_ = std::make_unique<decode::AuditJoiner>(limits_);
  }
  uint64_t ids = 0;  // the pipeline's queue numbers events
  const size_t from = batch.size() - 1;
  if (decode::JoinAuditRecord(*joiner_, batch, now_ns, ids) > 0) Finish(batch, from);
}

void CollectorAuditJoin::Finish(EventBatch& batch, size_t from) {
  auto events = batch.events();
  const std::string_view identity =
      tls_client_.empty() ? std::string_view() : batch.arena().Copy(tls_client_);
  for (size_t i = from; i < events.size(); ++i) {
    if (ResolveEventTime(events[i], max_clock_skew_ns_)) ++times_ahead_;
    if (!identity.empty()) batch.AddField(events[i], "tls_client", identity);
  }
}

void CollectorAuditJoin::Expire(EventBatch& batch, int64_t now_ns) {
  if (!has_open()) return;
  auto& completed = Completed();
  joiner_->Expire(now_ns, completed);
  const size_t from = batch.size();
  for (const decode::AuditEvent& event : completed) {
    decode::AppendAuditEvent(event, batch).receive_time_ns = now_ns;
  }
  Finish(batch, from);
}

void CollectorAuditJoin::FlushAll(EventBatch& batch, int64_t now_ns) {
  if (!has_open()) return;
  auto& completed = Completed();
  joiner_->FlushAll(completed);
  const size_t from = batch.size();
  for (const decode::AuditEvent& event : completed) {
    decode::AppendAuditEvent(event, batch).receive_time_ns = now_ns;
  }
  Finish(batch, from);
}

int64_t CollectorAuditJoin::next_due_ns() const {
  if (!has_open()) return INT64_MAX;
  const int64_t oldest = joiner_->oldest_open_ns();
  int64_t due = 0;
  if (__builtin_add_overflow(oldest, joiner_->limits().flush_after_ns, &due)) return INT64_MAX;
  return due;
}

void CollectorAuditJoin::FlushCounts(ThreadCounters& counters, uint16_t listener) {
  if (!joiner_) return;
  if (times_ahead_) counters.TimesAhead(listener, times_ahead_);
  times_ahead_ = 0;
  const decode::AuditStats& now = joiner_->stats();
  const decode::AuditStats& then = reported_;
  const uint64_t folded = now.Folded(joiner_->open());
  if (folded != reported_folded_) {
    counters.Discarded(listener, DiscardReason::kAuditJoined, folded - reported_folded_);
  }
  if (now.records_dropped != then.records_dropped) {
    counters.Discarded(listener, DiscardReason::kAuditDropped,
                       now.records_dropped - then.records_dropped);
  }
  const uint64_t ended_by_eoe =
      now.events - now.standalone - now.timed_out - now.evicted - now.flushed;
  const uint64_t ended_by_eoe_then =
      then.events - then.standalone - then.timed_out - then.evicted - then.flushed;
  const std::pair<AuditEnd, uint64_t> ends[] = {
      {AuditEnd::kEoe, ended_by_eoe - ended_by_eoe_then},
      {AuditEnd::kStandalone, now.standalone - then.standalone},
      {AuditEnd::kTimedOut, now.timed_out - then.timed_out},
      {AuditEnd::kEvicted, now.evicted - then.evicted},
      {AuditEnd::kFlushed, now.flushed - then.flushed}};
  for (const auto& [end, n] : ends) {
    if (n) counters.AuditEvents(listener, end, n);
  }
  reported_ = now;
  reported_folded_ = folded;
}

}  // namespace gsoc
