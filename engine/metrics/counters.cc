#include "engine/metrics/counters.h"

namespace gsoc {

const char* ReasonName(DiscardReason reason) {
  static const char* const kNames[] = {"oversize",       "queue_full",    "truncated",
                                       "unknown_agency", "auditd_joined", "auditd_dropped"};
  return kNames[static_cast<size_t>(reason)];
}
const char* ReasonName(RejectReason reason) {
  static const char* const kNames[] = {"unknown_agency", "max_connections",
                                       "max_connections_per_peer", "max_connections_per_agency"};
  return kNames[static_cast<size_t>(reason)];
}
const char* ReasonName(CloseReason reason) {
  static const char* const kNames[] = {"peer_closed",           "idle_timeout", "bad_octet_count",
                                       "octet_count_too_large", "read_error",   "shutdown",
                                       "first_message_timeout"};
  return kNames[static_cast<size_t>(reason)];
}
const char* ReasonName(AuditEnd end) {
  static const char* const kNames[] = {"eoe", "standalone", "timed_out", "evicted", "flushed"};
  return kNames[static_cast<size_t>(end)];
}
const char* ReasonName(ParseFormat format) {
  static const char* const kNames[] = {"rfc5424", "rfc3164", "json"};
  return kNames[static_cast<size_t>(format)];
}

ThreadCounters::ThreadCounters(size_t listeners, size_t agency_count)
    : agencies(agency_count),
      events_received(listeners * agency_count),
      bytes_received(listeners),
      discarded(listeners * size_t(DiscardReason::kCount)),
      parse_errors(listeners * size_t(ParseFormat::kCount)),
      times_ahead(listeners),
      rejected(listeners * size_t(RejectReason::kCount)),
      closed(listeners * size_t(CloseReason::kCount)),
      audit_events(listeners * size_t(AuditEnd::kCount)) {}

namespace {
std::atomic<uint64_t> next_instance_id{1};

struct LocalSlot {
  uint64_t owner = 0;
  ThreadCounters* block = nullptr;
};
// A thread usually counts for one IngestMetrics; a small cache covers tests
// that create several in sequence.
thread_local LocalSlot tls_slots[4];
}  // namespace

IngestMetrics::IngestMetrics(std::vector<std::string> listeners, std::vector<std::string> agencies)
    : instance_id_(next_instance_id.fetch_add(1)),
      listeners_(std::move(listeners)),
      agencies_(std::move(agencies)),
      connections_(std::make_unique<std::atomic<int64_t>[]>(listeners_.size() + 1)) {}

ThreadCounters& IngestMetrics::Local() {
  for (LocalSlot& slot : tls_slots) {
    if (slot.owner == instance_id_) return *slot.block;
  }
  auto block = std::make_unique<ThreadCounters>(listeners_.size(), agencies_.size());
  ThreadCounters* raw = block.get();
  {
    std::lock_guard lock(mutex_);
    blocks_.push_back(std::move(block));
  }
  // Replace the slot of the oldest owner (ids grow, so the smallest is oldest).
  LocalSlot* victim = &tls_slots[0];
  for (LocalSlot& slot : tls_slots) {
    if (slot.owner < victim->owner) victim = &slot;
  }
  *victim = {instance_id_, raw};
  return *raw;
}

template <typename Pick>
uint64_t IngestMetrics::Sum(Pick pick) const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& block : blocks_) total += pick(*block).Get();
  return total;
}

uint64_t IngestMetrics::SumEventsReceived(uint16_t listener, uint16_t agency) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.events_received[listener * c.agencies + agency];
  });
}
uint64_t IngestMetrics::SumBytesReceived(uint16_t listener) const {
  return Sum(
      [&](const ThreadCounters& c) -> const RelaxedCounter& { return c.bytes_received[listener]; });
}
uint64_t IngestMetrics::SumDiscarded(uint16_t listener, DiscardReason reason) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.discarded[listener * size_t(DiscardReason::kCount) + size_t(reason)];
  });
}
uint64_t IngestMetrics::SumParseErrors(uint16_t listener, ParseFormat format) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.parse_errors[listener * size_t(ParseFormat::kCount) + size_t(format)];
  });
}
uint64_t IngestMetrics::SumTimesAhead(uint16_t listener) const {
  return Sum(
      [&](const ThreadCounters& c) -> const RelaxedCounter& { return c.times_ahead[listener]; });
}
uint64_t IngestMetrics::SumRejected(uint16_t listener, RejectReason reason) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.rejected[listener * size_t(RejectReason::kCount) + size_t(reason)];
  });
}
uint64_t IngestMetrics::SumClosed(uint16_t listener, CloseReason reason) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.closed[listener * size_t(CloseReason::kCount) + size_t(reason)];
  });
}
uint64_t IngestMetrics::SumAuditEvents(uint16_t listener, AuditEnd end) const {
  return Sum([&](const ThreadCounters& c) -> const RelaxedCounter& {
    return c.audit_events[listener * size_t(AuditEnd::kCount) + size_t(end)];
  });
}
uint64_t IngestMetrics::SumEventsProcessed() const {
  return Sum([](const ThreadCounters& c) -> const RelaxedCounter& { return c.events_processed; });
}

}  // namespace gsoc
