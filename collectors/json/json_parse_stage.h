// JsonParseStage: the JSON lines a json_tcp listener left unparsed
// (ListenerContext::defer_json_parse), parsed by the pipeline worker that
// then classifies and matches them.
//
// Why: parsed on the io thread, an event's fields were written on one core
// and first read on another (the worker's), which missed the cache on the
// first read of each field name (LogSourceMap::GatherKeys: ~7% of gsocd's
// CPU with the SigmaHQ corpus). Parsed on the worker, the line crosses
// cores once, read in order, and the fields are in the worker's cache when
// the rules read them; the io thread only frames and copies. A JSON line's
// event depends on no other line, so any worker may parse it.
//
// Two ways to run it. As the pipeline's first stage (the daemon adds it
// before any other when no local detection stage runs: a cluster ingest
// node, rules off), it parses the whole batch, so every later stage sees
// parsed events. With a local DetectionStage it is that stage's
// DeferredParser instead (engine/event/deferred_parser.h): the stage parses
// each event just before it matches it, while the fields are in the cache.
//
// Ownership: holds nothing per batch; one JsonLineParser per worker thread.
// Threading: Prepare/Process/ParseDeferred run on worker threads,
// concurrently for different batches.
// When the next stage is full: nothing of its own; it runs inside the
// worker, which holds the batch until every stage is done with it.
//
// Per event with Event::parse_deferred: JsonLineParser::ParseOrKeepRaw (a
// line that does not parse is kept as an unparsed event and counted in
// gsoc_parse_errors_total{listener,format="json"}, as the io thread did),
// then the event-time policy (ResolveEventTime); the flag is cleared, so a
// second Prepare does nothing.
#pragma once

#include <cstdint>

#include "engine/event/deferred_parser.h"
#include "engine/metrics/counters.h"
#include "engine/pipeline/pipeline.h"

namespace gsoc {

class JsonParseStage : public Stage, public DeferredParser {
 public:
  JsonParseStage(IngestMetrics& metrics, int64_t max_clock_skew_ns)
      : metrics_(metrics), max_clock_skew_ns_(max_clock_skew_ns) {}

  void Prepare(EventBatch& batch) override;
  void Process(EventBatch& batch) override { Prepare(batch); }
  // One event with Event::parse_deferred (else nothing), as Prepare does.
  void ParseDeferred(EventBatch& batch, Event& event) override;

 private:
  IngestMetrics& metrics_;
  int64_t max_clock_skew_ns_;
};

}  // namespace gsoc
