#include "collectors/json/json_parse_stage.h"

#include "collectors/json/json_parser.h"
#include "collectors/listener/listener.h"

namespace gsoc {

namespace {

// The worker's parser: simdjson keeps buffers sized to the largest line.
JsonLineParser& WorkerJsonParser() {
  thread_local JsonLineParser parser;
  return parser;
}

}  // namespace

void JsonParseStage::Prepare(EventBatch& batch) {
  for (Event& event : batch.events()) ParseDeferred(batch, event);
}

void JsonParseStage::ParseDeferred(EventBatch& batch, Event& event) {
  if (!event.parse_deferred) return;
  event.parse_deferred = false;
  SyslogParseContext context;
  context.receive_time_ns = event.receive_time_ns;
  if (!WorkerJsonParser().ParseOrKeepRaw(event.raw, context, event, batch)) {
    metrics_.Local().ParseErrors(event.listener, ParseFormat::kJson);
  }
  if (ResolveEventTime(event, max_clock_skew_ns_)) metrics_.Local().TimesAhead(event.listener, 1);
}

}  // namespace gsoc
