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

 private:
  InputFormat format_;
  SyslogParseContext context_;
  RollingYear rolling_year_;
  std::unique_ptr<JsonLineParser> json_;
};

bool ParseInputFormat(const std::string& text, InputFormat* format);

}  // namespace gsoc::ctl
