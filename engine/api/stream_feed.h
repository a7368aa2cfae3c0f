// Private to gsoc_api: what one SSE stream sends next, with no gap and no
// duplicate (see live_hub.h for the protocol).
//
// The feed keeps `position`: the last alert id it has examined (sent or
// filtered out). Resuming (a last event id given) starts by reading the
// store; otherwise it starts after the newest id known now. It then reads
// the hub, and goes back to the store whenever the hub says kTooOld (the
// ring was overrun while the client was slow). When a store read finds
// nothing more, every id up to the hub's last id as of before that read is
// covered (the hub only sees committed alerts), so `position` jumps there.
//
// Not thread-safe: one stream's strand calls it. Never blocks on the hub or
// the store's writer; a store read is a RocksDB range scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/api/alert_query.h"
#include "engine/api/live_hub.h"

namespace gsoc::api {

class StreamFeed {
 public:
  // Construct after subscribing to the hub, so nothing committed in between
  // is missed.
  StreamFeed(const store::AlertReader& reader, const LiveHub& hub, ApiFilter filter,
             std::optional<uint64_t> last_event_id);

  // Appends the SSE events of the next alerts (at most `max_alerts`
  // examined) to `out`. Returns false when there was nothing new to examine
  // (wait for the hub's notification); true when the caller may call again.
  bool Next(std::string& out, size_t max_alerts);

  uint64_t position() const { return position_; }

 private:
  bool ReadStore(std::string& out, size_t max_alerts);
  void Examine(const store::StoredAlert& alert, std::string& out);

  const store::AlertReader& reader_;
  const LiveHub& hub_;
  ApiFilter filter_;
  uint64_t position_ = 0;
  bool from_store_ = false;
};

// "id: N\ndata: <json>\n\n" (a JSON with a newline gets one data line each).
void AppendSseEvent(std::string& out, const store::StoredAlert& alert);

}  // namespace gsoc::api
