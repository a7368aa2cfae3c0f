// libFuzzer target for one syslog parser (GSOC_FUZZ_PARSER: ParseRfc5424 or
// ParseRfc3164, set by tests/fuzz/CMakeLists.txt) and ParseSyslog: the input is
// copied into a batch arena with CopyPadded, as a collector does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/syslog/syslog_parser.h"

namespace {

unsigned Touch(std::string_view view) {
  unsigned sum = 0;
  for (char c : view) sum += static_cast<unsigned char>(c);
  return sum;
}

volatile unsigned g_sink = 0;

void Sink(unsigned value) { g_sink = value; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gsoc::EventBatch batch;
  batch.Clear();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view message = batch.arena().CopyPadded(input);
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1'700'000'000'000'000'000;
  context.default_utc_offset_seconds = 3600;

  gsoc::Event& event = batch.AddEvent();
  gsoc::ParseError error;
  if (gsoc::GSOC_FUZZ_PARSER(message, context, event, batch, &error)) {
    // Read every byte of every view so ASan sees any view out of bounds.
    unsigned sum = Touch(event.host) + Touch(event.program) + Touch(event.pid) +
                   Touch(event.msgid) + Touch(event.structured_data) + Touch(event.message);
    for (const gsoc::Field& field : batch.FieldsOf(event)) {
      sum += Touch(field.name) + Touch(field.value);
    }
    Sink(sum);
  } else if (error.column > size) {
    __builtin_trap();
  }

  gsoc::Event& second = batch.AddEvent();
  gsoc::EventFormat failed = gsoc::EventFormat::kJson;
  const bool ok = gsoc::ParseSyslog(message, context, second, batch, &failed);
  if (second.raw.data() != message.data() || second.raw.size() != message.size()) __builtin_trap();
  if (!ok && (second.format != gsoc::EventFormat::kUnparsed || !second.parse_error ||
              second.message.size() != message.size())) {
    __builtin_trap();
  }
  return 0;
}
