// Fuzzes decoding an alerts message from GSOC_ALERTS (untrusted: any client
// of the NATS account can publish). Decode accepts it or says why and
// leaves nothing; what it accepts re-encodes to a message that decodes to
// the same alerts and identities.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/alert_batch_codec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  std::vector<gsoc::ClusterAlert> alerts;
  gsoc::CodecError error;
  if (!gsoc::DecodeAlertBatch(message, alerts, &error)) {
    Check(!error.reason.empty() && error.offset <= size && alerts.empty());
    return 0;
  }
  Check(!alerts.empty() && alerts.size() <= gsoc::kMaxAlertsPerMessage);
  std::string again;
  Check(gsoc::EncodeAlertBatch(alerts, 0, size + 16, again) == alerts.size());
  std::vector<gsoc::ClusterAlert> decoded;
  Check(gsoc::DecodeAlertBatch(again, decoded, &error) && decoded.size() == alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    const gsoc::Alert& a = alerts[i].alert;
    const gsoc::Alert& b = decoded[i].alert;
    Check(alerts[i].identity == decoded[i].identity && a.rule.id == b.rule.id &&
          a.agency == b.agency && a.group == b.group && a.fields == b.fields &&
          a.count == b.count && a.window_start_ns == b.window_start_ns &&
          a.events.size() == b.events.size());
  }
  return 0;
}
