// Linux auditd records joined into one event per audit event (serial).
//
// The kernel writes one audit event as several records, one line each:
//   type=SYSCALL msg=audit(1700000000.123:4711): arch=c000003e syscall=59 ... exe="/usr/bin/id"
//   type=EXECVE msg=audit(1700000000.123:4711): argc=2 a0="id" a1="-u"
//   type=CWD msg=audit(1700000000.123:4711): cwd="/root"
//   type=PATH msg=audit(1700000000.123:4711): item=0 name="/usr/bin/id" ...
//   type=PROCTITLE msg=audit(1700000000.123:4711): proctitle=6964002D75
//   type=EOE msg=audit(1700000000.123:4711):
// (optionally prefixed `node=HOST `, and after syslog headers when forwarded
// by audisp-syslog / rsyslog). AuditJoiner collects the records of one
// serial and emits one AuditEvent when type=EOE arrives, at once for a
// user-space record (USER_LOGIN, USER_CMD, CRED_ACQ, ...: its fields carry
// msg='...'; such events are one record and have no EOE), after
// `flush_after_ns` without EOE, or when a bound is hit.
//
// Joining is per source: records join only with records of the same
// (agency, listener, host, serial); another agency's serial never mixes in.
//
// The event's fields: every record's key=value pairs, the first occurrence of
// a key winning (records in arrival order, SYSCALL first as auditd writes
// them); values quoted "..." lose the quotes, and unquoted hex in the
// fields auditd hex-encodes (a0.., aN[i], proctitle, name, cwd, exe, comm,
// path, cmd, data, key) is decoded (NUL -> space). Plus:
//   type          EXECVE when the serial has an EXECVE record, else SYSCALL when
//                 it has one, else the first record's type (SigmaHQ rules
//                 select on it);
//   record_types  every record type joined, space-separated;
//   msg           audit(TIME:SERIAL);
//   cmdline       a0..a(argc-1) joined by spaces (EXECVE; aN[i] chunks joined);
//   node          when the records carried node=.
// The event's text is the records, one per line.
//
// Bounds (AuditLimits): records per serial (beyond: dropped, counted), bytes
// per event (records beyond: dropped, counted), open serials and their bytes
// together (beyond either: the oldest are emitted early, counted),
// flush_after_ns. Memory is at most max_open_bytes plus per-entry overhead
// (max_open entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/event/event_batch.h"

namespace gsoc::decode {

struct AuditLimits {
  size_t max_records = 64;                 // records joined per serial
  size_t max_event_bytes = 65536;          // record text per serial
  size_t max_open = 4096;                  // serials waiting for their EOE, all sources
  size_t max_open_bytes = 16u << 20;       // record text of those serials together
  int64_t flush_after_ns = 2'000'000'000;  // emit a serial this long after its first record
};

// Where a record came from; records of different sources never join.
struct AuditSource {
  uint16_t agency = 0;
  uint16_t listener = 0;
  std::string_view host;
};

// One parsed record (views into the line).
struct AuditRecord {
  std::string_view node;   // node=, when present
  std::string_view type;   // SYSCALL, EXECVE, ...
  std::string_view stamp;  // "1700000000.123:4711"
  int64_t time_ns = 0;     // from the stamp
  uint64_t serial = 0;
  std::string_view fields;  // the text after "): "
  std::string_view line;    // the record from "node="/"type=" to the end
};

// Finds an audit record in `message` (at its start or after a syslog tag);
// false when it is none.
bool ParseAuditRecord(std::string_view message, AuditRecord* record);

struct AuditEvent {
  uint16_t agency = 0;
  uint16_t listener = 0;
  std::string host;
  int64_t time_ns = 0;
  uint64_t serial = 0;
  std::string text;                                                   // the records, one per line
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // views into storage
  std::string storage;                                                // names and values
  bool complete = false;  // ended by EOE (not by time or a bound)

