// Private to gsoc_api: the triage and case routes (engine/triage), and the
// "triage" object and status/assignee filters of the alert routes.
//
//   POST /api/v1/alerts/triage        bulk change (MayTriage)
//   GET  /api/v1/alerts/{id}/history  the alert's history
//   GET  /api/v1/cases, POST /api/v1/cases, GET|POST /api/v1/cases/{id}
// Every route is scoped by the request's Principal: alerts and cases of an
// agency it may not see are "not_found" / 404.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/routes.h"
#include "engine/triage/triage_types.h"

namespace gsoc::triage {
class TriageStore;
}

namespace gsoc::api {

// The pattern of a triage or case route ("/api/v1/cases/{id}"), or nullopt.
std::optional<std::string> TriageRoutePattern(std::string_view path);

// Handles `path` when it is a triage or case route (sets routed.reply) and
// returns true; false for any other path.
bool RouteTriage(ApiContext& context, const HttpRequest& request, std::string_view path,
                 std::string_view query, Routed& routed);

// RunAlertsQuery plus the triage filters (from the status/assignee indexes
// when they can say, else filtering store pages), every alert's JSON with
// its "triage" object.
store::QueryResult RunAlertsQueryWithTriage(const ApiContext& context, const AlertsQuery& query,
                                            size_t max_bytes);

// The states of `ids` (all new when `triage` is null).
std::vector<triage::TriageState> TriageStates(const triage::TriageStore* triage,
                                              std::span<const uint64_t> ids);
// Adds "triage" to each alert's JSON.
void AttachTriage(const triage::TriageStore* triage, std::span<store::StoredAlert> alerts);

// Whether a stream with `filter` shows a change of an alert of `agency`.
bool TriageEventVisible(const ApiFilter& filter, const std::string& agency,
                        const triage::TriageState& state);

}  // namespace gsoc::api
