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

namespace gsoc::triage {
class TriageStore;
}

namespace gsoc::api {

class StreamFeed {
 public:
  // Construct after subscribing to the hub, so nothing committed in between
  // is missed.
  // `triage` (may be null: every alert new) gives each alert's "triage"
  // object and the status/assignee filters; its changes come as
  // `event: triage` from the hub; a resumed stream first replays, from the
  // triage store's change log, the changes made since `last_event_id` was
  // committed (oldest first; some the client saw may come again: a triage
  // event carries its version), and `event: triage_gap` when the log's bound
  // dropped some of them (the client re-reads the states it shows).
  StreamFeed(const store::AlertReader& reader, const LiveHub& hub, ApiFilter filter,
             std::optional<uint64_t> last_event_id, const triage::TriageStore* triage = nullptr);

  // Appends the SSE events of the next alerts (at most `max_alerts`
  // examined) to `out`. Returns false when there was nothing new to examine
  // (wait for the hub's notification); true when the caller may call again.
  bool Next(std::string& out, size_t max_alerts);

  uint64_t position() const { return position_; }

 private:
  bool ReadStore(std::string& out, size_t max_alerts);
  void ExamineAll(std::span<const store::StoredAlert> alerts, std::string& out);
  bool ReadTriage(std::string& out, size_t max_events);
  bool ReplayTriage(std::string& out, size_t max_events);
  void AppendTriageEvent(std::string& out, const std::string& agency,
                         const triage::TriageState& state) const;

  const store::AlertReader& reader_;
  const LiveHub& hub_;
  ApiFilter filter_;
  uint64_t position_ = 0;
  bool from_store_ = false;
  const triage::TriageStore* triage_;
  uint64_t triage_seq_ = 0;
  // Replay of the change log (resume): the next entry after (position, seq).
  bool replaying_ = false;
  uint64_t replay_position_ = 0;
  uint64_t replay_seq_ = 0;
  bool gap_sent_ = false;
};

// "id: N\ndata: <json>\n\n" (a JSON with a newline gets one data line each).
void AppendSseEvent(std::string& out, const store::StoredAlert& alert);
void AppendSseEvent(std::string& out, uint64_t id, std::string_view json);

}  // namespace gsoc::api
