// Batch payloads on their way through JetStream: LZ4-compressed (block
// format) when that saves at least an eighth, marked by the message header
// `Gsoc-Encoding: lz4`. nats-server 2.9 stores and replicates every byte
// three times (replicas 3), so bytes, not messages, are most of the
// cluster's JetStream cost (bench/README.md, "Cluster"); syslog batches
// shrink about 4x.
//
// Decoding is bounded: a payload decompresses to at most kMaxPayloadBytes
// (the largest cluster.max_batch_bytes), whatever its header claims, so a
// hostile message cannot make a consumer allocate more. Pure functions; the
// caller owns the buffers (reused across messages: no allocation per
// message once they have grown).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gsoc {

inline constexpr const char* kEncodingHeader = "Gsoc-Encoding";
inline constexpr std::string_view kLz4Encoding = "lz4";
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 20;

// `data` compressed into `out` (replaced) when it is worth it: at least 256
// bytes, at most kMaxPayloadBytes, and compressed to under 7/8 of its size.
// False: send `data` as it is (`out` unspecified).
bool CompressPayload(std::string_view data, std::string& out);

// The payload of a message with encoding `encoding` (the header's value;
// empty when absent): `data` itself, or `data` decompressed into `buffer`.
// False with `error` for an unknown encoding, a corrupt block, or one that
// would exceed kMaxPayloadBytes.
bool DecodePayload(std::string_view encoding, std::string_view data, std::string& buffer,
                   std::string_view* payload, std::string* error);

}  // namespace gsoc
