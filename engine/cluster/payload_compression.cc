#include "engine/cluster/payload_compression.h"

#include <lz4.h>

namespace gsoc {
namespace {

constexpr size_t kMinCompressBytes = 256;

}  // namespace

bool CompressPayload(std::string_view data, std::string& out) {
  if (data.size() < kMinCompressBytes || data.size() > kMaxPayloadBytes) return false;
  const int bound = LZ4_compressBound(static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(bound));
  const int written =
      LZ4_compress_default(data.data(), out.data(), static_cast<int>(data.size()), bound);
  if (written <= 0 || static_cast<size_t>(written) >= data.size() - data.size() / 8) return false;
  out.resize(static_cast<size_t>(written));
  return true;
}

bool DecodePayload(std::string_view encoding, std::string_view data, std::string& buffer,
                   std::string_view* payload, std::string* error) {
  if (encoding.empty()) {
    *payload = data;
    return true;
  }
  if (encoding != kLz4Encoding) {
    *error = "unknown Gsoc-Encoding '" + std::string(encoding.substr(0, 32)) + "'";
    return false;
  }
  if (data.size() > kMaxPayloadBytes) {
    *error = "lz4 payload larger than " + std::to_string(kMaxPayloadBytes) + " bytes";
    return false;
  }
  buffer.resize(kMaxPayloadBytes);
  const int n = LZ4_decompress_safe(data.data(), buffer.data(), static_cast<int>(data.size()),
                                    static_cast<int>(buffer.size()));
  if (n < 0) {
    *error = "corrupt lz4 payload, or larger than " + std::to_string(kMaxPayloadBytes) +
             " bytes decompressed";
    return false;
  }
  *payload = std::string_view(buffer.data(), static_cast<size_t>(n));
  return true;
}

}  // namespace gsoc
