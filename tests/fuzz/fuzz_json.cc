// Fuzzes JsonLineParser with every input as one line (copied into the batch
// arena with padding, as collectors do), and with the input split into lines
// by the framer. Checks that fields are in the batch, a failure leaves no
// fields, and the parser stays usable.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collectors/framing/stream_framer.h"
#include "collectors/json/json_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void ParseOne(gsoc::JsonLineParser& parser, gsoc::EventBatch& batch, std::string_view line) {
  const std::string_view copy = batch.arena().CopyPadded(line);
  gsoc::Event& event = batch.AddEvent();
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1;
  gsoc::ParseError error;
  const bool ok = parser.Parse(copy, context, event, batch, &error);
  if (ok) {
    Check(event.format == gsoc::EventFormat::kJson);
    Check(event.fields_count <= 1024);
    size_t total = 0;
    for (const gsoc::Field& field : batch.FieldsOf(event))
      total += field.name.size() + field.value.size();
    (void)total;
  } else {
    Check(!error.reason.empty());
    Check(error.column <= line.size());
    Check(event.fields_count == 0);
  }
  Check(event.raw.size() == line.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gsoc::JsonLineParser parser;
  static gsoc::JsonLineParser small(gsoc::JsonParseOptions{.max_depth = 3, .max_fields = 8});
  gsoc::EventBatch batch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseOne(parser, batch, input);
  ParseOne(small, batch, input);
  gsoc::StreamFramer framer(gsoc::FramingMode::kLinesOnly, 4096);
  const gsoc::FeedResult result = framer.Feed(
      input, [&](std::string_view line) { ParseOne(parser, batch, line); }, [] {});
  bool truncated = false;
  const std::string_view last = framer.Finish(input.substr(result.consumed), &truncated);
  if (!last.empty()) ParseOne(parser, batch, last);
  batch.Clear();
  return 0;
}
