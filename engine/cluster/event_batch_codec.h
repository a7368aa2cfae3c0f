// The binary encoding of an event batch: one NATS message = one batch
// (engine/cluster/README.md has the byte layout).
//
// Encoder: appends as many events of an EventBatch as fit in `max_bytes` to
// a reusable buffer. Header fields, the message and field values that lie
// inside the raw frame are sent as (offset, length) into it, field names
// through a per-batch dictionary, so a typical event costs its raw bytes and
// a few dozen more. Decoder: the input is untrusted (a message from the
// stream): every length, count, offset and enum is checked against the
// input's own bounds and DecodeLimits; truncated, trailing or hostile input
// is refused with a reason and byte offset, and leaves the batch as it was.
// Neither allocates per event once warm. Not thread-safe: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event/event_batch.h"
#include "engine/util/wire_format.h"

namespace gsoc {

inline constexpr uint32_t kEventBatchMagic = 0x42455347;  // "GSEB" little-endian
inline constexpr uint8_t kEventBatchVersion = 1;
inline constexpr size_t kEventBatchHeaderBytes = 10;  // magic, version, flags, u32 count

struct EventBatchLimits {
  size_t max_events = 65536;           // in one batch
  size_t max_fields_per_event = 1024;  // per event
  size_t max_names = 4096;             // distinct field names in the dictionary
  uint32_t agency_count = 65536;       // an agency index must be below this
  uint32_t listener_count = 65536;     // a listener index must be below this
};

class EventBatchEncoder {
 public:
  explicit EventBatchEncoder(EventBatchLimits limits = {});

  // Clears `out` and encodes events [first, first + n) of `batch` for the
  // largest n whose encoding fits in `max_bytes` (and the limits). Returns
  // n; 0 when the first event alone does not fit (out is then empty).
  size_t Encode(const EventBatch& batch, size_t first, size_t max_bytes, std::string& out) {
    return Encode(batch, first, batch.size(), max_bytes, out);
  }
  // The same within events [first, end).
  size_t Encode(const EventBatch& batch, size_t first, size_t end, size_t max_bytes,
                std::string& out);

 private:
  void AppendEvent(const EventBatch& batch, const Event& event, std::string& out);
  void AppendName(std::string_view name, std::string_view raw, std::string& out);
  void ResetNames();

  EventBatchLimits limits_;
  uint64_t previous_id_ = 0;
  int64_t previous_receive_ns_ = 0;
  // The name dictionary: open addressing, slot = generation << 32 | index + 1.
  std::vector<uint64_t> slots_;
  std::vector<std::string_view> names_;
  uint32_t generation_ = 0;
};

class EventBatchDecoder {
 public:
  explicit EventBatchDecoder(EventBatchLimits limits = {}) : limits_(limits) {}

  // Appends the events of `message` to `out`. On error returns false, fills
  // `error` and removes what it appended (arena bytes stay used until Clear).
  bool Decode(std::string_view message, EventBatch& out, CodecError* error);

 private:
  EventBatchLimits limits_;
  std::vector<std::string_view> names_;
};

}  // namespace gsoc
