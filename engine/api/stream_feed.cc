#include "engine/api/stream_feed.h"

#include <algorithm>
#include <vector>

#include "engine/api/triage_routes.h"
#include "engine/triage/triage_json.h"
#include "engine/triage/triage_store.h"
#include "engine/util/json_writer.h"

namespace gsoc::api {

StreamFeed::StreamFeed(const store::AlertReader& reader, const LiveHub& hub, ApiFilter filter,
                       std::optional<uint64_t> last_event_id, const triage::TriageStore* triage)
    : reader_(reader), hub_(hub), filter_(std::move(filter)), triage_(triage) {
  std::vector<LiveHub::TriageEvent> none;
  triage_seq_ = hub_.ReadTriageAfter(UINT64_MAX, 0, none);  // changes from now on
  if (last_event_id) {
    position_ = *last_event_id;
    from_store_ = true;
    replaying_ = triage_ != nullptr;
    replay_position_ = *last_event_id;
  } else {
    position_ = std::max(hub_.last_id(), reader_.last_id());
  }
}

bool StreamFeed::Next(std::string& out, size_t max_alerts) {
  if (replaying_) return ReplayTriage(out, max_alerts);  // then alerts, on the next calls
  const bool changes = ReadTriage(out, max_alerts);
  if (from_store_) return ReadStore(out, max_alerts) || changes;
  std::vector<store::StoredAlert> alerts;
  if (hub_.ReadAfter(position_, max_alerts, alerts) == LiveHub::ReadStatus::kTooOld) {
    from_store_ = true;
    return ReadStore(out, max_alerts);
  }
  ExamineAll(alerts, out);
  return !alerts.empty() || changes;
}

bool StreamFeed::ReadTriage(std::string& out, size_t max_events) {
  std::vector<LiveHub::TriageEvent> events;
  hub_.ReadTriageAfter(triage_seq_, std::max<size_t>(max_events, 1), events);
  for (const LiveHub::TriageEvent& event : events) {
    triage_seq_ = event.seq;
    AppendTriageEvent(out, event.agency, event.state);
  }
  return !events.empty();
}

void StreamFeed::AppendTriageEvent(std::string& out, const std::string& agency,
                                   const triage::TriageState& state) const {
  if (!TriageEventVisible(filter_, agency, state)) return;
  out += "event: triage\ndata: {\"id\":" + std::to_string(state.id) + ",\"agency\":";
  AppendJsonString(out, agency);
  out += ",\"triage\":";
  triage::AppendTriageJson(out, state);
  out += "}\n\n";
}

// One page of the change log; the live events that come meanwhile wait in
// the hub (or, if it overran, are in the log this replay still reads).
bool StreamFeed::ReplayTriage(std::string& out, size_t max_events) {
  const size_t max = std::max<size_t>(max_events, 1);
  const triage::ChangeLogPage page = triage_->ReadChangeLog(replay_position_, replay_seq_, max);
  if (page.gap && !gap_sent_) {
    gap_sent_ = true;
    out += "event: triage_gap\ndata: {\"last_event_id\":" + std::to_string(replay_position_) +
           ",\"reason\":\"the triage change log no longer holds every change since this alert: "
           "re-read the triage state of the alerts shown\"}\n\n";
  }
  for (const triage::LoggedChange& change : page.changes) {
    replay_position_ = change.position;
    replay_seq_ = change.seq;
    AppendTriageEvent(out, change.agency, change.state);
  }
  if (page.changes.size() < max) replaying_ = false;
  return true;
}

bool StreamFeed::ReadStore(std::string& out, size_t max_alerts) {
  const uint64_t hub_watermark = hub_.last_id();  // before the read: all committed
  store::QueryRequest request;
  request.filter = filter_.store;
  request.filter.after_id = std::max(request.filter.after_id, position_);
  request.limit = std::max<size_t>(max_alerts, 1);
  request.newest_first = false;
  const store::QueryResult result = reader_.Query(request);
  ExamineAll(result.alerts, out);
  if (result.next_cursor != 0) {
    position_ = std::max(position_, result.next_cursor);
    return true;
  }
  position_ = std::max(position_, hub_watermark);
  from_store_ = false;
  return true;
}

void StreamFeed::ExamineAll(std::span<const store::StoredAlert> alerts, std::string& out) {
  std::vector<const store::StoredAlert*> matching;
  for (const store::StoredAlert& alert : alerts) {
    if (alert.id <= position_) continue;  // never twice, never backwards
    position_ = alert.id;
    if (FilterMatches(filter_, alert)) matching.push_back(&alert);
  }
  if (matching.empty()) return;
  std::vector<uint64_t> ids;
  ids.reserve(matching.size());
  for (const store::StoredAlert* alert : matching) ids.push_back(alert->id);
  const std::vector<triage::TriageState> states = TriageStates(triage_, ids);
  std::string json;
  for (size_t i = 0; i < matching.size(); ++i) {
    if (!filter_.triage.Matches(states[i])) continue;
    json = matching[i]->json;
    triage::AttachTriageJson(json, states[i]);
    AppendSseEvent(out, matching[i]->id, json);
  }
}

void AppendSseEvent(std::string& out, const store::StoredAlert& alert) {
  AppendSseEvent(out, alert.id, alert.json);
}

void AppendSseEvent(std::string& out, uint64_t id, std::string_view json) {
  out += "id: ";
  out += std::to_string(id);
  out += '\n';
  while (true) {
    const size_t newline = json.find('\n');
    out += "data: ";
    out += json.substr(0, newline);
    out += '\n';
    if (newline == std::string_view::npos) break;
    json.remove_prefix(newline + 1);
  }
  out += '\n';
}

}  // namespace gsoc::api
