// JSON lines parsing with simdjson On-Demand, directly into an Event.
//
// Input: one JSON object (one line). It must live as long as the batch's
// events are used (in the batch arena, or held beside the batch) and be
// followed by at least ByteArena::kPadding readable bytes that do not change
// while it is parsed (their content does not matter: ByteArena::CopyPadded,
// or the next lines), so simdjson parses it in place without copying.
//
// Output: format=kJson, message/raw = the line; every scalar member becomes a
// field; nested objects become dotted names (`id.orig_h`); a member name or
// string with no escape is a view of the line itself, one with an escape is
// unescaped into the arena; numbers, true/false/null keep their JSON text;
// arrays keep their raw JSON text under the member name. Well-known members
// also fill the header: time from the first top-level member of @timestamp,
// timestamp, ts, time that parses (RFC 3339 text, or epoch seconds as a
// number or numeric string, fractional allowed; no offset = UTC), host from
// host/hostname, program from program/app/appname, message from
// message/msg when a string.
//
// Fails (returns false, error set) when the line is not a JSON object or is
// malformed; the caller keeps the line as an unparsed event. Limits depth
// (options.max_depth) and field count (options.max_fields: the event's, the
// fields the NXLog shape adds included) and fails beyond.
//
// Threading: one JsonLineParser per thread/connection (it owns the simdjson
// parser and its buffers). No exceptions: simdjson error codes only.
#pragma once

#include <memory>
#include <string_view>

#include "collectors/syslog/syslog_parser.h"
#include "engine/event/event.h"
#include "engine/event/event_batch.h"

namespace gsoc {

struct JsonParseOptions {
  size_t max_depth = 32;
  size_t max_fields = 1024;
};

class JsonLineParser {
 public:
  explicit JsonLineParser(JsonParseOptions options = {});
  ~JsonLineParser();
  JsonLineParser(const JsonLineParser&) = delete;
  JsonLineParser& operator=(const JsonLineParser&) = delete;

  bool Parse(std::string_view line, const SyslogParseContext& context, Event& event,
             EventBatch& batch, ParseError* error);

  // What the listeners do with every line: Parse, and on failure keep the
  // line as an unparsed event (format kUnparsed, parse_error set, message =
  // raw = line) instead of dropping it. Returns false on that failure.
  bool ParseOrKeepRaw(std::string_view line, const SyslogParseContext& context, Event& event,
                      EventBatch& batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  JsonParseOptions options_;
};

}  // namespace gsoc
