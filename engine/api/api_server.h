// ApiServer: the HTTP API (Boost.Beast), optionally over TLS (OpenSSL).
//
// Routes (JSON unless noted; errors are {"error": "..."} with a 4xx/5xx):
//   GET  /healthz                    200 "ok" while the process runs (no auth)
//   GET  /readyz                     200 when rules are loaded and the store is open, else 503 (no
//   auth) GET  /api/v1/alerts              query: since, until (RFC 3339 or a duration back from
//   now:
//                                    "1h"), after_id, before_id, rule, level (e.g. "high" =
//                                    exactly, "high+" = at least), agency, q, limit (default 100,
//                                    max 10000), order (asc|desc, default desc), cursor (from a
//                                    previous reply). Reply {"alerts": [...], "next_cursor":
//                                    "..."|null}; with `Accept: application/x-ndjson` one alert per
//                                    line, the cursor in the `X-Next-Cursor` header.
//   GET  /api/v1/alerts/stream       the same filters (no limit/order): Server-Sent Events, one
//                                    event per alert, `id:` the alert id, `data:` its JSON; resumes
//                                    after `Last-Event-ID` (header) or `last_event_id` (query) with
//                                    every alert missed, from the store, then live ones: no gap, no
//                                    duplicate. A comment line every 15 s keeps proxies open.
//   GET  /api/v1/alerts/{id}         one alert, with its contributing events; 404 if none;
//                                    plus "rule_detail": its rule as it was when the
//                                    alert fired (the rule's "revision", kept by the
//                                    store), else as it runs now; null: neither known;
//                                    absent without rule_detail_json
//   GET  /api/v1/rules               the running rule set: rules and correlations (id, name,
//                                    title, level, kind), counts, refused rules, generation
//   POST /api/v1/rules/reload        asks for a background reload; 202 (admin)
//   GET  /api/v1/whoami              {"token_id","name","role","agencies"}
//   GET|POST /api/v1/tokens          list; create {"role","agencies","name"} -> 201 with
//                                    "token" (shown once) (admin)
//   DELETE /api/v1/tokens/{id}       revoke: refused from the next request (admin)
//   GET  /api/v1/audit               ?limit=&before= the audit log, newest first (admin)
//
// Roles (engine/auth/README.md): routes are a table in routes.cc (pattern,
// method, access, handler); a principal without the access gets 403. An
// agency-analyst's queries and streams are restricted to its agencies (an
// agency outside them gives an empty result; another agency's alert is
// 404, as a missing one). Every POST/PUT/PATCH/DELETE goes to the audit log.
//
// Triage and cases (engine/triage/README.md; 503 when gsocd has no triage
// store). Every alert JSON served (list, get, stream) carries "triage":
// {"status","reason","assignee","version","updated_at","updated_by"}; the
// list and the stream take status= (comma-separated) and assignee=.
//   POST /api/v1/alerts/triage       {"ids":[..],"action":"ack|start|assign|note|close|reopen",
//                                    "assignee","note","reason","expected_versions":{"id":N}}
//                                    -> {"results":[{"id","ok","error"?,"detail"?,"triage"}]};
//                                    error: conflict (expected version not current; triage is
//                                    the current state), invalid_transition, limit, not_found.
//                                    400 for a bad request (nothing applied); 403 without
//                                    MayTriage.
//   GET  /api/v1/alerts/{id}/history {"history":[{"version","time","author","action","status",
//                                    "reason","assignee","note"}]}
//   GET  /api/v1/cases               status, agency, limit (1..1000), before (a case id) ->
//                                    {"cases":[summary...],"next_cursor"}, newest first
//   POST /api/v1/cases               {"title","agency","alert_ids"} -> 201 the case
//   GET  /api/v1/cases/{id}          the case with alert_ids, notes, timeline
//   POST /api/v1/cases/{id}          {"action":"add_alerts|remove_alerts|assign|note|status|close",
//                                    "alert_ids","assignee","note","status","expected_version"}
//                                    -> the case; 409 {"error":"conflict","case"} on a stale
//                                    expected_version
//   The stream also sends `event: triage` (no id: resuming is unaffected) with data
//   {"id","agency","triage"} for each change; a resumed stream first replays the changes made
//   since its Last-Event-ID was committed, with `event: triage_gap` when the change log's bound
//   dropped some (engine/triage/README.md). Alerts and cases of agencies the
//   token may not see are not_found/404.
//   GET  /api/v1/rules/{id}, /api/v1/overview   the console's (console_routes.h)
//   GET  /, /assets/...              the web console (static_routes.h; no auth)
//
// Authentication: `Authorization: Bearer <token>`, compared in constant time
// with each configured token (admins), then looked up in the AuthStore
// (ApiHooks::auth); otherwise 401 with `WWW-Authenticate: Bearer`
// (/healthz and /readyz excepted).
//
// Limits: request head + body at most max_request_bytes (431/413 beyond);
// a request, once its first byte is in, must be whole within request_timeout
// (cut and counted beyond). An unauthenticated client cannot hold a
// connection: its first request must arrive within request_timeout, a 401 or
// any other 4xx to a request without a valid token closes the connection,
// and at max_connections the oldest connection that has not authenticated is
// closed to make room (further accepts wait only when every connection has
// authenticated). Connections that authenticated close after idle_timeout
// without a request. A malformed request gets 400 and the connection closes.
// A page of alerts holds at most max_response_bytes (it ends early, with a
// cursor); replies being sent hold at most response_budget_bytes together
// (503 with Retry-After beyond). At most max_streams concurrent streams (503
// beyond); a stream whose client does not take its data within
// stream_write_timeout is closed (its kernel send buffer is
// stream_send_buffer_bytes). A resume id above the newest alert id is 409.
// Every limit hit is counted in gsoc_api_requests_total{route,code} or its
// own counter.
//
// Threading: its own io_context run by `threads` threads; handlers never
// block on the store's writer (queries read RocksDB directly).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/live_hub.h"
#include "engine/auth/auth_store.h"
#include "engine/store/alert_store.h"

