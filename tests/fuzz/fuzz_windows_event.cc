// Fuzzes the Windows event shapes of the JSON parser (collectors/json/
// windows_event.*): the first input byte picks a wrapping, the rest is
// spliced into it, so that the fuzzer works inside the shapes that switch the
// renaming on (evtx_dump, Winlogbeat, NXLog) instead of having to find them:
//   0: the input as it is
//   1: evtx_dump  {"Event":{"System":{...fixed...},"EventData":<rest>}}
//   2: evtx_dump  {"Event":{"System":{...<rest>}}}   (System members)
//   3: Winlogbeat {"winlog":{"channel":..,"event_id":4625,"event_data":<rest>}}
//   4: NXLog      {"EventID":4625,"SourceName":"..","Channel":"Security",<rest>
//   5: evtx_dump  {"Event":{"System":{"EventID":1},"UserData":<rest>}}
// Checks: a parse that succeeds has its fields in the batch within the field
// bound (every byte readable); the fixed EventID of shapes 1, 3 and 4
// becomes the field EventID; a failure has a reason and leaves no fields.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collectors/json/json_parser.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gsoc::fuzz::Check;
using gsoc::fuzz::Sink;
using gsoc::fuzz::Touch;

std::string Wrap(uint8_t shape, std::string_view rest) {
  std::string out;
  switch (shape % 6) {
    case 1:
      out = R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-)"
            R"(Security-Auditing"}},"EventID":4625,"Channel":"Security"},"EventData":)";
      out.append(rest).append("}}");
      break;
    case 2:
      out = R"({"Event":{"System":{)";
      out.append(rest).append("}}");
      break;
    case 3:
      out = R"({"winlog":{"channel":"Security","event_id":4625,"event_data":)";
      out.append(rest).append("}}");
      break;
    case 4:
      out = R"({"EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing",)"
            R"("Channel":"Security",)";
      out.append(rest);
      break;
    case 5:
      out = R"({"Event":{"System":{"EventID":1},"UserData":)";
      out.append(rest).append("}}");
      break;
    default:
      out.assign(rest);
  }
  return out;
}

bool HasField(const gsoc::EventBatch& batch, const gsoc::Event& event, std::string_view name) {
  for (const gsoc::Field& field : batch.FieldsOf(event)) {
    if (field.name == name) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static gsoc::JsonLineParser parser;
  const uint8_t shape = data[0] % 6;
  const std::string line =
      Wrap(shape, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  gsoc::EventBatch batch;
  const std::string_view copy = batch.arena().CopyPadded(line);
  gsoc::Event& event = batch.AddEvent();
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1'700'000'000'000'000'000;
  gsoc::ParseError error;
  if (parser.Parse(copy, context, event, batch, &error)) {
    Check(event.fields_count <= 1024);
    unsigned sum = Touch(event.host) + Touch(event.message);
    for (const gsoc::Field& field : batch.FieldsOf(event)) {
      sum += Touch(field.name) + Touch(field.value);
    }
    Sink(sum);
    if (shape == 1 || shape == 3 || shape == 4) Check(HasField(batch, event, "EventID"));
  } else {
    Check(!error.reason.empty());
    Check(error.column <= line.size());
    Check(event.fields_count == 0);
  }
  Check(event.raw.size() == line.size());
  return 0;
}
