#include "tools/gsocctl/line_input.h"

#include <chrono>

#include "engine/util/time_format.h"

namespace gsoc::ctl {

LineInput::LineInput(InputFormat format, int year, int utc_offset_seconds)
    : format_(format), json_(std::make_unique<JsonLineParser>()) {
  context_.default_utc_offset_seconds = utc_offset_seconds;
  if (year > 0) {
    // Year-less timestamps start in that year, then roll with the file.
    rolling_year_.year = year;
    context_.rolling_year = &rolling_year_;
    // "Received" at the end of that year (events without a time of their own).
    context_.receive_time_ns = (DaysFromCivil(year, 12, 31) * 86400 + 86399) * kNanosPerSecond;
  } else {
    context_.receive_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  }
}

bool LineInput::Add(std::string_view line, EventBatch& batch, uint64_t event_id) {
  Event& event = batch.AddEvent();
  const std::string_view copy = batch.arena().CopyPadded(line);
  event.id = event_id;
  event.receive_time_ns = context_.receive_time_ns;
  event.raw = copy;
  const bool json = format_ == InputFormat::kJson ||
                    (format_ == InputFormat::kAuto && !copy.empty() && copy.front() == '{');
  bool ok;
  if (json) {
    ok = json_->ParseOrKeepRaw(copy, context_, event, batch);
  } else {
    EventFormat failed = EventFormat::kUnparsed;
    ParseSyslog(copy, context_, event, batch, &failed);
    ok = !event.parse_error;
  }
  if (!event.has_message_time) event.event_time_ns = event.receive_time_ns;
  return ok;
}

bool ParseInputFormat(const std::string& text, InputFormat* format) {
  if (text == "syslog") {
    *format = InputFormat::kSyslog;
  } else if (text == "json") {
    *format = InputFormat::kJson;
  } else if (text == "auto") {
    *format = InputFormat::kAuto;
  } else {
    return false;
  }
  return true;
}

}  // namespace gsoc::ctl
