// Bounds on a rule's descriptive metadata (description, author, tags,
// references, falsepositives): what alerts and the API show about a rule.
//
// Tags are copied into every alert of the rule; the rest is joined from the
// running rule set when one alert is read (GET /api/v1/alerts/{id}). A
// hostile rule with megabytes of references must bloat neither, so the
// loader caps them once, at load, and marks the rule `metadata_truncated`.
#pragma once

#include <cstddef>

#include "engine/rules/rule.h"

namespace gsoc::rules {

struct MetadataLimits {
  size_t max_text_bytes = 1024;         // one reference, tag, author, falsepositive
  size_t max_description_bytes = 4096;  // the description
  size_t max_list_entries = 64;         // entries per list (tags, references, ...)
  size_t max_total_bytes = 16384;       // all of the above together
};

// Truncates (at a UTF-8 boundary) and drops entries beyond the limits;
// returns true and sets rule.metadata_truncated when anything was cut.
bool CapMetadata(Rule& rule, const MetadataLimits& limits = {});

}  // namespace gsoc::rules
