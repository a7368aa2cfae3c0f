// ParseSyslog: format detection and the failure policy of the listeners.
#include "collectors/syslog/syslog_parser.h"

#include "collectors/syslog/syslog_common.h"

namespace gsoc {

using namespace syslog_internal;

bool LooksLikeRfc5424(std::string_view message) {
  const char* p = message.data();
  const char* const end = p + message.size();
  int pri = 0;
  if (!ParsePri(p, end, p, /*strict=*/false, pri, nullptr)) return false;
  // VERSION SP, then the start of a TIMESTAMP or NILVALUE.
  if (p >= end || !IsDigit(*p) || *p == '0') return false;
  const char* digits = p;
  while (p < end && IsDigit(*p) && p - digits < 3) ++p;
  if (end - p < 2 || p[0] != ' ') return false;
  return p[1] == '-' || IsDigit(p[1]);
}

namespace {

inline bool IsTrimmed(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool ParseSyslog(std::string_view message, const SyslogParseContext& context, Event& event,
                 EventBatch& batch, EventFormat* failed_format) {
  event.raw = message;
  // Framing leftovers: leading whitespace, trailing whitespace/CR/LF/NUL.
  std::string_view text = message;
  while (!text.empty() && IsTrimmed(text.front())) text.remove_prefix(1);
  while (!text.empty() && (IsTrimmed(text.back()) || text.back() == '\0')) text.remove_suffix(1);

  const bool is_5424 = LooksLikeRfc5424(text);
  ParseError error;
  const bool ok = is_5424 ? ParseRfc5424(text, context, event, batch, &error)
                          : ParseRfc3164(text, context, event, batch, &error);
  if (ok) return true;

  const EventFormat refused = is_5424 ? EventFormat::kRfc5424 : EventFormat::kRfc3164;
  if (failed_format != nullptr) *failed_format = refused;
  event.format = EventFormat::kUnparsed;
  event.parse_error = true;
  event.receive_time_ns = context.receive_time_ns;
  event.event_time_ns = context.receive_time_ns;
  event.has_message_time = false;
  event.facility = kNoValue;
  event.severity = kNoValue;
  event.version = 0;
  event.host = {};
  event.program = {};
  event.pid = {};
  event.msgid = {};
  event.structured_data = {};
  event.message = message;
  event.fields_count = 0;
  return false;
}

}  // namespace gsoc
