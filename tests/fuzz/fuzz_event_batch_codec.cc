// Fuzzes decoding an event batch message from the cluster stream (untrusted:
// any client of the NATS account can publish). Decode accepts it or says why
// and leaves the batch as it was; what it accepts re-encodes to a message
// that decodes to the same events.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/cluster/event_batch_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool SameEvent(const gsoc::EventBatch& a, const gsoc::Event& x, const gsoc::EventBatch& b,
               const gsoc::Event& y) {
  bool same = x.id == y.id && x.receive_time_ns == y.receive_time_ns &&
              x.event_time_ns == y.event_time_ns && x.agency == y.agency &&
              x.listener == y.listener && x.format == y.format && x.facility == y.facility &&
              x.severity == y.severity && x.peer.bytes == y.peer.bytes && x.raw == y.raw &&
              x.host == y.host && x.message == y.message && x.fields_count == y.fields_count;
  for (size_t i = 0; same && i < x.fields_count; ++i) {
    same = a.FieldsOf(x)[i].name == b.FieldsOf(y)[i].name &&
           a.FieldsOf(x)[i].value == b.FieldsOf(y)[i].value;
  }
  return same;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  gsoc::EventBatchLimits limits;
  limits.agency_count = 16;
  limits.max_names = 64;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  gsoc::EventBatch batch;
  gsoc::EventBatchDecoder decoder(limits);
  gsoc::CodecError error;
  if (!decoder.Decode(message, batch, &error)) {
    Check(!error.reason.empty() && error.offset <= size && batch.empty());
    return 0;
  }
  unsigned sum = 0;
  for (const gsoc::Event& event : batch.events()) {
    Check(event.agency < 16 && event.facility <= 23 && event.severity <= 7);
    for (std::string_view view : {event.raw, event.host, event.program, event.pid, event.msgid,
                                  event.structured_data, event.message}) {
      sum += gsoc::fuzz::Touch(view);
    }
    for (const gsoc::Field& field : batch.FieldsOf(event)) {
      sum += gsoc::fuzz::Touch(field.name) + gsoc::fuzz::Touch(field.value);
    }
  }
  gsoc::fuzz::Sink(sum);
  std::string again;
  gsoc::EventBatchEncoder encoder(limits);
  Check(encoder.Encode(batch, 0, size_t{1} << 30, again) == batch.size());
  gsoc::EventBatch round;
  Check(decoder.Decode(again, round, &error) && round.size() == batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Check(SameEvent(batch, batch.events()[i], round, round.events()[i]));
  }
  return 0;
}
