#include "engine/api/stream_feed.h"

#include <algorithm>
#include <vector>

namespace gsoc::api {

StreamFeed::StreamFeed(const store::AlertReader& reader, const LiveHub& hub, ApiFilter filter,
                       std::optional<uint64_t> last_event_id)
    : reader_(reader), hub_(hub), filter_(std::move(filter)) {
  if (last_event_id) {
    position_ = *last_event_id;
    from_store_ = true;
  } else {
    position_ = std::max(hub_.last_id(), reader_.last_id());
  }
}

bool StreamFeed::Next(std::string& out, size_t max_alerts) {
  if (from_store_) return ReadStore(out, max_alerts);
  std::vector<store::StoredAlert> alerts;
  if (hub_.ReadAfter(position_, max_alerts, alerts) == LiveHub::ReadStatus::kTooOld) {
    from_store_ = true;
    return ReadStore(out, max_alerts);
  }
  for (const store::StoredAlert& alert : alerts) Examine(alert, out);
  return !alerts.empty();
}

bool StreamFeed::ReadStore(std::string& out, size_t max_alerts) {
  const uint64_t hub_watermark = hub_.last_id();  // before the read: all committed
  store::QueryRequest request;
  request.filter = filter_.store;
  request.filter.after_id = std::max(request.filter.after_id, position_);
  request.limit = std::max<size_t>(max_alerts, 1);
  request.newest_first = false;
  const store::QueryResult result = reader_.Query(request);
  for (const store::StoredAlert& alert : result.alerts) Examine(alert, out);
  if (result.next_cursor != 0) {
    position_ = std::max(position_, result.next_cursor);
    return true;
  }
  position_ = std::max(position_, hub_watermark);
  from_store_ = false;
  return true;
}

void StreamFeed::Examine(const store::StoredAlert& alert, std::string& out) {
  if (alert.id <= position_) return;  // never twice, never backwards
  position_ = alert.id;
  if (FilterMatches(filter_, alert)) AppendSseEvent(out, alert);
}

void AppendSseEvent(std::string& out, const store::StoredAlert& alert) {
  out += "id: ";
  out += std::to_string(alert.id);
  out += '\n';
  std::string_view json = alert.json;
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
