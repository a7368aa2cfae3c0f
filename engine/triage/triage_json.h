// The JSON the API serves for triage states, history entries and cases
// (docs: engine/api/api_server.h, engine/triage/README.md).
#pragma once

#include <string>
#include <vector>

#include "engine/triage/triage_types.h"

namespace gsoc::triage {

// {"status":..,"reason":null|..,"assignee":null|..,"version":N,
//  "updated_at":RFC3339|null,"updated_by":null|..}
void AppendTriageJson(std::string& out, const TriageState& state);
// Replaces the closing '}' of an alert's JSON object by ,"triage":{...}}.
void AttachTriageJson(std::string& alert_json, const TriageState& state);
// {"version","time","author","action","status","reason","assignee","note"}
void AppendHistoryJson(std::string& out, const HistoryEntry& entry);
// The case list's summary; `full` adds alert_ids, notes, timeline, auto_rule.
void AppendCaseJson(std::string& out, const Case& value, bool full);

}  // namespace gsoc::triage
