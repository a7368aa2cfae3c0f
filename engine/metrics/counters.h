// Ingest counters, counted per thread and summed when Prometheus scrapes.
//
// Threading: every thread that counts gets its own ThreadCounters block via
// IngestMetrics::Local(); only that thread writes it (plain relaxed
// load+store, no read-modify-write, no shared cache line), and the scrape
// thread reads all blocks. Callers count per batch or per connection, not per
// event. Gauges that change per connection (open connections) and the queue
// depth are single atomics or callbacks.
//
// Labels are fixed at start: listener names and agency names from the config.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gsoc {

// Why an accepted message was not handed on (gsoc_events_discarded_total).
enum class DiscardReason : uint8_t {
  kOversize,
  kQueueFull,
  kTruncated,
  kUnknownAgency,
  kAuditJoined,   // an auditd record joined into its serial's event (or an EOE)
  kAuditDropped,  // an auditd record beyond its serial's record or byte bound
  kCount
};
// Why a connection was refused at accept (gsoc_connections_rejected_total).
enum class RejectReason : uint8_t {
  kUnknownAgency,
  kMaxConnections,
  kMaxConnectionsPerPeer,
  kMaxConnectionsPerAgency,
  kCount
};
// Why gsocd closed a connection (gsoc_connections_closed_total).
enum class CloseReason : uint8_t {
  kPeerClosed,
  kIdleTimeout,
  kBadOctetCount,
  kOctetCountTooLarge,
  kReadError,
  kShutdown,
  kFirstMessageTimeout,  // no complete message within first_message_timeout of the accept
  kCount
};
// How a joined auditd event ended (gsoc_auditd_events_total{end}).
enum class AuditEnd : uint8_t { kEoe, kStandalone, kTimedOut, kEvicted, kFlushed, kCount };
// Which parser refused a message (gsoc_parse_errors_total{format}).
enum class ParseFormat : uint8_t { kRfc5424, kRfc3164, kJson, kCount };

const char* ReasonName(DiscardReason reason);
const char* ReasonName(RejectReason reason);
const char* ReasonName(CloseReason reason);
const char* ReasonName(ParseFormat format);
const char* ReasonName(AuditEnd end);

class RelaxedCounter {
 public:
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct ThreadCounters {
  ThreadCounters(size_t listeners, size_t agencies);

  void EventsReceived(uint16_t listener, uint16_t agency, uint64_t n) {
    events_received[listener * agencies + agency].Add(n);
  }
  void BytesReceived(uint16_t listener, uint64_t n) { bytes_received[listener].Add(n); }
  void Discarded(uint16_t listener, DiscardReason reason, uint64_t n = 1) {
    discarded[listener * size_t(DiscardReason::kCount) + size_t(reason)].Add(n);
  }
  void ParseErrors(uint16_t listener, ParseFormat format, uint64_t n = 1) {
    parse_errors[listener * size_t(ParseFormat::kCount) + size_t(format)].Add(n);
  }
  void TimesAhead(uint16_t listener, uint64_t n) { times_ahead[listener].Add(n); }
  void Rejected(uint16_t listener, RejectReason reason) {
    rejected[listener * size_t(RejectReason::kCount) + size_t(reason)].Add(1);
  }
  void Closed(uint16_t listener, CloseReason reason) {
    closed[listener * size_t(CloseReason::kCount) + size_t(reason)].Add(1);
  }
  void AuditEvents(uint16_t listener, AuditEnd end, uint64_t n) {
    audit_events[listener * size_t(AuditEnd::kCount) + size_t(end)].Add(n);
  }
  void EventsProcessed(uint64_t n) { events_processed.Add(n); }

  const size_t agencies;
  std::vector<RelaxedCounter> events_received;  // [listener][agency]
  std::vector<RelaxedCounter> bytes_received;   // [listener]
  std::vector<RelaxedCounter> discarded;        // [listener][DiscardReason]
  std::vector<RelaxedCounter> parse_errors;     // [listener][ParseFormat]
  std::vector<RelaxedCounter> times_ahead;      // [listener]
  std::vector<RelaxedCounter> rejected;         // [listener][RejectReason]
  std::vector<RelaxedCounter> closed;           // [listener][CloseReason]
  std::vector<RelaxedCounter> audit_events;     // [listener][AuditEnd]
  RelaxedCounter events_processed;
};

class IngestMetrics {
 public:
  IngestMetrics(std::vector<std::string> listeners, std::vector<std::string> agencies);
  IngestMetrics(const IngestMetrics&) = delete;
  IngestMetrics& operator=(const IngestMetrics&) = delete;

  // The calling thread's block (created on first use by that thread).
  ThreadCounters& Local();

  // Open connections per listener (changed per connection).
  void ConnectionOpened(uint16_t listener) { connections_[listener].fetch_add(1); }
  void ConnectionClosed(uint16_t listener) { connections_[listener].fetch_sub(1); }

  // Sums over all threads, for the scrape and for tests.
  uint64_t SumEventsReceived(uint16_t listener, uint16_t agency) const;
  uint64_t SumBytesReceived(uint16_t listener) const;
  uint64_t SumDiscarded(uint16_t listener, DiscardReason reason) const;
  uint64_t SumParseErrors(uint16_t listener, ParseFormat format) const;
  uint64_t SumTimesAhead(uint16_t listener) const;
  uint64_t SumRejected(uint16_t listener, RejectReason reason) const;
  uint64_t SumClosed(uint16_t listener, CloseReason reason) const;
  uint64_t SumAuditEvents(uint16_t listener, AuditEnd end) const;
  uint64_t SumEventsProcessed() const;
  int64_t Connections(uint16_t listener) const { return connections_[listener].load(); }

  const std::vector<std::string>& listeners() const { return listeners_; }
  const std::vector<std::string>& agencies() const { return agencies_; }

 private:
  template <typename Pick>
  uint64_t Sum(Pick pick) const;

  const uint64_t instance_id_;
  std::vector<std::string> listeners_;
  std::vector<std::string> agencies_;
  std::unique_ptr<std::atomic<int64_t>[]> connections_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<ThreadCounters>> blocks_;
};

}  // namespace gsoc