  // Copies and moves point `fields` at the new `storage`: a short storage
  // lives inside the string itself, so a moved event's views would dangle.
  AuditEvent() = default;
  AuditEvent(const AuditEvent& other) { *this = other; }
  AuditEvent(AuditEvent&& other) noexcept { *this = std::move(other); }
  AuditEvent& operator=(const AuditEvent& other);
  AuditEvent& operator=(AuditEvent&& other) noexcept;

 private:
  void RebaseFields(const char* old_storage, size_t old_size);
};

struct AuditStats {
  uint64_t records = 0;          // records taken
  uint64_t events = 0;           // events emitted
  uint64_t timed_out = 0;        // emitted without EOE after flush_after_ns
  uint64_t evicted = 0;          // emitted early: max_open serials (or bytes) were waiting
  uint64_t standalone = 0;       // emitted at once: a user-space record (msg='...')
  uint64_t flushed = 0;          // emitted by FlushAll (end of input, connection closed)
  uint64_t records_dropped = 0;  // beyond max_records or max_event_bytes
  // Records taken that are in no event of their own: joined into their
  // serial's event (not its first record), an EOE, or dropped.
  uint64_t Folded(size_t open) const { return records - events - open - records_dropped; }
};

class AuditJoiner {
 public:
  explicit AuditJoiner(AuditLimits limits = {});
  ~AuditJoiner();
  AuditJoiner(const AuditJoiner&) = delete;
  AuditJoiner& operator=(const AuditJoiner&) = delete;

  // Takes `message` when it is an audit record (returns false otherwise and
  // keeps nothing). Events it completes (EOE, eviction, and serials of any
  // source older than now_ns - flush_after_ns) are appended to `out`.
  // now_ns: the caller's clock; kRecordTime uses the record's own time
  // (offline replay of a file).
  static constexpr int64_t kRecordTime = INT64_MIN;
  bool Add(const AuditSource& source, std::string_view message, int64_t now_ns,
           std::vector<AuditEvent>& out);

  // Emits the serials whose first record is older than now_ns - flush_after_ns.
  void Expire(int64_t now_ns, std::vector<AuditEvent>& out);
  // Emits every open serial (end of input, shutdown).
  void FlushAll(std::vector<AuditEvent>& out);

  size_t open() const { return open_.size(); }
  // The joiner's clock when the oldest open serial's first record came
  // (INT64_MAX when none is open): it is due at that + flush_after_ns.
  int64_t oldest_open_ns() const;
  const AuditLimits& limits() const { return limits_; }
  size_t bytes() const { return bytes_; }
  const AuditStats& stats() const { return stats_; }

 private:
  struct Key {
    uint16_t agency = 0;
    uint16_t listener = 0;
    std::string host;
    uint64_t serial = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };
  using Order = std::list<Key>;
  struct Pending {
    int64_t first_ns = 0;  // the joiner's clock when the first record came
    int64_t time_ns = 0;   // the record's own time
    size_t records = 0;
    std::string text;
    Order::iterator position;
  };

  using OpenMap = std::unordered_map<Key, Pending, KeyHash>;
  void Emit(OpenMap::iterator it, std::vector<AuditEvent>& out);
  void Append(Pending& pending, std::string_view line);
  void EvictForBytes(OpenMap::iterator keep, std::vector<AuditEvent>& out);

  AuditLimits limits_;
  std::unordered_map<Key, Pending, KeyHash> open_;
  Order order_;  // open serials, oldest first
  size_t bytes_ = 0;
  AuditStats stats_;
};

// Builds the joined event's fields from its record lines (exposed for tests).
void BuildAuditFields(AuditEvent& event);

// Appends `joined` to `batch` as one event (text, fields, host, agency,
// listener and time copied into the batch); id and receive time are the
// caller's. Returns the event.
Event& AppendAuditEvent(const AuditEvent& joined, EventBatch& batch);

// The hook for a line-based input: when the last event of `batch` is an
// audit record, it goes into `joiner` (and out of the batch) and every event
// the joiner completes is appended instead. Returns the number of events
// appended (the record's own event counts as removed); they get the ids
// ++last_id.
size_t JoinAuditRecord(AuditJoiner& joiner, EventBatch& batch, int64_t now_ns, uint64_t& last_id);

}  // namespace gsoc::decode
