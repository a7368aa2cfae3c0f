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
  JsonLineParser& parser = WorkerJsonParser();
  ThreadCounters* counters = nullptr;
  SyslogParseContext context;
  for (Event& event : batch.events()) {
    if (!event.parse_deferred) continue;
    event.parse_deferred = false;
    context.receive_time_ns = event.receive_time_ns;
    if (!parser.ParseOrKeepRaw(event.raw, context, event, batch)) {
      if (counters == nullptr) counters = &metrics_.Local();
      counters->ParseErrors(event.listener, ParseFormat::kJson);
    }
    ResolveEventTime(event, max_clock_skew_ns_);
  }
}

}  // namespace gsoc
