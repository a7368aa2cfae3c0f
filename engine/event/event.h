// The event model: what every stage after the collectors sees.
//
// Ownership: an Event never owns bytes. Every string_view in it points into
// the ByteArena of the EventBatch that holds it, so an Event is valid exactly
// as long as its batch is (until EventBatch::Clear or destruction).
//
// Threading: a batch belongs to one thread at a time (the collector that
// fills it, then the worker that processes it); it is handed over through the
// pipeline queue, never shared.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace gsoc {

enum class EventFormat : uint8_t { kRfc5424, kRfc3164, kJson, kUnparsed };

std::string_view FormatName(EventFormat format);

// A peer address; IPv4 is stored as an IPv4-mapped IPv6 address.
struct PeerAddress {
  std::array<uint8_t, 16> bytes{};
  uint16_t port = 0;

  bool IsV4() const;
  static PeerAddress FromV4(uint32_t host_order_addr, uint16_t port);
};

// An extracted or structured field. Names of JSON fields are dotted paths
// (`id.orig_h`); RFC 5424 structured data parameters are `sd.<SD-ID>.<name>`.
struct Field {
  std::string_view name;
  std::string_view value;
};

inline constexpr int8_t kNoValue = -1;

struct Event {
  uint64_t id = 0;              // unique per gsocd run, increasing; set when queued
  int64_t receive_time_ns = 0;  // wall clock, ns since the Unix epoch
  int64_t event_time_ns = 0;    // from the message when plausible, else receive time
  uint16_t agency = 0;          // index into the agency table
  uint16_t listener = 0;        // index into the listener table
  EventFormat format = EventFormat::kUnparsed;
  bool parse_error = false;       // kept with raw text as message; counted by the collector
  bool has_message_time = false;  // the message carried a timestamp (event_time_ns from it)
  // A JSON line left for the pipeline to parse (collectors/json/
  // json_parse_stage.h): raw = message = the line, no fields yet but those
  // the listener adds (tls_client), event time = receive time.
  bool parse_deferred = false;
  int8_t facility = kNoValue;
  int8_t severity = kNoValue;
  uint16_t version = 0;  // RFC 5424 VERSION (1-999), 0 otherwise
  PeerAddress peer;

  // Header fields; empty when absent or NILVALUE.
  std::string_view host;
  std::string_view program;  // RFC 5424 APP-NAME, RFC 3164 TAG without the pid
  std::string_view pid;      // RFC 5424 PROCID, RFC 3164 "[pid]"
  std::string_view msgid;
  std::string_view structured_data;  // raw RFC 5424 STRUCTURED-DATA, empty for NILVALUE
  std::string_view message;          // MSG without a UTF-8 BOM
  std::string_view raw;              // the whole frame as received

  // Fields of this event: [fields_begin, fields_begin + fields_count) of the batch.
  uint32_t fields_begin = 0;
  uint32_t fields_count = 0;

  // Pipeline event selectors (engine/rules/logsource_map.h) this event
  // matched, set by LogSourceMap::Classify before matching; a rule whose
  // logsource names selectors sees only events that matched one of them.
  static constexpr size_t kMaxSelectors = 16;
  std::array<uint16_t, kMaxSelectors> selectors{};
  uint8_t selector_count = 0;
};

}  // namespace gsoc
