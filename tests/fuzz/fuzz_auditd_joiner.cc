// Fuzzes the auditd joiner (engine/decode/auditd_joiner.*): the input is
// split into lines; each line's first byte picks a source (agency 0..3), a
// clock step and whether a `type=... msg=audit(...)` prefix is spliced in,
// so that the fuzzer works on record bodies, serial collisions across
// sources, EOE and time flushes instead of having to find the syntax.
// Checks: the joiner's bytes and open serials stay within the limits; every
// emitted event has text within max_event_bytes, `type` as its first field,
// fields readable; after FlushAll nothing is open and no bytes are held.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decode/auditd_joiner.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gsoc::decode::AuditEvent;
using gsoc::decode::AuditJoiner;
using gsoc::decode::AuditLimits;
using gsoc::fuzz::Check;
using gsoc::fuzz::Sink;
using gsoc::fuzz::Touch;

constexpr const char* kTypes[] = {"SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE", "EOE"};

void CheckEvents(const std::vector<AuditEvent>& events, const AuditLimits& limits) {
  unsigned sum = 0;
  for (const AuditEvent& event : events) {
    Check(event.text.size() <= limits.max_event_bytes);
    Check(!event.fields.empty() && event.fields.front().first == "type");
    for (const auto& [name, value] : event.fields) sum += Touch(name) + Touch(value);
  }
  Sink(sum);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AuditLimits limits;
  limits.max_open = 8;
  limits.max_records = 16;
  limits.max_event_bytes = 2048;
  AuditJoiner joiner(limits);
  std::vector<AuditEvent> out;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t clock = 0;
  std::string line;
  while (!input.empty()) {
    const size_t newline = std::min(input.find('\n'), input.size());
    std::string_view body = input.substr(0, newline);
    input.remove_prefix(std::min(input.size(), newline + 1));
    if (body.empty()) continue;
    const auto control = static_cast<uint8_t>(body.front());
    body.remove_prefix(1);
    clock += int64_t{control >> 4} * 300'000'000;
    line.clear();
    if (control & 0x08) {  // splice a record header: type, serial from the control byte
      line = std::string("type=") + kTypes[(control >> 4) % 6] +
             " msg=audit(1700000000.000:" + std::to_string(control & 0x03) + "): ";
    }
    line.append(body);
    const gsoc::decode::AuditSource source{static_cast<uint16_t>(control & 0x03), 0,
                                           (control & 0x04) ? "a" : "b"};
    const int64_t now = (control & 0x80) ? AuditJoiner::kRecordTime : clock;
    joiner.Add(source, line, now, out);
    Check(joiner.open() <= limits.max_open);
    Check(joiner.bytes() <= limits.max_open * limits.max_event_bytes);
  }
  joiner.FlushAll(out);
  Check(joiner.open() == 0 && joiner.bytes() == 0);
  CheckEvents(out, limits);
  return 0;
}
