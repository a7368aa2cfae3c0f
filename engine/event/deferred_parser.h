// DeferredParser: parses, in place, an event whose collector left it
// unparsed (Event::parse_deferred: a JSON line framed and copied only).
//
// Why one event at a time: the stage that reads an event's fields first
// (DetectionStage) parses each event just before it decodes, classifies and
// matches it, so the fields the parser wrote are still in the core's cache
// when the rules read them. Parsing the whole batch first wrote ~4 MiB of a
// batch of Windows events (raw lines, unescaped values, field tables) before
// the first event was matched, more than the core's L2 cache holds.
//
// Threading: called on worker threads, concurrently for different batches;
// an implementation keeps its parser state per thread (or per caller).
// Contract: clears Event::parse_deferred; a line that does not parse stays
// an unparsed event (kept raw, counted by the implementation), never
// dropped; never adds or removes events of the batch (only fields).
#pragma once

namespace gsoc {

class EventBatch;
struct Event;

class DeferredParser {
 public:
  virtual ~DeferredParser() = default;
  virtual void ParseDeferred(EventBatch& batch, Event& event) = 0;
};

}  // namespace gsoc
