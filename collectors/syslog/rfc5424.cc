// Strict RFC 5424 parser (see syslog_parser.h for the contract).
#include "collectors/syslog/syslog_common.h"
#include "collectors/syslog/syslog_parser.h"

namespace gsoc {

using namespace syslog_internal;

namespace {

// One header field: NILVALUE or 1..max_len PRINTUSASCII, followed by SP.
// Sets `out` (empty for NILVALUE) and advances p past the SP.
inline bool HeaderField(const char*& p, const char* end, const char* begin, size_t max_len,
                        std::string_view reason, std::string_view& out, ParseError* error) {
  const char* q = p;
  const char* limit = end - q > static_cast<ptrdiff_t>(max_len) ? q + max_len : end;
  while (q < limit && IsPrintUsAscii(*q)) ++q;
  const size_t len = static_cast<size_t>(q - p);
  if (len == 0 || q >= end || *q != ' ') return Fail(error, reason, begin, q);
  out = (len == 1 && *p == '-') ? std::string_view() : std::string_view(p, len);
  p = q + 1;
  return true;
}

}  // namespace

bool ParseRfc5424(std::string_view message, const SyslogParseContext& context, Event& event,
                  EventBatch& batch, ParseError* error) {
  const char* const begin = message.data();
  const char* const end = begin + message.size();
  const char* p = begin;

  int pri = 0;
  if (!ParsePri(p, end, begin, /*strict=*/true, pri, error)) return false;

  // VERSION: NONZERO-DIGIT 0*2DIGIT, then SP.
  if (p >= end || !IsDigit(*p) || *p == '0') return Fail(error, "invalid VERSION", begin, p);
  unsigned version = static_cast<unsigned>(*p++ - '0');
  for (int i = 0; i < 2 && p < end && IsDigit(*p); ++i) {
    version = version * 10 + static_cast<unsigned>(*p++ - '0');
  }
  if (p >= end || *p != ' ') return Fail(error, "invalid VERSION", begin, p);
  ++p;

  // TIMESTAMP
  bool has_time = false;
  int64_t time_ns = 0;
  if (p < end && *p == '-') {
    ++p;
  } else {
    TimeParts t;
    if (!ParseRfc3339(p, end, /*strict=*/true, t)) {
      return Fail(error, "invalid TIMESTAMP", begin, p);
    }
    has_time = Representable(t);
    if (has_time) time_ns = ToUnixNanos(t);
  }
  if (p >= end || *p != ' ') return Fail(error, "invalid TIMESTAMP", begin, p);
  ++p;

  std::string_view host, app, procid, msgid;
  if (!HeaderField(p, end, begin, 255, "invalid HOSTNAME", host, error)) return false;
  if (!HeaderField(p, end, begin, 48, "invalid APP-NAME", app, error)) return false;
  if (!HeaderField(p, end, begin, 128, "invalid PROCID", procid, error)) return false;
  if (!HeaderField(p, end, begin, 32, "invalid MSGID", msgid, error)) return false;

  // STRUCTURED-DATA
  std::string_view structured_data;
  if (p < end && *p == '-') {
    ++p;
  } else if (p < end && *p == '[') {
    const char* sd_begin = p;
    if (!ParseStructuredData(p, end, begin, /*add_fields=*/true, event, batch, error, nullptr)) {
      event.fields_count = 0;  // entries already appended stay orphaned until Clear()
      return false;
    }
    structured_data = std::string_view(sd_begin, static_cast<size_t>(p - sd_begin));
  } else {
    return Fail(error, "invalid STRUCTURED-DATA", begin, p);
  }

  std::string_view msg;
  if (p < end) {
    if (*p != ' ') {
      event.fields_count = 0;
      return Fail(error, "expected SP after STRUCTURED-DATA", begin, p);
    }
    ++p;
    msg = StripBom(std::string_view(p, static_cast<size_t>(end - p)));
  }

  event.format = EventFormat::kRfc5424;
  event.receive_time_ns = context.receive_time_ns;
  event.facility = static_cast<int8_t>(pri >> 3);
  event.severity = static_cast<int8_t>(pri & 7);
  event.version = static_cast<uint16_t>(version);
  event.has_message_time = has_time;
  event.event_time_ns = has_time ? time_ns : context.receive_time_ns;
  event.host = host;
  event.program = app;
  event.pid = procid;
  event.msgid = msgid;
  event.structured_data = structured_data;
  event.message = msg;
  return true;
}

}  // namespace gsoc
