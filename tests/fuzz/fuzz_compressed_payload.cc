// Fuzzes decoding a compressed cluster message (header Gsoc-Encoding: lz4;
// untrusted: any client of the NATS account can publish). DecodePayload
// accepts it within kMaxPayloadBytes or says why; what it accepts compresses
// and decodes again to the same bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/cluster/payload_compression.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  std::string buffer, error;
  std::string_view payload;
  if (!gsoc::DecodePayload(gsoc::kLz4Encoding, message, buffer, &payload, &error)) {
    Check(!error.empty());
    return 0;
  }
  Check(payload.size() <= gsoc::kMaxPayloadBytes);
  const std::string decoded(payload);
  std::string again, buffer2;
  if (gsoc::CompressPayload(decoded, again)) {
    std::string_view round;
    Check(gsoc::DecodePayload(gsoc::kLz4Encoding, again, buffer2, &round, &error));
    Check(round == decoded);
  }
  return 0;
}
