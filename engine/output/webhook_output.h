// WebhookOutput: POSTs committed alerts to an HTTP(S) endpoint (a SOAR, a
// chat bridge, another SIEM), after the store has committed them.
//
// Each request carries up to max_batch alerts as NDJSON (one alert JSON per
// line, Content-Type application/x-ndjson), plus the configured headers
// (e.g. Authorization). 2xx: delivered. Connection errors, timeouts, 429 and
// 5xx: retried with exponential backoff (retry_initial doubling up to
// retry_max, with jitter) until delivered; other 4xx: the batch is dropped
// and counted (the receiver refuses it; retrying cannot help).
//
// Bounds: at most max_queue alerts and max_queue_bytes of their JSON wait;
// beyond that the oldest are dropped and counted (a receiver down for days
// must not grow memory without bound; the store still holds every alert).
// Everything is in gsoc_webhook_* metrics.
//
// Credentials: an http:// URL with an Authorization, Proxy-Authorization or
// Cookie header is refused unless allow_insecure_headers is set.
//
// Threading: OnCommitted (the store's writer thread) only copies into the
// queue; one sender thread does the HTTP. The destructor tries to deliver
// what is queued for up to shutdown_grace, then stops.
//
// Routing: only the alerts options.match accepts are queued (an agency's
// own endpoint receives its alerts and no one else's); the others are
// counted in `unmatched`.
//
// Delivery is at least once: a request whose response is lost is sent
// again, so a receiver may see an alert twice (dedupe on its "id").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/output/webhook_match.h"
#include "engine/store/alert_store.h"

namespace gsoc::output {

struct WebhookOptions {
  std::string url;  // http://host[:port]/path or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  size_t max_batch = 100;
  size_t max_queue = 100000;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{60000};
  std::chrono::milliseconds shutdown_grace{5000};
  size_t max_queue_bytes = 64ull << 20;  // JSON bytes waiting, at most
  bool allow_insecure_headers = false;   // http:// may carry credentials headers
  bool tls_verify = true;                // https: verify the server certificate (system CAs)
  std::string tls_ca_file;               // https: PEM CA bundle trusted instead of the system CAs
  WebhookMatch match;                    // which alerts this output receives (default: all)
};

struct WebhookStats {
  uint64_t delivered = 0;     // alerts acknowledged with 2xx
  uint64_t requests = 0;      // HTTP requests sent
  uint64_t retries = 0;       // requests that will be retried
  uint64_t rejected = 0;      // alerts in batches refused with a 4xx (not 429)
  uint64_t dropped = 0;       // alerts dropped because the queue was full
  uint64_t queued = 0;        // gauge
  uint64_t queued_bytes = 0;  // gauge: JSON bytes queued
  uint64_t unmatched = 0;     // alerts not for this output (its match)
};

class WebhookOutput : public store::CommitListener {
 public:
  // Throws std::invalid_argument when the URL cannot be parsed, http:// would
  // carry credentials (see above), a header
  // name or value is invalid (CR/LF, ...), or tls_ca_file cannot be loaded.
  explicit WebhookOutput(WebhookOptions options);
  ~WebhookOutput() override;

  void OnCommitted(std::span<const store::StoredAlert> alerts) override;
  WebhookStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gsoc::output
