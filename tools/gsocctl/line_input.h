// Turns log lines (syslog or JSON) into events of a batch, the way the
// listeners do, for offline commands (logtest, replay).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "collectors/json/json_parser.h"
#include "collectors/syslog/syslog_parser.h"
#include "engine/event/event_batch.h"

namespace gsoc::ctl {

enum class InputFormat { kSyslog, kJson, kAuto };

class LineInput {
 public:
  // `year` > 0: RFC 3164 timestamps (no year) start in that year and roll
  // forward when they wrap from December to January (RollingYear).
  LineInput(InputFormat format, int year, int utc_offset_seconds);

  // Adds one event for `line` (CR/LF stripped by the caller) to `batch`;
  // false if the line is kept unparsed (parse error).
  bool Add(std::string_view line, EventBatch& batch, uint64_t event_id);

  // Whether Add parses `line` as JSON (the format, or `auto` and a `{`).
  bool IsJson(std::string_view line) const;
  // For a JSON line: adds its event as Add does, but with the line only
  // referred to (Event::parse_deferred set, Event::raw the caller's bytes),
  // for ParseDeferred to parse on any thread (a JSON line's event depends
  // on nothing before it; RFC 3164's rolling year does). The line must be
  // followed by ByteArena::kPadding readable bytes that do not change (a
  // LineReader line while its block is held), and outlive the batch's use
  // of the event: its fields are views of it.
  void AddDeferred(std::string_view line, EventBatch& batch, uint64_t event_id) const;
  // Parses the line of an event AddDeferred made where it lies, with the
  // caller's `parser` (unescaped strings go to `batch`'s arena), giving the
  // event Add would have (parse_deferred cleared); false if it is kept
  // unparsed. Reads this input only: threads may call it at once, each
  // with its own parser. Not copying the line saves a pass over every
  // byte (~3% of a SigmaHQ corpus replay's CPU, bench/README.md).
  bool ParseDeferred(JsonLineParser& parser, Event& event, EventBatch& batch) const;

 private:
  InputFormat format_;
  SyslogParseContext context_;
  RollingYear rolling_year_;
  std::unique_ptr<JsonLineParser> json_;
};

bool ParseInputFormat(const std::string& text, InputFormat* format);

}  // namespace gsoc::ctl