namespace gsoc::triage {
class TriageStore;
}

namespace gsoc::api {

struct ApiOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;             // 0: pick a free port (tests); see ApiServer::port()
  std::vector<std::string> tokens;  // accepted bearer tokens (at least one)
  std::string tls_certificate;      // PEM file; empty = plain HTTP
  std::string tls_private_key;      // PEM file
  size_t threads = 2;
  size_t max_streams = 64;
  size_t max_connections = 256;
  size_t max_request_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::milliseconds request_timeout{5000};
  size_t max_response_bytes = 4 << 20;
  size_t response_budget_bytes = 64 << 20;
  std::chrono::milliseconds stream_write_timeout{10000};
  size_t stream_send_buffer_bytes = 256 * 1024;
  std::chrono::seconds keepalive_interval{15};  // SSE comment lines
};

// What the API needs from the rest of gsocd, as callbacks (no dependency on
// the detection stage): each returns quickly.
class OverviewRollup;

struct ApiHooks {
  std::function<std::string()> rules_json;  // GET /api/v1/rules body
  std::function<void()> reload;             // POST /api/v1/rules/reload
  std::function<bool()> ready;              // GET /readyz
  // Triage and cases (engine/triage); null: every alert "new", no triage
  // or case routes (503). Not owned; outlives the server.
  triage::TriageStore* triage = nullptr;
  // Tokens beyond the configured ones, and the audit log (not owned; outlives
  // the server). Null: only the configured tokens (admins), no audit log.
  auth::AuthStore* auth = nullptr;
  // GET /api/v1/rules/{id} body (rule id or name); nullopt: no such rule.
  // With a revision (an alert's rule "revision"; 0: none), that revision of
  // the rule as it ran, when it is still known, else the running rule.
  std::function<std::optional<std::string>(std::string_view id, uint64_t revision)>
      rule_detail_json;
  const OverviewRollup* overview = nullptr;  // GET /api/v1/overview (not owned)
};

struct ApiStats {
  // (route, code) -> requests; route is the pattern ("/api/v1/alerts/{id}").
  std::vector<std::pair<std::pair<std::string, int>, uint64_t>> requests;
  uint64_t streams = 0;      // open SSE streams (gauge)
  uint64_t connections = 0;  // open connections (gauge)
  // Times the max_connections limit was reached (accepting paused until a
  // connection closed).
  uint64_t connection_limit_hits = 0;
  uint64_t evicted = 0;                // unauthenticated connections closed to make room
  uint64_t request_timeouts = 0;       // requests not whole within request_timeout
  uint64_t stream_write_timeouts = 0;  // streams closed: the client took no data
  uint64_t response_bytes = 0;         // bytes of replies being sent (gauge)
};

class ApiServer {
 public:
  // Binds and starts serving; throws std::runtime_error naming the address
  // (in use, bad certificate...).
  ApiServer(ApiOptions options, const store::AlertReader& reader, LiveHub& hub, ApiHooks hooks);
  ~ApiServer();  // Stop()

  uint16_t port() const;
  // Stops accepting, closes streams and connections, joins the threads.
  void Stop();

  ApiStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The API token: `configured` when not empty; else the token in `file`,
// created (32 random bytes, hex, mode 0600) when missing. Throws
// std::runtime_error when the file cannot be read or written, or is
// readable by others (mode wider than 0600).
std::string LoadOrCreateToken(const std::string& configured, const std::string& file,
                              bool* created);

}  // namespace gsoc::api
