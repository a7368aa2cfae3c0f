// auditd records joined into one event per serial at the collector
// (engine/decode/auditd_joiner.h): per TCP connection, and per UDP listener.
// The records of one serial come from one sender, in order, so the collector
// joins them; the engine's workers take batches in any order and could not.
//
// AfterParse is called for each parsed event, at the end of the batch: an
// audit record leaves the batch for the joiner, and every event the joiner
// completes is appended instead. A serial whose EOE never comes is handed on
// flush_after after its first record (the caller's timer asks Expire), and
// everything open is handed on when the connection or listener ends
// (FlushAll). Non-audit events pass untouched; the joiner is made at the
// first audit record, so connections that carry none pay nothing.
//
// Accounting: a record that is in no event of its own (joined into its
// serial's event, an EOE, or dropped beyond a bound) is counted as
// discarded with reason auditd_joined or auditd_dropped, so received =
// processed + discarded holds; gsoc_auditd_events_total{listener,end}
// counts the joined events by how they ended.
//
// Threading: one owner (the connection's strand, or the listener's thread).
// Memory: at most limits.max_open_bytes of record text per joiner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/decode/auditd_joiner.h"
#include "engine/event/event_batch.h"
#include "engine/metrics/counters.h"

namespace gsoc {

// Per TCP connection: a few serials in flight at most (auditd writes a
// serial's records together), and a byte bound no larger than the
// connection's partial-message buffer.
decode::AuditLimits ConnectionAuditLimits();
// Per UDP listener: every sender's serials share it.
decode::AuditLimits ListenerAuditLimits();

class CollectorAuditJoin {
 public:
  // max_clock_skew_ns: the listener's; joined events' times are resolved
  // against it as every message's is (ResolveEventTime).
  CollectorAuditJoin(decode::AuditLimits limits, int64_t max_clock_skew_ns)
      : limits_(limits), max_clock_skew_ns_(max_clock_skew_ns) {}

  // The certificate identity of the TLS connection the records come from:
  // joined events carry it as field `tls_client`, as every event of that
  // connection does (the joiner builds them from the record text only).
  void SetTlsClient(std::string identity) { tls_client_ = std::move(identity); }

  // The batch's last event was just parsed (now_ns: the wall clock).
  void AfterParse(EventBatch& batch, int64_t now_ns);
  // Hands on the serials due at now_ns.
  void Expire(EventBatch& batch, int64_t now_ns);
  // Hands on every open serial.
  void FlushAll(EventBatch& batch, int64_t now_ns);

  bool has_open() const { return joiner_ && joiner_->open() > 0; }
  // When the oldest open serial is due (wall clock ns; INT64_MAX: none).
  int64_t next_due_ns() const;
  // Adds what changed since the last call to `counters`.
  void FlushCounts(ThreadCounters& counters, uint16_t listener);

 private:
  // The joined events from `from` on: their times resolved (one too far
  // ahead counted in times_ahead_), the TLS identity added.
  void Finish(EventBatch& batch, size_t from);

  decode::AuditLimits limits_;
  int64_t max_clock_skew_ns_;
  std::unique_ptr<decode::AuditJoiner> joiner_;
  decode::AuditStats reported_;
  uint64_t reported_folded_ = 0;
  uint64_t times_ahead_ = 0;  // since FlushCounts
  std::string tls_client_;
};

}  // namespace gsoc
