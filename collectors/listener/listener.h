// Listeners: the network edge of gsocd (collectors/syslog_tcp, syslog_udp,
// and json_tcp, which is the TCP listener with line framing and the JSON
// parser).
//
// Ownership: a Listener owns its socket(s) and sessions. Sessions fill
// batches from the pipeline's pool and hand them to BatchInput.
//
// Threading: everything runs on the io_context threads given to gsocd
// (pipeline.io_threads); each TCP session runs on its own strand. Counting
// goes to the calling thread's ThreadCounters, per read or per batch.
//
// When the pipeline is full: a TCP session stops reading until
// BatchInput::WaitForSpace resumes it (the sender's TCP window closes;
// nothing accepted is lost). UDP drops the batch and counts
// gsoc_events_discarded_total{reason="queue_full"}.
//
// Stop(): closes the acceptor/socket, then every session frames what it has
// read, hands on its last batch (waiting for room if needed) and closes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "collectors/agency/agency_table.h"
#include "collectors/syslog/syslog_parser.h"
#include "engine/config/config.h"
#include "engine/metrics/counters.h"
#include "engine/pipeline/pipeline.h"
#include "engine/util/saturating.h"

namespace prometheus {
class Collectable;
}

namespace gsoc {

struct ListenerContext {
  ListenerConfig config;
  uint16_t index = 0;  // label index in IngestMetrics
  const AgencyTable* agencies = nullptr;
  IngestMetrics* metrics = nullptr;
  BatchInput* input = nullptr;
  size_t batch_events = 1024;
  int32_t utc_offset_seconds = 0;
  int64_t max_clock_skew_ns = 24LL * 3600 * 1'000'000'000;
  // json_tcp: leave each line's parsing to the pipeline's JsonParseStage
  // (Event::parse_deferred), which the owner of the pipeline must have
  // added as its first stage or given to its first stage as that stage's
  // DeferredParser (DetectionStage); false: the io thread parses.
  bool defer_json_parse = false;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // Binds and starts accepting/receiving. Throws std::runtime_error naming
  // the listener and address when it cannot bind (at start only).
  virtual void Start() = 0;
  virtual void Stop() = 0;
  virtual uint16_t port() const = 0;
  // SIGHUP: reload what the listener reads from files (TLS certificates and
  // CRL) without dropping connections. Returns an error text, empty if fine.
  virtual std::string Reload() { return {}; }
  // The listener's own metric families (nullptr: it has none).
  virtual std::shared_ptr<prometheus::Collectable> MakeCollectable() { return nullptr; }
};

// Makes the listener for context.config.type.
// How a listener kind is made. Each kind registers its implementation
// under the type name its config side registered (config_registry.h), with
// a ListenerRegistration at namespace scope in its own folder; the
// listeners library is linked whole so none is dropped.
using ListenerFactory = std::unique_ptr<Listener> (*)(boost::asio::io_context&, ListenerContext);
struct ListenerRegistration {
  ListenerRegistration(std::string_view type, ListenerFactory make);
};
bool HasListenerImplementation(std::string_view type);

// The listener of context.config.type; throws std::runtime_error when that
// kind has no implementation in this build.
std::unique_ptr<Listener> MakeListener(boost::asio::io_context& io, ListenerContext context);

// Wall clock now, ns since the epoch.
int64_t NowNanos();

// Bad input counted until a listener hands on its batch (then flushed to
// the thread's counters), so counting is per batch: parse failures per
// ParseFormat, and message times replaced for being too far ahead
// (ResolveEventTime).
struct PendingBadInput {
  uint64_t by_format[size_t(ParseFormat::kCount)] = {};
  uint64_t times_ahead = 0;

  void Flush(ThreadCounters& counters, uint16_t listener) {
    for (size_t f = 0; f < size_t(ParseFormat::kCount); ++f) {
      if (by_format[f]) counters.ParseErrors(listener, static_cast<ParseFormat>(f), by_format[f]);
      by_format[f] = 0;
    }
    if (times_ahead) counters.TimesAhead(listener, times_ahead);
    times_ahead = 0;
  }
};

// Parses a syslog frame that is already in the batch arena into `event`
// (ParseSyslog), counting a refusal under the parser that refused it.
inline void ParseSyslogFrame(std::string_view frame, const SyslogParseContext& context,
                             Event& event, EventBatch& batch, PendingBadInput& errors) {
  EventFormat failed = EventFormat::kUnparsed;
  ParseSyslog(frame, context, event, batch, &failed);
  if (event.parse_error) {
    ++errors.by_format[size_t(failed == EventFormat::kRfc5424 ? ParseFormat::kRfc5424
                                                              : ParseFormat::kRfc3164)];
  }
}

// Applies the event-time policy: message time if present and not further
// ahead of receive time than the allowed skew, else receive time. Returns
// whether the message had a time and it was refused for being too far
// ahead: the caller counts it (gsoc_event_times_ahead_total), since a
// sender's clock that runs days ahead is worth an operator's look.
// The bound saturates: a skew of centuries (config) means nothing is ahead.
[[nodiscard]] inline bool ResolveEventTime(Event& event, int64_t max_clock_skew_ns) {
  const bool ahead = event.has_message_time &&
                     event.event_time_ns > SaturatingAdd(event.receive_time_ns, max_clock_skew_ns);
  if (!event.has_message_time || ahead) event.event_time_ns = event.receive_time_ns;
  return ahead;
}

}  // namespace gsoc
