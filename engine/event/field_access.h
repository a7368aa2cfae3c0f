// How rules, decoders and correlation read a field of an event by name.
//
// Names: the header fields `host`, `program`, `pid`, `msgid`, `message`,
// `facility`, `severity` (as decimal text), `agency` and `listener` need the
// tables and are not resolved here; every other name is looked up in the
// event's fields (decoder output, JSON members, `sd.<SD-ID>.<name>`).
// No allocation: facility/severity text comes from a static table.
#pragma once

#include <string_view>

#include "engine/event/event_batch.h"

namespace gsoc {

// The value of field `name`, or nullopt-like {false, ""} when absent.
struct FieldLookup {
  bool present = false;
  std::string_view value;
};

FieldLookup GetField(const EventBatch& batch, const Event& event, std::string_view name);

}  // namespace gsoc
