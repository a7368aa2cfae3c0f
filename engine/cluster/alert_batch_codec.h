// The binary encoding of an alerts message on GSOC_ALERTS: one NATS message
// carries the alerts a detect node made from one events message, each with
// its cluster identity (alert_identity.h). Layout in engine/cluster/README.md.
//
// Encoder: appends as many alerts as fit in `max_bytes` and
// kMaxAlertsPerMessage. Decoder: the input is untrusted (a message from the
// stream): every count, length and enum is checked against the input's own
// bounds and the limits; truncated, trailing or hostile input is refused
// with a static reason and the byte offset, and `out` is left empty.
// Alerts own their strings, so decoding allocates per alert (alerts are rare
// next to events; decoded bytes stay below 40x the message's bytes, see
// AlertBatchLimits). Not thread-safe: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/alert/alert_codec.h"
#include "engine/cluster/alert_identity.h"
#include "engine/cluster/event_batch_codec.h"

namespace gsoc {

inline constexpr uint32_t kAlertBatchMagic = 0x42415347;  // "GSAB" little-endian
// 2: the alert detail of engine/alert/alert_codec.h (aggregate members too).
inline constexpr uint8_t kAlertBatchVersion = 2;
// The store role derives ids from the stream: id = sequence * this + index,
// so a message carries at most this many alerts.
inline constexpr size_t kMaxAlertsPerMessage = 1000;

struct ClusterAlert {
  AlertIdentity identity;
  Alert alert;
};

using AlertBatchLimits = AlertDetailLimits;

// Encodes alerts [first, first + n) for the largest n that fits in
// `max_bytes` and kMaxAlertsPerMessage into `out` (cleared first); returns
// n, 0 when the first alone does not fit.
size_t EncodeAlertBatch(std::span<const ClusterAlert> alerts, size_t first, size_t max_bytes,
                        std::string& out);

// Decodes a message into `out` (cleared first); false with `error` on
// refusal (`out` then empty).
bool DecodeAlertBatch(std::string_view message, std::vector<ClusterAlert>& out, CodecError* error,
                      const AlertBatchLimits& limits = {});

}  // namespace gsoc
