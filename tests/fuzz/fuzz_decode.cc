// Fuzzes the shipped decoder pack (rules/decoders, GSOC_FUZZ_DECODERS) on
// hostile lines: each input is parsed as syslog, as a collector does, and
// decoded; and, with the first byte picking the program of a shipped
// decoder, the rest is decoded as the message. Checks that a decoder name is
// returned exactly when fields were added or a decoder matched, that every
// added field is readable and named, and that captures are views of the
// message (or constants of the set). Regex limits are the defaults: a line
// that makes PCRE2 run away is caught by libFuzzer's -timeout.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "collectors/syslog/syslog_parser.h"
#include "engine/decode/decoder.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gsoc::fuzz::Check;
using gsoc::fuzz::Sink;
using gsoc::fuzz::Touch;

const gsoc::decode::DecoderSet& Set() {
  static const std::unique_ptr<gsoc::decode::DecoderSet> set = [] {
    auto result = gsoc::decode::DecoderSet::Load({GSOC_FUZZ_DECODERS}, {"syslog_tcp"}, {"local"});
    Check(result.set != nullptr);
    return std::move(result.set);
  }();
  return *set;
}

constexpr std::string_view kPrograms[] = {
    "sshd",   "sudo",  "su",    "kernel",        "CRON",   "nginx",   "systemd-logind", "useradd",
    "passwd", "audit", "named", "postfix/smtpd", "vsftpd", "dovecot", "apache2",        "unknown"};

void DecodeOne(gsoc::EventBatch& batch, gsoc::Event& event,
               gsoc::decode::DecoderSet::Scratch& scratch) {
  const uint32_t before = event.fields_count;
  const std::string_view name = Set().Decode(batch, event, scratch);
  Check(event.fields_count >= before);
  if (name.empty()) Check(event.fields_count == before);
  unsigned sum = Touch(name);
  for (const gsoc::Field& field : batch.FieldsOf(event)) {
    Check(!field.name.empty());
    sum += Touch(field.name) + Touch(field.value);
  }
  Sink(sum);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<gsoc::decode::DecoderSet::Scratch> scratch = Set().MakeScratch();
  gsoc::EventBatch batch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view line = batch.arena().CopyPadded(input);
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1'700'000'000'000'000'000;

  gsoc::Event& parsed = batch.AddEvent();
  gsoc::EventFormat failed = gsoc::EventFormat::kJson;
  gsoc::ParseSyslog(line, context, parsed, batch, &failed);
  DecodeOne(batch, parsed, *scratch);

  if (size == 0) return 0;
  gsoc::Event& bare = batch.AddEvent();
  bare.program = kPrograms[data[0] % std::size(kPrograms)];
  bare.message = line.substr(1);
  bare.raw = line;
  DecodeOne(batch, bare, *scratch);
  return 0;
}
