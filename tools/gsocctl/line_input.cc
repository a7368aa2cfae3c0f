#include "tools/gsocctl/line_input.h"

#include <chrono>

#include "engine/util/time_format.h"
#include "tools/gsocctl/line_reader.h"

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

bool LineInput::IsJson(std::string_view line) const {
  return format_ == InputFormat::kJson ||
         (format_ == InputFormat::kAuto && !line.empty() && line.front() == '{');
}

static_assert(LineBlock::kPadding >= ByteArena::kPadding,
              "a line is parsed where LineReader read it, with its block's padding");

void LineInput::AddDeferred(std::string_view line, EventBatch& batch, uint64_t event_id) const {
  Event& event = batch.AddEvent();
  event.id = event_id;
  event.receive_time_ns = context_.receive_time_ns;
  event.raw = line;  // parsed where it lies by ParseDeferred
  event.parse_deferred = true;
}

bool LineInput::ParseDeferred(JsonLineParser& parser, Event& event, EventBatch& batch) const {
  event.parse_deferred = false;
  const bool ok = parser.ParseOrKeepRaw(event.raw, context_, event, batch);
  if (!event.has_message_time) event.event_time_ns = event.receive_time_ns;
  return ok;
}

bool LineInput::Add(std::string_view line, EventBatch& batch, uint64_t event_id) {
  if (IsJson(line)) {
    AddDeferred(batch.arena().CopyPadded(line), batch, event_id);
    return ParseDeferred(*json_, batch.events().back(), batch);
  }
  Event& event = batch.AddEvent();
  const std::string_view copy = batch.arena().CopyPadded(line);
  event.id = event_id;
  event.receive_time_ns = context_.receive_time_ns;
  event.raw = copy;
  EventFormat failed = EventFormat::kUnparsed;
  ParseSyslog(copy, context_, event, batch, &failed);
  if (!event.has_message_time) event.event_time_ns = event.receive_time_ns;
  return !event.parse_error;
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
