// Bounds on a rule's descriptive metadata (description, author, tags,
// references, falsepositives): what alerts and the API show about a rule.
//
// Tags are copied into every alert of the rule; the rest is joined from the
// running rule set when one alert is read (GET /api/v1/alerts/{id}). A
// hostile rule with megabytes of references must bloat neither, so the
// loader caps them once, at load, and marks the rule `metadata_truncated`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/rules/rule.h"
#include "engine/util/hash.h"

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

// A rule's revision: a stable 64-bit digest (FNV-1a, the same in every build
// and process) of what the API shows about the rule (identity, level, status
// and capped metadata). Alerts carry it (AlertRule::revision), and the store
// keeps each revision's detail, so that an alert shows the rule as it was
// when it fired, not as a later reload changed it.
class RevisionHasher {
 public:
  RevisionHasher& Add(std::string_view text);  // length-prefixed: no ambiguity
  RevisionHasher& Add(const std::vector<std::string>& list);
  RevisionHasher& Add(uint64_t number);
  uint64_t value() const { return hash_ == 0 ? 1 : hash_; }  // never 0 (0: no revision)

 private:
  void Mix(const void* data, size_t size);
  uint64_t hash_ = kFnv1aOffset;
};

uint64_t MetadataRevision(const Rule& rule);

}  // namespace gsoc::rules
