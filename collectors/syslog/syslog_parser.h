// Syslog message parsing: RFC 5424 (strict) and RFC 3164 (lenient, as real
// senders write it), directly into an Event of an EventBatch.
//
// Ownership: `message` must already live in the batch's arena (the collector
// copies each frame once); the parser sets Event views into it and writes
// only what must be rewritten (unescaped SD values, SD field names) into the
// arena. No heap allocation per message or per field; no exceptions.
// Threading: stateless functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/event/event.h"
#include "engine/event/event_batch.h"

namespace gsoc {

// Replaying a file (gsocctl replay --year): RFC 3164 timestamps without a
// year start in `year` and then take the year that puts each nearest the
// previous one, so the year rolls forward when they wrap from December to
// January (and a line a little out of order across New Year stays in its
// year; a gap of more than half a year between two lines reads as a step
// back). The parser updates it; one per input stream.
struct RollingYear {
  int64_t year = 0;
  int64_t previous_ns = INT64_MIN;  // the last year-less timestamp resolved
};

struct SyslogParseContext {
  int64_t receive_time_ns = 0;
  // Zone of RFC 3164 timestamps that carry none, as seconds east of UTC.
  int32_t default_utc_offset_seconds = 0;
  // Null (live ingest): the year nearest receive time, never more than a day ahead.
  RollingYear* rolling_year = nullptr;
};

struct ParseError {
  std::string_view reason;  // static text, e.g. "invalid PRI"
  size_t column = 0;        // byte offset where parsing stopped
};

// Strict RFC 5424. On success fills format=kRfc5424, facility, severity,
// version, event_time_ns/has_message_time (from TIMESTAMP unless NILVALUE),
// host, program, pid, msgid, structured_data (raw), one field
// `sd.<SD-ID>.<PARAM-NAME>` per SD-PARAM with its value unescaped, and
// message (a leading UTF-8 BOM removed). Returns false with `error` set when
// the message violates the grammar; the event is then in an unspecified state.
bool ParseRfc5424(std::string_view message, const SyslogParseContext& context, Event& event,
                  EventBatch& batch, ParseError* error);

// Lenient RFC 3164. Accepts: missing PRI, missing hostname, "Mmm dd hh:mm:ss",
// "Mmm dd yyyy hh:mm:ss", ISO 8601 / RFC 3339 timestamps, tags with and
// without "[pid]", no tag. A timestamp without year is resolved to the year
// that puts it nearest receive time (never more than a day ahead), or by
// context.rolling_year when set; one
// without zone uses context.default_utc_offset_seconds. Fails (returns false)
// only on input that is not syslog at all: empty, or a malformed/out-of-range
// PRI such as <192> or <44444444444444444444>.
bool ParseRfc3164(std::string_view message, const SyslogParseContext& context, Event& event,
                  EventBatch& batch, ParseError* error);

// True when the message starts with "<PRI>VERSION " (an RFC 5424 message).
bool LooksLikeRfc5424(std::string_view message);

// What the syslog listeners do with every frame: RFC 5424 when it looks like
// one, else RFC 3164. A frame that fails its parser is kept: format
// kUnparsed, parse_error set, message = raw frame; `failed_format` then says
// which parser refused it (for gsoc_parse_errors_total{format}).
// Sets event.raw = message in every case.
bool ParseSyslog(std::string_view message, const SyslogParseContext& context, Event& event,
                 EventBatch& batch, EventFormat* failed_format);

}  // namespace gsoc
